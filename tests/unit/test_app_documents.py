"""The documents API and the page's Documents panel, with fakes over a real Chroma index."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import build_app
from app_documents import DocumentsPage, UploadAccess, Uploads, access_for
from index.documents import DocumentLibrary
from rag.config import Settings
from rag.factory import build_chunker, build_pipeline, lock_path, open_store, run_index
from rag.pipeline import Pipeline
from tests.fakes import FakeGenerator, HashEmbedder
from tests.unit.test_documents import ARTICLE, GatedEmbedder

DOCS = "/v1/documents"
QUESTION = "Who is the harbour master of the Zorbulan lighthouse on Kestrava?"
REPLY = "Ilse Varkonen is the harbour master of the Zorbulan lighthouse [1]."
ARTICLE_ID = hashlib.sha256(ARTICLE).hexdigest()


@pytest.fixture
def indexed(settings: Settings, embedder: HashEmbedder) -> Settings:
    run_index(settings, settings.corpus, embedder=embedder)
    return settings


def make_uploads(settings: Settings, access: UploadAccess, embedder: Any = None, **kw: Any) -> Uploads:
    library = DocumentLibrary(
        settings.corpus,
        lambda: open_store(settings, writable=True),
        embedder or HashEmbedder(),
        build_chunker(settings),
        lock_path(settings),
        max_file_bytes=settings.max_file_bytes,
        max_files=kw.pop("max_files", 20),
    )
    return Uploads(library, access, **kw)


def make_pipeline(settings: Settings) -> Pipeline:
    return build_pipeline(settings, embedder=HashEmbedder(), generator=FakeGenerator(REPLY))


def serve(settings: Settings, access: UploadAccess | None = None, **kw: Any) -> TestClient:
    uploads = make_uploads(settings, access or access_for("127.0.0.1", None), **kw)
    return TestClient(build_app(make_pipeline(settings), uploads=uploads))


@pytest.fixture
def client(indexed: Settings) -> Iterator[TestClient]:
    with serve(indexed) as c:
        yield c


def post(client: TestClient, *files: tuple[str, bytes], **headers: str) -> Any:
    return client.post(DOCS, files=[("files", (name, data)) for name, data in files], headers=headers)


def cited_sources(client: TestClient) -> list[str]:
    r = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]})
    assert r.status_code == 200, r.text
    return [c["source"] for c in r.json()["citations"]]


def test_an_uploaded_document_is_indexed_listed_and_answers_at_once(client: TestClient, indexed: Settings) -> None:
    r = post(client, ("lighthouse.txt", ARTICLE), ("tool.exe", b"MZ"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["indexed"], body["skipped"]) == (1, 1)
    ok, bad = body["files"]
    assert (ok["status"], ok["source"], ok["id"], ok["reason"]) == ("indexed", "lighthouse.txt", ARTICLE_ID, None)
    assert (bad["name"], bad["status"], bad["reason"]) == ("tool.exe", "skipped", "unsupported file type '.exe'")
    assert bad["id"] is None and not (indexed.corpus / "tool.exe").exists()

    listed = client.get(DOCS).json()["data"]
    assert len(listed) == 6
    [doc] = [d for d in listed if d["id"] == ARTICLE_ID]
    assert doc == {
        "id": ARTICLE_ID,
        "source": "lighthouse.txt",
        "title": "Zorbulan lighthouse reopens",
        "date": None,
        "chunks": ok["chunks"],
    }
    assert cited_sources(client) == ["lighthouse.txt"], "searchable as soon as the upload returns"


def test_traversal_and_hidden_names_are_refused_and_nothing_lands_outside(
    client: TestClient, indexed: Settings, tmp_path: Path
) -> None:
    r = post(client, ("../../evil.txt", ARTICLE), (".bashrc.txt", ARTICLE), ("a/b/ok.txt", b"Plain words here."))
    names = {f["name"]: f for f in r.json()["files"]}
    assert names["../../evil.txt"]["reason"].startswith("refused name")
    assert names[".bashrc.txt"]["reason"].startswith("refused name")
    assert names["a/b/ok.txt"]["source"] == "ok.txt"
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
    assert (indexed.corpus / "ok.txt").exists()


def test_more_files_than_the_limit_are_skipped_with_the_reason(indexed: Settings) -> None:
    with serve(indexed, max_files=1) as client:
        files = post(client, ("a.txt", ARTICLE), ("b.txt", b"Other words.")).json()["files"]
    assert [f["status"] for f in files] == ["indexed", "skipped"]
    assert "more than 1 files in one upload" in files[1]["reason"]


def test_an_oversized_body_gets_413(indexed: Settings) -> None:
    with serve(indexed, max_body_bytes=2_000) as client:
        r = post(client, ("big.txt", b"word " * 1_000))
        assert r.status_code == 413
        assert r.json()["error"]["type"] == "request_too_large"
        assert "MB limit" in r.json()["error"]["message"]
        # Without a Content-Length (chunked), the body is counted as it arrives.
        boundary = "xyz"
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n\r\n'.encode()]
        parts += [b"word " * 200] * 10 + [f"\r\n--{boundary}--\r\n".encode()]
        chunked = client.post(
            DOCS, content=iter(parts), headers={"content-type": f"multipart/form-data; boundary={boundary}"}
        )
        assert chunked.status_code == 413
    assert not (indexed.corpus / "big.txt").exists()


def test_a_request_without_files_is_a_400(client: TestClient) -> None:
    r = client.post(DOCS, json={"files": []})
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"


def test_removing_a_document_moves_its_file_aside_and_an_unknown_id_is_404(
    client: TestClient, indexed: Settings
) -> None:
    post(client, ("lighthouse.txt", ARTICLE))
    r = client.delete(f"{DOCS}/{ARTICLE_ID}")
    assert r.status_code == 200, r.text
    assert r.json()["deleted"] is True and r.json()["moved_to"] == ".removed/lighthouse.txt"
    assert (indexed.corpus / ".removed" / "lighthouse.txt").read_bytes() == ARTICLE
    assert ARTICLE_ID not in {d["id"] for d in client.get(DOCS).json()["data"]}
    assert "lighthouse.txt" not in cited_sources(client)
    missing = client.delete(f"{DOCS}/{ARTICLE_ID}")
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found_error"


def test_off_on_a_public_address_without_a_token(indexed: Settings) -> None:
    with serve(indexed, access_for("0.0.0.0", None)) as client:
        for r in (post(client, ("a.txt", ARTICLE)), client.get(DOCS), client.delete(f"{DOCS}/{ARTICLE_ID}")):
            assert r.status_code == 403
            error = r.json()["error"]
            assert error["type"] == "permission_error" and "--upload-token" in error["message"]
        assert "Adding and removing documents is off" in client.get("/config").text
        assert client.post("/gradio_api/upload", files={"files": ("a.txt", b"hi")}).status_code == 404
    assert not (indexed.corpus / "a.txt").exists()


def test_with_a_token_requests_need_it(indexed: Settings) -> None:
    with serve(indexed, access_for("0.0.0.0", "s3cret")) as client:
        assert client.get(DOCS).status_code == 403
        assert client.get(DOCS, headers={"Authorization": "Bearer wrong"}).status_code == 403
        assert client.get(DOCS, headers={"Authorization": "Basic s3cret"}).status_code == 403
        assert post(client, ("a.txt", ARTICLE)).status_code == 403
        assert client.get(DOCS, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert post(client, ("a.txt", ARTICLE), Authorization="Bearer s3cret").json()["indexed"] == 1


def test_loopback_addresses_allow_uploads_by_default() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert access_for(host, None).allowed
    for host in ("0.0.0.0", "192.168.1.5", "::", "example.org"):
        assert not access_for(host, None).allowed
    assert access_for("0.0.0.0", "t").allowed


def test_the_page_takes_uploads_through_gradio_only_when_allowed(client: TestClient) -> None:
    assert client.post("/gradio_api/upload", files={"files": ("a.txt", b"hello")}).status_code == 200
    assert client.get("/gradio_api/file=/etc/passwd").status_code in {400, 403, 404}


def test_the_page_asks_before_removing_and_cancel_keeps_the_document(indexed: Settings, tmp_path: Path) -> None:
    uploads = make_uploads(indexed, access_for("127.0.0.1", None))
    refreshed: list[int] = []
    page = DocumentsPage(uploads, lambda: refreshed.append(1))
    note = tmp_path / "picked" / "lighthouse.txt"
    note.parent.mkdir()
    note.write_bytes(ARTICLE)
    empty = note.with_name("empty.txt")
    empty.write_bytes(b"")
    report = page.add([str(note), str(empty)])
    assert "lighthouse.txt</b> indexed" in report and "empty.txt</b> skipped: empty file" in report
    rows, choices = page.listing()
    assert ["lighthouse.txt", "Zorbulan lighthouse reopens", "—", rows[-1][3]] in rows
    assert ("lighthouse.txt — Zorbulan lighthouse reopens", ARTICLE_ID) in choices

    pending, question = page.ask_remove(ARTICLE_ID)
    assert pending == ARTICLE_ID and "Remove <b>lighthouse.txt</b>" in question and ".removed/" in question
    assert ARTICLE_ID in {d.id for d in uploads.library.list()}, "asking removes nothing"
    # Cancelling drops the pending id; the page then has nothing to confirm.
    assert "Nothing to remove" in page.confirm_remove("")
    assert ARTICLE_ID in {d.id for d in uploads.library.list()}

    done = page.confirm_remove(pending)
    assert "Removed lighthouse.txt" in done and ".removed/lighthouse.txt" in done
    assert ARTICLE_ID not in {d.id for d in uploads.library.list()}
    assert refreshed == [1, 1]
    assert page.ask_remove(None)[0] == ""


def test_the_page_wants_the_token_when_one_is_set(indexed: Settings) -> None:
    page = DocumentsPage(make_uploads(indexed, access_for("0.0.0.0", "s3cret")), lambda: None)
    assert page.listing() == ([], [])
    assert "upload token" in page.add([])
    assert page.ask_remove(ARTICLE_ID)[0] == ""
    assert len(page.listing("s3cret")[0]) == 5


def test_questions_mid_upload_are_answered_from_the_previous_index(indexed: Settings) -> None:
    gated = GatedEmbedder("Zorbulan")
    uploads = make_uploads(indexed, access_for("127.0.0.1", None), embedder=gated)
    with TestClient(build_app(make_pipeline(indexed), uploads=uploads)) as client:
        done: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: done.update(r=post(client, ("lighthouse.txt", ARTICLE))))
        worker.start()
        try:
            assert gated.entered.wait(10), "the upload is embedding"
            assert "lighthouse.txt" not in cited_sources(client)
        finally:
            gated.release.set()
            worker.join(20)
        assert done["r"].status_code == 200
        assert cited_sources(client) == ["lighthouse.txt"]


def test_an_upload_while_the_models_load_is_searched_once_they_are_ready(indexed: Settings) -> None:
    pipeline = make_pipeline(indexed)
    pipeline.warm_up()  # its search snapshot is of the index before the upload
    loaded = threading.Event()

    def load(status: Callable[[str], None]) -> Pipeline:
        loaded.wait(10)
        return pipeline

    uploads = make_uploads(indexed, access_for("127.0.0.1", None))
    with TestClient(build_app(load, uploads=uploads)) as client:
        assert post(client, ("lighthouse.txt", ARTICLE)).json()["indexed"] == 1
        loaded.set()
        assert cited_sources(client) == ["lighthouse.txt"]
