"""Overviews: "What happened ...?", "Summarize what the articles say about X", "How did Belarus react?".

One generation, as for a fact: the evidence is chosen for coverage across articles (each article's best
sentences in turn, not only the single best sentence), shown in the order of the articles' dates, and
the reader writes two to five sentences, each citing its passage. Verification is that of any claim:
a sentence no cited passage supports is dropped; an overview with no supported sentence, or whose
best cited passage is weak evidence, is refused. An overview has no short answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.cite import verify
from rag.claims import Claim, parse_claims
from rag.passages import to_passages
from rag.rerank import ScoredSentence
from rag.types import Citation, Passage
from rag.verify import Checked, best_cited, dropped_note


def cover(sentences: Sequence[ScoredSentence], n: int, floor: float) -> list[Passage]:
    """Up to n sentences scoring at least `floor`, taken from each article in turn (articles ordered by
    their best sentence), then numbered in the order of the articles' dates and of their place in the
    article, so the reader can tell events in order."""
    by_source: dict[str, list[ScoredSentence]] = {}
    for s in sentences:
        if s.score >= floor:
            by_source.setdefault(s.source, []).append(s)
    picked: list[ScoredSentence] = []
    queues = list(by_source.values())  # each best first, sources in order of their best
    while len(picked) < n and any(queues):
        for queue in queues:
            if queue and len(picked) < n:
                picked.append(queue.pop(0))
    shown = to_passages(picked, len(picked), antecedents=0, continued=0)
    shown.sort(key=lambda p: (p.date or "9999", p.source, p.start))
    return [replace(p, number=i, context_from=None) for i, p in enumerate(shown, start=1)]


def check_overview(
    reply: str, passages: Sequence[Passage], min_support: float, min_cited_score: float, fill_to: int = 3
) -> Checked:
    """Each sentence supported by a passage it cites, or dropped; refused when none is, or when the best
    passage cited is weak evidence for the question. An overview left with fewer than `fill_to`
    sentences is completed with the best passages it did not cite, other articles first (`complete`)."""
    kept = verify(reply, passages, min_support)
    if kept.citations:  # always rewritten: `complete` also drops sentences said twice
        reply = complete(kept.text, kept.citations, passages, fill_to)
    checked = verify(reply, passages, min_support)
    dropped = dropped_note(checked.dropped)
    if not checked.citations:
        return Checked("", (), "no sentence supported", f"no sentence of the overview is supported{dropped}")
    best = best_cited(checked.citations, passages)
    if best < min_cited_score:
        return Checked(
            "", (), "weak evidence", f"the passages the overview cites score {best:.2f}, below {min_cited_score:.2f}"
        )
    added = len(parse_claims(checked.text)) - len(parse_claims(kept.text))
    dropped += f"; {added} sentence(s) added from passages not cited" if added > 0 else ""
    sources = len({c.source for c in checked.citations})
    return Checked(
        checked.text, checked.citations, f"{len(checked.citations)} citation(s) from {sources} article(s){dropped}"
    )


def complete(text: str, cited: Sequence[Citation], passages: Sequence[Passage], fill_to: int) -> str:
    """The verified overview (its markers numbering `cited`) with passages it did not cite added, as
    they are written, until it has `fill_to` sentences: the best scoring of articles not yet cited
    first, then of the rest; every sentence then in the order of the passages (dates, then place in
    the article). Returns a reply in the passages' own numbering, to be verified again."""
    claims: list[Claim] = []
    for c in parse_claims(text):  # a small reader may say a sentence again: once is enough
        if not any(_same_sentence(c.text, k.text) for k in claims):
            claims.append(
                Claim(c.text, tuple(_passage_of(cited[m - 1], passages) for m in c.markers if 0 < m <= len(cited)))
            )
    used = {n for c in claims for n in c.markers}
    sources = {p.source for p in passages if p.number in used}
    # A sentence cut inside a quotation (its quote marks unbalanced) does not read on its own.
    whole = [p for p in passages if p.number not in used and _balanced(p.text)]
    spare = sorted(whole, key=lambda p: (p.source in sources, -p.score))
    for p in spare:
        if len(claims) >= fill_to:
            break
        if not any(_same_sentence(p.text, k.text) for k in claims):
            claims.append(Claim(p.text.strip(), (p.number,)))
    claims.sort(key=lambda c: min(c.markers, default=0))
    return " ".join(_cited(c) for c in claims)


def _cited(c: Claim) -> str:
    text = c.text.strip()
    end = len(text.rstrip(".!?"))
    return f"{text[:end]} {''.join(f'[{n}]' for n in c.markers)}{text[end:] or '.'}"


def _same_sentence(a: str, b: str) -> bool:
    """Two sentences that say the same in nearly the same words (two thirds of their words shared)."""
    x, y = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    return bool(x and y) and len(x & y) >= 2 / 3 * min(len(x), len(y))


def _balanced(text: str) -> bool:
    return text.count('"') % 2 == 0 and text.count("“") == text.count("”")


def _passage_of(c: Citation, passages: Sequence[Passage]) -> int:
    return next((p.number for p in passages if (p.source, p.start, p.end) == (c.source, c.start, c.end)), 0)
