"""Hybrid retrieval: lexical matches for rare tokens, fusion, and answering from the last complete index."""

from __future__ import annotations

import itertools
from pathlib import Path

from index.types import Chunk, content_hash
from rag.config import Settings
from rag.factory import build_pipeline, open_store, run_index
from rag.retrieve import Snapshot
from tests.fakes import FakeGenerator, HashEmbedder


def chunk(source: str, text: str) -> Chunk:
    return Chunk(content_hash(source, text), source, 0, len(text), text, "h")


def test_bm25_finds_rare_tokens_and_numbers():
    snap = Snapshot(
        [chunk("a", "The S-300 missile fell."), chunk("b", "A house 66 meters away."), chunk("c", "Nothing here.")]
    )
    assert snap.chunks[snap.bm25("S-300", 3)[0][0]].source == "a"
    assert snap.chunks[snap.bm25("how far, 66 meters?", 3)[0][0]].source == "b"
    assert snap.bm25("unrelated words", 3) == []


def test_hybrid_retrieval_ranks_the_matching_chunk_first(settings: Settings, corpus: Path):
    embedder = HashEmbedder()
    run_index(settings, corpus, embedder=embedder)
    pipeline = build_pipeline(settings, embedder=embedder, generator=FakeGenerator())
    hits = pipeline.retriever.retrieve("Anatoly Glaz spokesperson", 5)
    assert "Glaz" in hits[0].chunk.text
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_answers_come_from_the_last_complete_index_while_a_run_writes(settings: Settings, corpus: Path):
    embedder = HashEmbedder()
    run_index(settings, corpus, embedder=embedder)
    pipeline = build_pipeline(settings, embedder=embedder, generator=FakeGenerator())
    source = pipeline.retriever.source  # type: ignore[attr-defined]
    source._check_every_s = 0
    before = source.current()
    # A run in progress: chunks written, generation not yet bumped.
    store = open_store(settings, writable=True)
    fresh = chunk("new.txt", "Zanzibar lighthouse keepers went on strike.")
    store.add([fresh], embedder.embed([fresh.text]), n_chunks=1)
    hits = pipeline.retriever.retrieve("Zanzibar lighthouse strike", 5)
    assert all(h.chunk.source != "new.txt" for h in hits)
    assert source.current() is before
    store.bump_generation()  # the run completes
    hits = pipeline.retriever.retrieve("Zanzibar lighthouse strike", 5)
    assert hits[0].chunk.source == "new.txt"
