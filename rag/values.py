"""The values a text states: numbers, dates and names, found as spans and read into comparable keys.

Used by `rag.disagree` to tell whether two articles give the same value ("54" and "fifty-four", "24
February" and "Tuesday, 24 February 2023") or different ones, and whether two names are one name
spelled two ways (Gorbakha / Harbacha / Horbakha) or two names (Niger / Nigeria, Ivanovo / Brest).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from rag.answer_type import Kind
from rag.text import MONTHS, NUMBER_WORDS, PLACE_WORDS, STOPWORDS, WEEKDAYS, WORD, YEAR

Key = tuple[object, ...]


@dataclass(frozen=True)
class Value:
    """A value found in a text: text[start:end], its kind, and a key to compare it by."""

    kind: Kind
    start: int
    end: int
    key: Key


# --- numbers -------------------------------------------------------------------------------------

_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_UNIT_WORDS = {w: i for i, w in enumerate(NUMBER_WORDS[:20])} | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
_NUMBER_WORD = "|".join(sorted([*_UNIT_WORDS, *_SCALES], key=len, reverse=True))
_SCALE = "|".join(_SCALES)
_NUMBER = re.compile(
    rf"(?<![\w.,-])(?P<digits>\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?)(?:\s+(?P<scale>{_SCALE})\b)?(?![\w-]|[.,]\d)"
    rf"|\b(?P<words>(?:{_NUMBER_WORD})(?:(?:-|\s+|\s+and\s+)(?:{_NUMBER_WORD}))*)\b(?!-)",
    re.I,
)


def _word_number(phrase: str) -> int:
    """ "fifty-four" is 54, "one hundred and twenty" 120, "three thousand" 3000."""
    total = current = 0
    for word in re.split(r"[-\s]+", phrase.lower()):
        if word in _UNIT_WORDS:
            current += _UNIT_WORDS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total, current = total + max(current, 1) * _SCALES[word], 0
    return total + current


def numbers(text: str, start: int = 0, end: int | None = None, years: bool = False) -> list[Value]:
    """The numbers stated in text[start:end], as digits ("1,200", "3.5 million") or words ("fifty-four");
    not those that are part of a date ("24 February"), nor years unless `years`, nor "one of"."""
    end = len(text) if end is None else end
    in_dates = [(v.start, v.end) for v in dates(text, start, end)]
    found: list[Value] = []
    for m in _NUMBER.finditer(text, start, end):
        if any(a <= m.start() < b for a, b in in_dates):
            continue
        if m.group("digits"):
            digits = m.group("digits")
            if not years and not m.group("scale") and YEAR.fullmatch(digits):
                continue
            value = float(digits.replace(",", "")) * _SCALES.get((m.group("scale") or "").lower(), 1)
        else:
            if m.group().lower() == "one" and re.match(r"\s+of\b", text[m.end() :]):
                continue  # "one of the victims" counts nothing
            value = float(_word_number(m.group("words")))
        found.append(Value("number", m.start(), m.end(), (value,)))
    return found


# --- dates ---------------------------------------------------------------------------------------

_MONTH = r"(?P<month>(?:January|February|March|April|May|June|July|August|September|October|November|December)\b|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b\.?)"  # noqa: E501
_WEEKDAY = r"(?:(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),?\s+(?:the\s+)?)?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>(?:19|20)\d\d)\b)?"
_DATES = (
    re.compile(r"\b(?P<year>\d{4})-(?P<month>\d\d)-(?P<day>\d\d)\b"),
    re.compile(rf"\b{_WEEKDAY}{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}"),
    re.compile(rf"\b{_WEEKDAY}{_MONTH}\s+{_DAY}\b{_YEAR}"),
    re.compile(rf"\b{_MONTH}\s+(?P<year>(?:19|20)\d\d)\b"),
    re.compile(r"\b(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"),
    re.compile(r"(?<![\w.,-])(?P<year>(?:19|20)\d\d)(?![\w-]|[.,]\d)"),
)


def _date_key(m: re.Match[str]) -> Key | None:
    """(year, month, day, weekday), None where the text does not say; None for no calendar date."""
    fields = m.groupdict()
    name = fields.get("month") or ""
    month = int(name) if name.isdigit() else next((i for i, n in enumerate(MONTHS, 1) if n[:3] == name[:3]), None)
    day = int(fields["day"]) if fields.get("day") else None
    if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
        return None
    weekday = fields.get("weekday")
    year = int(fields["year"]) if fields.get("year") else None
    return (year, month, day, WEEKDAYS.index(weekday) if weekday else None)


def dates(text: str, start: int = 0, end: int | None = None) -> list[Value]:
    """The dates stated in text[start:end]: the longest of the overlapping readings."""
    end = len(text) if end is None else end
    matches = sorted(
        (m for pattern in _DATES for m in pattern.finditer(text, start, end)), key=lambda m: (m.start(), -m.end())
    )
    found: list[Value] = []
    for m in matches:
        key = _date_key(m)
        if key is not None and not (found and m.start() < found[-1].end):
            found.append(Value("time", m.start(), m.end(), key))
    return found


# --- names ---------------------------------------------------------------------------------------

_JOINERS = frozenset({"of", "for", "de", "al"})  # inside a name: "Ministry of Emergency Situations"
_CALENDAR = frozenset(w.lower() for w in MONTHS + WEEKDAYS)


def names(text: str, start: int = 0, end: int | None = None, sentence_start: int | None = None) -> list[Value]:
    """Runs of capitalised words in text[start:end] (joined by "of", "for", ...), without a leading
    function word ("The"), month or weekday. A lone capitalised word opening the sentence at
    `sentence_start` is not taken for a name: any word is capitalised there."""
    end = len(text) if end is None else end
    words = list(WORD.finditer(text, start, end))
    found: list[Value] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and _capital(words[j].group()):
            j += 1  # a name does not run over punctuation: "Gorbakha, Ivanovo District" is two
            if j + 1 < len(words) and words[j].group() in _JOINERS and _capital(words[j + 1].group()):
                j += 1 if _spaced(text, words[j - 1], words[j]) and _spaced(text, words[j], words[j + 1]) else 0
            if j < len(words) and not _spaced(text, words[j - 1], words[j]):
                break
        run = words[i:j]
        while run and (run[0].group().lower() in STOPWORDS or run[0].group().lower() in _CALENDAR):
            run = run[1:]
        while run and run[-1].group().lower() in _CALENDAR:
            run = run[:-1]
        lone_opener = len(run) == 1 and run[0].start() == sentence_start
        if run and not lone_opener and not all(_is_generic(w.group()) for w in run):
            found.append(Value("name", run[0].start(), run[-1].end(), name_key(text[run[0].start() : run[-1].end()])))
        i = max(j, i + 1)
    return found


def _spaced(text: str, a: re.Match[str], b: re.Match[str]) -> bool:
    return text[a.end() : b.start()].isspace()


def _capital(word: str) -> bool:
    return word[:1].isupper()


def _is_generic(word: str) -> bool:
    return word.lower() in PLACE_WORDS


def _plain(word: str) -> str:
    """Lower case, without accents or a possessive: "Lwów's" is "lwow"."""
    word = unicodedata.normalize("NFKD", word.replace("’", "'")).encode("ascii", "ignore").decode().lower()
    return word[:-2] if word.endswith("'s") else word


def name_key(name: str) -> Key:
    """The words of a name, plain, without the generic words of a place name ("Ivanovo District" is
    ("ivanovo",)) or function words."""
    words = [_plain(w) for w in WORD.findall(name)]
    kept = [w for w in words if w not in PLACE_WORDS and w not in STOPWORDS]
    return tuple(kept or words)


Relation = Literal["same", "spelling", "different"]


def compare_names(a: Key, b: Key) -> Relation:
    """The same name (equal, or one names a part of the other: "Glaz" in "Anatoly Glaz"), one name
    spelled two ways (word by word, `spelled_alike`), or two names."""
    if a == b or _contains(a, b) or _contains(b, a):
        return "same"
    if len(a) == len(b) and all(x == y or spelled_alike(str(x), str(y)) for x, y in zip(a, b, strict=True)):
        return "spelling"
    return "different"


def _contains(long_: Key, short: Key) -> bool:
    n = len(short)
    return 0 < n < len(long_) and any(long_[i : i + n] == short for i in range(len(long_) - n + 1))


# Letters that transliterations of one name trade for each other: Г is G or H, Х is kh, ch or h, И/Й/Ы
# are i, y or j, В is v or w; vowels shift (Kiev / Kyiv, Chernigov / Chernihiv). Digraphs first.
_DIGRAPHS = (("kh", "k"), ("ch", "k"), ("ck", "k"), ("ph", "f"), ("sh", "s"), ("zh", "s"), ("th", "t"))
_CLASSES = str.maketrans("ghkcqaeouiyjvwszx", "HHKKKAAAAIIIVVSSK")


def sound_key(word: str) -> str:
    """The word's letters in transliteration classes, runs of one class written once: Gorbakha,
    Harbacha and Horbakha are all HARBAKA; Niger is NIHAR, Nigeria NIHARIA."""
    word = re.sub(r"[^a-z]", "", _plain(word))
    for digraph, letter in _DIGRAPHS:
        word = word.replace(digraph, letter)
    classed = word.translate(_CLASSES).upper()
    return re.sub(r"(.)\1+", r"\1", classed)


def spelled_alike(a: str, b: str) -> bool:
    """One name written two ways: their `sound_key`s are equal, or one vowel apart with the same
    consonants (Kiev / Kyiv). A name with letters added to its end is another name (Niger / Nigeria,
    India / Indiana: two vowel classes and a consonant apart); so is one consonant changed (Mali / Bali)."""
    ka, kb = sound_key(a), sound_key(b)
    if ka == kb:
        return len(ka) >= 3
    consonants = re.compile(r"[AI]")
    return consonants.sub("", ka) == consonants.sub("", kb) and min(len(ka), len(kb)) >= 3 and _edits(ka, kb) <= 1


def _edits(a: str, b: str) -> int:
    """Levenshtein distance."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


