"""Second stage: choose the sentences inside the top chunks that best answer the question.

No cross-encoder ships as a wheel, so each sentence is scored by the bi-encoder's cosine similarity
to the question plus the IDF-weighted share of the question's terms it contains. Sentences make
short prompts (prompt length is the main cost on a CPU) and precise citations.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np

from index.embed import Embedder
from rag.answer_type import asked_kind, holds_asked
from rag.text import has_term, sentence_spans, terms
from rag.types import Hit

MIN_SENTENCE_CHARS = 40


@dataclass(frozen=True)
class ScoredSentence:
    source: str
    start: int
    end: int
    text: str
    dense: float
    lexical: float
    score: float
    title: str
    date: str
    # The white space between it and the next sentence of its source when that follows on the same line;
    # None when a line break follows it, or what follows it was not seen.
    space_after: str | None = None


@dataclass
class SentenceSelector:
    """Scores sentences, then picks passages by maximal marginal relevance: news agencies repeat one
    another, and five copies of the same sentence would crowd out the one that answers."""

    embedder: Embedder
    dense_weight: float = 0.55
    chunk_weight: float = 0.2  # the share of the sentence score that is its chunk's fused score
    diversity: float = 0.25  # MMR: how much similarity to an already chosen passage costs
    kind_weight: float = 0.1  # added for holding the kind of answer asked for (a number for "how many")
    cache_size: int = 20_000
    _cache: OrderedDict[tuple[str, int, int], np.ndarray] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def score(self, query: str, hits: Sequence[Hit], question: str | None = None) -> list[ScoredSentence]:
        """Every sentence of the hits (each once), best first. `question` is this turn's question (the
        query may carry earlier turns): a sentence holding the number or time it asks for gains
        `kind_weight`."""
        seen: set[tuple[str, int]] = set()
        items: list[tuple[str, int, int, str, str, str]] = []
        space_after: dict[tuple[str, int], str] = {}  # (source, end) of a sentence followed on its line
        for hit in hits:
            c = hit.chunk
            spans = _merge_short(sentence_spans(c.text), c.text)
            for (_, end), (after, _) in pairwise(spans):
                if "\n" not in c.text[end:after]:
                    space_after[(c.source, c.start + end)] = c.text[end:after]
            for a, b in spans:
                key = (c.source, c.start + a)
                if key in seen:
                    continue
                seen.add(key)
                items.append((c.source, c.start + a, c.start + b, c.text[a:b], c.title, c.date))
        if not items:
            return []
        qvec = self.embedder.embed([query])[0]
        vecs = self._vectors(items)
        dense = vecs @ qvec
        idf = _idf([it[3] for it in items])
        qterms = list(dict.fromkeys(terms(query, parts=False)))
        top = max((h.score for h in hits), default=1.0) or 1.0
        prior: dict[str, list[tuple[int, int, float]]] = {}
        for hit in hits:
            prior.setdefault(hit.chunk.source, []).append((hit.chunk.start, hit.chunk.end, hit.score / top))
        lex_weight = 1 - self.dense_weight - self.chunk_weight
        kind = asked_kind(query if question is None else question)
        scored = []
        for (source, a, b, text, title, date), d in zip(items, dense, strict=True):
            lex = lexical_coverage(qterms, terms(text, parts=False), idf)
            near = max((p for s, e, p in prior.get(source, []) if s <= a < e), default=0.0)
            score = self.dense_weight * float(d) + lex_weight * lex + self.chunk_weight * near
            if holds_asked(kind, text):
                score += self.kind_weight
            space = space_after.get((source, b))
            scored.append(ScoredSentence(source, a, b, text, float(d), lex, score, title, date, space))
        order = _mmr([s.score for s in scored], vecs, self.diversity)
        return [scored[i] for i in order]

    def _vectors(self, items: list[tuple[str, int, int, str, str, str]]) -> np.ndarray:
        keys = [(s, a, b) for s, a, b, *_ in items]
        with self._lock:
            missing = [i for i, k in enumerate(keys) if k not in self._cache]
        if missing:
            fresh = self.embedder.embed([items[i][3] for i in missing])
            with self._lock:
                for i, v in zip(missing, fresh, strict=True):
                    self._cache[keys[i]] = v
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        with self._lock:
            return np.stack([self._cache[k] for k in keys])


def _mmr(scores: list[float], vecs: np.ndarray, diversity: float) -> list[int]:
    """Greedy maximal marginal relevance over all items: each pick maximises its score minus
    `diversity` times its highest cosine similarity to the items already picked."""
    remaining = list(range(len(scores)))
    picked: list[int] = []
    best_sim = np.zeros(len(scores), dtype=np.float32)
    while remaining:
        i = max(remaining, key=lambda j: scores[j] - diversity * float(best_sim[j]))
        picked.append(i)
        remaining.remove(i)
        best_sim = np.maximum(best_sim, vecs @ vecs[i])
    return picked


def rank_by_best_sentence(hits: Sequence[Hit], sentences: Sequence[ScoredSentence], k: int) -> list[Hit]:
    """The k chunks whose best sentence scores highest ("MaxP"), each scored by that sentence.

    A chunk's fused score judges all of it at once; the sentence that answers is often one of five
    in a chunk about something else, and its own score finds it. Chunks without a scored sentence
    keep their order after the others."""
    best: dict[tuple[str, int], float] = {}
    for s in sentences:
        key = (s.source, s.start)
        best[key] = max(best.get(key, float("-inf")), s.score)
    ranked = []
    for order, hit in enumerate(hits):
        c = hit.chunk
        score = max((v for (src, a), v in best.items() if src == c.source and c.start <= a < c.end), default=None)
        ranked.append((score is None, -(score or 0.0), order, hit, score))
    ranked.sort(key=lambda r: r[:3])
    return [replace(hit, score=score) if score is not None else hit for *_, hit, score in ranked[:k]]


def lexical_coverage(qterms: Sequence[str], sterms: Sequence[str], idf: dict[str, float]) -> float:
    """IDF-weighted share of the query's terms found in the sentence (0..1)."""
    if not qterms:
        return 0.0
    have = set(sterms)
    total = found = 0.0
    for t in qterms:
        w = idf.get(t, max(idf.values(), default=1.0))
        total += w
        if has_term(t, have):
            found += w
    return found / total if total else 0.0


