"""The data that answering produces: scored hits, numbered passages, verified citations, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from index.types import Chunk


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk. `score` is the fused score used for ranking; the parts are kept for display."""

    chunk: Chunk
    score: float
    dense: float | None = None
    lexical: float | None = None


@dataclass(frozen=True)
class Passage:
    """A numbered piece of evidence shown to the generator: exact span of its source."""

    number: int
    source: str
    start: int
    end: int
    text: str
    score: float
    title: str = ""
    date: str = ""
    # The passage this one is read after: the one naming the person its pronoun subject refers to.
    context_from: int | None = None


@dataclass(frozen=True)
class Citation:
    """A marker [n] in the answer that survived verification; `title` and `date` are its document's, as
    the document states them ("" when it does not)."""

    number: int
    source: str
    start: int
    end: int
    text: str
    title: str = ""
    date: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "marker": self.number,
            "title": self.title or None,
            "date": self.date or None,
        }


@dataclass(frozen=True)
class Timings:
    retrieve_s: float = 0.0
    first_token_s: float | None = None
    total_s: float = 0.0


@dataclass(frozen=True)
class ShortAnswer:
    """The fewest words that answer ("Anatoly Glaz", "54", "24 February"): an exact span of a source
    file, `text == file[start:end]`."""

    text: str
    source: str
    start: int
    end: int


DisagreementKind = Literal["spelling", "value"]


@dataclass(frozen=True)
class Disagreement:
    """Another source's value for what was asked, as an exact span of its file (`text ==
    file[start:end]`), from the passage numbered `number`."""

    number: int
    source: str
    start: int
    end: int
    text: str
    kind: DisagreementKind  # "spelling": the answer's name written differently; "value": another value
    ours: str = ""  # the answer's own value, as its article writes it ("Gorbakha" to this "Harbacha")


@dataclass(frozen=True)
class Step:
    """One step of the answering path and what came of it, for the decision trace."""

    step: str
    outcome: str


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[Hit, ...] = ()
    passages: tuple[Passage, ...] = ()
    timings: Timings = field(default_factory=Timings)
    search_query: str = ""  # the question as rewritten for retrieval
    reason: str = ""  # why it was refused, or what verification removed
    draft: str = ""  # the generator's text before verification, for the record
    short_answer: ShortAnswer | None = None
    steps: tuple[Step, ...] = ()
    calls: int = 0  # generations asked of the generator for this answer
    not_found_p: float | None = None  # the reader's probability of NOT FOUND, when it gives one

    def as_dict(self) -> dict[str, object]:
        return {
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.as_dict() for c in self.citations],
            "retrieved": [
                {"source": h.chunk.source, "start": h.chunk.start, "end": h.chunk.end, "score": round(h.score, 4)}
                for h in self.retrieved
            ],
            "timings": {
                "retrieve_s": round(self.timings.retrieve_s, 3),
                "first_token_s": None if self.timings.first_token_s is None else round(self.timings.first_token_s, 3),
                "total_s": round(self.timings.total_s, 3),
            },
            "search_query": self.search_query,
            "reason": self.reason,
            "short_answer": None
            if self.short_answer is None
            else {
                "text": self.short_answer.text,
                "source": self.short_answer.source,
                "start": self.short_answer.start,
                "end": self.short_answer.end,
            },
            "calls": self.calls,
            "not_found_p": None if self.not_found_p is None else round(self.not_found_p, 4),
            "steps": [{"step": s.step, "outcome": s.outcome} for s in self.steps],
        }
