"""The answering pipeline: rewrite → retrieve → select evidence → (refuse?) → generate → verify.

An answer that verification refuses to a "how many" or "when" question is asked for once more, with
the kind of answer wanted named after the question (`prompts/hint_*.txt`), and checked the same way.
A yes/no question still refused is answered "No" when a shown sentence contradicts its premise
(`rag/premise.py`), or says there was none of what its refused "Yes" claims, quoting it; a "Yes"
whose cited passage contradicts the question is refused. A refused "which" question asked through a
preposition is answered by the shown sentence that fills the same place (`rag/align.py`). An answer
still refused is asked for once more as words copied from one passage (`rag/extract.py`, when the
generator can copy), checked the same way and confirmed by asking again over that passage.

`stream()` yields the evidence as soon as retrieval is done, then the answer's tokens as they are
generated, then the verified answer. The decision to refuse never rests on the generator alone: an
evidence score below a threshold refuses before generation, and an answer none of whose claims is
supported by the passages it cites is refused after it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator as Gen
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import prompts
from rag.align import aligned_answer
from rag.answer_type import asked_kind, asked_unit, is_yes_no, names_the_thing, restates_news
from rag.cite import added_names, answers_question_type, verify
from rag.extract import NOT_FOUND, parse_reply
from rag.generate import Extractor, Generator, Message
from rag.guard import clean_question, is_instruction_attack
from rag.polarity import denies_itself, opening
from rag.premise import contradiction, none_said
from rag.rerank import ScoredSentence, SentenceSelector, rank_by_best_sentence, to_passages
from rag.retrieve import Retriever
from rag.rewrite import ContextRewriter, Rewriter, Turn
from rag.role import asked_role, holds_role, other_role
from rag.text import without_markers
from rag.types import Answer, Citation, Hit, Passage, Timings


@dataclass(frozen=True)
class Evidence:
    passages: tuple[Passage, ...]
    hits: tuple[Hit, ...]
    search_query: str
    retrieve_s: float


@dataclass(frozen=True)
class Token:
    text: str


@dataclass(frozen=True)
class Done:
    answer: Answer


Event = Evidence | Token | Done


@dataclass(frozen=True)
class _Answered:
    text: str
    citations: tuple[Citation, ...]
    notes: tuple[str, ...]
    first: float | None
    draft: str


@dataclass(frozen=True)
class _Refused:
    reason: str
    first: float | None
    draft: str
    found_nothing: bool = False  # NOT FOUND over all passages, and over the one the model picked, if any


@dataclass
class PipelineOptions:
    top_k: int = 8
    rerank_pool: int = 16  # fused chunks whose sentences are scored; the top_k with the best sentence are kept
    passages: int = 6
    min_relevance: float = 0.30
    min_support: float = 0.5
    max_answer_tokens: int = 160
    max_copy_tokens: int = 48
    max_confirm_tokens: int = 64  # a copy's confirmation is read to its end: one sentence
    history_turns: int = 2
    second_look: bool = True  # after NOT FOUND, ask for the passage; check an answer from its cited passages


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
        """Load the models and build the search snapshot now, and put the system prompt in the
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
        opts = self.options
        t0 = time.perf_counter()
        question = clean_question(question)
        query = self.rewriter.rewrite(question, history)
        hits, sentences = gather_evidence(
            self.retriever, self.selector, query, opts.top_k, opts.rerank_pool, question=question
        )
        passages = tuple(to_passages(sentences, opts.passages, question=question))
        retrieve_s = time.perf_counter() - t0
        yield Evidence(passages, tuple(hits), query, retrieve_s)

        def refusal(reason: str, template: str = "refusal", first: float | None = None, draft: str = "") -> Done:
            return Done(
                Answer(
                    question=question,
                    text=prompts.render(template),
                    refused=True,
                    retrieved=tuple(hits),
                    passages=passages,
                    timings=Timings(retrieve_s, first, time.perf_counter() - t0),
                    search_query=query,
                    reason=reason,
                    draft=draft,
                )
            )

        if is_instruction_attack(question):
            yield refusal("the question asks the assistant to change its instructions", "refusal_instructions")
            return
        if not passages:
            yield refusal("the index holds no passage for this question")
            return
        if passages[0].score < opts.min_relevance:
            yield refusal(f"best evidence score {passages[0].score:.2f} is below {opts.min_relevance:.2f}")
            return

        result = yield from self._attempt(question, passages, history, query, t0)
        # The retries below rescue answers a check refused (the wrong kind, an echo, an answer not given
        # again from its passage). A question the generator found nothing for, over all the passages
        # and over the one it picked, is refused now: in the stored eval runs no retry after that
        # rescued an answer, and they cost up to four more generations (README "Session 12").
        retry = opts.second_look and not (isinstance(result, _Refused) and result.found_nothing)
        hint = _hint(question)
        if isinstance(result, _Refused) and hint and retry:
            # A small model that answers "how far" with a place, or gives a date it then does not
            # confirm, often gets it right when told the kind of answer wanted. Asked once, without
            # showing its tokens, and checked the same way.
            again = yield from self._attempt(question, passages, history, query, t0, hint=hint, shown=False)
            if isinstance(again, _Answered):
                retried = (
                    f"the first answer was refused ({result.reason}); asked again naming the kind of answer wanted"
                )
                result = replace(again, first=result.first, notes=(retried, *again.notes))
            else:
                result = replace(
                    result, reason=f"{result.reason}; asked again naming the kind of answer wanted: {again.reason}"
                )
        if isinstance(result, _Refused) and is_yes_no(question):
            result = self._premise(question, passages, history, query, result)
        elif isinstance(result, _Refused):
            result = self._aligned(question, passages, history, query, result)
        if isinstance(result, _Refused) and retry:
            result = self._copy(question, passages, history, query, result)
        if isinstance(result, _Refused):
            yield refusal(result.reason, first=result.first, draft=result.draft)
            return
        yield Done(
            Answer(
                question=question,
                text=result.text,
                refused=False,
                citations=result.citations,
                retrieved=tuple(hits),
                passages=passages,
                timings=Timings(retrieve_s, result.first, time.perf_counter() - t0),
                search_query=query,
                reason="; ".join(result.notes),
                draft=result.draft,
            )
        )

    def _attempt(
        self,
        question: str,
        passages: tuple[Passage, ...],
        history: Sequence[Turn],
        query: str,
        t0: float,
        hint: str = "",
        shown: bool = True,
    ) -> Gen[Token, None, _Answered | _Refused]:
        """Generate an answer and check it. `hint` follows the question in the prompt; the generator's
        tokens are streamed only when `shown`."""
        opts = self.options
        messages = self.build_messages(question, passages, history, hint)
        raw, first = yield from self._generate(messages, t0, shown)
        used, looked = passages, []
        if raw.strip().startswith(NOT_FOUND) and opts.second_look and len(passages) > 1:
            # Nothing was shown yet. A small model misses an answer among many passages that it finds
            # when asked which passage states it, then asked again with that passage alone.
            picked = self._pick(messages, passages)
            if picked is not None:
                used = _with_context(passages, picked)
                looked.append(f"after NOT FOUND, asked again with passage [{picked.number}] alone (the model's pick)")
                raw, first = yield from self._generate(self.build_messages(question, used, history, hint), t0, shown)
        if NOT_FOUND in raw:
            why = "; ".join(["the generator found no answer in the passages", *looked])
            return _Refused(why, first, raw, found_nothing=True)
        return self._check(question, raw, used, history, query, first, hint, looked)

    def _check(
        self,
        question: str,
        raw: str,
        used: tuple[Passage, ...],
        history: Sequence[Turn],
        query: str,
        first: float | None,
        hint: str = "",
        looked: Sequence[str] = (),
        copied: bool = False,
    ) -> _Answered | _Refused:
        """Verify a generated answer against the passages it was given; then, when it cites only some of
        them, ask again over those alone unless the role check already proves it. An answer `copied`
        from a passage must be given again there."""
        opts = self.options
        checked = verify(raw, used, opts.min_support, question=question, context=query)
        if not checked.citations:
            why = "no claim of the generated answer is supported by the passages"
            if checked.dropped:
                why += f" (unsupported: {' | '.join(checked.dropped)[:300]})"
            return _Refused(why, first, raw)
        if not answers_question_type(question, checked.text, context=self._conversation(question, query, history)):
            why = "the answer does not state what the question asks for (a name, number or time, in the unit asked)"
            return _Refused(why, first, raw)
        if is_yes_no(question) and denies_itself(question, checked.text):
            why = "the answer's yes or no says the opposite of its own sentence"
            return _Refused(why, first, raw)
        cited = _cited(used, checked.citations)
        if is_yes_no(question) and opening(checked.text) == "yes":
            # "Yes, she sought refuge at the court in Qazvin" to "... at the court in Tabriz?"
            found = contradiction(question, cited, context=self._earlier(question, query, history))
            if found:
                return _Refused(f"the answer says yes, but {found.why()}", first, raw)
        refuted = _role_refuted(question, checked.text, query, cited)
        if refuted:
            return _Refused(refuted, first, raw)
        recheck = opts.second_look and len(cited) < len(used)
        role = _role_given(question, checked.text, query, cited) if recheck else []
        if recheck and not role:
            # An answer the model does not give again from the passages it cites is not proven by them.
            # A copy must be given again, not only not refused (the copying reader answers more readily):
            # the reading again says all the copy adds to the question, or, for a copy longer than its
            # answer (a whole clause for "Which diplomat ...?"), the copy holds all the reading again adds
            # ("Ukraine's ambassador was called in"). No need when the copy has the shape a "what X"
            # question asks for: "80th anniversary" for "What anniversary ...?" (over one passage the
            # small model often restates such a question instead).
            again = self._read_again(self.build_messages(question, cited, history, hint), whole=copied)
            if again is None:
                why = "asked again with only the passages it cites, the generator found no answer in them"
                return _Refused(why, first, raw)
            # What the conversation already told the user is not news either way ("Olek Konovalov" of an
            # earlier turn, said again beside a copy that writes "Mr Konovalov"); nor are words of the
            # reading again that its passage does not hold ("agricultural land" beside the copy
            # "agricultural field"): they are its own wording.
            asked = f"{question} {self._conversation(question, query, history)}"
            if copied and not (
                restates_news(again, checked.text, asked)
                or restates_news(checked.text, again, asked, source=" ".join(p.text for p in cited))
                or names_the_thing(question, checked.text)
            ):
                why = f"asked again with only the passage it copies from, the generator answered {again[:120]!r}"
                return _Refused(why, first, raw)
        notes = [*looked, *role, *checked.notes] + [f"dropped unsupported claim: {d}" for d in checked.dropped]
        return _Answered(checked.text, checked.citations, tuple(notes), first, raw)

    def _copy(
        self, question: str, passages: tuple[Passage, ...], history: Sequence[Turn], query: str, refused: _Refused
    ) -> _Answered | _Refused:
        """Ask the generator to copy the answer's words from one passage (`rag.extract`), and check the
        copy like any answer. Not for "who" questions: a copying reader picks a name from a passage
        whatever its relation to the question, and asked again over that passage it names it again
        (BIG-bench: 5 of 5 such copies wrong, README "Session 10")."""
        if not isinstance(self.generator, Extractor) or asked_kind(question) == "name":
            return refused
        messages = self.build_messages(question, passages, history, copy=True)
        reply = self.generator.extract(messages, [p.text for p in passages], self.options.max_copy_tokens)
        copied = parse_reply(reply, passages)
        if copied is None:
            why = "asked to copy the answer from a passage, the generator found none"
            return replace(refused, reason=f"{refused.reason}; {why}")
        raw = f"{copied.text} [{copied.passage.number}]"
        looked = [f"the generated answer was refused ({refused.reason}); the answer was copied from a passage"]
        checked = self._check(question, raw, passages, history, query, refused.first, looked=looked, copied=True)
        if isinstance(checked, _Refused):
            why = f"{refused.reason}; asked to copy the answer from a passage ({copied.text[:80]!r}): {checked.reason}"
            return replace(checked, reason=why, draft=refused.draft)
        return checked

    def _premise(
        self, question: str, passages: tuple[Passage, ...], history: Sequence[Turn], query: str, refused: _Refused
    ) -> _Answered | _Refused:
        """A refused yes/no question is answered "No" when a shown sentence contradicts its premise
        (`rag.premise`: "from Ukrainian territory" for "Was it fired from Russia?"), or says there was
        none of what the refused "Yes" claimed ("No casualties were recorded" for "Yes, casualties were
        recorded"), quoting that sentence; the answer is verified like any other."""
        found = contradiction(question, passages, context=self._earlier(question, query, history))
        found = found or none_said(question, refused.draft, passages)
        if found is None:
            return refused
        raw = prompts.render("premise_no", sentence=found.sentence, number=str(found.passage.number))
        return self._quoting(raw, found.why(), question, passages, query, refused)

    def _aligned(
        self, question: str, passages: tuple[Passage, ...], history: Sequence[Turn], query: str, refused: _Refused
    ) -> _Answered | _Refused:
        """A refused "which" question asked through a preposition ("From which country's territory was
        it launched?") is answered by the shown sentence that fills the same place ("launched from
        Ukrainian territory", `rag.align`), quoting it; the answer is verified like any other."""
        found = aligned_answer(question, passages, context=self._earlier(question, query, history))
        if found is None:
            return refused
        number = str(found.passage.number)
        answer = found.answer[:1].upper() + found.answer[1:]
        raw = prompts.render("aligned", answer=answer, sentence=found.sentence, number=number)
        why = f"passage [{number}] says {found.answer!r} in the place the question asks about"
        return self._quoting(raw, why, question, passages, query, refused)

    def _quoting(
        self, raw: str, why: str, question: str, passages: tuple[Passage, ...], query: str, refused: _Refused
    ) -> _Answered | _Refused:
        """An answer that quotes a shown sentence, in place of the refused one, when verification finds
        its claims in the passages."""
        checked = verify(raw, passages, self.options.min_support, question=question, context=query)
        if not checked.citations:
            return refused
        why = f"the generated answer was refused ({refused.reason}); {why}"
        return _Answered(checked.text, checked.citations, (why, *checked.notes), refused.first, refused.draft)

    def _generate(
        self, messages: list[Message], t0: float, shown: bool = True
    ) -> Gen[Token, None, tuple[str, float | None]]:
        """Stream the generator's tokens (when `shown`), holding back text that may still become
        NOT FOUND; return the whole text and the time of its first token."""
        raw, first = "", None
        held = ""  # text that might still turn out to be NOT FOUND, not shown yet
        for delta in self.generator.stream(messages, self.options.max_answer_tokens):
            if first is None:
                first = time.perf_counter() - t0
            raw += delta
            held += delta
            if _could_be_not_found(held) or not shown:
                continue
            yield Token(held)
            held = ""
        return raw, first

    def _pick(self, messages: list[Message], passages: Sequence[Passage]) -> Passage | None:
        """Ask which passage states the answer (the same prompt plus one line, so the generator's cache
        holds all but that line); None when the reply names no passage."""
        ask = [*messages[:-1], Message("user", messages[-1].content + "\n" + prompts.render("pick"))]
        reply = "".join(self.generator.stream(ask, 6))
        number = re.search(r"\d+", reply)
        if number and 1 <= int(number.group()) <= len(passages):
            return passages[int(number.group()) - 1]
        return None

    def _read_again(self, messages: list[Message], whole: bool = False) -> str | None:
        """None when the generator's reply starts with NOT FOUND; else the reply, read to its end (up to
        `max_confirm_tokens`) when `whole`, otherwise only until it cannot become NOT FOUND."""
        text = ""
        for delta in self.generator.stream(messages, self.options.max_confirm_tokens):
            text += delta
            if text.strip().startswith(NOT_FOUND):
                return None
            if not whole and not _could_be_not_found(text):
                return text
        return None if text.strip().startswith(NOT_FOUND) else text

    def _conversation(self, question: str, query: str, history: Sequence[Turn]) -> str:
        """What the user has been told: the search query, and for a question that leans on the
        conversation (its query was rewritten), the earlier turns the generator sees. A name given
        there does not answer "What's that person's name?" (the small reader names the person of an
        earlier turn, not the one "that person" points at)."""
        if query == question:
            return query
        return " ".join([query, *(f"{t.question} {without_markers(t.answer)}" for t in self._shown(history))])

    def _earlier(self, question: str, query: str, history: Sequence[Turn]) -> str:
        """The earlier questions the generator is shown, for a question that leans on them (its search
        query was rewritten from the conversation); "" otherwise."""
        return " ".join(t.question for t in self._shown(history)) if query != question else ""

    def _shown(self, history: Sequence[Turn]) -> Sequence[Turn]:
        """The earlier turns the generator is shown: the last `history_turns`."""
        return history[-self.options.history_turns :] if self.options.history_turns else []

    def build_messages(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn], hint: str = "", copy: bool = False
    ) -> list[Message]:
        """The system prompt, then the conversation, passages and question; with `copy`, the instructions
        to copy the answer (`prompts/copy.txt`) follow the question, so the generator's cache still holds
        all that came before them from the answering prompt and only the instructions are new."""
        turns = self._shown(history)
        history_text = ""
        if turns:
            lines = "\n".join(f"Q: {t.question}\nA: {without_markers(t.answer)}" for t in turns)
            history_text = prompts.render("history", turns=lines) + "\n\n"
        listing = "\n".join(_passage_line(p) for p in passages)
        asked = f"{question} {hint}" if hint else question
        user = prompts.render("answer", history=history_text, passages=listing, question=asked)
        if copy:
            user = f"{user}\n\n{prompts.render('copy')}"
        return [Message("system", prompts.render("system")), Message("user", user)]


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


