"""Follow-up questions: turn "What did they demand?" into a query that retrieval can use alone.

The default rewriter is deterministic: when a question leans on the conversation (a pronoun or
demonstrative, an elliptical "what about ...", or almost no content words), the previous question
and answer are added to the search query. The generator still sees the conversation, so it resolves
the reference itself. An LLM rewriter is available too; the eval decides which pays off.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import prompts
from rag.generate import Generator, Message
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


class LLMRewriter:
    """Asks the generator to rewrite the question; falls back to ContextRewriter's output if it rambles."""

    def __init__(self, generator: Generator, turns: int = 2):
        self.generator = generator
        self.turns = turns
        self._fallback = ContextRewriter()

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        if not history or not needs_context(question):
            return question
        lines = "\n".join(f"Q: {t.question}\nA: {without_markers(t.answer)}" for t in history[-self.turns :])
        prompt = prompts.render("rewrite", turns=lines, question=question)
        text = "".join(self.generator.stream([Message("user", prompt)], max_tokens=48)).strip()
        text = text.splitlines()[0].strip() if text else ""
        if not text or len(text) > 3 * len(question) + 80:
            return self._fallback.rewrite(question, history)
        return text
