"""Indexing with the fake embedder and the real embedded Chroma: idempotence, edits, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.load import CorpusError
from index.lock import IndexBusyError, index_lock
from index.store import ChromaStore, IncompatibleStoreError, StoreError
from rag.config import Settings
from rag.factory import lock_path, open_store, run_index
from tests.fakes import HashEmbedder


def stored_chunks(settings: Settings) -> dict[str, tuple[str, int, int, str]]:
    store = open_store(settings)
    return {c.id: (c.source, c.start, c.end, c.text) for c in store.iter_chunks()}


def test_first_run_indexes_every_file_with_exact_spans(settings: Settings, corpus: Path, embedder: HashEmbedder):
    summary = run_index(settings, corpus, embedder=embedder)
    assert summary.files_indexed == 5 and summary.files_skipped == 0
    assert summary.chunks_added == summary.chunks_total > 5
    for source, start, end, text in stored_chunks(settings).values():
        assert (corpus / source).read_text(encoding="utf-8")[start:end] == text


def test_unchanged_corpus_embeds_nothing(settings: Settings, corpus: Path):
    run_index(settings, corpus, embedder=HashEmbedder())
    before = stored_chunks(settings)
    again = HashEmbedder()
    summary = run_index(settings, corpus, embedder=again)
    assert again.texts_embedded == 0
    assert summary.chunks_added == 0 and summary.chunks_removed == 0
    assert summary.files_unchanged == 5
    assert stored_chunks(settings) == before


def test_edited_file_replaces_exactly_its_chunks(settings: Settings, corpus: Path, embedder: HashEmbedder):
    run_index(settings, corpus, embedder=embedder)
    before = stored_chunks(settings)
    target = corpus / "000_e0c370ddd57364fe.txt"
    target.write_text("A new first paragraph about something else entirely.\n\n" + target.read_text(encoding="utf-8"))
    summary = run_index(settings, corpus, embedder=embedder)
    after = stored_chunks(settings)
    assert summary.files_indexed == 1 and summary.files_unchanged == 4
    assert summary.chunks_added > 0 and summary.chunks_removed > 0
    others_before = {k: v for k, v in before.items() if v[0] != target.name}
    others_after = {k: v for k, v in after.items() if v[0] != target.name}
    assert others_before == others_after
    text = target.read_text(encoding="utf-8")
    assert all(text[s:e] == t for src, s, e, t in after.values() if src == target.name)


def test_appended_text_keeps_unchanged_chunks(settings: Settings, corpus: Path, embedder: HashEmbedder):
    run_index(settings, corpus, embedder=embedder)
    target = corpus / "003_871bbf24b563cf8e.txt"
    with target.open("a", encoding="utf-8") as fh:
        fh.write("\nBelarus also summoned the Polish ambassador the next day.\n")
    summary = run_index(settings, corpus, embedder=embedder)
    assert summary.chunks_unchanged > 0 and summary.chunks_added >= 1


def test_deleted_file_loses_its_chunks(settings: Settings, corpus: Path, embedder: HashEmbedder):
    run_index(settings, corpus, embedder=embedder)
    (corpus / "004_16595dd0cf172480.txt").unlink()
    summary = run_index(settings, corpus, embedder=embedder)
    assert summary.chunks_removed > 0
    assert all(src != "004_16595dd0cf172480.txt" for src, *_ in stored_chunks(settings).values())


def test_missing_and_empty_folders_are_clear_errors(settings: Settings, tmp_path: Path, embedder: HashEmbedder):
    with pytest.raises(CorpusError, match="does not exist"):
        run_index(settings, tmp_path / "nope", embedder=embedder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no files"):
        run_index(settings, tmp_path / "empty", embedder=embedder)


def test_bad_files_are_reported_and_the_rest_indexed(settings: Settings, corpus: Path, embedder: HashEmbedder):
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "latin1.txt").write_bytes("Caf\xe9 au lait".encode("latin-1"))
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02\x03binary\x00data")
    (corpus / "blank.md").write_text("   \n\n  ")
    (corpus / "copy.txt").write_bytes((corpus / "002_9acb625707f65469.txt").read_bytes())
    (corpus / "image.png").write_bytes(b"\x89PNG")
    summary = run_index(settings, corpus, embedder=embedder)
    reasons = {s["source"]: s["reason"] for s in summary.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert "UTF-8" in reasons["latin1.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "no text" in reasons["blank.md"]
    assert "same content as 002_9acb625707f65469.txt" in reasons["copy.txt"]
    assert "unsupported" in reasons["image.png"]
    assert summary.files_indexed == 5


def test_markdown_and_html_are_loaded(settings: Settings, tmp_path: Path, embedder: HashEmbedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# Title here\n\nPublished 2023-05-04\n\nThe committee met on 2023-05-01 in Minsk.\n")
    (docs / "b.html").write_text(
        "<html><head><title>Page</title><script>x=1</script></head><body><p>Hello world.</p></body></html>"
    )
    run_index(settings, docs, embedder=embedder)
    chunks = list(open_store(settings).iter_chunks())
    by_source = {c.source: c for c in chunks}
    assert by_source["a.md"].title == "Title here" and by_source["a.md"].date == "2023-05-04"
    assert by_source["b.html"].title == "Page" and "x=1" not in by_source["b.html"].text


def test_large_file_is_written_in_bounded_batches(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    docs = tmp_path / "big"
    docs.mkdir()
    paragraph = " ".join(f"Sentence number {i} tells about item {i * 7} in the ledger." for i in range(40))
    (docs / "big.txt").write_text("\n\n".join(f"{paragraph} Part {p}." for p in range(400)))
    sizes: list[int] = []

    class Recording(HashEmbedder):
        def embed(self, texts):  # type: ignore[no-untyped-def]
            sizes.append(len(texts))
            return super().embed(texts)

    writes: list[int] = []
    add = ChromaStore.add

    def recording_add(self, chunks, vectors, n_chunks):  # type: ignore[no-untyped-def]
        assert len(chunks) == len(vectors)
        writes.append(len(chunks))
        return add(self, chunks, vectors, n_chunks)

    monkeypatch.setattr(ChromaStore, "add", recording_add)
    summary = run_index(settings.model_copy(update={"embed_batch_size": 32}), docs, embedder=Recording())
    assert summary.chunks_total > 500
    assert max(sizes) <= 32
    assert max(writes) <= 1024 and len(writes) < len(sizes)  # several embedded batches per store call
    assert sum(writes) == summary.chunks_added == summary.chunks_total
    text = (docs / "big.txt").read_text()
    assert all(text[s:e] == t for _, s, e, t in stored_chunks(settings).values())


def test_second_concurrent_run_is_refused(settings: Settings, corpus: Path, embedder: HashEmbedder):
    with index_lock(lock_path(settings)), pytest.raises(IndexBusyError, match="already"):
        run_index(settings, corpus, embedder=embedder)


def test_changed_chunking_is_detected_and_rebuild_works(settings: Settings, corpus: Path, embedder: HashEmbedder):
    run_index(settings, corpus, embedder=embedder)
    other = settings.model_copy(update={"chunk_size": 60})
    with pytest.raises(IncompatibleStoreError, match="rag index --rebuild"):
        run_index(other, corpus, embedder=embedder)
    summary = run_index(other, corpus, embedder=embedder, rebuild=True)
    assert summary.rebuilt and summary.chunks_added == summary.chunks_total


def test_changed_embedding_model_is_detected(settings: Settings, corpus: Path):
    run_index(settings, corpus, embedder=HashEmbedder(dim=64))
    with pytest.raises(IncompatibleStoreError, match="embedding model"):
        run_index(settings, corpus, embedder=HashEmbedder(dim=32))


def test_read_only_store_is_named(settings: Settings, corpus: Path, embedder: HashEmbedder):
    run_index(settings, corpus, embedder=embedder)
    mode = settings.store.stat().st_mode
    settings.store.chmod(0o555)
    try:
        with pytest.raises(StoreError, match=str(settings.store)):
            run_index(settings, corpus, embedder=embedder)
    finally:
        settings.store.chmod(mode)


def test_corrupt_store_is_named_and_rebuild_recovers(settings: Settings, corpus: Path, embedder: HashEmbedder):
    run_index(settings, corpus, embedder=embedder)
    (settings.store / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="corrupt"):
        run_index(settings, corpus, embedder=embedder)
    summary = run_index(settings, corpus, embedder=embedder, rebuild=True)
    assert summary.chunks_total == summary.chunks_added > 0


KILL_SCRIPT = """
import sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from rag.config import Settings
from rag.factory import run_index
from tests.fakes import HashEmbedder

