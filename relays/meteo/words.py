"""The SAU's vocabulary: what a message is, which téléservices and modes it concerns, its level.

Everything here reads words, never markup, so the HTML reader and the feed reader share it. The
patterns run on folded text (upper case, no accents, punctuation between letters as spaces; see
``knowledge.services.fold``).

The rules that keep a relay from inventing alerts live here:

* a message's services and modes come from its **title** first; its body may only narrow them
  ("le mode DTI n'est pas impacté", "hors ECS"), never widen them, and a service named only in
  instructions ("Consignes : pour ECS, …") does not join the message;
* a téléservice the alias table does not know but that the title clearly names (the SAU writes
  "ALERTE – <téléservice> – <mode>") or that a sentence names as "téléservice X" is kept as
  written, never widened to "all services";
* negated words do not count: "Aucune alerte en cours" is not an alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from knowledge.services import CANONICAL, find_services, fold

from ..snapshot import MODES, ItemKind

# --- kinds -------------------------------------------------------------------------------------
END = re.compile(
    r"\bFIN\s+D\s?ALERTE\b|\bFIN\s+DE\s+L\s?ALERTE\b|\bCLOTURE\s+DE\s+L\s?ALERTE\b|\bLEVEE\s+DE\s+L\s?ALERTE\b"
    r"|\bRETOUR\s+A\s+LA\s+NORMALE\b|\bEND\s+OF\s+ALERT\b|\bLEVEE\s+D\s?ALERTE\b"
    r"|\bALERTE\s+(?:LEVEE|CLOTUREE|TERMINEE)\b|\bFIN\s+DE\s+L\s?INCIDENT\b|\bINCIDENT\s+(?:CLOS|RESOLU|TERMINE)\b"
    r"|\bSERVICES?\s+(?:EN\s+LIGNE\s+)?RETABLIS?\b"
)
_BULLETIN = re.compile(r"\bBIP\b|\bBULLETIN\b")
_PLANNED = re.compile(
    r"\b(?:INTERRUPTION|INDISPONIBILITE|ARRET|COUPURE|INTERVENTION|MAINTENANCE|OPERATION)S?\s+"
    r"(?:\w+\s+){0,3}?(?:PROGRAMMEE?S?|PREVUES?|PLANIFIEES?)\b"
    r"|\bMAINTENANCE\s+PROGRAMMEE\b|\bOPERATIONS?\s+(?:TECHNIQUES?\s+)?DE\s+MAINTENANCE\b"
    r"|\b(?:PLANNED|SCHEDULED)\s+(?:MAINTENANCE|OUTAGE|INTERRUPTION|DOWNTIME)\b"
)
_FUTURE = re.compile(
    r"\bSERA\b|\bSERONT\b|\bPREVUE?S?\b|\bPROGRAMMEE?S?\b|\bPLANIFIEE?S?\b|\bAURA\s+LIEU\b"
    r"|\bRENDRA\b|\bRENDRONT\b|\bENTRAINERA\b|\bENTRAINERONT\b|\bWILL\s+BE\b"
)
_UNAVAILABLE = re.compile(
    r"\bINDISPONIB\w*|\bINACCESSIBLES?\b|\bINTERROMPUE?S?\b|\bINTERRUPTIONS?\b|\bCOUPURES?\b"
    r"|\bMAINTENANCE\b|\bINTERVENTIONS?\b|\bUNAVAILABLE\b"
)
# "L'intervention prévue le 16 juin … est annulée", "Annulation de la maintenance …"
_CANCELLED = re.compile(
    r"\bANNUL(?:E|EE|EES|ES|ATION)\b|\bN\s?AURA\s+PAS\s+LIEU\b|\bCANCELL?ED\b"
    r"|\bREPORTEE?S?\s+(?:A\s+UNE\s+DATE\s+ULTERIEURE|SINE\s+DIE)\b"
)


def is_cancellation(title: str, body: str) -> bool:
    """Whether a notice withdraws a planned interruption rather than announcing one."""
    return bool(_CANCELLED.search(fold(title)) or _CANCELLED.search(fold(body)[:300]))


_ALERT = re.compile(
    r"\bALERTE\b|\bINCIDENT\b|\bDYSFONCTIONNEMENTS?\b|\bINDISPONIB\w*|\bPANNE\b|\bPERTURBATIONS?\b"
    r"|\bINTERRUPTION\b|\bALERT\b|\bOUTAGE\b"
)
_ALERT_WORD = re.compile(r"\bALERTE\b")
# "Aucune alerte", "pas d'alerte", "plus d'alerte en cours": the word is there, the alert is not.
_NO_ALERT = re.compile(
    r"\b(?:AUCUNE?|PAS\s+D|PLUS\s+D|SANS|NO)\s?(?:\w+\s+){0,2}?"
    r"(?:ALERTES?|INCIDENTS?|PERTURBATIONS?|ALERTS?|INTERRUPTIONS?|PANNES?|DYSFONCTIONNEMENTS?|INDISPONIBILITES?)\b"
)
# A title that opens as news ("Information – Nouvelle version de …", "Rappel : …") is an alert only
# if it says "alerte"; one that speaks of a case ("En cas de dysfonctionnement", "Que faire si …")
# is guidance, not an alert.
_INFO_LEAD = re.compile(
    r"^\W*(?:INFORMATIONS?|INFO|ACTUALITES?|NEWS|RAPPEL|A\s+NOTER|NOUVEAUTES?|NOUVELLE\s+VERSION)\b"
)
# "Bilan de l'incident DELTA T du 17 novembre", "retour sur l'incident du 20 janvier": news about
# an incident that is over, not an alert.
_RETROSPECTIVE = re.compile(
    r"\b(?:BILAN|RETOUR\s+SUR|RETOURS?\s+D\s?EXPERIENCE|COMPTE\s+RENDU|SYNTHESE|ANALYSE|POST\s+MORTEM)\b"
)
_GUIDANCE = re.compile(
    r"\b(?:EN\s+CAS\s+D[EU]?|QUE\s+FAIRE|COMMENT|SI|S\s?IL|IN\s+CASE\s+OF|WHAT\s+TO\s+DO|IF"
    r"|NIVEAUX?|LEGENDE|COMPRENDRE|SIGNIFICATION|DEFINITIONS?|LEVELS?"
    # "Procédure applicable pendant l'interruption": what to do during one, not one announced
    r"|PENDANT|DURANT|DURING|PROCEDURES?\s+APPLICABLES?|CONSIGNES?)\b"
)
NUMBER = re.compile(
    r"(?:\bBIP\b|\bBULLETIN\b)[^\n]{0,80}?(?:\bN\s*[°º]|\bNO\b|\bNUMERO\b|#)\s*(\d{1,4})\b"
    r"|\bBIP\s*#?\s*(\d{1,4})\b"
)
ALL_CLEAR = re.compile(
    r"\bAUCUNE\s+(?:\w+\s+){0,2}?ALERTE\b|\bAUCUN\s+(?:\w+\s+){0,2}?INCIDENT\b|\bPAS\s+D\s?ALERTE\b"
    r"|\bTOUS\s+LES\s+(?:TELE)?SERVICES\s+(?:EN\s+LIGNE\s+)?(?:SONT\s+|FONCTIONNENT\s+)?(?:DISPONIBLES|NORMALEMENT)\b"
    r"|\bNO\s+(?:CURRENT\s+)?ALERTS?\b|\bALL\s+SERVICES\s+(?:ARE\s+)?(?:AVAILABLE|OPERATIONAL)\b"
)
MAINTENANCE_PAGE = re.compile(
    r"\bSITE\s+(?:EN|SOUS)\s+MAINTENANCE\b|\bEN\s+COURS\s+DE\s+MAINTENANCE\b|\bSERVICE\s+UNAVAILABLE\b"
    r"|\bUNDER\s+MAINTENANCE\b|\bTEMPORAIREMENT\s+INDISPONIBLE\b|\bMAINTENANCE\s+EN\s+COURS\b"
)
CAPTCHA_PAGE = re.compile(
    r"CAPTCHA|\bROBOT\b|\bACCESS\s+DENIED\b|\bACCES\s+REFUSE\b|\bCLOUDFLARE\b|\bVERIFY\s+YOU\s+ARE\s+HUMAN\b"
    r"|\bVERIFIER\s+QUE\s+VOUS\s+ETES\b|\bJAVASCRIPT\s+(?:IS\s+)?REQUIRED\b|\bINCAPSULA\b|\bREQUEST\s+BLOCKED\b"
)


def _says_alert(folded: str) -> bool:
    """The word "alerte" used for an alert, not in "aucune alerte" / "pas d'alerte"."""
    for m in _ALERT.finditer(folded):
        before = folded[max(0, m.start() - 24) : m.end()]
        if not _NO_ALERT.search(before):
            return True
    return False


def _says_alert_word(folded: str) -> bool:
    return any(
        not _NO_ALERT.search(folded[max(0, m.start() - 24) : m.end()]) for m in _ALERT_WORD.finditer(folded)
    )


def classify(title: str, body: str = "") -> ItemKind:
    """What a message is, from its title first; the body only where the title says nothing."""
    t = fold(title)
    if NUMBER.search(t):  # "BIP n°3 – Rétablissement en cours" is a bulletin, whatever it announces
        return ItemKind.BULLETIN
    if END.search(t):
        return ItemKind.END
    if _BULLETIN.search(t):
        return ItemKind.BULLETIN
    if _PLANNED.search(t):
        return ItemKind.PLANNED
    b = fold(body)
    if _says_alert(t):
        first = _ALERT.search(t)
        if first is not None and _GUIDANCE.search(t[: first.start()]):
            return ItemKind.INFORMATION
        if first is not None and _RETROSPECTIVE.search(t[: first.start()]) and not _says_alert_word(t):
            return ItemKind.INFORMATION
        if _INFO_LEAD.match(t) and not _says_alert_word(t):
            return ItemKind.INFORMATION
        # "Interruption des téléservices le 8 août" with a body in the future tense is a notice.
        if not _ALERT_WORD.search(t) and _FUTURE.search(b) and _has_window(body):
            return ItemKind.PLANNED
        return ItemKind.ALERT
    # The body decides only for a notice (a window, in the future, of something unavailable) and a
    # text that opens on the word ALERTE; a list of other messages' titles is not their fin.
    opening = b[:80]
    if (_PLANNED.search(b) and _has_window(body)) or _announces_unavailability(body):
        return ItemKind.PLANNED
    # A body that opens on the word ("<b>ALERTE</b> : DELTA G …" in a history table row).
    if re.match(r"\W*ALERTE\b", opening) and _says_alert(opening[:40]):
        return ItemKind.ALERT
    return ItemKind.INFORMATION


def _announces_unavailability(body: str) -> bool:
    """One sentence saying that something will be unavailable during a window ("une intervention
    technique rendra ECS inaccessible le mardi 16 juin 2026 entre 6h et 9h30")."""
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", body):
        folded = fold(sentence)
        if _UNAVAILABLE.search(folded) and _FUTURE.search(folded) and _has_window(sentence):
            return True
    return False


def _has_window(text: str) -> bool:
    from ..dates import parse_window  # the dates module is pure; imported here to keep words first

    return parse_window(text) is not None


#: a title reporting operations already done ("Interruptions programmées réalisées en octobre")
_DONE = re.compile(
    r"\b(?:r[ée]alis[ée]e?s|effectu[ée]e?s|pass[ée]e?s|termin[ée]e?s|carried\s+out|completed)\b",
    re.IGNORECASE,
)
#: a message shown as a model ("Exemple : « Le SAU informe… »", "Exemple fictif", "for illustration")
_EXAMPLE = re.compile(
    r"^\s*(?:exemples?|examples?|mod[èe]le)\s*:|\bexemples?\s+fictifs?\b|\b[àa]\s+titre\s+d.illustration\b"
    r"|\bfictitious\s+example\b|\bfor\s+illustration\b",
    re.IGNORECASE | re.MULTILINE,
)


def reports_done(title: str) -> bool:
    """Whether a notice's title reports what was already carried out (a report, not an announcement)."""
    return bool(_DONE.search(title))


def shown_as_example(text: str) -> bool:
    """Whether a text presents itself as an example or a model of a message."""
    return bool(_EXAMPLE.search(text))


def is_label_only(title: str) -> bool:
    """A title that is only a kind or level word ("Alerte", "ALERTE ROUGE", "BIP", "Information"):
    a badge above the real title, not a message of its own."""
    rest = fold(title)
    rest = re.sub(r"\b(?:BIP|BULLETIN)\s*(?:N\s*°|N\s*O\.?|NO\.?|#)?\s*\d{1,3}\b", " ", rest)  # "BIP n°1"
    rest = re.sub(
        r"\b(?:ALERTES?|ROUGE|NOIRE?|ORANGE|FIN\s+D\s?ALERTE|BIP|BULLETIN\s+D\s?INFORMATION(?:\s+PERIODIQUE)?|BULLETIN|INFORMATIONS?|EN\s+COURS|NOUVEAU|EDI|DTI"
        r"|MAINTENANCE|INTERRUPTION|PROGRAMMEE?|INCIDENT|LEVEE|RED|BLACK|NEW|ACTIVE|CLOSED?|TERMINEE?"
        r"|SCHEDULED|PLANNED|ALERT|END\s+OF\s+ALERT)\b",
        " ",
        rest,
    )
    return not re.search(r"[A-Z0-9]", rest)


# --- levels --------------------------------------------------------------------------------------
_BLACK = re.compile(r"\bNOIRE?\b|\bBLACK\b")
_RED = re.compile(r"\bROUGE\b|\bRED\b")
# "L'alerte rouge est requalifiée en alerte noire", "passage en alerte noire", "devient une alerte rouge"
_REQUALIFIED = re.compile(
    r"\b(?:REQUALIFIEE?S?|RECLASSEE?S?|PASSEE?S?|PASSAGE|BASCULEE?S?|BASCULE|EVOLUE|DEVIENT|ELEVEE?S?"
    r"|RELEVEE?S?|ABAISSEE?S?|RAMENEE?S?|UPGRADED|DOWNGRADED|RAISED|LOWERED)\s+(?:\w+\s+){0,3}?"
    r"(?:EN|A|AU|TO)\s+(?:UNE\s+|L\s?|LE\s+|AN\s+)?(?:ALERTE\s+|NIVEAU\s+|ALERT\s+|LEVEL\s+)?"
    r"(?P<level>ROUGE|NOIRE?|RED|BLACK)\b"
    r"|\bDESORMAIS\s+(?:EN\s+)?(?:UNE\s+)?ALERTE\s+(?P<level2>ROUGE|NOIRE?)\b"
    r"|\bALERTE\s+(?:EST\s+)?DESORMAIS\s+(?P<level3>ROUGE|NOIRE?)\b"
)
_CONDITIONAL = re.compile(r"\b(?:EN\s+CAS\s+D[EU]?|SI|S\s?IL|EVENTUEL\w*|POURRAIT|RISQUE|IF|SHOULD)\b")


def _level_word(word: str) -> str:
    return "black" if word.startswith(("NOIR", "BLACK")) else "red"


def find_level(text: str) -> str | None:
    """The alert level a title or badge states (black wins when both words appear)."""
    f = fold(text)
    if _BLACK.search(f):
        return "black"
    if _RED.search(f):
        return "red"
    return None


def requalified_level(text: str) -> str | None:
    """The new level a bulletin announces ("… est requalifiée en alerte noire"), None when it
    announces none — a sentence that only mentions a level conditionally does not count."""
    f = fold(text)
    for m in _REQUALIFIED.finditer(f):
        start = max(f.rfind(".", 0, m.start()), f.rfind("\n", 0, m.start())) + 1
        if _CONDITIONAL.search(f[start : m.start()]):
            continue
        word = m.group("level") or m.group("level2") or m.group("level3")
        return _level_word(word)
    return None


def bulletin_number(text: str) -> int | None:
    m = NUMBER.search(fold(text))
    if not m:
        return None
    return int(m.group(1) or m.group(2))


# --- clauses, negation, instructions -------------------------------------------------------------
_CLAUSE_SPLIT = re.compile(r"(?<=[.;!?])\s+|\n+|\s+(?=MAIS\b)|\s+(?=BUT\b)|\s+:\s+")
# A clause saying something is NOT concerned: its services/modes are removed from the message.
_UNAFFECTED = re.compile(
    r"\b(?:N\s?(?:EST|SONT|ONT)\s+PAS|NE\s+SONT\s+PAS|NE\s+SONT\s+NULLEMENT|PAS|NON|NULLEMENT|AUCUNEMENT)\s+"
    r"(?:\w+\s+){0,2}?(?:IMPACTEE?S?|CONCERNEE?S?|AFFECTEE?S?|TOUCHEE?S?|PERTURBEE?S?)\b"
    r"|\bFONCTIONNE(?:NT)?\s+(?:\w+\s+)?NORMALEMENT\b|\bRESTE(?:NT)?\s+(?:\w+\s+)?(?:DISPONIBLES?|ACCESSIBLES?"
    r"|OPERATIONNEL\w*|FONCTIONNEL\w*|POSSIBLES?|UTILISABLES?|OUVERTE?S?)\b|\bN\s?EST\s+PAS\s+EN\s+CAUSE\b|\bNE\s+SONT\s+PAS\s+EN\s+CAUSE\b"
    r"|\bNOT\s+(?:AFFECTED|IMPACTED|CONCERNED)\b|\bUNAFFECTED\b|\bWORKS?\s+NORMALLY\b"
    r"|\bPAS\s+D\s?IMPACT\b|\bSANS\s+IMPACT\b|\bAUCUN\s+IMPACT\b"
)
# "hors ECS", "sauf en DTI", "à l'exception de GAMMA": what follows, in the clause, is left out.
_EXCEPT = re.compile(r"\b(?:HORS|SAUF|A\s+L\s?EXCEPTION\s+D[EU]S?|EXCEPTE|EXCEPT|EXCLUDING)\b")
# A clause of instructions, not of facts: services named there are not what the message is about.
_INSTRUCTION = re.compile(
    r"^\W*(?:CONSIGNES?|RECOMMANDATIONS?|RAPPELS?|NB|N\s+B|A\s+NOTER|NOTA|IMPORTANT|POUR\s+(?:MEMOIRE|RAPPEL)"
    r"|EN\s+CAS\s+D|SI\s|S\s?IL\s|LES\s+OPERATEURS|IL\s+EST\s+RAPPELE|VOUS\s+POUVEZ|MERCI\s+DE|INSTRUCTIONS?"
    r"|PLEASE|REMINDER)"
)
_ONLY = re.compile(r"\b(?:UNIQUEMENT|SEULEMENT|EXCLUSIVEMENT|SEULE?S?|ONLY)\b")


# "Pour ECS, …" / "Pour les déclarations en DTI : …": an instruction addressed to another service.
_ADDRESSED = re.compile(
    r"^\W*POUR\s+(?:LES?\s+|LA\s+|L\s)?(?:DECLARATIONS?\s+|OPERATEURS?\s+|FLUX\s+|MESSAGES?\s+|USAGERS?\s+)?"
    r"(?:(?:DE|DU|D|DES|EN|SUR)\s+)?(?P<who>[^,:]{2,40}?)\s*[,:]"
)


def is_instruction(clause: str) -> bool:
    """A clause of instructions, not of facts ("Consignes : …", "Pour ECS, …", "En cas de …")."""
    if _INSTRUCTION.match(clause):
        return True
    m = _ADDRESSED.match(clause)
    return m is not None and bool(find_services(m.group("who")) or _modes_of(m.group("who")))


@lru_cache(maxsize=2048)
def clauses(text: str) -> tuple[str, ...]:
    """The text cut into clauses (sentences, lines, "mais …"), each folded (cached: the services,
    the modes and the narrowing of one message all read its clauses)."""
    return tuple(c for c in (fold(part).strip() for part in _CLAUSE_SPLIT.split(text)) if c)


@dataclass(frozen=True, slots=True)
class Mentions:
    """What a text names, positively and negatively."""

    positive: tuple[str, ...]
    negative: tuple[str, ...]


def _split_except(clause: str) -> tuple[str, str]:
    m = _EXCEPT.search(clause)
    return (clause, "") if m is None else (clause[: m.start()], clause[m.end() :])


# --- modes ---------------------------------------------------------------------------------------
_EDI = re.compile(r"\bEDI\b")
_DTI = re.compile(r"\bDTI\+?|\bPORTAIL\b|\bWEB\b|\bSAISIE\s+EN\s+LIGNE\b")
_ALL_MODES = re.compile(
    r"\bTOUS\s+(?:LES\s+)?MODES\b|\bEDI\s+COMME\s+EN\s+DTI\b|\bEDI\s+ET\s+(?:EN\s+)?DTI\b|\bDTI\s+ET\s+(?:EN\s+)?EDI\b"
    r"|\bEDI\s+(?:ET|OU)\s+(?:EN\s+)?(?:MODE\s+)?DTI\b|\bDTI\s+COMME\s+EN\s+EDI\b|\bEDI\s+AND\s+DTI\b"
)


def _modes_of(folded: str) -> tuple[str, ...]:
    if _ALL_MODES.search(folded):
        return MODES
    return tuple(m for m, rx in (("EDI", _EDI), ("DTI", _DTI)) if rx.search(folded))


def find_modes(text: str) -> tuple[str, ...]:
    """EDI and/or DTI as a title names them (empty when it names neither)."""
    return _modes_of(fold(text))


def mode_mentions(text: str) -> Mentions:
    """Modes a body names as concerned, and modes it says are not ("le mode DTI n'est pas impacté")."""
    positive: set[str] = set()
    negative: set[str] = set()
    for clause in clauses(text):
        kept, excepted = _split_except(clause)
        negative.update(_modes_of(excepted))
        modes = _modes_of(kept)
        if not modes:
            continue
        if _UNAFFECTED.search(kept):
            negative.update(modes)
        elif _ONLY.search(kept) or not is_instruction(kept):
            positive.update(modes)
    return Mentions(
        tuple(m for m in MODES if m in positive - negative), tuple(m for m in MODES if m in negative)
    )


def only_modes(text: str) -> tuple[str, ...]:
    """Modes a body restricts the message to ("en mode DTI uniquement")."""
    for clause in clauses(text):
        if _ONLY.search(clause) and not _UNAFFECTED.search(clause):
            modes = _modes_of(_split_except(clause)[0])
            if modes and len(modes) < len(MODES):
                return modes
    return ()


# --- téléservices ---------------------------------------------------------------------------------
# Words that are never a téléservice's name, whatever the case they are written in.
# fmt: off
_NOT_A_NAME = frozenset((
    "A", "AU", "AUX", "D", "DE", "DU", "DES", "EN", "ET", "L", "LA", "LE", "LES", "SUR", "SUITE",
    "POUR", "PAR", "AVEC", "DANS", "OU", "UN", "UNE", "ALERTE", "ALERTES", "ROUGE", "NOIR", "NOIRE",
    "ORANGE", "FIN", "LEVEE", "CLOTURE", "BIP", "BULLETIN", "INFORMATION", "INFORMATIONS", "PERIODIQUE",
    "INTERRUPTION", "INTERRUPTIONS", "PROGRAMMEE", "PROGRAMMEES", "PREVUE", "MAINTENANCE", "OPERATION",
    "OPERATIONS", "TECHNIQUE", "TECHNIQUES", "INCIDENT", "INCIDENTS", "DYSFONCTIONNEMENT",
    "DYSFONCTIONNEMENTS", "PANNE", "PANNES", "PERTURBATION", "PERTURBATIONS", "PERTURBE",
    "INDISPONIBILITE", "INDISPONIBLE", "INDISPONIBLES", "LENTEUR", "LENTEURS", "RALENTISSEMENT",
    "RALENTISSEMENTS", "DIFFICULTE", "DIFFICULTES", "ACCES", "CONNEXION", "AUTHENTIFICATION", "RESEAU",
    "GENERAL", "GENERALE", "GENERALISE", "GENERALISEE", "TOUS", "TOUTES", "TOUT", "ENSEMBLE", "SERVICE",
    "SERVICES", "TELESERVICE", "TELESERVICES", "TELEPROCEDURE", "TELEPROCEDURES", "APPLICATION",
    "APPLICATIONS", "LIGNE", "PORTAIL", "SITE", "DOUANE", "DOUANES", "DGDDI", "CID", "SAU", "MESSAGE",
    "MESSAGES", "MESSAGERIE", "ECHANGES", "FLUX", "TRANSMISSION", "TRANSMISSIONS", "DECLARATION",
    "DECLARATIONS", "DEDOUANEMENT", "RETOUR", "NORMALE", "NORMAL", "RETABLISSEMENT", "RETABLI",
    "RETABLIS", "EN", "COURS", "COURS", "MODE", "MODES", "EDI", "DTI", "NOUVEAU", "NOUVELLE", "MISE",
    "JOUR", "MIS", "PUBLIE", "PUBLIEE", "DATE", "HEURE", "HEURES", "LE", "NO", "N", "NUMERO", "ALERT",
    "OUTAGE", "END", "OF", "UPDATE", "ALL", "AND", "THE", "ON", "FOR", "ONLINE", "LUNDI", "MARDI",
    "MERCREDI", "JEUDI", "VENDREDI", "SAMEDI", "DIMANCHE",
))
# fmt: on
_SEGMENT_SPLIT = re.compile(r"\s+[-–—|:/]\s+|\s*[–—|:]\s*|\s*[()\[\]]\s*|,\s+")
_NAME_TOKEN = re.compile(r"^[A-Za-zÀ-ÿ@][\w@.+'-]*$")
_NAMED_AS = re.compile(
    r"\b(?:t[ée]l[ée]services?|t[ée]l[ée]proc[ée]dures?|application|service\s+en\s+ligne|syst[èe]me)\s+"
    r"(?P<name>[A-Z@][A-Za-z0-9@]*(?:[- ][A-Z0-9][A-Za-z0-9]*){0,2})",
)


def _as_written(name: str) -> str:
    """An unknown téléservice's name, normalised: spaces collapsed, upper case, '@' kept as 'A'."""
    return re.sub(r"\s+", " ", name.replace("@", "A")).strip(" .-").upper()


def _plausible_name(segment: str, *, title_is_upper: bool) -> str | None:
    """The téléservice name a title segment holds once its common words are set aside, or None."""
    tokens = [t for t in re.split(r"[\s'’]+", segment.strip(' .,;!?"«»')) if t]
    if not tokens or len(tokens) > 8 or not all(_NAME_TOKEN.match(t) for t in tokens):
        return None
    meaningful = [t for t in tokens if fold(t).strip() not in _NOT_A_NAME]
    if not 1 <= len(meaningful) <= 3:
        return None
    if any(re.fullmatch(r"\d+|\d{1,2}H\d{0,2}|N°?\d+", fold(t)) for t in meaningful):
        return None
    if not title_is_upper and not any(
        (t.isupper() and len(re.sub(r"\W", "", t)) >= 2) or re.search(r"\d", t) for t in meaningful
    ):
        return None  # in a mixed-case title a name stands out: upper case, or letters with digits
    return _as_written(" ".join(meaningful))


def name_as_written(text: str) -> str | None:
    """A téléservice name standing alone (a status table's row header), normalised, or None."""
    return _plausible_name(text, title_is_upper=True)


def unknown_names(title: str) -> tuple[str, ...]:
    """Téléservices a title names that the alias table does not know. The SAU's titles read
    "ALERTE – <téléservice> – <mode>": a segment that is a short name once the kind, level and
    mode words are set aside is one. An all-capitals title must show that structure (two
    segments at least), since nothing else tells a name from a word there."""
    letters = re.sub(r"[^A-Za-zÀ-ÿ]", "", title)
    title_is_upper = bool(letters) and letters.upper() == letters
    segments = [s for s in _SEGMENT_SPLIT.split(title) if s and s.strip()]
    if title_is_upper and len(segments) < 2:
        return ()
    found: list[str] = []
    for segment in segments:
        if find_services(segment):
            continue
        name = _plausible_name(segment, title_is_upper=title_is_upper)
        if name is not None and name not in found:
            found.append(name)
    return tuple(found)


def named_as_service(text: str) -> tuple[str, ...]:
    """Names a sentence gives as "téléservice X" / "téléprocédure X" that the alias table lacks."""
    found: list[str] = []
    for m in _NAMED_AS.finditer(text):
        raw = m.group("name")
        if find_services(raw):
            continue
        name = _plausible_name(raw, title_is_upper=False)
        if name is not None and name not in found:
            found.append(name)
    return tuple(found)


def _services_in(folded: str, vocabulary: Iterable[str]) -> set[str]:
    found = set(find_services(folded))
    for name in vocabulary:
        if name not in found and re.search(rf"(?<![A-Z0-9]){re.escape(fold(name))}(?![A-Z0-9])", folded):
            found.add(name)
    return found


def service_mentions(text: str, vocabulary: Iterable[str] = ()) -> Mentions:
    """Services a body names as concerned (instructions left out) and those it says are not."""
    vocabulary = tuple(vocabulary)
    positive: set[str] = set()
    negative: set[str] = set()
    for clause in clauses(text):
        kept, excepted = _split_except(clause)
        negative |= _services_in(excepted, vocabulary)
        names = _services_in(kept, vocabulary)
        if not names:
            continue
        if _UNAFFECTED.search(kept):
            if not _modes_of(kept):  # "le mode DTI de DELTA IE n'est pas impacté" spares the mode only
                negative |= names
        elif not is_instruction(kept):
            positive |= names
    return Mentions(_ordered(positive - negative, vocabulary), _ordered(negative, vocabulary))


def title_services(title: str, vocabulary: Iterable[str] = ()) -> tuple[str, ...]:
    """The services a title names: known ones, the page's own names, then unknown names as written."""
    vocabulary = tuple(vocabulary)
    kept, excepted = _split_except(fold(title))
    names = _services_in(kept, vocabulary) - _services_in(excepted, vocabulary)
    if names:
        return _ordered(names, vocabulary)
    return unknown_names(title)


def _ordered(names: Iterable[str], vocabulary: Iterable[str] = ()) -> tuple[str, ...]:
    rank = {n: i for i, n in enumerate((*CANONICAL, *vocabulary))}
    return tuple(sorted(set(names), key=lambda n: (rank.get(n, len(rank)), n)))


def ordered(names: Iterable[str], vocabulary: Iterable[str] = ()) -> tuple[str, ...]:
    """Services in canonical order, the page's own names after, unknown names last."""
    return _ordered(names, vocabulary)
