"""The answering path: retrieve → select evidence → read → verify → quote, in at most two generations.

`stream()` is the whole path. The reader answers over the numbered passages, citing them, or says NOT
FOUND, choosing from its own probability of NOT FOUND against a threshold chosen on the eval suite's
dev sets; verification keeps the claims the cited passages support and refuses an answer that is not
the kind asked for; the reader then quotes, from the passages it cited, the fewest words that answer
(constrained decoding): the answer's `short_answer`, an exact span. Refused before reading: a
question that tries to change the assistant's instructions, no passage, or evidence scoring below a
threshold.

It yields the evidence as soon as retrieval is done, the answer's tokens as they come, the quote,
then the verified answer. Every step appends one `Step` to the answer's trace.
"""

from __future__ import annotations

import time
from collections.abc import Generator as Gen
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import prompts
from rag.annotate import annotate
from rag.extract import NOT_FOUND
from rag.generate import Extractor, Generator, Message
from rag.guard import clean_question, is_instruction_attack
from rag.overview import check_overview, cover
from rag.passages import to_passages
from rag.question import Question, parse_question
from rag.read import quote, read, reader_messages, said_again
from rag.rerank import ScoredSentence, SentenceSelector, rank_by_best_sentence
from rag.retrieve import Retriever
from rag.rewrite import ContextRewriter, Rewriter, Turn
from rag.types import Answer, Citation, Hit, Passage, ShortAnswer, Step, Timings
from rag.verify import check_answer, echoes, short_span


@dataclass(frozen=True)
class Evidence:
    passages: tuple[Passage, ...]
    hits: tuple[Hit, ...]
    search_query: str
    retrieve_s: float


@dataclass(frozen=True)
class Quoted:
    """The short answer the reader quoted, as soon as it is read (before verification's result)."""

    short: ShortAnswer


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Done:
    answer: Answer


Event = Evidence | Quoted | Token | Done


@dataclass
class PipelineOptions:
    top_k: int = 8
    rerank_pool: int = 16  # fused chunks whose sentences are scored; the top_k with the best sentence are kept
    passages: int = 6
    min_relevance: float = 0.30  # evidence score below which the question is refused before reading
    min_cited_score: float = 0.40  # evidence score the best passage an answer cites must reach (Settings)
    refuse_at: float = 0.15  # the reader's probability of NOT FOUND at or above which it refuses (Settings)
    min_support: float = 0.5
    max_quote_tokens: int = 16
    max_answer_tokens: int = 160
    overview_passages: int = 8  # sentences shown for an overview, taken from each article in turn
    max_overview_tokens: int = 220
    # An overview's prompt asks more of the reader, and its first-token P(NOT FOUND) runs higher: on the
    # dev halves of the overview sets, answerable overviews scored 0.002-0.44 (14 of 16 below 0.30),
    # those the articles do not cover 0.21-0.60.
    overview_refuse_at: float = 0.30
    history_turns: int = 2