class Slow(HashEmbedder):
    def embed(self, texts):
        print("batch", flush=True)
        time.sleep(0.3)
        return super().embed(texts)

s = Settings(store=Path({store!r}), cache_dir=Path({cache!r}), embed_batch_size=8)
run_index(s, Path({corpus!r}), embedder=Slow())
"""


def test_killed_run_converges_to_a_clean_run(settings: Settings, corpus: Path, tmp_path: Path):
    root = str(Path(__file__).resolve().parents[2])
    script = KILL_SCRIPT.format(root=root, store=str(settings.store), cache=str(tmp_path / "c"), corpus=str(corpus))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    batches = 0
    deadline = time.monotonic() + 120
    while batches < 3 and time.monotonic() < deadline:
        if proc.stdout.readline().startswith("batch"):
            batches += 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert batches == 3

    small = settings.model_copy(update={"embed_batch_size": 8})
    resumed = run_index(small, corpus, embedder=HashEmbedder())
    assert resumed.files_skipped == 0
    clean_settings = small.model_copy(update={"store": tmp_path / "clean"})
    clean = run_index(clean_settings, corpus, embedder=HashEmbedder())
    assert resumed.chunks_total == clean.chunks_total
    assert sorted(stored_chunks(small)) == sorted(stored_chunks(clean_settings))
    again = run_index(small, corpus, embedder=HashEmbedder())
    assert again.chunks_added == 0 and again.chunks_removed == 0


def test_a_failed_store_write_fails_the_run_with_its_message(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
):
    def failing_add(self, chunks, vectors, n_chunks):  # type: ignore[no-untyped-def]
        raise StoreError("The disk is full.")

    monkeypatch.setattr(ChromaStore, "add", failing_add)
    with pytest.raises(StoreError, match="disk is full"):
        run_index(settings, corpus, embedder=HashEmbedder())


def test_a_store_written_in_the_earlier_layout_is_read_and_extended(
    settings: Settings, corpus: Path, embedder: HashEmbedder
):
    """Before records were packed, each field was its own metadata key and the text the document."""
    run_index(settings, corpus, embedder=embedder)
    packed = stored_chunks(settings)
    col = open_store(settings)._get()
    got = col.get(include=["metadatas", "embeddings"])
    old_metas = []
    for meta in got["metadatas"]:
        record = json.loads(meta["rag:chunk"])
        old_metas.append({k: v for k, v in record.items() if k != "text"})
    texts = [packed[cid][3] for cid in got["ids"]]
    col.delete(ids=got["ids"])
    col.add(ids=got["ids"], embeddings=got["embeddings"], metadatas=old_metas, documents=texts)
    assert stored_chunks(settings) == packed

    again = HashEmbedder()
    assert run_index(settings, corpus, embedder=again).files_unchanged == 5 and again.texts_embedded == 0
    target = corpus / "000_e0c370ddd57364fe.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\n\nOne more paragraph at the end.\n")
    summary = run_index(settings, corpus, embedder=embedder)
    assert summary.files_indexed == 1 and summary.chunks_unchanged > 0
    text = target.read_text(encoding="utf-8")
    after = stored_chunks(settings)
    assert all(text[s:e] == t for src, s, e, t in after.values() if src == target.name)
    assert {k: v for k, v in after.items() if v[0] != target.name} == {
        k: v for k, v in packed.items() if v[0] != target.name
    }


def test_reindexing_a_store_written_without_dates_refreshes_them_and_embeds_nothing(settings: Settings, corpus: Path):
    run_index(settings, corpus, embedder=HashEmbedder())
    store = open_store(settings)
    dated = [c for c in store.iter_chunks() if c.date]
    assert dated and all(c.date == "2022-12-29" for c in dated)
    # As a store written before dates were read: the same chunks without title or date.
    from dataclasses import replace

    blank = [replace(c, title="", date="") for c in store.iter_chunks()]
    for source in {c.source for c in blank}:
        mine = [c for c in blank if c.source == source]
        store.set_file_meta(mine, n_chunks=len(mine))
    again = HashEmbedder()
    summary = run_index(settings, corpus, embedder=again)
    assert again.texts_embedded == 0 and summary.chunks_added == 0
    assert summary.files_retitled >= 1
    refreshed = {c.id: c for c in open_store(settings).iter_chunks()}
    assert all(refreshed[c.id].date == "2022-12-29" for c in dated)
    assert run_index(settings, corpus, embedder=HashEmbedder()).files_retitled == 0
