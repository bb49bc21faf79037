"""Read, then quote: the two generations of the answering path.

`read` streams the reader's answer over the numbered passages (one or two sentences citing `[n]`,
or NOT FOUND), and with llama.cpp its own first-token probability of NOT FOUND: the reply is NOT
FOUND exactly when that probability reaches `refuse_at`, a threshold chosen on the eval suite's dev
sets. `quote` then asks, in the same conversation (llama.cpp's cache holds all before it, so only
the request is new), for the fewest words of the cited passages that answer: held to those passages
by constrained decoding (`rag.extract`), they are the answer's `short_answer`, an exact span.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import prompts
from rag.extract import NOT_FOUND, parse_reply, shown
from rag.generate import Extractor, Generator, Message, ScoredStreamer
from rag.guard import gives_instructions
from rag.question import Question
from rag.rewrite import Turn
from rag.text import MARKER, without_markers
from rag.types import Passage, ShortAnswer


@dataclass(frozen=True)
class Quote:
    """Words quoted from a passage, as their source writes them."""

    passage: Passage
    text: str
    start: int  # offsets in the source file: text == file[start:end]
    end: int

    def short_answer(self) -> ShortAnswer:
        return ShortAnswer(self.text, self.passage.source, self.start, self.end)


def reader_messages(question: Question, passages: Sequence[Passage], history: Sequence[Turn]) -> list[Message]:
    """The reader's prompt: its instructions and worked examples (fixed, so llama.cpp keeps them
    cached), then the last turns of the conversation, the numbered passages and the question."""
    history_text = ""
    if history:
        lines = "\n".join(f"Q: {t.question}\nA: {without_markers(t.answer)}" for t in history)
        history_text = prompts.render("history", turns=lines) + "\n\n"
    listing = "\n".join(_line(p) for p in passages)
    template = "overview" if question.overview else "answer"
    user = prompts.render(template, history=history_text, passages=listing, question=question.text)
    return [Message("system", prompts.render("system")), Message("user", user)]


def _line(p: Passage) -> str:
    """A numbered passage as the reader sees it; one that gives instructions is labelled as quoted text."""
    label = f" {prompts.render('instructions_label')}" if gives_instructions(p.text) else ""
    return f"[{p.number}]{f' ({p.date})' if p.date else ''}{label} {shown(p.text)}"


def read(generator: Generator, messages: Sequence[Message], refuse_at: float, max_tokens: int) -> Iterator[str | float]:
    """The reader's reply as it is generated; first, when the generator can say it, its probability
    of NOT FOUND (a float)."""
    if isinstance(generator, ScoredStreamer):
        yield from generator.stream_scored(messages, max_tokens, refuse_at)
    else:  # an OpenAI-compatible server: its reply as it is
        yield from generator.stream(messages, max_tokens)


def quote(
    generator: Generator,
    messages: Sequence[Message],
    reply: str,
    passages: Sequence[Passage],
    cited: Sequence[int],
    max_tokens: int = 32,
) -> Quote | None:
    """The fewest words of the passages numbered `cited` that answer, asked after the reply; None when
    the generator cannot be held to the passages or quotes none of them."""
    if not isinstance(generator, Extractor) or not cited:
        return None
    numbers = ", ".join(f"[{n}]" for n in cited)
    ask = [*messages, Message("assistant", reply.strip()), Message("user", prompts.render("quote", numbers=numbers))]
    texts = [p.text if p.number in cited else "" for p in passages]  # only the cited may be quoted
    got = generator.extract(ask, texts, max_tokens, refuse_at=1.01)  # a quote, never NOT FOUND
    copied = None if got.text.strip().startswith(NOT_FOUND) else parse_reply(got.text, passages)
    return Quote(copied.passage, copied.text, copied.start, copied.end) if copied else None


def said_again(reply: str) -> bool:
    """The reply's last finished sentence repeats an earlier one word for word (markers aside)."""
    said = [" ".join(re.findall(r"\w+", c.lower())) for c in re.split(r"(?<=[.!?])\s+", MARKER.sub("", reply))]
    finished = said[:-1] if not re.search(r"[.!?]\W*$", reply) else said
    return len(finished) >= 2 and bool(finished[-1]) and finished[-1] in finished[:-1]
