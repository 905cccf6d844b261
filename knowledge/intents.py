"""What a question asks for beyond its topic words: a contact, a definition, the first step, a document.

Topic words find the sections that speak about a subject; these cues choose among them by what
the answer must contain. "Quel est le numéro du SAU ?" wants a section that gives a phone number,
"what is a BIP" the sentence that spells the acronym out, "Delta G est en panne, que faire ?" the
first step of the procedure (the section whose role is ``alert-check``), "à quels téléservices
s'applique…" a section whose role is ``scope``, and "la fiche 1…" that document. The cue phrases
live in :mod:`knowledge.glossary`; acronym definitions are read from the documents themselves
("bulletins d'information périodiques (BIP)").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from knowledge.documents import Document, Section
from knowledge.glossary import (
    ACQUIRE_CUES,
    AFTER_CUES,
    AMOUNT_CUES,
    BECOME_CUES,
    CALENDAR_WORDS,
    CHANGE_CUES,
    CONTACT_CUES,
    COUNT_CUES,
    COUNT_OF_TIME,
    DEFINITION_CUES,
    DURING_CUES,
    FAX_NUMBER_CUES,
    FUTURE_CUES,
    HELPDESK_CUES,
    HOWTO_CUES,
    LIMIT_CUES,
    NUMBER_CUES,
    OBJECT_CONTEXT_END,
    OBJECT_END,
    OBJECT_OF,
    OBJECT_SKIP,
    PURPOSE_CUES,
    PURPOSE_VERBS,
    QUALIFIER_CUES,
    ROLE_CUES,
    TIME_CUES,
    TIME_VALUE_CUES,
)
from knowledge.text import Query, TermGroup, fold

__all__ = ["Intent", "read_intent", "gives_contact", "contacts", "gives_time", "definitions", "instructs"]

_PHONE = re.compile(r"\b0\d(?: ?\d{2,3}){3,4}\b")
_EMAIL = re.compile(r"\b[\w.-]+@[\w-]+(?:\.[\w-]+)+\b")
# "expansion (ACRONYM)" and "ACRONYM (expansion)", as the documents spell acronyms out.
_ACRONYM = r"[A-Z][A-Z0-9]{1,6}"
_DEF_AFTER = re.compile(rf"\(({_ACRONYM})\)")
_DEF_BEFORE = re.compile(rf"\b({_ACRONYM}) \(([A-Za-z][^)]{{7,}})\)")
_FICHE = re.compile(r"\bfiche\s*(?:n\s*o?|no|numero)?\s*(\d+)\b")
_MONTHS = (
    (
        "janvier",
        "fevrier",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "aout",
        "septembre",
        "octobre",
        "novembre",
        "decembre",
    ),
    (
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ),
)


@dataclass(frozen=True, slots=True)
class Intent:
    contact: bool = False
    #: "how long", "jusqu'à quand", "à quelle heure": the answer gives a delay, a time or a limit
    time: bool = False
    #: the same, narrowly ("combien de temps", "by when", not "quand"): only a time can answer it
    time_value: bool = False
    #: "combien coûte", "what fine": the answer gives an amount of money
    amount: bool = False
    definition: bool = False
    roles: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    #: folded date words that named a dated document ("aout", "2023"): they chose the document
    date_words: frozenset[str] = frozenset()
    cue_words: frozenset[str] = frozenset()  # folded words the role cues used up
    #: "comment obtenir un numéro EORI ?": the folded words of what is to be obtained ("numero eori")
    obtain: tuple[str, ...] = ()
    #: ...and the folded words after the verb up to what X is for ("compte en banque", not "pour
    #: payer"): the fiches must know them all
    obtain_context: tuple[str, ...] = ()
    #: what is to be obtained is a status to become ("comment on devient OEA ?")
    become: bool = False
    #: the phase of the outage asked about: "after" (once the services are back) or "during"
    phase: str | None = None
    #: the months ("m8") and years ("2023") the question names: the period it is about
    periods: frozenset[str] = frozenset()
    #: "la prochaine coupure", "the next planned outage": a later occurrence than any document dates
    future: bool = False
    #: the boxes of a form the question asks about ("case 44", "box 31", "rubrique 3"): the answer
    #: must be a section that names one of them
    boxes: frozenset[str] = frozenset()
    #: "le numéro de fax du bureau": only a fax number answers
    fax: bool = False
    #: "nombre maximum de colis par manifeste ?": a limit on a count, which only such a limit answers
    count_limit: bool = False

    def demote(self, query: Query) -> Query:
        """The query with the words the role cues used up ("quels téléservices") as intent, not topic."""
        if not self.cue_words:
            return query
        groups = tuple(
            TermGroup(g.word, g.terms, True, g.asked) if set(fold(g.word).split()) <= self.cue_words else g
            for g in query.groups
        )
        return Query(query.lang, groups)


def _plain(text: str) -> str:
    """Folded words separated by single spaces, padded so cues match whole words."""
    return " " + " ".join(re.findall(r"[a-z0-9]+", fold(text))) + " "


def _has(text: str, cues: Iterable[str]) -> bool:
    return any(f" {cue} " in text for cue in cues)


def _used(text: str, cues: Iterable[str]) -> set[str]:
    return {w for cue in cues if f" {cue} " in text for w in cue.split()}


def _named_documents(text: str, documents: Sequence[Document]) -> tuple[tuple[str, ...], frozenset[str]]:
    """The documents the question names ("la fiche 1", "la note d'août 2023", "on 8 August 2023"),
    and the date words that named one.

    A dated document is named by "note" with its year or month, or by its month and year together.
    """
    ids = {d.id for d in documents}
    named = [f"fiche-{n}" for n in _FICHE.findall(text) if f"fiche-{n}" in ids]
    dates: set[str] = set()
    for d in documents:
        if d.date is None:
            continue
        year, month = d.date[:4], int(d.date[5:7]) - 1
        months = (_MONTHS[0][month], _MONTHS[1][month])
        said_year, said_month = _has(text, (year,)), _has(text, months)
        if (said_year and said_month) or (" note " in text and (said_year or said_month)):
            named.append(d.id)
            dates |= {w for w in (year, *months) if f" {w} " in text}
    return tuple(dict.fromkeys(named)), frozenset(dates)


MAX_OBJECT_WORDS = 3
_CAUSATIVE = frozenset({"get"})  # "get X closed / fixed / approved" asks for something to be done


def _obtained(text: str, cues: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """What a "how do I obtain / become / create / change X" question asks for: the words of X, all
    the words after the verb, and the verb ("devient": X is a status to become).

    Only when the acquisition verb follows a how-to cue closely ("comment obtenir…", "how do I
    reset…") or a purpose word at once ("les critères pour devenir OEA"); X is the noun phrase
    after the verb, determiners skipped, up to a preposition ("un compte sur Prodouane" →
    "compte"), at most three words; then the words after the verb up to what X is for or when it
    is wanted ("access to GAMMA for our bonded warehouse" → "access to GAMMA").
    """
    toks = text.split()
    openings = [(how, 4, cues) for how in HOWTO_CUES]
    openings += [(why, 1, [c for c in cues if c in PURPOSE_VERBS]) for why in PURPOSE_CUES]
    for i in range(len(toks)):
        for how, reach, verbs in openings:
            n = len(how.split())
            if " ".join(toks[i : i + n]) != how:
                continue
            for j in range(i + n, min(i + n + reach, len(toks))):
                for cue in verbs:
                    m = len(cue.split())
                    if " ".join(toks[j : j + m]) != cue:
                        continue
                    rest = toks[j + m :]
                    if cue in _CAUSATIVE and any(len(w) > 3 and w.endswith("ed") for w in rest[:5]):
                        return (), (), ""  # "how do we get the request closed?": have it done, not obtain it
                    out: list[str] = []
                    for w in rest:
                        if (not out and w in OBJECT_SKIP) or w in OBJECT_OF:
                            continue
                        if w in OBJECT_END or len(out) == MAX_OBJECT_WORDS:
                            break
                        out.append(w)
                    said = next((k for k, w in enumerate(rest) if k and w in OBJECT_CONTEXT_END), len(rest))
                    return tuple(out), tuple(rest[:said]), cue
    return (), (), ""


def read_intent(question: str, documents: Sequence[Document]) -> Intent:
    text = _plain(question)
    # "le numéro du SAU", "the fax number of the office": a number that reaches someone ("par fax
    # ça passe ?" asks how to send, not for a number)
    fax = _has(text, FAX_NUMBER_CUES) and _has(text, ("fax",))
    contact = _has(text, CONTACT_CUES) or (_has(text, NUMBER_CUES) and _has(text, HELPDESK_CUES)) or fax
    roles = tuple(role for role, cues in ROLE_CUES.items() if _has(text, cues))
    named, dates = _named_documents(text, documents)
    used = set().union(*(_used(text, ROLE_CUES[r]) for r in roles))
    # "comment obtenir le numéro du SAU ?" asks for the contact itself, not for a procedure
    obtain, context, verb = _obtained(text, CHANGE_CUES if contact else (*ACQUIRE_CUES, *CHANGE_CUES))
    if contact and not obtain:  # "le numéro du SAU": "numéro" says what is wanted, not the topic
        used |= _used(text, (*CONTACT_CUES, *NUMBER_CUES))
    time, amount, count_limit = _has(text, TIME_CUES), asks_amount(text), asks_count_limit(text)
    if time or amount or count_limit:  # "combien de temps au maximum ?": how long, at most
        used |= _used(text, QUALIFIER_CUES)
    return Intent(
        contact=contact,
        time=time,
        time_value=_has(text, TIME_VALUE_CUES),
        amount=amount,
        definition=_has(text, DEFINITION_CUES),
        roles=roles,
        documents=named,
        date_words=dates,
        cue_words=frozenset(used),
        obtain=obtain,
        obtain_context=context,
        # the verb that introduced X: "comment créer un compte pour devenir utilisateur ?" asks
        # for the account
        become=verb in BECOME_CUES,
        phase=_phase(text),
        periods=periods(text),
        future=_asks_later(text),
        boxes=boxes_asked(question),
        fax=fax,
        count_limit=count_limit,
    )


#: what a count cue counts: "combien de DAA", "nombre d'utilisateurs", "how many users"
_COUNTED = re.compile(
    r" (?:" + "|".join(c.replace(" ", r"\s") for c in COUNT_CUES) + r")(?: de| d| des| of)? (\w+)"
)


def asks_count_limit(text: str) -> bool:
    """Whether the question (folded words, padded) asks for a maximum or minimum number of things
    ("maximum number of parcels per manifest?", "combien de DAA max par jour ?"), not a delay or a
    value ("combien d'heures maximum ?", "valeur maximale ?")."""
    if not _has(text, LIMIT_CUES):
        return False
    counted = [m.group(1) for m in _COUNTED.finditer(text)]
    return any(word not in COUNT_OF_TIME for word in counted)


def _phase(text: str) -> str | None:
    """ "after" or "during" when the question says which phase of the outage it is about (both or
    neither: None)."""
    after, during = _has(text, AFTER_CUES), _has(text, DURING_CUES)
    if after == during:
        return None
    return "after" if after else "during"


_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
#: "may" is a month only next to a number ("8 May", "May 2023"): otherwise the verb
_MAY = re.compile(r"\b\d{1,2} may\b|\bmay \d")


def periods(text: str) -> frozenset[str]:
    """The months (as "m1".."m12") and years a text names, French or English, folded: the period
    a question is about, or the dates a document gives."""
    text = _plain(text)
    words = set(text.split())
    months = {
        f"m{i + 1}"
        for names in _MONTHS
        for i, name in enumerate(names)
        if name in words and (name != "may" or _MAY.search(text))
    }
    return frozenset(months | set(_YEAR.findall(text)))


_LATER = "|".join(FUTURE_CUES)
_DAYS = "|".join(CALENDAR_WORDS)
#: "le mois prochain", "next Tuesday", "la prochaine fois": the operator's own calendar, not a later event
_OWN_CALENDAR = re.compile(rf" (?:{_LATER}) (?:{_DAYS}) | (?:{_DAYS}) (?:{_LATER}) ")


def _asks_later(text: str) -> bool:
    """Whether the question asks about a later occurrence ("la prochaine coupure", "the next
    planned outage", "et la prochaine ?"), not about a day of the operator's calendar."""
    return _has(_OWN_CALENDAR.sub(" ", text), FUTURE_CUES)


def undated(text: str, date_words: frozenset[str]) -> str:
    """``text`` without the date that named a dated document ("on 8 August 2023", "le 8 août
    2023", "la note du 1er août 2023"): the date chose the document; left in the question's
    meaning, it pulls toward whichever section repeats it (the note's object) rather than the one
    that answers."""
    if not date_words:
        return text
    out: list[str] = []
    for token in re.findall(r"\S+", text):
        word = fold(token.strip(".,;:!?()«»\"'"))
        if word in date_words:
            # the day before a month ("8 août", "1er août") goes with it
            if out and re.fullmatch(r"\d{1,2}(?:er|st|nd|rd|th)?", fold(out[-1])):
                out.pop()
            continue
        out.append(token)
    return " ".join(out)


def as_embedded(question: str, documents: Sequence[Document], intent: Intent | None = None) -> str:
    """The text of a question that is embedded: without the date that named a dated document
    (:func:`undated`); ``intent`` is the question's, when the caller has read it already.

    The user's question and the shipped questions it is compared with (probes, near-domain
    negatives) go through this one function: with the dates left in the probes only, "maintenance
    du 8 août 2023 c'est de quelle heure à quelle heure ?" lost 0.05 of cosine to the note's
    closest probe when its own date was left out (0.94 → 0.89)."""
    if intent is None:
        intent = read_intent(question, documents)
    return undated(question, intent.date_words)


_DAY_DATE = re.compile(rf"\b\d{{1,2}}(?:er)? (?:{'|'.join(_MONTHS[0] + _MONTHS[1])}) \d{{4}}\b")


def event_periods(document: Document) -> frozenset[str] | None:
    """For a document about one dated event (its text gives a day's date: "le mardi 8 août 2023"),
    the months and years its text names; None for a document that dates no event (a fiche, a
    presentation), which any period may ask about."""
    text = _plain(" ".join([document.title, *(f"{s.heading} {s.body}" for s in document.sections)]))
    if document.date is None or not _DAY_DATE.search(text):
        return None
    return periods(text)


_TIME = re.compile(
    r"\b\d+\s*(?:heures?|h\b|jours?|mois|minutes?)|\b\d{1,2}h\d{0,2}\b|\bjusqu|\bau plus tard\b|"
    r"\bavant (?:la|le|l')|\bdès\b|\bsous \d|\bfin de (?:décade|mois)\b",
    re.IGNORECASE,
)


#: a box of a form named by its number: "case 44", "box 31", "cases 31 et 44", "rubrique n° 3",
#: "boxes 8, 14 and 33" (not "in case 2 trucks…")
_BOX = re.compile(
    r"\b(?:(?<!\bin )cases?|box(?:es)?|rubriques?|cadres?)\s+(?:n\s*[o°]?\s*)?"
    r"(\d{1,3}(?:\s*(?:[,/&+]|\bet\b|\band\b|\bou\b|\bor\b)\s*\d{1,3}\b)*)\b"
)
#: a numbered rubric of a form, opening its line ("3- Mode EDI", "4 – Dispense de signature")
_RUBRIC = re.compile(r"^\s*(\d{1,2})\s*[-–]\s", re.MULTILINE)


def boxes_asked(question: str) -> frozenset[str]:
    """The numbers of the form boxes ``question`` names ("que mettre en case 44 ?" → {"44"})."""
    return frozenset(n for m in _BOX.finditer(fold(question)) for n in re.findall(r"\d+", m.group(1)))


def boxes_named(text: str) -> frozenset[str]:
    """The form boxes ``text`` (a section) describes: those it names ("en case 31 du DAU E/S") and
    the numbered rubrics of a form it reproduces ("3- Mode EDI")."""
    return boxes_asked(text) | frozenset(m.group(1) for m in _RUBRIC.finditer(text))


def gives_time(text: str) -> bool:
    """Whether ``text`` gives a delay, a time or a limit ("sous 24 heures", "de 9h00 à 17h00")."""
    return bool(_TIME.search(text))


#: "fine" as the noun: after a determiner, a question word or an adjective ("what's the fine?", "what
#: fine do we get?", "a customs fine", "penalty or fine"), or opening the message ("fine if late?");
#: anywhere else it is the adjective ("one DA for both is fine, right?", "validated fine but still no
#: BAE", "is that fine if…")
_FINE = re.compile(
    r"^ fine | (?:the|a|an|any|what|which|no|customs|heavy|big|possible|potential|administrative|or) fine "
)
#: "frais" as the noun (fees): after a determiner or before what they are for ("y a-t-il des frais ?",
#: "les frais de magasinage", "frais annuels"); not the adjective ("produits frais", "Frais Export
#: SARL", a company's name)
_FEES = re.compile(
    r" (?:les|des|ces|quels|quelles|aucuns?|vos|nos|leurs|mes|tes|sans|en) frais "
    r"| frais (?:de|d|du|des|annuels?|supplementaires|eventuels|fixes) "
)


def asks_amount(text: str) -> bool:
    """Whether the question (folded and padded with spaces, as :func:`read_intent` reads it) asks for
    an amount of money: a price, a fee or a fine (:data:`knowledge.glossary.AMOUNT_CUES`), "fine"
    and "frais" only where they are nouns."""
    if _has(text, ("how much time",)):
        return False
    return _has(text, AMOUNT_CUES) or bool(_FINE.search(text)) or bool(_FEES.search(text))


_AMOUNT = re.compile(r"\d\s*(?:€|euros?\b|eur\b)|€", re.IGNORECASE)


def gives_amount(text: str) -> bool:
    """Whether ``text`` names an amount of money ("22 euros")."""
    return bool(_AMOUNT.search(text))


_FAX = re.compile(r"\b(?:fax|télécopie)\b[^.\n]{0,40}?\d{2}(?:[\s.]?\d{2}){3,}", re.IGNORECASE)


_COUNT_LIMIT = re.compile(
    r"\b(?:maximum|minimum|au plus|au moins|dans la limite de|limitée?s? à|at most|at least|up to|limited to)"
    r"\s+(?:de\s+|d'|of\s+)?\d+",
    re.IGNORECASE,
)


def gives_count_limit(text: str) -> bool:
    """Whether ``text`` states a maximum or minimum number ("au maximum 3 déclarations"), not only
    the word ("reporter au maximum vos opérations")."""
    return bool(_COUNT_LIMIT.search(text))


def gives_fax(text: str) -> bool:
    """Whether ``text`` gives a fax number ("fax : 01 23 45 67 89"), not only the word."""
    return bool(_FAX.search(text))


def gives_contact(text: str) -> bool:
    """Whether ``text`` holds a phone number or an e-mail address."""
    return bool(_PHONE.search(text) or _EMAIL.search(text))


def contacts(text: str) -> frozenset[str]:
    """The phone numbers (digits only) and e-mail addresses (lower case) ``text`` gives."""
    phones = {re.sub(r"\D", "", m) for m in _PHONE.findall(text)}
    return frozenset(phones | {m.lower() for m in _EMAIL.findall(text)})


def _initials_spell(acronym: str, words: Sequence[str]) -> bool:
    """Whether the initials of ``words`` contain the letters of ``acronym`` in order, first to first."""
    letters = [c for c in fold(acronym) if c.isalnum()]
    initials = [w[:1] for w in words]
    if not initials or not letters or initials[0] != letters[0]:
        return False
    pos = 0
    for c in letters:
        try:
            pos = initials.index(c, pos) + 1
        except ValueError:
            return False
    return True


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", fold(text))


def definitions(section: Section) -> frozenset[str]:
    """The acronyms (lower case) a section spells out, "expansion (ACR)" or "ACR (expansion)"."""
    found = set()
    for m in _DEF_AFTER.finditer(section.body):
        before = _words(section.body[max(0, m.start() - 200) : m.start()])
        span = 2 * len(m[1]) + 1
        if any(_initials_spell(m[1], before[-n:]) for n in range(len(m[1]), span + 1)):
            found.add(m[1])
    for m in _DEF_BEFORE.finditer(section.body):
        if _initials_spell(m[1], _words(m[2])):
            found.add(m[1])
    return frozenset(a.lower() for a in found)


# A sentence that tells the reader what to do: an imperative opening it ("Déposez une demande…",
# "Contactez votre prestataire…") or an obligation or invitation addressed to them.
_IMPERATIVE = re.compile(
    r"(?:^|[,:;] |^- )(?:deposez|contactez|informez|verifiez|saisissez|utilisez|consultez|appelez|indiquez|"
    r"transmettez|envoyez|conservez|cliquez|selectionnez|reportez|veillez|remplissez|procedez|"
    r"generez|completez|adressez|mentionnez|signalez|joignez)\b"
)
_OBLIGATION = re.compile(
    r"\b(?:vous devez|vous etes invites|vous etes tenu|il est necessaire|il convient|devra|devront|"
    r"doit etre|doivent etre|doit faire|veillez|vous pouvez|il vous appartient)\b"
)


def instructs(sentence: str) -> bool:
    """Whether a sentence tells the reader what to do (an instruction, an obligation, a permission)."""
    text = fold(sentence)
    return bool(_IMPERATIVE.search(text) or _OBLIGATION.search(text))
