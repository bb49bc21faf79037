"""What kind of answer a question asks for, and whether a text holds one.

Shared by the sentence scorer (a sentence holding the kind asked for ranks a little higher: "How long
would that front be?" is answered by "What, open another 932 miles of the front?", which shares one
word with it) and by verification (an answer must hold the kind asked for).
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["name", "number", "time"]

_WHO = re.compile(
    r"^\s*(who|whom|whose)\b|\bwhat(?:'s| is| was| were| are)?\b[\w\s'’]{0,30}\bnames?\b|\bname of\b", re.I
)
_HOW_MANY = re.compile(
    r"\bhow (many|much|far|long|old|big|large|high|close|near)\b|\bwhat (percentage|number|share)\b", re.I
)
_WHEN = re.compile(r"^\s*when\b|\b(what|which) (time|date|day|weekday|year|month|hour)\b|\bat what time\b", re.I)

_NUMBER_WORDS = "|".join(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split()
)
_QUANTITY = re.compile(rf"\d|\b({_NUMBER_WORDS}|no|none|dozens|hundreds|thousands|several|few)\b", re.I)
_TIME = re.compile(
    rf"\d|\b({_NUMBER_WORDS}|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|"
    r"august|september|october|november|december|morning|afternoon|evening|night|noon|midnight|yesterday|today|"
    r"tomorrow|week|month|year|years|days|hours|minutes|spring|summer|autumn|winter|earlier|later|ago|since)\b",
    re.I,
)


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


def holds_kind(kind: Kind, text: str) -> bool:
    """Whether the text holds a number (for "number") or a time expression (for "time"). Names are
    judged by the caller, which knows what the conversation already named."""
    if kind == "number":
        return bool(_QUANTITY.search(text))
    if kind == "time":
        return bool(_TIME.search(text))
    raise ValueError(f"holds_kind does not judge {kind!r}")