# --- any kind ------------------------------------------------------------------------------------


def values(
    kind: Kind,
    text: str,
    start: int = 0,
    end: int | None = None,
    sentence_start: int | None = None,
    years: bool = False,
) -> list[Value]:
    if kind == "number":
        return numbers(text, start, end, years)
    if kind == "time":
        return dates(text, start, end)
    return names(text, start, end, sentence_start)


def same_value(a: Value, b: Value) -> bool:
    """Numbers equal; dates agreeing in every field both give, and giving one ("24 February" and
    "Tuesday, 24 February 2023", not "Tuesday"); names the same (`compare_names`)."""
    if a.kind != b.kind or not comparable(a, b):
        return False
    if a.kind == "time":
        return all(x is None or y is None or x == y for x, y in zip(a.key, b.key, strict=True))
    if a.kind == "name":
        return compare_names(a.key, b.key) == "same"
    return a.key == b.key


def comparable(a: Value, b: Value) -> bool:
    """Two dates are comparable when they share a field ("Tuesday" says nothing about "24 February")."""
    return a.kind != "time" or any(x is not None and y is not None for x, y in zip(a.key, b.key, strict=True))


# Approximate numbers contradict exact ones further than `_APPROX` apart ("some 3,800" / 4,200, not
# "about 50" / 54); bounds, only an exact number on their wrong side ("more than 50" / 40).
_LOOSE = re.compile(
    r"\b(?:about|around|nearly|almost|roughly|approximately|some|over|under|more than|less than|fewer than|"
    r"at least|at most|up to|as many as|estimated|an estimated)\s*$",
    re.I,
)
_ABOVE = re.compile(r"\b(?:over|more than|at least|as many as)\s*$", re.I)
_BELOW = re.compile(r"\b(?:under|less than|fewer than|at most|up to)\s*$", re.I)
_APPROX = 0.05


def loose(text: str, start: int) -> bool:
    """The number at `start` is said approximately or as a bound ("about 50", "more than 50")."""
    return bool(_LOOSE.search(text[max(0, start - 20) : start]))


def loosely_agree(answer: Value, c: Value, text: str) -> bool:
    """An approximate number or a bound that the answer's exact number fits."""
    a, b = answer.key[0], c.key[0]
    if not isinstance(a, float) or not isinstance(b, float):
        return True
    before = text[max(0, c.start - 20) : c.start]
    if _ABOVE.search(before):
        return a >= b
    if _BELOW.search(before):
        return a <= b
    return abs(a - b) <= _APPROX * max(abs(a), abs(b))