def _hint(question: str) -> str:
    """The line that names the kind of answer a "how many" or "when" question wants, and the unit it
    is asked in; "" for others."""
    kind = asked_kind(question)
    if kind not in ("number", "time"):
        return ""
    unit = asked_unit(question)
    return prompts.render(f"hint_{kind}", unit=f", in {unit[0]}" if unit else "")


def _role_given(question: str, answer: str, context: str, cited: Sequence[Passage]) -> list[str]:
    """A note when a "who is the X" answer's cited passage sets a name the answer adds in apposition
    with the role X ("Anatoly Glaz, a spokesperson for the Belarusian Foreign Ministry"): that proves
    the answer without asking the generator again. Empty otherwise."""
    role = asked_role(question)
    names = sorted(added_names(answer, question, context)) if role else []
    if role is None or not names:
        return []
    for p in cited:
        if holds_role(role, names, p.text, p.date):
            return [f"passage [{p.number}] gives the name the role asked about, so it was not asked again"]
    return []


def _role_refuted(question: str, answer: str, context: str, cited: Sequence[Passage]) -> str:
    """Why a "who is the X" answer is not proven when every passage it cites gives the name it adds
    another role in apposition ("Anatoly Glaz, a spokesperson ..." for "the Ukrainian ambassador");
    "" otherwise."""
    role = asked_role(question)
    names = sorted(added_names(answer, question, context)) if role else []
    if role is None or not role.refutes or not names or not cited:
        return ""
    others = []
    for p in cited:
        other = None if holds_role(role, names, p.text, p.date) else other_role(role, names, p.text)
        if other is None:
            return ""
        others.append(f"passage [{p.number}] calls the person named a {other}")
    return f"{'; '.join(others)}, not the role the question asks about"


