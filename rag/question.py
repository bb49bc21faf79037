"""The question, parsed once into a small typed value that every step of the answering path reads."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer_type import Kind, asked_kind, asked_unit, is_yes_no
from rag.text import WORD

# A spoken self-correction that starts the question again: "What river, no, which lake ...",
# "Who was, sorry, when was ...", "How many, I mean how far ...". What follows the marker is meant.
_RESTART = re.compile(
    r"[,;.!?-]\s*(?:no|sorry|i mean|rather|or rather|actually|wait|scratch that)\s*[,;:.!-]*\s+"
    r"(?=(?:what|which|who|whom|whose|when|where|why|how|is|was|are|were|did|do|does|has|have|had|can|could)\b)",
    re.IGNORECASE,
)
_QUOTE_WORDS = re.compile(r"[\"“”]")
# Question forms that ask for an account rather than one fact.
_OVERVIEW = re.compile(
    r"^\W*(?:what(?:'s|’s| is| has)?\s+(?:happened|happening|going on|the (?:story|latest)|new)\b"
    r"|(?:please\s+)?(?:summari[sz]e|sum up|recap|give (?:me )?(?:an? )?(?:overview|summary|rundown))\b"
    r"|how did .{2,80}\b(?:react|respond|reply|answer)\b"
    r"|what (?:do|did|does) (?:the |these |our )?(?:articles?|reports?|sources|news|papers) (?:say|report|tell)\b"
    r"|tell me (?:about|what)\b"
    r"|what (?:do|did) (?:we|you) know about\b"
    r"|what (?:did|does|do|has|have) .{2,60} (?:say|said) about\b"
    r"|what (?:is|was) (?:known|reported|said) about\b)"
    r"|\bsummari[sz]e\b|\b(?:an?|the) (?:overview|summary|rundown) of\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Question:
    text: str  # the question meant (after a self-correction), as the user wrote it
    asked: str  # the question exactly as typed (cleaned)
    kind: Kind | None  # a name ("who"), a number ("how many"), a time ("when"), or none in particular
    unit: tuple[str, ...]  # the unit a number or time is asked in, with its spellings; () when none
    yes_no: bool
    names: tuple[str, ...]  # capitalised words after the first: compared as whole words
    numbers: tuple[str, ...]
    overview: bool = False  # asks for an account across articles ("What happened ...?"), not one fact


def parse_question(asked: str) -> Question:
    text = meant(asked)
    words = WORD.findall(_QUOTE_WORDS.sub(" ", text))
    return Question(
        text=text,
        asked=asked,
        kind=asked_kind(text),
        unit=asked_unit(text),
        yes_no=is_yes_no(text),
        names=tuple(dict.fromkeys(w for w in words[1:] if w[:1].isupper())),
        numbers=tuple(dict.fromkeys(w for w in words if any(c.isdigit() for c in w))),
        overview=bool(_OVERVIEW.search(text)),
    )


def meant(asked: str) -> str:
    """The question after its last self-correction that starts it again; the whole question otherwise."""
    parts = _RESTART.split(asked)
    tail = parts[-1].strip()
    return tail[:1].upper() + tail[1:] if len(parts) > 1 and len(tail.split()) >= 3 else asked
