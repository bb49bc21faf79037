"""Follow-up questions: turn "What did they demand?" into a query that retrieval can use alone.

The default rewriter is deterministic: when a question leans on the conversation (a pronoun or
demonstrative, an elliptical "what about ...", or almost no content words), the previous question
and answer are added to the search query. The generator still sees the conversation, so it resolves
the reference itself. (Asking the 1.5B generator to rewrite the question instead was tried and
dropped: it rewrote about one follow-up in four wrongly; README, "Session 11".)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.text import terms, without_markers

_ANAPHORA = re.compile(
    r"\b(he|she|it|its|they|them|their|theirs|him|his|her|hers|this|that|these|those|there|then|"
    r"the same|such|former|latter|one|ones|else|also|too|another|other)\b",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(r"^\s*(and|but|so|what about|how about|why|when|where|how)\b[^?]{0,20}\??\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str = ""


class Rewriter(Protocol):
    def rewrite(self, question: str, history: Sequence[Turn]) -> str: ...


def needs_context(question: str) -> bool:
    return bool(_ANAPHORA.search(question) or _ELLIPSIS.match(question) or len(set(terms(question))) <= 1)


class ContextRewriter:
    """Adds the last turn (question and answer) to a question that depends on it."""

    def __init__(self, turns: int = 1):
        self.turns = turns

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        if not history or not needs_context(question):
            return question
        context = " ".join(f"{t.question} {t.answer}".strip() for t in history[-self.turns :])
        return f"{question} ({without_markers(context)})"
