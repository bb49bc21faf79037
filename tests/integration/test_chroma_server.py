"""The same index and answers through a real Chroma server (`chroma run` on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.gold import load_gold
from index.store import StoreError
from rag.config import PROJECT_ROOT, Settings
from rag.factory import build_embedder, build_pipeline, open_store, run_index
from rag.rewrite import Turn
from tests.chroma_server import chroma_server
from tests.fakes import FakeGenerator

pytestmark = pytest.mark.integration


def test_server_store_matches_the_embedded_store(tmp_path: Path, corpus: Path):
    embedded = Settings(store=tmp_path / "embedded")
    embedder = build_embedder(embedded)
    local = run_index(embedded, corpus, embedder=embedder)
    with chroma_server(tmp_path / "server-data") as port:
        remote_settings = Settings(chroma_host="127.0.0.1", chroma_port=port, cache_dir=tmp_path / "cache")
        remote = run_index(remote_settings, corpus, embedder=embedder)
        assert remote.chunks_total == local.chunks_total
        again = run_index(remote_settings, corpus, embedder=embedder)
        assert again.chunks_added == 0 and again.files_unchanged == 5
        ids_local = {c.id for c in open_store(embedded).iter_chunks()}
        ids_remote = {c.id for c in open_store(remote_settings).iter_chunks()}
        assert ids_local == ids_remote

        # Every question of the eval set, with its conversation: the same search query, the same
        # ranked chunks with the same scores, and the same passages for the generator.
        local_pipeline = build_pipeline(embedded, embedder=embedder, generator=FakeGenerator())
        remote_pipeline = build_pipeline(remote_settings, embedder=embedder, generator=FakeGenerator())
        for item in load_gold(PROJECT_ROOT / "eval" / "gold.jsonl"):
            history = [Turn(q, "") for q in item.history]
            a, b = local_pipeline.ask(item.question, history), remote_pipeline.ask(item.question, history)
            assert a.search_query == b.search_query, item.id
            assert [(h.chunk.id, round(h.score, 6)) for h in a.retrieved] == [
                (h.chunk.id, round(h.score, 6)) for h in b.retrieved
            ], item.id
            assert [(p.source, p.start, p.end) for p in a.passages] == [
                (p.source, p.start, p.end) for p in b.passages
            ], item.id


def test_unreachable_server_is_a_clear_error(tmp_path: Path):
    settings = Settings(chroma_host="127.0.0.1", chroma_port=9, cache_dir=tmp_path)
    with pytest.raises(StoreError, match=r"Cannot reach the Chroma server 127\.0\.0\.1:9"):
        open_store(settings)


def test_server_stopped_mid_conversation_is_a_clear_error_and_recovers(tmp_path: Path, corpus: Path):
    settings_dir = tmp_path / "server-data"
    embedder = build_embedder(Settings())
    with chroma_server(settings_dir) as port:
        settings = Settings(chroma_host="127.0.0.1", chroma_port=port, cache_dir=tmp_path / "cache")
        run_index(settings, corpus, embedder=embedder)
        pipeline = build_pipeline(settings, embedder=embedder, generator=FakeGenerator())
        pipeline.retriever.source._check_every_s = 0  # type: ignore[attr-defined]
        assert pipeline.ask("Who summoned the Ukrainian ambassador?").retrieved
    with pytest.raises(StoreError, match="Lost the Chroma server"):
        pipeline.ask("Who summoned the Ukrainian ambassador?")
    with chroma_server(settings_dir, port=port):
        assert pipeline.ask("Who summoned the Ukrainian ambassador?").retrieved
