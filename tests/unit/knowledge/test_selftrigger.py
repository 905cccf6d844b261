"""May I self-trigger? One row per verdict of the rule, with the fiche steps it cites."""

from __future__ import annotations

import pytest

from knowledge.documents import load_documents
from knowledge.selftrigger import (
    FICHE_1,
    GAMMA,
    ICS,
    Answers,
    Aubette,
    Cite,
    Control,
    Outcome,
    Provider,
    Published,
    decide,
)

EDI_ALERT = Published(modes=("EDI",), level="red")
DTI_ALERT = Published(modes=("DTI",))
ANY_MODE = Published(modes=())
DELTA_G_EDI = Answers(service="DELTA G", mode="EDI", provider=Provider.NOT_AT_FAULT)
DELTA_X_DTI = Answers(service="DELTA X Import", mode="DTI")


def fiche_1(*sections: str, whole: bool = False) -> tuple[Cite, ...]:
    return tuple(Cite("fiche-1", s, whole) for s in sections)


ALLOWED = fiche_1("etape-3", "etape-4", "etape-5")

# (why, answers, outcome, cites)
ROWS: list[tuple[str, Answers, Outcome, tuple[Cite, ...]]] = [
    ("nothing known yet", Answers(), Outcome.ASK_SERVICE, ()),
    ("a téléservice no fiche covers", Answers(service="DELTA T"), Outcome.NOT_COVERED, fiche_1("rappels")),
    ("another téléservice", Answers(service="another"), Outcome.NOT_COVERED, fiche_1("rappels")),
    ("fiche 1 asks the mode", Answers(service="DELTA G"), Outcome.ASK_MODE, ()),
    (
        "an alert published for my mode",
        Answers(service="DELTA G", mode="EDI", alerts=(EDI_ALERT,)),
        Outcome.ALERT_PUBLISHED,
        fiche_1("etape-1"),
    ),
    (
        "an alert for every mode",
        Answers(service="DELTA G", mode="DTI", alerts=(ANY_MODE,)),
        Outcome.ALERT_PUBLISHED,
        fiche_1("etape-1"),
    ),
    (
        "an alert for the other mode only",
        Answers(service="DELTA G", mode="EDI", alerts=(DTI_ALERT,)),
        Outcome.ASK_PROVIDER,
        (),
    ),
    (
        "an alert, but what I see is different",
        Answers(service="DELTA G", mode="EDI", alerts=(EDI_ALERT,), differs=True),
        Outcome.ASK_PROVIDER,
        (),
    ),
    (
        "EDI: not asked the provider yet",
        Answers(service="DELTA G", mode="EDI", provider=Provider.NOT_YET),
        Outcome.ASK_PROVIDER,
        (),
    ),
    (
        "EDI: the provider's platform is at fault",
        Answers(service="DELTA G", mode="EDI", provider=Provider.AT_FAULT),
        Outcome.PROVIDER_AT_FAULT,
        fiche_1("etape-2-edi", whole=True),
    ),
    ("DTI: no provider to ask, Aubette next", DELTA_X_DTI, Outcome.ASK_AUBETTE, ()),
    ("EDI, the provider is fine: Aubette next", DELTA_G_EDI, Outcome.ASK_AUBETTE, ()),
    (
        "the declaration is BAE",
        Answers(service="DELTA G", mode="DTI", aubette=Aubette.BAE),
        Outcome.BAE,
        fiche_1("etape-2-blocage", whole=True),
    ),
    (
        "not BAE: ask about control, credit, cash",
        Answers(service="DELTA G", mode="DTI", aubette=Aubette.NOT_BAE),
        Outcome.ASK_CONTROL,
        (),
    ),
    (
        "Aubette unreachable: ask about control, credit, cash",
        Answers(service="DELTA G", mode="DTI", aubette=Aubette.UNREACHABLE),
        Outcome.ASK_CONTROL,
        (),
    ),
    (
        "under control, awaiting credit or cash payment",
        Answers(service="DELTA G", mode="DTI", aubette=Aubette.NOT_BAE, control=Control.YES),
        Outcome.NOT_TECHNICAL,
        fiche_1("etape-3", whole=True),
    ),
    (
        "not BAE and none of those states",
        Answers(
            service="DELTA G",
            mode="EDI",
            provider=Provider.NOT_AT_FAULT,
            aubette=Aubette.NOT_BAE,
            control=Control.NO,
        ),
        Outcome.ALLOWED,
        ALLOWED,
    ),
    (
        "the declaration cannot be validated at all",
        Answers(service="DELTA X Export", mode="DTI", aubette=Aubette.CANNOT_VALIDATE),
        Outcome.ALLOWED,
        ALLOWED,
    ),
    (
        "an alert that differs, then cash payment ruled out",
        Answers(
            service="DELTA G",
            mode="DTI",
            alerts=(DTI_ALERT,),
            differs=True,
            aubette=Aubette.UNREACHABLE,
            control=Control.NO,
        ),
        Outcome.ALLOWED,
        ALLOWED,
    ),
    (
        "GAMMA without a red or black alert",
        Answers(service="GAMMA", alerts=(Published(level=None),)),
        Outcome.GAMMA_OFFICE,
        (Cite("gamma", "iv-1", whole=True),),
    ),
    (
        "GAMMA under a red alert",
        Answers(service="GAMMA", alerts=(Published(level="red"),)),
        Outcome.GAMMA_ALERT,
        (Cite("gamma", "iv-1", whole=True),),
    ),
    (
        "GAMMA under a black alert",
        Answers(service="GAMMA", mode="EDI", alerts=(Published(level=None), Published(level="black"))),
        Outcome.GAMMA_ALERT,
        (Cite("gamma", "iv-1", whole=True),),
    ),
    (
        "ICS2: the certified provider reports (fiche 9)",
        Answers(service="ICS2"),
        Outcome.ICS_PROVIDER,
        (Cite("fiche-9", "principes"), Cite("fiche-9", "scenario-1")),
    ),
    (
        "ICS with an alert published",
        Answers(service="ICS", alerts=(ANY_MODE,)),
        Outcome.ICS_PROVIDER,
        (Cite("fiche-9", "principes"), Cite("fiche-9", "scenario-1")),
    ),
]


