"""Scoring one answer against its gold record, and summarising many. Pure functions."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from eval.gold import GoldItem

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD-style: lower case, curly quotes straightened, punctuation and articles removed."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = re.sub(r"\[\d+\]", " ", text)
    text = "".join(" " if ch in string.punctuation else ch for ch in text)
    return " ".join(_ARTICLES.sub(" ", text).split())


_POLAR = frozenset({"yes", "no"})


def contains_words(text: str, phrase: str) -> bool:
    """The normalised phrase occurs in the normalised text as whole words ("11" is not in "2011")."""
    p = normalize_answer(phrase)
    return bool(p) and f" {p} " in f" {normalize_answer(text)} "


def answer_match(answer: str, gold: Sequence[str]) -> bool:
    """Whole-word containment of any normalised acceptable answer. A yes/no question's gold holds "yes" or "no":
    an answer that opens with yes or no is right only when that word is in the gold ("Yes, there
    were no reports" does not match "no"), and a gold "yes"/"no" matches only an answer that opens
    with it; an answer that opens otherwise ("Two people were killed") is matched on the other gold
    strings."""
    norm = normalize_answer(answer)
    wanted = [normalize_answer(g) for g in gold]
    first = norm.split(" ", 1)[0]
    if first in _POLAR and _POLAR & set(wanted):
        return first in wanted
    return any(f" {g} " in f" {norm} " for g in wanted if g and g not in _POLAR)


def facts_held(answer: str, facts: Sequence[str]) -> float:
    """The share of an overview's facts the answer holds; a fact is held when any of its alternatives
    (separated by " | ") is in the answer as whole words."""
    if not facts:
        return 0.0
    held = [any(contains_words(answer, alt) for alt in fact.split(" | ")) for fact in facts]
    return sum(held) / len(held)


def token_f1(answer: str, gold: Sequence[str]) -> float:
    pred = normalize_answer(answer).split()
    best = 0.0
    for g in gold:
        ref = normalize_answer(g).split()
        common = sum((Counter(pred) & Counter(ref)).values())
        if not pred or not ref or not common:
            continue
        p, r = common / len(pred), common / len(ref)
        best = max(best, 2 * p * r / (p + r))
    return best


def _squash(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("“", '"').replace("”", '"').split()).lower()


# Quote marks and punctuation at a quote's or a passage's edges: a sentence's span ends at its full
# stop, before a closing quote mark ('... will be met with "retaliation using all forces and means.'),
# which the gold quote may include.
_EDGES = " \"'.,;:!?"


def holds_evidence(text: str, evidence: Sequence[str]) -> bool:
    """The passage contains a gold evidence quote, or the quote contains the (sentence-sized) passage;
    both without quote marks and punctuation at their edges."""
    t = _squash(text).strip(_EDGES)
    for e in evidence:
        q = _squash(e).strip(_EDGES)
        if q and (q in t or (len(t) >= 30 and t in q)):
            return True
    return False


@dataclass(frozen=True)
class Span:
    source: str
    text: str


def _base(source: str) -> str:
    return source.rsplit("/", 1)[-1]


def is_evidence_hit(span: Span, item: GoldItem) -> bool:
    """A retrieved passage from a gold source that contains the evidence."""
    return _base(span.source) in {_base(s) for s in item.sources} and holds_evidence(span.text, item.evidence)


def score_retrieval(retrieved: Sequence[Span], item: GoldItem, k: int) -> dict[str, float]:
    rank = next((i for i, s in enumerate(retrieved) if is_evidence_hit(s, item)), None)
    return {
        f"hit@{k}": float(rank is not None and rank < k),
        "mrr": 0.0 if rank is None else 1.0 / (rank + 1),
    }


def proves(span: Span, item: GoldItem) -> bool:
    """The cited passage holds the gold evidence or an accepted answer (whole words): strict. For an
    overview, an accepted answer is any alternative of one of its facts."""
    answers = [alt for a in item.answers for alt in a.split(" | ")] if item.kind == "overview" else item.answers
    return holds_evidence(span.text, item.evidence) or any(
        contains_words(span.text, a) for a in answers if normalize_answer(a) not in _POLAR
    )


def score_citations(citations: Sequence[Span], item: GoldItem) -> dict[str, float | None]:
    """`citation_precision` (strict): share of citations whose passage holds gold evidence or an
    accepted answer. `citation_precision_source`: share whose passage holds evidence or merely comes
    from a gold source (the figure reported before the eval suite; a passage of the right article
    that proves nothing counts). Recall: 1 when at least one citation is a gold-source passage
    holding the evidence (the answer points at its proof), else 0. All undefined for an answer
    without citations / gold evidence."""
    if not citations:
        return {
            "citation_precision": None,
            "citation_precision_source": None,
            "citation_recall": 0.0 if item.answerable else None,
        }
    gold_sources = {_base(s) for s in item.sources}
    strict = [c for c in citations if proves(c, item)]
    lenient = [c for c in citations if holds_evidence(c.text, item.evidence) or _base(c.source) in gold_sources]
    recall = float(any(is_evidence_hit(c, item) for c in citations)) if item.answerable else None
    return {
        "citation_precision": len(strict) / len(citations),
        "citation_precision_source": len(lenient) / len(citations),
        "citation_recall": recall,
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    idx = min(len(vals) - 1, max(0, round(q / 100 * (len(vals) - 1))))
    return vals[idx]


def mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None
