"""Adding, listing and removing documents one at a time (index/documents.py), over a real Chroma store."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.documents import DocumentLibrary, UnknownDocumentError, Upload, safe_name
from index.lock import IndexBusyError, index_lock
from rag.config import Settings
from rag.factory import build_chunker, build_pipeline, lock_path, open_store, run_index
from tests.fakes import FakeGenerator, HashEmbedder

ARTICLE = (
    b"Zorbulan lighthouse reopens\n\n"
    b"The Zorbulan lighthouse on the island of Kestrava reopened on Monday after a repair that took "
    b"eleven years. The harbour master, Ilse Varkonen, said the lamp can be seen 40 kilometres out.\n"
)
QUESTION = "Who is the harbour master at the Zorbulan lighthouse?"


def make_library(settings: Settings, embedder: Any, **kw: Any) -> DocumentLibrary:
    return DocumentLibrary(
        settings.corpus,
        lambda: open_store(settings, writable=True),
        embedder,
        build_chunker(settings),
        lock_path(settings),
        max_file_bytes=kw.pop("max_file_bytes", settings.max_file_bytes),
        **kw,
    )


@pytest.fixture
def library(settings: Settings, embedder: HashEmbedder) -> DocumentLibrary:
    run_index(settings, settings.corpus, embedder=embedder)
    return make_library(settings, embedder)


def sources(library: DocumentLibrary) -> set[str]:
    return {d.source for d in library.list()}


def test_an_upload_is_saved_in_the_corpus_and_listed(library: DocumentLibrary) -> None:
    [outcome] = library.add([Upload("lighthouse.txt", ARTICLE)])
    assert (outcome.status, outcome.source, outcome.reason) == ("indexed", "lighthouse.txt", "")
    assert outcome.id == hashlib.sha256(ARTICLE).hexdigest()
    assert outcome.chunks >= 1
    assert (library.corpus / "lighthouse.txt").read_bytes() == ARTICLE
    [doc] = [d for d in library.list() if d.source == "lighthouse.txt"]
    assert (doc.id, doc.title, doc.chunks) == (outcome.id, "Zorbulan lighthouse reopens", outcome.chunks)
    assert not (library.corpus / ".uploading").exists()


def test_a_bad_file_is_named_with_its_reason_and_the_rest_are_indexed(library: DocumentLibrary) -> None:
    uploads = [
        Upload("tool.exe", b"MZ\x00\x00"),
        Upload("empty.txt", b""),
        Upload("binary.txt", b"abc\x00def"),
        Upload("latin1.txt", "café".encode("latin-1")),
        Upload("lighthouse.md", ARTICLE),
        Upload("page.html", b"<html><body><script>var x;</script>  </body></html>"),
    ]
    got = {o.name: o for o in library.add(uploads)}
    assert got["lighthouse.md"].status == "indexed"
    reasons = {name: o.reason for name, o in got.items() if o.status == "skipped"}
    assert reasons == {
        "tool.exe": "unsupported file type '.exe'",
        "empty.txt": "empty file",
        "binary.txt": "binary content (NUL bytes), not text",
        "latin1.txt": "not valid UTF-8 (bad byte at offset 3)",
        "page.html": "no text in it",
    }
    assert not any((library.corpus / name).exists() for name in reasons), "a bad file never lands in the corpus"
    assert "lighthouse.md" in sources(library)


@pytest.mark.parametrize(
    ("name", "saved"),
    [
        ("../../outside.txt", None),
        ("..", None),
        ("notes/../../outside.txt", None),
        (".hidden.txt", None),
        ("sub/.env.txt", None),
        ("bad;name.txt", None),
        ("new\nline.txt", None),
        ("nul\x00.txt", None),
        ("", None),
        ("   ", None),
        ("/etc/cron.d/job.txt", "job.txt"),
        ("C:\\Users\\me\\report.txt", "report.txt"),
        ("deep/dir/article.txt", "article.txt"),
        ("Résumé du jour (2).txt", "Résumé du jour (2).txt"),
    ],
)
def test_an_upload_never_lands_outside_the_corpus_folder(
    library: DocumentLibrary, tmp_path: Path, name: str, saved: str | None
) -> None:
    before = {p for p in tmp_path.rglob("*") if "store" not in p.parts}
    [outcome] = library.add([Upload(name, ARTICLE)])
    after = {p for p in tmp_path.rglob("*") if "store" not in p.parts}
    if saved is None:
        assert outcome.status == "skipped" and outcome.reason.startswith("refused name")
        assert after == before
    else:
        assert (outcome.status, outcome.source) == ("indexed", saved)
        assert after - before == {library.corpus / saved}


def test_names_are_reduced_to_plain_file_names() -> None:
    assert safe_name("a/b\\c.txt") == ("c.txt", "")
    assert safe_name("x" * 200 + ".txt")[1].startswith("refused name: longer")
    assert safe_name("trailing.")[1].startswith("refused name")


def test_an_existing_file_is_never_overwritten(library: DocumentLibrary) -> None:
    existing = sorted(library.corpus.glob("*.txt"))[0]
    original = existing.read_bytes()
    [same] = library.add([Upload(existing.name, original)])
    assert (same.status, same.reason) == ("skipped", f"same content as {existing.name}")
    [other] = library.add([Upload(existing.name, ARTICLE)])
    assert other.status == "indexed"
    assert other.source == f"{existing.stem}-2.txt"
    assert other.reason.startswith(f"saved as {existing.stem}-2.txt")
    assert existing.read_bytes() == original
    assert (library.corpus / other.source).read_bytes() == ARTICLE


def test_count_and_size_limits_skip_with_the_index_messages(settings: Settings, embedder: HashEmbedder) -> None:
    run_index(settings, settings.corpus, embedder=embedder)
    library = make_library(settings, embedder, max_files=2, max_file_bytes=1_000_000)
    big = b"word " * 240_000  # 1.2 MB
    got = library.add([Upload("big.txt", big), Upload("a.txt", ARTICLE), Upload("b.txt", b"Other text here.")])
    assert [o.status for o in got] == ["skipped", "indexed", "skipped"]
    assert got[0].reason == "larger than the 1 MB limit (RAG_MAX_FILE_MB)"
    assert got[2].reason.startswith("more than 2 files in one upload")
    assert not (settings.corpus / "big.txt").exists() and not (settings.corpus / "b.txt").exists()


def test_the_list_shows_each_indexed_file_with_its_content_hash(library: DocumentLibrary) -> None:
    docs = library.list()
    files = sorted(library.corpus.glob("*.txt"))
    assert [d.source for d in docs] == [f.name for f in files]
    for doc, path in zip(docs, files, strict=True):
        assert doc.id == hashlib.sha256(path.read_bytes()).hexdigest()
        assert doc.chunks >= 1
    assert sum(d.chunks for d in docs) == open_store_count(library)


def open_store_count(library: DocumentLibrary) -> int:
    return library._store().count()


def test_removing_moves_the_file_aside_and_a_later_index_does_not_bring_it_back(
    library: DocumentLibrary, settings: Settings, embedder: HashEmbedder
) -> None:
    doc = library.list()[0]
    content = (library.corpus / doc.source).read_bytes()
    removal = library.remove(doc.id)
    assert removal.document.id == doc.id and removal.moved_to == f".removed/{doc.source}"
    assert not (library.corpus / doc.source).exists()
    assert (library.corpus / ".removed" / doc.source).read_bytes() == content, "nothing is lost"
    assert doc.source not in sources(library)
    summary = run_index(settings, settings.corpus, embedder=embedder)
    assert summary.chunks_added == 0 and doc.source not in sources(library)
    with pytest.raises(UnknownDocumentError):
        library.remove(doc.id)


def test_removing_twice_the_same_name_keeps_both_files(library: DocumentLibrary) -> None:
    library.add([Upload("note.txt", ARTICLE)])
    library.remove(hashlib.sha256(ARTICLE).hexdigest())
    library.add([Upload("note.txt", b"A second note, other words.")])
    removal = library.remove(hashlib.sha256(b"A second note, other words.").hexdigest())
    assert removal.moved_to == ".removed/note-2.txt"
    assert (library.corpus / ".removed" / "note.txt").read_bytes() == ARTICLE


def test_an_upload_waits_for_no_one_while_another_run_holds_the_index(
    library: DocumentLibrary, settings: Settings
) -> None:
    with index_lock(lock_path(settings)), pytest.raises(IndexBusyError):
        library.add([Upload("a.txt", ARTICLE)])
    assert not (settings.corpus / "a.txt").exists()


class GatedEmbedder(HashEmbedder):
    """Stops inside the first embedding of texts holding `word` until released."""

    def __init__(self, word: str):
        super().__init__()
        self.word, self.entered, self.release = word, threading.Event(), threading.Event()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if any(self.word in t for t in texts) and not self.release.is_set():
            self.entered.set()
            assert self.release.wait(10)
        return super().embed(texts)


def test_questions_during_an_upload_are_answered_from_the_last_complete_index(
    settings: Settings, embedder: HashEmbedder
) -> None:
    run_index(settings, settings.corpus, embedder=embedder)
    pipeline = build_pipeline(settings, embedder=HashEmbedder(), generator=FakeGenerator("NOT FOUND"))
    pipeline.warm_up()
    refresh = pipeline.retriever.refresh  # type: ignore[attr-defined]
    gated = GatedEmbedder("Zorbulan")
    library = make_library(settings, gated, on_change=refresh)

    def retrieved() -> set[str]:
        return {h.chunk.source for h in pipeline.retriever.retrieve(QUESTION, 8)}

    worker = threading.Thread(target=library.add, args=([Upload("lighthouse.txt", ARTICLE)],))
    worker.start()
    try:
        assert gated.entered.wait(10)
        # The file is in the corpus and its run has begun: questions still get the previous index.
        assert (settings.corpus / "lighthouse.txt").exists()
        assert "lighthouse.txt" not in retrieved()
    finally:
        gated.release.set()
        worker.join(20)
    assert not worker.is_alive()
    hits = pipeline.retriever.retrieve(QUESTION, 8)
    assert hits[0].chunk.source == "lighthouse.txt", "searchable as soon as the upload returns"
    assert hits[0].lexical is not None, "the lexical side sees it too"

    library.remove(hashlib.sha256(ARTICLE).hexdigest())
    assert "lighthouse.txt" not in retrieved()