@pytest.mark.parametrize(("why", "answers", "outcome", "cites"), ROWS, ids=[row[0] for row in ROWS])
def test_each_verdict_and_the_steps_it_cites(
    why: str, answers: Answers, outcome: Outcome, cites: tuple[Cite, ...]
) -> None:
    verdict = decide(answers)
    assert (verdict.outcome, verdict.cites) == (outcome, cites)
    assert verdict.asks == (not cites)


def test_every_verdict_of_the_rule_has_a_row() -> None:
    assert {row[2] for row in ROWS} == set(Outcome)


def test_the_verdict_names_the_alert_it_rests_on() -> None:
    assert decide(Answers(service="DELTA G", mode="EDI", alerts=(DTI_ALERT, EDI_ALERT))).alert is EDI_ALERT
    black = Published(level="black")
    assert decide(Answers(service="GAMMA", alerts=(Published(), black))).alert is black
    assert decide(Answers(service="ICS2")).alert is None


def test_allowed_without_the_office_confirming_says_so() -> None:
    unknown = Answers(service="DELTA G", mode="DTI", aubette=Aubette.NOT_BAE, control=Control.UNKNOWN)
    assert decide(unknown).outcome is Outcome.ALLOWED and decide(unknown).unconfirmed
    assert not decide(Answers(service="DELTA G", mode="DTI", aubette=Aubette.CANNOT_VALIDATE)).unconfirmed


def test_the_cited_steps_exist_and_the_rules_cover_the_fiches_services() -> None:
    docs = {d.id: d for d in load_documents()}
    for _, _, _, cites in ROWS:
        for cite in cites:
            assert docs[cite.doc].section(cite.section) is not None
    assert set(FICHE_1) == set(docs["fiche-1"].services)
    assert set(ICS) == set(docs["fiche-9"].services)
    assert set(GAMMA) <= set(docs["gamma"].services)
