"""What a question says about when: the period it is about, a later occurrence, a time it wants.

A document about one dated event (the note on the interruption of 8 August 2023) does not answer a
question about another month, another year or the next interruption; a section that gives no time
does not answer "how long?". These are signals of the decline model, read here on their own.
"""

from __future__ import annotations

import pytest

from knowledge.decline import other_period, value_missing
from knowledge.documents import load_documents
from knowledge.intents import Intent, event_periods, periods, read_intent, undated
from knowledge.search import KnowledgeBase
from tests.support.sections import section_index


def _intent(question: str) -> Intent:
    return read_intent(question, load_documents())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("la coupure du 8 août 2023", {"m8", "2023"}),
        ("the outage of 8 August 2023", {"m8", "2023"}),
        ("Delta G down since 3 May", {"m5"}),
        ("une autre en septembre ?", {"m9"}),
        ("any other planned cut in 2024?", {"2024"}),
    ],
)
def test_months_and_years_are_read_in_french_and_english(text: str, expected: set[str]) -> None:
    assert periods(text) == expected


def test_may_the_verb_is_not_a_month() -> None:
    assert periods("We may self-trigger the fallback, may we not?") == frozenset()


def test_only_a_document_dating_an_event_has_event_periods() -> None:
    found = {d.id: event_periods(d) for d in load_documents()}
    assert found["note-2023-08"] is not None and {"m8", "2023"} <= found["note-2023-08"]
    # the fiches date nothing: any month may be asked about them
    assert found["fiche-1"] is None and found["fiche-4"] is None and found["fiche-9"] is None


@pytest.mark.parametrize(
    "question",
    [
        "et la prochaine coupure c'est quand ?",
        "and the next planned outage?",
        "any upcoming maintenance on Delta G?",
        "et la prochaine ?",
    ],
)
def test_a_question_about_a_later_occurrence_reads_as_future(question: str) -> None:
    assert _intent(question).future


@pytest.mark.parametrize(
    "question",
    [
        "Je change d'entreprise le mois prochain, je perds mon compte Prodouane ?",
        "Planned outage next Tuesday – what does customs want us to do?",
        "La prochaine fois que Delta G plante, on fait quoi ?",
    ],
)
def test_a_day_of_the_operators_calendar_is_not_a_later_occurrence(question: str) -> None:
    assert not _intent(question).future


def test_another_period_than_the_notes_event_is_another_period() -> None:
    kb = KnowledgeBase.load()
    note = section_index("note-2023-08", "objet")
    assert other_period(kb, note, _intent("et celle de décembre 2023, quels services ?"))
    assert other_period(kb, note, _intent("Quels services seront coupés lors de la prochaine interruption ?"))
    assert not other_period(kb, note, _intent("Quels services étaient coupés le 8 août 2023 ?"))
    assert not other_period(kb, note, _intent("Quels services étaient coupés lors de l'interruption ?"))


def test_a_fiche_is_never_about_another_period() -> None:
    kb = KnowledgeBase.load()
    fiche = section_index("fiche-1", "etape-3")
    assert not other_period(
        kb, fiche, _intent("Delta G est bloqué depuis le 3 mars 2025, puis-je auto-déclencher ?")
    )


@pytest.mark.parametrize(
    ("question", "narrow"),
    [
        ("Combien de temps met le bureau pour valider l'adhésion ?", True),
        ("How long is the paper form valid?", True),
        ("Ils ouvrent à quelle heure ?", True),
        ("Que faire quand Delta G est en panne ?", False),
        ("Le délai d'anticipation est dépassé, elle est passée où ?", False),
    ],
)
def test_only_a_question_that_wants_a_time_asks_for_a_time_value(question: str, narrow: bool) -> None:
    assert _intent(question).time_value is narrow


def test_a_section_giving_no_time_cannot_answer_how_long() -> None:
    intent = _intent("Combien de temps met le bureau pour valider l'adhésion ?")
    assert value_missing(intent, "Le bureau instruit la demande d'adhésion.") == 1.0
    assert value_missing(intent, "Le bureau valide l'adhésion sous 48 heures.") == 0.0


@pytest.mark.parametrize(
    ("question", "meant"),
    [
        (
            "Who signed the note to operators about the 8 August 2023 interruption?",
            "Who signed the note to operators about the interruption?",
        ),
        ("ki a signé la note du 1er août 2023 ?", "ki a signé la note du ?"),
        # a date that names no dated document stays: it may be what the operator's case is about
        ("Delta G bloqué depuis le 3 mars 2025, que faire ?", "Delta G bloqué depuis le 3 mars 2025, que faire ?"),
    ],
)
def test_a_date_that_named_the_note_is_left_out_of_the_meaning(question: str, meant: str) -> None:
    assert undated(question, _intent(question).date_words) == meant
