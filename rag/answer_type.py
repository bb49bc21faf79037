"""What kind of answer a question asks for, and whether a text holds one.

Shared by the sentence scorer (a sentence holding the kind asked for ranks a little higher: "How long
would that front be?" is answered by "What, open another 932 miles of the front?", which shares one
word with it) and by verification (an answer must hold the kind asked for).
"""

from __future__ import annotations

import re
from typing import Literal

from rag.text import MARKER, MONTHS, NUMBER_WORDS, PERSON_PRONOUNS, PLACE_WORDS, WEEKDAYS

Kind = Literal["name", "number", "time"]

_WHO = re.compile(
    r"^\s*(who|whom|whose)\b|\bwhat(?:'s| is| was| were| are)?\b[\w\s'’]{0,30}\bnames?\b|\bname of\b", re.I
)
_HOW_MANY = re.compile(
    r"\bhow (many|much|far|long|old|big|large|high|close|near)\b|\bwhat (percentage|number|share)\b", re.I
)
_WHEN = re.compile(r"^\s*when\b|\b(what|which) (time|date|day|weekday|year|month|hour)\b|\bat what time\b", re.I)

_NUMBER_WORDS = "|".join(NUMBER_WORDS)
_QUANTITY = re.compile(rf"\d|\b({_NUMBER_WORDS}|no|none|dozens|hundreds|thousands|several|few)\b", re.I)
_TIME = re.compile(
    rf"\d|\b({_NUMBER_WORDS}|{'|'.join(WEEKDAYS + MONTHS)}|"
    r"morning|afternoon|evening|night|noon|midnight|yesterday|today|"
    r"tomorrow|week|month|year|years|days|hours|minutes|spring|summer|autumn|winter|earlier|later|ago|since)\b",
    re.I,
)


# Units a question may ask its number or time in; each with the spellings that count as the same unit.
_UNITS = (
    ("gmt", "utc", "z"),
    ("km", "kilometer", "kilometers", "kilometre", "kilometres"),
    ("mile", "miles", "mi"),
    ("meter", "meters", "metre", "metres", "m"),
    ("feet", "foot", "ft"),
    ("percent", "per cent", "%"),
    ("kg", "kilogram", "kilograms", "kilogramme", "kilogrammes"),
    ("ton", "tons", "tonne", "tonnes", "t"),
    ("dollar", "dollars", "$", "usd"),
    ("euro", "euros", "€", "eur"),
)
_SPELLINGS = {form: forms for forms in _UNITS for form in forms}
# Every spelling a question may use below is a key of _SPELLINGS (tests/unit/test_cite.py checks it).
_UNIT_IN_QUESTION = re.compile(
    r"\b(?:in|how many|how much|what number of)\s+(?P<unit>gmt|utc|km|kilomet(?:er|re)s?|miles?|met(?:er|re)s?|"
    r"feet|percent|per cent|kg|kilogram(?:me)?s?|tons?|tonnes?|dollars?|euros?)\b",
    re.I,
)


def asked_unit(question: str) -> tuple[str, ...]:
    """The spellings of the unit a number or time is asked in ("What time was it in GMT?", "How many
    miles ..."), the question's own first, or () when the question names none."""
    m = _UNIT_IN_QUESTION.search(question)
    if not m:
        return ()
    return (m.group("unit"), *_SPELLINGS[m.group("unit").lower()])


def holds_unit(forms: tuple[str, ...], text: str) -> bool:
    """Whether the text states a quantity in one of the unit's spellings ("0700 GMT", "15 km", "66m",
    "40%"). A one-letter spelling counts only right after a number."""
    lower = text.lower()
    for form in (f.lower() for f in forms):
        if len(form) == 1 and form.isalpha():
            pattern = rf"\d\s*{form}(?![a-z])"
        else:
            pattern = rf"(?<![a-z]){re.escape(form)}(?![a-z])"
        if re.search(pattern, lower):
            return True
    return False


_YES_NO = re.compile(r"^\s*(is|was|are|were|did|do|does|has|have|had|can|could|will|would|should|may|might)\b", re.I)


