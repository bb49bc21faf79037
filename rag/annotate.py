"""What the evidence adds to a verified answer, without a generation: the calendar date of a day the
article names relative to its own date ("on Thursday"), and the values other articles give in the
answer's place (another spelling of the name, another number), each side cited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rag.disagree import Disagreement, find_disagreements
from rag.question import Question
from rag.types import Citation, Passage, ShortAnswer, Step
from rag.when import article_date_for_event, resolve_day


@dataclass(frozen=True)
class Annotated:
    text: str
    short: ShortAnswer
    citations: tuple[Citation, ...]
    steps: tuple[Step, ...]


def annotate(
    q: Question, text: str, short: ShortAnswer, citations: tuple[Citation, ...], passages: Sequence[Passage]
) -> Annotated:
    steps: list[Step] = []
    text, short = with_calendar_day(q, text, short, citations, steps)
    text, citations = with_disagreements(q, text, short, citations, passages, steps)
    return Annotated(text, short, citations, tuple(steps))


def _holder(short: ShortAnswer, citations: Sequence[Citation]) -> Citation | None:
    """The citation whose span holds the short answer."""
    return next((c for c in citations if c.source == short.source and c.start <= short.start < c.end), None)


def with_calendar_day(
    q: Question, text: str, short: ShortAnswer, citations: Sequence[Citation], steps: list[Step]
) -> tuple[str, ShortAnswer]:
    """A "when" answered with a day named relative to the article ("Thursday") gets the calendar date
    that day was, from the date the cited article states, and says so. One answered with the article's
    own date, when the cited sentence names the event's day ("June 10, 2025 — ... began on Monday"),
    is answered with that day instead: the article's date is when it was written."""
    holder = _holder(short, citations) or (citations[0] if citations else None)
    if holder is None:
        return text, short
    span = article_date_for_event(q, text, holder.text, holder.date)
    if span is not None:
        a, b = span
        short = ShortAnswer(holder.text[a:b], holder.source, holder.start + a, holder.start + b)
        steps.append(
            Step("date", f"the answer gave the article's own date {holder.date}; its sentence says {short.text!r}")
        )
        text = f"On {short.text} [{holder.number}]."
    day = resolve_day(q, short.text, holder.date)
    if day is None:
        return text, short
    steps.append(Step("date", f"{day.said!r} read as {day.day.isoformat()} from the article's date {day.article_date}"))
    return f"{text} {day.phrase(f'[{holder.number}]')}", short


def with_disagreements(
    q: Question,
    text: str,
    short: ShortAnswer,
    citations: tuple[Citation, ...],
    passages: Sequence[Passage],
    steps: list[Step],
) -> tuple[str, tuple[Citation, ...]]:
    """When other articles among the shown passages give another value in the answer's place, the
    answer says so and cites each side; a passage not cited yet becomes a new citation."""
    holder = _holder(short, citations)
    span = (holder.source, holder.start, holder.end) if holder else None
    cited = next((p for p in passages if (p.source, p.start, p.end) == span), None)
    found = find_disagreements(q, short, cited, passages) if cited is not None else ()
    if not found or holder is None:
        return text, citations
    numbers = {(c.source, c.start, c.end): c.number for c in citations}
    renumbered = []
    for d in found:
        p = next(p for p in passages if p.number == d.number)
        key = (p.source, p.start, p.end)
        if key not in numbers:
            numbers[key] = len(citations) + 1
            citations += (Citation(numbers[key], p.source, p.start, p.end, p.text, p.title, p.date),)
        renumbered.append(replace(d, number=numbers[key]))
    steps.append(Step("disagree", "; ".join(f"{d.kind}: {d.text!r} in {d.source}" for d in found)))
    return f"{text} {phrase(short, holder.number, renumbered)}", citations


def phrase(short: ShortAnswer, number: int, disagreements: Sequence[Disagreement]) -> str:
    """The sentence to append to the answer, citing each side in its own words: "Gorbakha [1] is
    spelled Harbacha in another article [2]."; "The sources differ: 54 [1]; another article says 56
    [2]." "" when there is none."""
    if not disagreements:
        return ""
    parts = [_clause(kind, text, ns) for (kind, text), ns in _grouped(disagreements).items()]
    ours = disagreements[0].ours or short.text
    if all(d.kind == "spelling" for d in disagreements):
        return f"{ours} [{number}] is " + " and ".join(parts) + "."
    return f"The sources differ: {ours} [{number}]; " + "; ".join(parts) + "."


def _grouped(ds: Sequence[Disagreement]) -> dict[tuple[str, str], list[int]]:
    """The passage numbers giving each other wording, spellings first."""
    groups: dict[tuple[str, str], list[int]] = {}
    for d in sorted(ds, key=lambda d: d.kind != "spelling"):
        groups.setdefault((d.kind, d.text), []).append(d.number)
    return groups


def _clause(kind: str, text: str, numbers: list[int]) -> str:
    marker = f"[{', '.join(map(str, numbers))}]"
    one = len(numbers) == 1
    if kind == "spelling":
        return f"spelled {text} in {'another article' if one else 'other articles'} {marker}"
    return f"{'another article says' if one else 'other articles say'} {text} {marker}"
