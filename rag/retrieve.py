"""Retrieval: dense (Chroma) and lexical (BM25) search over one snapshot of the index, fused by RRF.

The snapshot (every chunk's text, and a BM25 index over it) is built once per index generation and
swapped in whole, so a reader keeps answering from the last complete index while a new run writes, and
while the next snapshot is being built (in the background: 2 s at 10k chunks, 15 s at 100k).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.embed import Embedder
from index.types import Chunk
from rag.text import terms
from rag.types import Hit


class Retriever(Protocol):
    def retrieve(self, query: str, k: int) -> list[Hit]: ...


class SearchStore(Protocol):
    """What retrieval reads from the index (ChromaStore): its generation, its chunks, dense search."""

    def generation(self) -> int: ...

    def iter_chunks(self) -> Iterable[Chunk]: ...

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]: ...


class Snapshot:
    """All chunks of one index generation, with a BM25 index over their stemmed terms."""

    def __init__(self, chunks: Sequence[Chunk], generation: int = 0):
        import bm25s

        self.generation = generation
        self.chunks = list(chunks)
        self.by_id = {c.id: i for i, c in enumerate(self.chunks)}
        self._bm25 = bm25s.BM25()
        self._vocab: set[str] = set()
        if self.chunks:
            tokens = [terms(f"{c.title}\n{c.text}" if c.index == 0 else c.text) or ["\x00"] for c in self.chunks]
            self._bm25.index(tokens, show_progress=False)
            self._vocab = set(self._bm25.vocab_dict)

    def __len__(self) -> int:
        return len(self.chunks)

    def bm25(self, query: str, k: int) -> list[tuple[int, float]]:
        q = [t for t in terms(query) if t in self._vocab]
        if not q or not self.chunks:
            return []
        scores = self._bm25.get_scores(q)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


class SnapshotSource:
    """Keeps the current snapshot of a store. The first one is built on first use (a warm-up); when
    the store's generation moves on, the next is built in a background thread and swapped in when
    complete, and until then readers get the previous one without waiting."""

    def __init__(self, store: SearchStore, check_every_s: float = 2.0):
        self.store = store
        self._check_every_s = check_every_s
        self._checked = 0.0
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()  # the first build; starting a rebuild
        self._rebuilding: threading.Thread | None = None

    def current(self) -> Snapshot:
        snap = self._snapshot
        if snap is None:
            return self._first()
        now = time.monotonic()
        if now - self._checked < self._check_every_s or self._rebuilding is not None:
            return snap
        with self._lock:
            if self._rebuilding is None and now - self._checked >= self._check_every_s:
                self._checked = now
                generation = self.store.generation()
                if generation != snap.generation:
                    self._rebuilding = threading.Thread(
                        target=self._rebuild, args=(generation,), name="rag-snapshot", daemon=True
                    )
                    self._rebuilding.start()
        return snap

    def wait_for_rebuild(self, timeout_s: float | None = None) -> bool:
        """Wait for a background rebuild, if one is running; True when none is left running."""
        thread = self._rebuilding
        if thread is not None:
            thread.join(timeout_s)
        return self._rebuilding is None or not self._rebuilding.is_alive()

    def refresh(self) -> Snapshot:
        """The snapshot of the store's current generation, built now if the current one is older: for
        a writer in this process (an upload) whose change must be searchable when it reports done.
        Readers keep the previous snapshot while this builds."""
        self.wait_for_rebuild()
        generation = self.store.generation()
        snap = self._snapshot
        if snap is None or snap.generation != generation:
            snap = self._snapshot = self._build(generation)
        self._checked = time.monotonic()
        return snap

    def _first(self) -> Snapshot:
        with self._lock:
            if self._snapshot is None:
                self._checked = time.monotonic()
                self._snapshot = self._build(self.store.generation())
            return self._snapshot

    def _rebuild(self, generation: int) -> None:
        try:
            self._snapshot = self._build(generation)
        except Exception as exc:  # the store changed or failed under us: keep the last snapshot, retry later
            print(f"warning: search snapshot not rebuilt, still answering from the last one: {exc}", file=sys.stderr)
        finally:
            with self._lock:
                self._rebuilding = None

    def _build(self, generation: int) -> Snapshot:
        return Snapshot(list(self.store.iter_chunks()), generation)


@dataclass
class HybridRetriever:
    """Dense and BM25 candidates fused with reciprocal rank fusion (k=60)."""

    source: SnapshotSource
    embedder: Embedder
    candidates: int = 30
    rrf_k: int = 60

    def warm_up(self) -> None:
        self.source.current()
        self.embedder.embed(["warm up"])

    def refresh(self) -> None:
        """Search the store's newest complete generation from now on (see SnapshotSource.refresh)."""
        self.source.refresh()

    def retrieve(self, query: str, k: int) -> list[Hit]:
        snap = self.source.current()
        if not len(snap):
            return []
        qvec = self.embedder.embed([query])[0]
        dense = [
            (snap.by_id[cid], sim)
            for cid, sim in self.source.store.query(qvec, min(self.candidates * 2, len(snap)))
            if cid in snap.by_id  # chunks written after this snapshot wait for the next one
        ][: self.candidates]
        lexical = snap.bm25(query, self.candidates)
        return fuse(snap, dense, lexical, k, self.rrf_k)


def fuse(
    snap: Snapshot,
    dense: list[tuple[int, float]],
    lexical: list[tuple[int, float]],
    k: int,
    rrf_k: int = 60,
) -> list[Hit]:
    scores: dict[int, float] = {}
    dense_of = dict(dense)
    lex_of = dict(lexical)
    for ranking in (dense, lexical):
        for rank, (i, _) in enumerate(ranking):
            scores[i] = scores.get(i, 0.0) + 1.0 / (rrf_k + rank + 1)
    order = sorted(scores, key=lambda i: (-scores[i], i))[:k]
    return [Hit(snap.chunks[i], scores[i], dense_of.get(i), lex_of.get(i)) for i in order]