def _own_line(text: str, a: int, b: int) -> bool:
    """Whether text[a:b] is a whole line of two words or more, with a line break before and after it in
    the text (at a chunk's edge, where the text is cut, it is not known)."""
    before = text[:a].rstrip(" \t")
    after = text[b:].lstrip(" \t")
    return before.endswith("\n") and after.startswith("\n") and len(text[a:b].split()) > 1


def _idf(texts: Sequence[str]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for text in texts:
        df.update(set(terms(text, parts=False)))
    n = len(texts)
    return {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}


def _merge_short(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Join a fragment shorter than MIN_SENTENCE_CHARS to the sentence that follows it, unless it is a
    heading: a line of its own, of two words or more, followed by a longer sentence ("Belarus Summons
    Ukrainian Ambassador" is not the start of "Anatoly Glaz, a spokesperson ..."). Consecutive short
    lines are a list ("Henry Thomas as Elliott", "Peter Coyote as Keys"), joined as before: each line
    reads with its neighbours."""
    out: list[tuple[int, int]] = []
    pending: int | None = None
    for i, (a, b) in enumerate(spans):
        start = a if pending is None else pending
        if b - start < MIN_SENTENCE_CHARS and not (pending is None and _heading(text, spans, i)):
            pending = start
            continue
        out.append((start, b))
        pending = None
    if pending is not None:
        if out:
            out[-1] = (out[-1][0], spans[-1][1])
        else:
            out.append((pending, spans[-1][1]))
    return out


def _heading(text: str, spans: list[tuple[int, int]], i: int) -> bool:
    """Whether spans[i] is a line of its own, of two words or more, followed by a span that is not a
    short line too."""
    a, b = spans[i]
    if i + 1 == len(spans) or not _own_line(text, a, b):
        return False
    na, nb = spans[i + 1]
    return nb - na >= MIN_SENTENCE_CHARS or not _own_line(text, na, nb)
