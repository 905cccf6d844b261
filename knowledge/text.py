"""Text analysis shared by the index and the questions: folding, stop words, stemming, glossary.

The fiches are French; operators ask in French or English. Both sides are reduced to the same
terms: lower case, French Snowball stems, accents folded ("réintégrées" → "reintegr"). An English
question first goes through a small bilingual domain glossary ("self-trigger" → "auto-déclencher",
"box" → "case"), and a word the glossary does not know is tried both as a French cognate
("procedure" → "procedur") and as an English stem. The result keeps, for each word of the
question, the group of index terms it stands for, so the caller can tell which words of a question
the documents know at all (the abstention signal) and which they do not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

from knowledge.glossary import EN_FR, FR_FR, INTENT_EN, INTENT_FR

_WORD = re.compile(r"\d+|[^\W\d_]+")

# "Prodou@ne": an "@" inside a word that is not an e-mail address stands for an "a".
_AT_IN_WORD = re.compile(r"(?<=[^\W\d_])@(?=[^\W\d_]+\b(?!\.\w))")


def _wordlist(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words and question words: they carry no topic. Folded (no accents), lower case.
STOP_FR: frozenset[str] = _wordlist(
    """
    a ai aie aient aies ait as au aura aurai auraient aurais aurait auras aurez auriez aurions
    aurons auront aux avaient avais avait avec avez aviez avions avons ayant ayez ayons c ce ceci
    cela celle celles celui ces cet cette ceux d dans de des du elle elles en es est et etaient
    etais etait etant ete etes etiez etions eu eue eues eut eux il ils j je l la le les leur leurs
    lui m ma mais me mes moi mon meme n ne ni nos notre nous on ont ou par pas pour qu que quel
    quelle quelles quels qui quoi s sa se sera serai seraient serais serait seras serez seront ses
    si soient sois soit sommes son sont soyez suis sur t ta te tes toi ton tu un une vos votre
    vous y est-ce pourquoi ou dois doit doivent devons devez devoir faut
    falloir peut peux pouvons pouvez puis puisse pourrais pourrait pourrai faire fait fais faites
    font ceci tout tous toute toutes tres bien plus moins alors donc car ainsi aussi apres avant
    pendant lors quoi lequel laquelle lesquels auquel chez vers sans sous entre selon mettre
    met mets savoir sais sait svp merci bonjour il-y-a ya dont veut veux voudrais souhaite
    concerne concernant trouver trouve devient deviennent devenir aller obtenir besoin combien
    mien miens mienne miennes ca ça jai j'ai g pr ds pdt qd tt tjs tjrs bcp stp svp chui jsuis cc
    vs vrmt mtn slt bjr dc depuis encore deja déjà toujours jamais koi kwa jdois jpeux jen jsp jsais
    truc trucs bref ok dsl
    """
)
STOP_EN: frozenset[str] = _wordlist(
    """
    a about after again against all am an and any are as at be been before being below between
    many much several every lot lots
    both but by can could did do does doing done down during each few for from further get gets
    got had has have having he her here hers him his how i if in into is it its itself just me
    more most my myself no nor not now of off on once only or other our ours out over own same
    she should so some such than that the their theirs them then there these they this those
    through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself must may might shall need needs needed want wants know
    tell happen happens happened go goes going please thanks hello hi use used using way ok okay
    anything something everything there's what's it's i'm can't don't does't whats hows im
    without re ll ve one two three four five six seven eight nine ten found
    seem seems seemed appear appears appeared cannot us isn aren wasn weren don doesn didn won
    wouldn shouldn couldn haven hasn hadn pls plz thx asap u ur r bc cuz coz b4 n per
    """
)
# Words that only say which language a question is in.
_FR_MARKERS = _wordlist(
    "le la les des du de un une est et que qui quel quelle quels quelles comment quand faut "
    "dois puis peut je nous vous pour dans sur au aux pendant apres avec ce cette"
)
_EN_MARKERS = _wordlist(
    "the a an is are what which who how when where can do does i my we you for of in on to "
    "should must during after with this that have has our was were will just or too it its "
    "there their they any still already since from been be"
)

_FR = snowballstemmer.stemmer("french")
_EN = snowballstemmer.stemmer("english")


class _Marks(dict[int, int | None]):
    """``str.translate`` table dropping combining marks, filled as characters are met: one C-level
    pass over a section instead of a Python test per character (the fiches are folded at start-up)."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_MARKS = _Marks()


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """Lower case without accents ("Réintégrées" → "reintegrees")."""
    if text.isascii():
        return text.replace("@", "a").lower()
    text = unicodedata.normalize("NFKD", text.replace("@", "a").replace("œ", "oe"))
    return text.translate(_MARKS).lower()


