"""Deterministic fakes injected through constructors: an embedder and a generator."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from rag.generate import Extraction, Message


class HashEmbedder:
    """Bag of words hashed into a fixed space, seeded from a hash of each word: texts that share words
    are close, so ranking is testable; the same text always gives the same vector."""

    name = "hash-embedder"

    def __init__(self, dim: int = 64):
        self.dim = dim
        self.calls = 0
        self.texts_embedded = 0

    def _word_vector(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "big")
        return np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i] += self._word_vector(word)
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else self._word_vector("\x00empty")
        return out


class FakeGenerator:
    """Replies with canned text (or a function of the prompt) and records every prompt it was given."""

    name = "fake-generator"

    def __init__(self, reply: str | Callable[[Sequence[Message]], str] = "NOT FOUND"):
        self.reply = reply
        self.prompts: list[list[Message]] = []

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        self.prompts.append(list(messages))
        text = self.reply(messages) if callable(self.reply) else self.reply
        yield from re.findall(r"\S+\s*", text)


class FailingGenerator:
    name = "failing-generator"

    def __init__(self, error: Exception):
        self.error = error

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        raise self.error
        yield ""  # pragma: no cover


class CopyingGenerator(FakeGenerator):
    """A FakeGenerator that can also be asked to copy the answer from a passage (`extract`): it replies
    `copy` (or a function of the prompt and the passages' texts) and records every request."""

    name = "fake-copying-generator"

    def __init__(
        self,
        reply: str | Callable[[Sequence[Message]], str] = "NOT FOUND",
        copy: str | Callable[[Sequence[Message], Sequence[str]], str] = "NOT FOUND",
    ):
        super().__init__(reply)
        self.copy = copy
        self.copies: list[list[Message]] = []

    def extract(
        self, messages: Sequence[Message], passages: Sequence[str], max_tokens: int, refuse_at: float = 0.5
    ) -> Extraction:
        self.copies.append(list(messages))
        text = self.copy(messages, passages) if callable(self.copy) else self.copy
        return Extraction(text, 1.0 if text.strip().startswith("NOT FOUND") else 0.0)


class FakeReader(FakeGenerator):
    """A generator that reads as the embedded one does: `stream_scored` streams `reply` (or a function of
    the prompt) with `not_found_p` as its probability of NOT FOUND, and says NOT FOUND instead when that
    is at least `refuse_at`; `extract` gives `quote` (or a function of the prompt and the passages'
    texts), the fewest words that answer. Records every prompt of each kind."""

    name = "fake-reader"

    def __init__(
        self,
        reply: str | Callable[[Sequence[Message]], str] = "NOT FOUND",
        quote: str | Callable[[Sequence[Message], Sequence[str]], str] = "NOT FOUND",
        not_found_p: float = 0.1,
    ):
        super().__init__(reply)
        self.quote, self.not_found_p = quote, not_found_p
        self.quotes: list[list[Message]] = []

    def stream_scored(
        self, messages: Sequence[Message], max_tokens: int, refuse_at: float = 0.5
    ) -> Iterator[str | float]:
        self.prompts.append(list(messages))
        text = self.reply(messages) if callable(self.reply) else self.reply
        p = 1.0 if text.startswith("NOT FOUND") else self.not_found_p
        yield p
        yield from re.findall(r"\S+\s*", "NOT FOUND" if p >= refuse_at else text)

    def extract(
        self, messages: Sequence[Message], passages: Sequence[str], max_tokens: int, refuse_at: float = 0.5
    ) -> Extraction:
        self.quotes.append(list(messages))
        text = self.quote(messages, passages) if callable(self.quote) else self.quote
        return Extraction(text, 0.0)


def quoting(word: str, span: str | None = None) -> Callable[[Sequence[Message], Sequence[str]], str]:
    """A reader's quote: from the first passage that holds `word`, the words `span` (default `word`)."""

    def quote(messages: Sequence[Message], passages: Sequence[str]) -> str:
        for i, text in enumerate(passages, start=1):
            if word.lower() in text.lower():
                return f"[{i}] {span or word}"
        return "NOT FOUND"

    return quote
