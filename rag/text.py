"""Small text tools shared by lexical search and citation checking: terms, stems, sentences."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from functools import lru_cache

import snowballstemmer

WORD = re.compile(r"\w+(?:[-.’']\w+)*")  # a word as terms() reads it: "S-300", "Lukashenko's"
YEAR = re.compile(r"\b(?:19|20)\d\d\b")  # a year of the last two centuries: "2022"
MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")  # a citation marker: "[2]", "[1, 3]"
# Third-person pronouns standing for a person named elsewhere ("He voiced Woodhouse"), as regex
# alternatives: the personal ones, and with the possessives.
PERSON_PRONOUNS = r"he|she|they"
PERSON_PRONOUNS_AND_POSSESSIVES = rf"{PERSON_PRONOUNS}|his|her|their"
NUMBER_WORDS = tuple(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split()
)  # written-out numbers, in order: NUMBER_WORDS[n] is n
MONTHS = tuple("January February March April May June July August September October November December".split())
WEEKDAYS = tuple("Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split())
# Words that end a place's name: "Ivanovo District", "the Brest region".
PLACE_WORDS = frozenset(
    "district region oblast province county village city town river street avenue square lake island "
    "valley mountains".split()
)
_STEMMER = snowballstemmer.stemmer("english")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she should
    so some such than that the their theirs them themselves then there these they this those through to
    too under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves also said says say told according there's it's what's who's""".split()
)


def without_markers(text: str) -> str:
    """The text with its citation markers taken out."""
    return MARKER.sub("", text).strip()


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    return text.lower()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def terms(text: str, keep_stopwords: bool = False, parts: bool = True) -> list[str]:
    """Lower-cased, stemmed terms. With `parts`, a hyphenated compound ("S-300") also gives its parts
    of two or more characters, so lexical search finds "300" too; scoring that weighs each term once
    asks for no parts."""
    out: list[str] = []
    for word in WORD.findall(normalize(text)):
        out.extend(word_terms(word, keep_stopwords, parts))
    return out


@lru_cache(maxsize=100_000)
def word_terms(word: str, keep_stopwords: bool = False, parts: bool = True) -> tuple[str, ...]:
    """The terms of one word as `terms` finds it. Cached: news text repeats its words, and building
    the BM25 index spent most of its time here (10k chunks: 1.6 s, 0.9 s of it with every stem cached)."""
    word = word.strip("'")
    if word.endswith("'s"):
        word = word[:-2]
    pieces = [p for p in re.split(r"[-.']", word) if len(p) >= 2] if parts and re.search(r"[-.']", word) else []
    return tuple(stem(w) for w in (word, *pieces) if w and (keep_stopwords or w not in STOPWORDS))


def terms_match(a: str, b: str) -> bool:
    """Stems match, or one is a prefix of the other (Belarus / Belarusian, Ukraine / Ukrainian)."""
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 4 and long_.startswith(short)


def has_term(term: str, pool: Collection[str]) -> bool:
    """Some term of `pool` matches `term` (`terms_match`); a set pool answers an exact match at once."""
    return term in pool or any(terms_match(term, p) for p in pool)


# A sentence end: after . ! ? and any closing quote marks or brackets, which stay in the sentence
# (group 1), then white space before a capital, a digit or an opening quote mark; or a line break.
_SENT_END = re.compile(r"(?<=[.!?…])([\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n\s*\n|\n(?=\S)")
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Gen|Col|Lt|Sgt|Capt|Rep|Sen|Gov|Jr|Sr|Inc|Ltd|Co|vs|etc|No|U\.S|a\.m|p\.m|e\.g|i\.e)\.|\b[A-Z]\.)$"
)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside text[start:end], trimmed of surrounding white space; a closing quote mark
    after the full stop belongs to its sentence ('... "all forces and means."')."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _SENT_END.finditer(text, start, end):
        head = text[cursor : match.start()]
        if _ABBREV.search(head) and "\n" not in match.group(0):
            continue  # "10 a.m. local time", "Mr. Smith": not a sentence end
        _push(text, cursor, match.start() + len(match.group(1) or ""), spans)
        cursor = match.end()
    _push(text, cursor, end, spans)
    return spans


def _push(text: str, a: int, b: int, spans: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))


ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _written_out(m: re.Match[str]) -> str | None:
    """An ISO date written out ("29 December 2022"); None when it is no calendar date."""
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    return f"{day} {MONTHS[month - 1]} {year}"


def with_dates_written_out(text: str) -> str:
    """The text with each ISO date followed by the same date written out."""

    def both(m: re.Match[str]) -> str:
        written = _written_out(m)
        return f"{m.group(0)} ({written})" if written else m.group(0)

    return ISO_DATE.sub(both, text)


def dates_written_out(text: str) -> str:
    """The text with each ISO date replaced by the same date written out."""
    return ISO_DATE.sub(lambda m: _written_out(m) or m.group(0), text)