class Pipeline:
    def __init__(
        self,
        retriever: Retriever,
        selector: SentenceSelector,
        generator: Generator,
        rewriter: Rewriter | None = None,
        options: PipelineOptions | None = None,
    ):
        self.retriever = retriever
        self.selector = selector
        self.generator = generator
        self.rewriter = rewriter or ContextRewriter()
        self.options = options or PipelineOptions()

    def warm_up(self) -> None:
        """Load the models and build the search snapshot now, and put the reader's instructions in the
        generator's cache, so the first question pays for none of it."""
        warm = getattr(self.retriever, "warm_up", None)
        if warm:
            warm()
        self.selector.embedder.embed(["warm up"])
        system = Message("system", prompts.render("system"))
        for _ in self.generator.stream([system, Message("user", "Say OK.")], 1):
            break

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        for event in self.stream(question, history):
            if isinstance(event, Done):
                return event.answer
        raise AssertionError("stream() ended without an answer")

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[Event]:
        opts, t0 = self.options, time.perf_counter()
        q = parse_question(clean_question(question))
        turns = history[-opts.history_turns :] if opts.history_turns else []
        query = self.rewriter.rewrite(q.text, history)
        hits, sentences = gather_evidence(self.retriever, self.selector, query, opts.top_k, opts.rerank_pool, q.text)
        if q.overview:
            passages = tuple(cover(sentences, opts.overview_passages, opts.min_relevance))
        else:
            passages = tuple(to_passages(sentences, opts.passages, question=q.text))
        evidence = Evidence(passages, tuple(hits), query, time.perf_counter() - t0)
        yield evidence
        trace = _Trace(q, evidence, t0)
        trace.add("retrieve", f"{len(passages)} passages, best evidence score {_best(passages):.2f}")
        before = _refused_before_reading(q, passages, opts.min_relevance)
        if before:
            yield trace.refused("check", before, "refusal_instructions" if "instructions" in before else "refusal")
            return

        messages = reader_messages(q, passages, turns)
        limits = (
            (opts.overview_refuse_at, opts.max_overview_tokens)
            if q.overview
            else (opts.refuse_at, opts.max_answer_tokens)
        )
        reply = yield from self._read(messages, trace, *limits)
        p = "" if trace.not_found_p is None else f" (P(NOT FOUND) {trace.not_found_p:.2f})"
        if reply.strip().startswith(NOT_FOUND) or not reply.strip():
            yield trace.refused("read", f"the reader found no answer in the passages{p}", draft=reply)
            return
        trace.add("read", f"answered{p}")
        if q.overview:
            checked = check_overview(reply, passages, opts.min_support, opts.min_cited_score)
        else:
            checked = check_answer(q, reply, passages, query, opts.min_support, opts.min_cited_score)
        if checked.problem:
            yield trace.refused("verify", checked.problem, draft=reply)
            return
        trace.add("verify", checked.outcome)
        if q.overview:  # an account has no fewest words that answer
            yield trace.answered(checked.text, checked.citations, None, reply)
            return

        short = self._short_answer(q, messages, reply, checked.text, passages, checked.citations, query, trace)
        yield Quoted(short)
        done = annotate(q, checked.text, short, checked.citations, passages)
        trace.steps += done.steps
        yield trace.answered(done.text, done.citations, done.short, reply)

    def _short_answer(
        self,
        q: Question,
        messages: list[Message],
        reply: str,
        answer: str,
        passages: Sequence[Passage],
        citations: Sequence[Citation],
        query: str,
        trace: _Trace,
    ) -> ShortAnswer:
        """The fewest words that answer, as an exact span: those of the answer the question did not say,
        found in a cited passage (`short_span`, no generation); else the reader's quote of them from the
        passages it cited (the second generation); else the first cited passage."""
        spans = {(c.source, c.start) for c in citations}
        cited = [p for p in passages if (p.source, p.start) in spans]
        context = "" if query == q.text else query
        short = short_span(q, answer, cited, context)
        if short is not None:
            trace.add("quote", f"{short.text!r}: the answer's own words, in its passage")
            return short
        found = quote(
            self.generator, messages, reply, passages, [p.number for p in cited], self.options.max_quote_tokens
        )
        trace.calls += isinstance(self.generator, Extractor)
        if found is not None and not echoes(q, found, context):
            trace.add("quote", f"{found.text!r}: quoted from [{found.passage.number}]")
            return found.short_answer()
        why = "it repeats the question" if found else "none quoted"
        trace.add("quote", f"no short quote ({why}): the first cited passage")
        c = citations[0]
        return ShortAnswer(c.text, c.source, c.start, c.end)

    def _read(self, messages: list[Message], trace: _Trace, refuse_at: float, max_tokens: int) -> Gen[Token, None, str]:
        """Stream the reader's reply, holding back text that may still become NOT FOUND; note its
        probability of NOT FOUND and the time of its first token."""
        reply, held = "", ""
        trace.calls += 1
        items = read(self.generator, messages, refuse_at, max_tokens)
        for item in items:
            if isinstance(item, float):
                trace.not_found_p = item
                continue
            if trace.first is None:
                trace.first = time.perf_counter() - trace.t0
            reply += item
            held += item
            if said_again(reply):  # a small reader caught in a loop: stop it, keep what came before
                items.close()  # type: ignore[attr-defined]
                trace.add("read", "stopped: the reader began saying a sentence again")
                break
            if not _could_be_not_found(held):
                yield Token(held)
                held = ""
        return reply


def _could_be_not_found(text: str) -> bool:
    """The text is NOT FOUND, or so far a beginning of it."""
    text = text.strip()
    return NOT_FOUND.startswith(text) or text.startswith(NOT_FOUND)


def _refused_before_reading(q: Question, passages: Sequence[Passage], min_relevance: float) -> str:
    if is_instruction_attack(q.asked):
        return "the question asks the assistant to change its instructions"
    if not passages:
        return "the index holds no passage for this question"
    if passages[0].score < min_relevance:
        return f"best evidence score {passages[0].score:.2f} is below {min_relevance:.2f}"
    return ""


def _best(passages: Sequence[Passage]) -> float:
    return passages[0].score if passages else 0.0


class _Trace:
    """The answer being built: its steps, generations and times."""

    def __init__(self, q: Question, evidence: Evidence, t0: float):
        self.q, self.evidence, self.t0 = q, evidence, t0
        self.steps: list[Step] = []
        self.calls = 0
        self.first: float | None = None
        self.not_found_p: float | None = None

    def add(self, step: str, outcome: str) -> None:
        self.steps.append(Step(step, outcome))

    def _answer(self, **fields: object) -> Done:
        e = self.evidence
        timings = Timings(e.retrieve_s, self.first, time.perf_counter() - self.t0)
        return Done(
            Answer(
                question=self.q.asked,
                retrieved=e.hits,
                passages=e.passages,
                timings=timings,
                search_query=e.search_query,
                steps=tuple(self.steps),
                calls=self.calls,
                not_found_p=self.not_found_p,
                **fields,  # type: ignore[arg-type]
            )
        )

    def refused(self, step: str, why: str, template: str = "refusal", draft: str = "") -> Done:
        self.add(step, f"refused: {why}")
        return self._answer(text=prompts.render(template), refused=True, reason=why, draft=draft)

    def answered(self, text: str, citations: tuple[Citation, ...], short: ShortAnswer | None, draft: str) -> Done:
        return self._answer(text=text, refused=False, citations=citations, short_answer=short, draft=draft)


def gather_evidence(
    retriever: Retriever,
    selector: SentenceSelector,
    query: str,
    top_k: int,
    rerank_pool: int,
    question: str | None = None,
) -> tuple[list[Hit], list[ScoredSentence]]:
    """The top_k chunks of a pool of `rerank_pool` fused ones, ranked by their best sentence, and the
    scored sentences inside them, best first. `question` is this turn's question when the search
    query was rewritten from the conversation."""
    pool = retriever.retrieve(query, max(top_k, rerank_pool))
    scored = selector.score(query, pool, question)
    hits = rank_by_best_sentence(pool, scored, top_k)
    kept = {(h.chunk.source, h.chunk.start, h.chunk.end) for h in hits}
    return hits, [s for s in scored if any(src == s.source and a <= s.start < b for src, a, b in kept)]
