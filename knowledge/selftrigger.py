"""May I self-trigger the fallback procedure? The rule of the fiches as a pure function.

:func:`decide` takes what is known so far (:class:`Answers`: the téléservice, the mode, the alerts
the relay knows to be published, and the operator's answers) and returns a :class:`Verdict`: the
next question to ask, or the answer, citing the fiche steps it rests on. The chat's guided check
(``bot/handlers/selftrigger.py``) only asks and renders.

* **DELTA G, DELTA X Import/Export** — fiche 1. Étape 1: an alert published for the téléservice
  and mode (and describing what the operator sees) means following that alert's fallback, not
  self-triggering. Étape 2 (EDI): a failure of the provider's platform is reported by the
  provider. Étape 2: a declaration « BAE » needs no fallback; one « sous contrôle », « crédit en
  attente » or « paiement comptant » is the office's matter. Étapes 3 to 5: otherwise the
  blockage is technical and self-triggering is of right, 24/7, by an assistance request (DA).
* **GAMMA** — presentation, IV.1: a red or black alert of the CID authorises the fallback;
  otherwise the customs service decides.
* **ICS, ICS2** — fiche 9: the certified provider is customs' only correspondent and reports the
  failure (OLGA assistance request).
* Any other téléservice: the fiches do not describe self-triggering for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "FICHE_1",
    "GAMMA",
    "ICS",
    "Answers",
    "Aubette",
    "Cite",
    "Control",
    "Outcome",
    "Provider",
    "Published",
    "Verdict",
    "decide",
]

#: The téléservices each rule covers (the ``services`` of fiche 1, of the GAMMA presentation's
#: fallback section, and of fiche 9).
FICHE_1: tuple[str, ...] = ("DELTA G", "DELTA X Import", "DELTA X Export")
GAMMA: tuple[str, ...] = ("GAMMA",)
ICS: tuple[str, ...] = ("ICS", "ICS2")
#: Alert levels under which GAMMA's fallback is authorised without the office (gamma, IV.1).
GAMMA_LEVELS: tuple[str, ...] = ("red", "black")


class Provider(StrEnum):
    """EDI, fiche 1 étape 2: has the provider said whether its platform is at fault?"""

    AT_FAULT = "at_fault"
    NOT_AT_FAULT = "not_at_fault"
    NOT_YET = "not_yet"  # asked, not answered yet: ask the provider first


class Aubette(StrEnum):
    """Fiche 1 étape 2: what Aubette says of the declaration."""

    BAE = "bae"  # released: « bon à enlever »
    NOT_BAE = "not_bae"
    UNREACHABLE = "unreachable"  # Aubette could not be reached
    CANNOT_VALIDATE = "cannot_validate"  # the declaration cannot be validated at all


class Control(StrEnum):
    """Fiche 1 étape 2: is it « sous contrôle », « crédit en attente » or « paiement comptant »?"""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"  # the office could not be asked (closed)


@dataclass(frozen=True, slots=True)
class Published:
    """An alert the relay knows to be published for the téléservice in question."""

    modes: tuple[str, ...] = ()  # empty: every mode
    level: str | None = None  # "red", "black", or None when the page does not say


@dataclass(frozen=True, slots=True)
class Answers:
    """What is known so far; ``None`` is a question not asked yet."""

    service: str | None = None  # a téléservice's canonical name, or any other word for another one
    mode: str | None = None  # "EDI" or "DTI"
    alerts: tuple[Published, ...] = ()  # open alerts for the téléservice, whatever their mode
    differs: bool = False  # an alert is published, but what the operator sees is different
    provider: Provider | None = None
    aubette: Aubette | None = None
    control: Control | None = None


@dataclass(frozen=True, slots=True)
class Cite:
    """A step of a fiche a verdict rests on: the whole of it, or its summary."""

    doc: str
    section: str
    whole: bool = False


class Outcome(StrEnum):
    # questions
    ASK_SERVICE = "ask_service"
    ASK_MODE = "ask_mode"
    ASK_PROVIDER = "ask_provider"
    ASK_AUBETTE = "ask_aubette"
    ASK_CONTROL = "ask_control"
    # answers
    ALERT_PUBLISHED = "alert_published"  # follow the published alert's fallback: no need to self-trigger
    PROVIDER_AT_FAULT = "provider_at_fault"  # the provider reports to the CID: do not self-trigger
    BAE = "bae"  # released: no fallback needed
    NOT_TECHNICAL = "not_technical"  # under control, awaiting credit, cash payment: the office's matter
    ALLOWED = "allowed"  # self-triggering is of right
    GAMMA_ALERT = "gamma_alert"  # a red or black alert authorises GAMMA's fallback
    GAMMA_OFFICE = "gamma_office"  # for GAMMA the customs service decides
    ICS_PROVIDER = "ics_provider"  # for ICS the certified provider reports the failure
    NOT_COVERED = "not_covered"  # the fiches do not describe self-triggering for this téléservice


QUESTIONS = frozenset(
    {Outcome.ASK_SERVICE, Outcome.ASK_MODE, Outcome.ASK_PROVIDER, Outcome.ASK_AUBETTE, Outcome.ASK_CONTROL}
)


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    cites: tuple[Cite, ...] = ()
    #: The published alert the verdict rests on; past étape 1, the one the operator said differs.
    alert: Published | None = None
    unconfirmed: bool = False  # ALLOWED although the office could not confirm the declaration's state

    @property
    def asks(self) -> bool:
        """Whether this is a question to put to the operator rather than an answer."""
        return self.outcome in QUESTIONS


def _fiche_1(*sections: str, whole: bool = False) -> tuple[Cite, ...]:
    return tuple(Cite("fiche-1", section, whole) for section in sections)


def decide(answers: Answers) -> Verdict:
    """The next question, or the answer with the fiche steps it rests on."""
    a = answers
    if a.service is None:
        return Verdict(Outcome.ASK_SERVICE)
    if a.service in GAMMA:
        authorising = [alert for alert in a.alerts if alert.level in GAMMA_LEVELS]
        cites: tuple[Cite, ...] = (Cite("gamma", "iv-1", whole=True),)
        if authorising:
            return Verdict(Outcome.GAMMA_ALERT, cites, alert=authorising[0])
        return Verdict(Outcome.GAMMA_OFFICE, cites)
    if a.service in ICS:
        ics = (Cite("fiche-9", "principes"), Cite("fiche-9", "scenario-1"))
        return Verdict(Outcome.ICS_PROVIDER, ics, alert=a.alerts[0] if a.alerts else None)
    if a.service not in FICHE_1:
        return Verdict(Outcome.NOT_COVERED, _fiche_1("rappels"))
    if a.mode is None:
        return Verdict(Outcome.ASK_MODE)
    # Étape 1: a published alert for this mode, describing what the operator sees, applies.
    matching = [alert for alert in a.alerts if not alert.modes or a.mode in alert.modes]
    alert = matching[0] if matching else None
    if alert is not None and not a.differs:
        return Verdict(Outcome.ALERT_PUBLISHED, _fiche_1("etape-1"), alert=alert)
    # Étape 2, EDI: first ask the provider whether its platform is at fault.
    if a.mode == "EDI" and a.provider in (None, Provider.NOT_YET):
        return Verdict(Outcome.ASK_PROVIDER, alert=alert)
    if a.provider is Provider.AT_FAULT:
        return Verdict(Outcome.PROVIDER_AT_FAULT, _fiche_1("etape-2-edi", whole=True), alert=alert)
    # Étape 2: is the blockage technical?
    if a.aubette is None:
        return Verdict(Outcome.ASK_AUBETTE, alert=alert)
    if a.aubette is Aubette.BAE:
        return Verdict(Outcome.BAE, _fiche_1("etape-2-blocage", whole=True), alert=alert)
    if a.aubette in (Aubette.NOT_BAE, Aubette.UNREACHABLE) and a.control is None:
        return Verdict(Outcome.ASK_CONTROL, alert=alert)
    if a.control is Control.YES:
        return Verdict(Outcome.NOT_TECHNICAL, _fiche_1("etape-3", whole=True), alert=alert)
    # Étapes 3 to 5: self-triggering is of right, 24/7, by an assistance request.
    cites = _fiche_1("etape-3", "etape-4", "etape-5")
    return Verdict(Outcome.ALLOWED, cites, alert=alert, unconfirmed=a.control is Control.UNKNOWN)