def words(text: str) -> list[str]:
    """The words of ``text``, lower case, accents kept (the French stemmer wants them)."""
    return _WORD.findall(_AT_IN_WORD.sub("a", text.lower().replace("’", "'")))


def unique(items: Iterable[str]) -> list[str]:
    """Items once each, first occurrence order."""
    return list(dict.fromkeys(items))


def _keep(term: str) -> bool:
    return term.isdigit() or len(term) > 1


@lru_cache(maxsize=8192)
def stem_fr(word: str) -> str:
    """French Snowball stem of one lower-case word, accents folded afterwards."""
    return fold(_FR.stemWord(word))


@lru_cache(maxsize=8192)
def stem_en(word: str) -> str:
    return fold(_EN.stemWord(fold(word)))


def analyse_fr(text: str) -> list[str]:
    """Index terms of French text: stop words dropped, stemmed, folded (order and repeats kept)."""
    out = []
    for w in words(text):
        if fold(w) in STOP_FR:
            continue
        term = stem_fr(w)
        if _keep(term):
            out.append(term)
    return out


def detect_lang(text: str, default: str = "fr") -> str:
    """ "fr" or "en": ``default`` unless the question reads as one more than the other (accents
    count for French). A fragment ("and by phone?") says too little: its exchange's language decides."""
    ws = [fold(w) for w in words(text)]
    # Accents count, but not more than two words' worth: an English question may name "la météo
    # des téléservices" and stay English.
    fr = sum(w in _FR_MARKERS for w in ws) + min(2, sum(c in "éèêàùçâîôû" for c in text.lower()))
    en = sum(w in _EN_MARKERS for w in ws)
    return "en" if en > fr else "fr" if fr > en else default


@dataclass(frozen=True, slots=True)
class TermGroup:
    """One word (or glossary phrase) of a question and the index terms it may stand for.

    A ``weak`` group says what the question asks for ("comment", "can I") rather than its topic.
    """

    word: str
    terms: tuple[str, ...]
    weak: bool = False
    #: in the question's last sentence, after a preamble giving context ("Bonjour, depuis ce matin
    #: … : peut-on passer en procédure de secours ?"): the words that say what is asked
    asked: bool = False
    #: a detail of the operator's situation, not a topic: a time ("14h12"), an amount ("40 €"), a
    #: name the fiches never use ("Roissy", "Saturday"). It never makes the engine decline.
    context: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    lang: str
    groups: tuple[TermGroup, ...]

    def terms(self, weak: bool = False) -> list[str]:
        """Every candidate term of the topic (or, with ``weak``, of the intent) groups, once."""
        return unique(t for g in self.groups if g.weak == weak and not g.context for t in g.terms)

    @property
    def topic(self) -> tuple[TermGroup, ...]:
        """The words that say what the question is about (not its intent, not its numbers)."""
        return tuple(g for g in self.groups if not g.weak and not (g.context and g.word.isdigit()))


def _phrases(table: dict[str, str], stem: bool) -> dict[tuple[str, ...], str]:
    def key(phrase: str) -> tuple[str, ...]:
        ws = [fold(w) for w in words(phrase)]
        return tuple(stem_en(w) if stem else w for w in ws)

    return {key(k): v for k, v in table.items()}


# (table, keyed on English stems?, weak) in the order they are tried at one position.
_TABLES_EN = ((_phrases(INTENT_EN, True), True, True), (_phrases(EN_FR, True), True, False))
_TABLES_FR = ((_phrases(INTENT_FR, False), False, True), (_phrases(FR_FR, False), False, False))
_LONGEST = max(len(k) for tables in (_TABLES_EN, _TABLES_FR) for table, _, _ in tables for k in table)


def _match(keys_en: list[str], keys_fr: list[str], i: int, lang: str) -> tuple[int, str, bool]:
    """The longest glossary phrase starting at word ``i``: (length, expansion, weak)."""
    tables = (*_TABLES_EN, *_TABLES_FR) if lang == "en" else _TABLES_FR
    for n in range(min(_LONGEST, len(keys_fr) - i), 0, -1):
        for table, on_en, weak in tables:
            keys = keys_en if on_en else keys_fr
            found = table.get(tuple(keys[i : i + n]))
            if found is not None:
                return n, found, weak
    return 0, "", False