def is_yes_no(question: str) -> bool:
    """The question opens with an auxiliary verb ("Was the missile ...?", "Did Belarus ...?"): it asks
    whether something is so."""
    return bool(_YES_NO.match(question))


def asked_kind(question: str) -> Kind | None:
    """ "Who ..." / "what is the name ..." asks for a name, "how many / far / long ..." for a number,
    "when / what time / which day ..." for a time; other questions for no particular kind."""
    if _WHO.search(question):
        return "name"
    if _HOW_MANY.search(question):
        return "number"
    if _WHEN.search(question):
        return "time"
    return None


def holds_asked(kind: Kind | None, text: str) -> bool:
    """The text holds the number or time a question asks for (names are not judged here)."""
    return kind in ("number", "time") and holds_kind(kind, text)


def holds_kind(kind: Kind, text: str) -> bool:
    """Whether the text holds a number (for "number") or a time expression (for "time"). Names are
    judged by the caller, which knows what the conversation already named."""
    if kind == "number":
        return bool(_QUANTITY.search(text))
    if kind == "time":
        return bool(_TIME.search(text))
    raise ValueError(f"holds_kind does not judge {kind!r}")


def answers_question_type(question: str, answer: str, context: str = "") -> bool:
    """A cheap check that the answer is the kind of thing asked for: a name that neither the question
    nor the conversation (`context`) already holds for "who", a number for "how many", a time for
    "when" (for these two, only what the answer adds to the question counts, and a designation such as
    "S-300" is neither). Other questions pass."""
    plain = MARKER.sub("", answer)
    kind = asked_kind(question)
    if kind == "name":
        if _UNNAMED_SUBJECT.match(plain):
            return False  # "He was a cast member ... and voiced Woodhouse": about someone it never names
        known = {w.lower() for w in re.findall(r"\w+", f"{question} {context}")} | _OPENERS
        # A run of capitalised words ending in a place word ("Ivanovo District") names a place, not a who.
        runs = [run.split() for run in _CAPITALISED_RUN.findall(plain)]
        names = [w for run in runs if run[-1].lower() not in PLACE_WORDS for w in run if not _known(w, known)]
        return bool(names or re.search(r"\b(nobody|no one)\b", plain, re.I))
    if kind is not None:
        # Only what the answer adds to the question counts, and a designation is not a quantity or a
        # time: "The S-300 came down in Gorbakha" does not answer "How far is it?". (Earlier turns
        # may hold the answer: "69 fired, 54 shot down", then "How many were shot down?")
        known = {w.lower() for w in _TOKEN.findall(question)}
        added = " ".join(w for w in _TOKEN.findall(plain) if w.lower() not in known and not _DESIGNATION.match(w))
        # A number or time asked in a unit must be given in it: "10 a.m. local time" does not answer
        # "What time was it in GMT?".
        unit = asked_unit(question)
        return holds_kind(kind, added) and (not unit or holds_unit(unit, plain))
    return True


def _known(word: str, known: set[str]) -> bool:
    """Whether a capitalised word is made of known words, split as they were ("Soviet-era", "S-300"),
    without a possessive ("Ukraine’s")."""
    return all(part in known for part in re.findall(r"\w+", re.sub(r"['’]s?$", "", word).lower()))


# An answer whose subject is a bare personal pronoun, unless the pronoun is only the subject of a
# name ("She is Maria Keller ..."): a sentence copied from a passage whose person is named elsewhere.
_UNNAMED_SUBJECT = re.compile(rf"^\s*(?i:{PERSON_PRONOUNS})\b(?!\s+(?:is|was|are|were)\s+[A-Z])")
_TOKEN = re.compile(r"[\w’'.:-]*\w")
_DESIGNATION = re.compile(r"^[A-Za-z]+-\d+\w*$")  # S-300, MiG-29, COVID-19


_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*")
_OPENERS = frozenset(
    "the a an it its this that these those they he she his her there according in on at yes no i we".split()
)
