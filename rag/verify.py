"""Verify: the answer must be what its passages say, and what the question asks for.

Each claim of the reader's answer must be supported by a passage it cites (`rag.cite.verify`: its
terms, every number and name it adds; unsupported claims are dropped, a claim citing the wrong
passage is re-attributed). What is left must answer what was asked, not just be on the topic: a
name for "who", a number for "how many", a time for "when", in the unit asked; a yes or no that its
own sentence contradicts is refused. The short answer is the answer's own news as its passage writes
it (`short_span`); a quote the reader makes instead must not be the question's words said back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer_type import answers_question_type
from rag.cite import verify
from rag.polarity import denies_itself
from rag.question import Question
from rag.read import Quote
from rag.text import WORD, has_term, terms, without_markers
from rag.types import Citation, Passage, ShortAnswer


@dataclass(frozen=True)
class Checked:
    text: str
    citations: tuple[Citation, ...]
    outcome: str  # for the trace: what verification kept, dropped or changed
    problem: str = ""  # why the answer is refused; "" when it stands


def check_answer(
    question: Question,
    reply: str,
    passages: Sequence[Passage],
    context: str,
    min_support: float,
    min_cited_score: float = 0.0,
) -> Checked:
    """`context` is the search query (the question with what it leans on from the conversation). An
    answer whose best cited passage scores below `min_cited_score` as evidence for the question is
    refused: on the dev halves of the suite's external sets, the passages that right answers cite
    scored a median 0.72, those of wrong answers 0.56, those of answers to unanswerable questions 0.43."""
    checked = verify(reply, passages, min_support, question=question.text, context=context)
    dropped = dropped_note(checked.dropped)
    if not checked.citations:
        return Checked("", (), "no claim supported", f"no claim of the answer is supported by the passages{dropped}")
    best = best_cited(checked.citations, passages)
    if best < min_cited_score:
        why = f"the passage the answer cites scores {best:.2f} as evidence, below {min_cited_score:.2f}"
        return Checked("", (), "weak evidence", why)
    if question.yes_no and denies_itself(question.text, checked.text):
        return Checked("", (), "denies itself", "the answer's yes or no says the opposite of its own sentence")
    if not answers_question_type(question.text, checked.text, context=context if context != question.text else ""):
        wanted = {"name": "a name", "number": "a number", "time": "a time"}.get(str(question.kind), "what was asked")
        unit = f" in {question.unit[0]}" if question.unit else ""
        return Checked("", (), "wrong kind", f"the answer does not give {wanted}{unit}, which the question asks for")
    notes = "; ".join(checked.notes)
    outcome = f"{len(checked.citations)} citation(s) verified{dropped}{'; ' + notes if notes else ''}"
    return Checked(checked.text, checked.citations, outcome)


def dropped_note(dropped: Sequence[str]) -> str:
    """What verification dropped, for the trace ("" when nothing)."""
    return f"; dropped unsupported: {' | '.join(dropped)[:200]}" if dropped else ""


def best_cited(citations: Sequence[Citation], passages: Sequence[Passage]) -> float:
    """The best evidence score among the passages the citations point at."""
    spans = {(c.source, c.start) for c in citations}
    return max((p.score for p in passages if (p.source, p.start) in spans), default=0.0)


def echoes(question: Question, quote: Quote, context: str = "") -> bool:
    """The quote says nothing the question (and the conversation) did not already say."""
    said = set(terms(f"{question.text} {context}", parts=False))
    return not [t for t in terms(quote.text, parts=False) if not has_term(t, said)]


_DISCOURSE = frozenset({"yes", "no", "not", "none", "nobody"})


def short_span(question: Question, answer: str, cited: Sequence[Passage], context: str = "") -> ShortAnswer | None:
    """The fewest words of the answer that answer: its first run of words that the question (and the
    conversation) did not already say, cut at punctuation and trimmed of function words, as the cited
    passage writes them (its longest part the passage holds). "The Belarusian foreign ministry
    summoned Ukraine's ambassador" to "Who summoned the Ukrainian ambassador?" gives "Belarusian
    foreign ministry"; "Anatoly Glaz, a spokesperson for ..." gives "Anatoly Glaz". None when no such
    words are in a cited passage."""
    said = set(terms(f"{question.text} {context}", parts=False))
    text = without_markers(answer)
    for run in _runs(text, said):
        for length in range(len(run), 0, -1):
            for i in range(len(run) - length + 1):
                part = run[i : i + length]
                if not any(terms(w, parts=False) for w in part):
                    continue  # function words only
                for p in cited:
                    # Whole words, and a whole number: "4" is not found in "4,200".
                    m = re.search(
                        r"(?<!\w)(?<!\d[,.])" + r"\W{1,3}".join(map(_pattern, part)) + r"(?!\w|[,.]\d)", p.text, re.I
                    )
                    if m:
                        return ShortAnswer(m.group(), p.source, p.start + m.start(), p.start + m.end())
    return None


def _pattern(word: str) -> str:
    """A word as a pattern that also finds it written with a space for its hyphen ("air-defence")."""
    return re.escape(word).replace(r"\-", r"[-\s]")


def _runs(text: str, said: set[str]) -> list[list[str]]:
    """Runs of consecutive words holding something the question did not say, broken at punctuation and
    at words it did say, without function words at their ends."""
    runs: list[list[str]] = []
    current: list[str] = []
    last_end = 0
    for m in WORD.finditer(text):
        word, gap = m.group(), text[last_end : m.start()]
        last_end = m.end()
        if gap in {",", "."} and current and current[-1].replace(",", "").isdigit() and re.fullmatch(r"\d{3}", word):
            current[-1] += gap + word  # a digit group: "4,200" is one number, not "4" and "200"
            continue
        word_terms = terms(word, parts=False)
        known = word.lower() in _DISCOURSE or (bool(word_terms) and all(has_term(t, said) for t in word_terms))
        if known or re.search(r"[,;:()\[\]\"“”]|\.\s", gap):
            runs.append(current)
            current = []
        if not known:
            current.append(word)
    runs.append(current)
    trimmed = []
    for run in runs:
        while run and not terms(run[0], parts=False):
            run = run[1:]
        while run and not terms(run[-1], parts=False):
            run = run[:-1]
        if run:
            trimmed.append(run)
    return trimmed