# Where a sentence or a clause ends inside a question ("… manifests. Once it's back, which…").
_CLAUSE_END = re.compile(r"[.!?:;](?=\s+\S)")
MIN_PREAMBLE_WORDS = 8  # a question counts as "context, then question" with at least this many words before


def _last_sentence_start(text: str) -> int:
    """The index of the first word of the last sentence of ``text`` (0 when it is one sentence)."""
    ends = [m.end() for m in _CLAUSE_END.finditer(text)]
    if not ends:
        return 0
    before = len(words(text[: ends[-1]]))
    return before if before >= MIN_PREAMBLE_WORDS else 0




def _is_detail(cased: str, folded: str, vocabulary: frozenset[str] | None) -> bool:
    """A time, an amount or a name: part of the operator's situation, not of the question's topic."""
    if vocabulary is not None and folded in vocabulary:
        return False
    if folded.isdigit() and not (vocabulary is not None and folded in vocabulary):
        return True  # "14h12", "40 €", "15e": the unit letters are too short to be words
    # A capitalised word (not an acronym) the fiches never use: a place, a person, a day, a company.
    return cased[:1].isupper() and not cased.isupper() and vocabulary is not None


def analyse_question(
    text: str,
    lang: str | None = None,
    vocabulary: frozenset[str] | None = None,
    correct: Callable[[str], str | None] | None = None,
) -> Query:
    """Turn a question into term groups, expanding glossary phrases (longest match first).

    ``vocabulary`` is the folded words of the fiches; ``correct`` maps a misspelt word to the word
    it most likely stands for ("declartion" → "declaration"), or None.
    """
    lang = lang or detect_lang(text)
    asked_from = _last_sentence_start(text)
    tokens = words(text)
    cased = _WORD.findall(_AT_IN_WORD.sub("a", text.replace("’", "'")))
    if len(cased) != len(tokens):  # lower() changed a word's shape: no case information
        cased = tokens
    cased[:1] = tokens[:1]  # a capital opening the question says nothing
    if correct is not None:
        for n, w in enumerate(tokens):
            fixed = correct(w)
            if fixed is not None:
                tokens[n] = cased[n] = fixed
    folded = [fold(w) for w in tokens]
    en_keys = [stem_en(w) for w in folded]
    stop = STOP_EN | STOP_FR  # operators mix languages ("c'est quoi the deadline")
    groups: list[TermGroup] = []
    i = 0
    while i < len(tokens):
        n, expansion, weak = _match(en_keys, folded, i, lang)
        if n:
            phrase = " ".join(tokens[i : i + n])
            # a French phrase's own words count too: "délai" or "OEA" are also corpus words
            own = [] if lang == "en" or weak else analyse_fr(phrase)
            terms = unique(analyse_fr(expansion) + own)
            if terms:
                groups.append(TermGroup(phrase, tuple(terms), weak, 0 < asked_from <= i))
            i += n
            continue
        word, f = tokens[i], folded[i]
        i += 1
        if f in stop:
            continue
        time_of_day = f.isdigit() and i < len(folded) and folded[i] in ("h", "am", "pm")  # "10h", "9 am"
        if time_of_day or _is_detail(cased[i - 1], f, vocabulary):
            groups.append(TermGroup(cased[i - 1], (stem_fr(word),), False, False, True))
            continue
        candidates = [stem_fr(word)]
        if lang == "en":
            candidates.append(en_keys[i - 1])
            shared = cased[i - 1].isupper() or (vocabulary is not None and f in vocabulary)
            if len(f) <= 4 and not shared:
                # A short English word read as a French stem is a guess too often wrong ("visa" →
                # "vis", the stem of "vise"): keep its English stem only; the glossary holds the
                # short words that do carry over ("box"); a word the fiches use as is ("page",
                # "date") and an acronym (GPS, ENS) are kept.
                candidates = candidates[1:]
        terms = unique(t for t in candidates if _keep(t))
        if terms:
            groups.append(TermGroup(cased[i - 1], tuple(terms), False, 0 < asked_from <= i - 1))
    return Query(lang, tuple(groups))