def _could_be_not_found(text: str) -> bool:
    """The text is NOT FOUND, or so far a beginning of it."""
    text = text.strip()
    return NOT_FOUND.startswith(text) or text.startswith(NOT_FOUND)


def _cited(passages: Sequence[Passage], citations: Sequence[Citation]) -> tuple[Passage, ...]:
    """The passages the citations point at, numbered 1..m."""
    spans = {(c.source, c.start, c.end) for c in citations}
    return _renumbered([p for p in passages if (p.source, p.start, p.end) in spans])


def _with_context(passages: Sequence[Passage], picked: Passage) -> tuple[Passage, ...]:
    """The picked passage, after the passage it is read after when it has one, numbered 1..m."""
    context = [p for p in passages if p.number == picked.context_from]
    return _renumbered([*context, picked])


def _renumbered(kept: Sequence[Passage]) -> tuple[Passage, ...]:
    """The passages numbered 1..m, each still pointing at the passage it is read after if that is kept."""
    new = {p.number: i for i, p in enumerate(kept, start=1)}
    return tuple(
        replace(p, number=new[p.number], context_from=new.get(p.context_from) if p.context_from else None) for p in kept
    )


def _passage_line(p: Passage) -> str:
    dated = f" ({p.date})" if p.date else ""
    return f"[{p.number}]{dated} {' '.join(p.text.split())}"
