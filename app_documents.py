"""Your own documents in the web front: the `/v1/documents` API and the page's Documents panel.

Both are refused unless the server allows uploads: on by default when it listens on the loopback
address only, otherwise only with an upload token (RAG_UPLOAD_TOKEN, `rag serve --upload-token`), which
every request must then carry as `Authorization: Bearer <token>` (the page asks for it).
"""

from __future__ import annotations

import hmac
import html
import ipaddress
import sys
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from index.documents import SUFFIXES, DocumentInfo, DocumentLibrary, Outcome, UnknownDocumentError, Upload
from index.lock import IndexBusyError
from index.store import StoreError

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


@dataclass(frozen=True)
class UploadAccess:
    """Whether this server takes documents, and the token it then wants (None: none needed)."""

    allowed: bool
    token: str | None = None
    why_off: str = ""

    def refusal(self, authorization: str | None) -> str:
        """Why a request with this Authorization header is refused; "" when it is not."""
        if not self.allowed:
            return self.why_off
        if self.token is None:
            return ""
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
            return "Adding and removing documents needs the upload token: send `Authorization: Bearer <token>`."
        return ""


def access_for(host: str, token: str | None) -> UploadAccess:
    """On for a loopback address; on another address only with a token."""
    if token:
        return UploadAccess(True, token)
    if _is_loopback(host):
        return UploadAccess(True)
    return UploadAccess(
        False,
        why_off=f"Adding and removing documents is off: this server listens on {host}. "
        "Start it with --upload-token (or RAG_UPLOAD_TOKEN) to allow it.",
    )


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Uploads:
    """What the web front needs to take documents: the library, who may, and how much at once."""

    library: DocumentLibrary
    access: UploadAccess
    max_body_bytes: int = 50_000_000


Refresh = Callable[[], None]  # makes answers search the newest index, once a change is written


def api_error(status: int, message: str, kind: str) -> JSONResponse:
    """The same shape as the OpenAI-style errors of the chat API."""
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": None}}, status)


class _TooLarge(Exception):
    pass


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise _TooLarge
        yield chunk


def _too_large(limit: int) -> JSONResponse:
    mb = limit / 1_000_000
    return api_error(413, f"The upload is larger than the {mb:g} MB limit (RAG_UPLOAD_MAX_MB).", "request_too_large")


def _failure(exc: Exception) -> JSONResponse:
    if isinstance(exc, IndexBusyError):
        return api_error(409, str(exc), "index_busy")
    if isinstance(exc, StoreError):
        return api_error(503, str(exc), "server_error")
    print(f"error: documents: {type(exc).__name__}: {exc}", file=sys.stderr)
    return api_error(500, f"The documents could not be changed: {type(exc).__name__}: {exc}", "server_error")


def documents_router(uploads: Uploads, refresh: Refresh) -> APIRouter:
    router = APIRouter(prefix="/v1")
    library, limit = uploads.library, uploads.max_body_bytes

    def refused(request: Request) -> JSONResponse | None:
        why = uploads.access.refusal(request.headers.get("authorization"))
        return api_error(403, why, "permission_error") if why else None

    @router.post("/documents", response_model=None)
    async def add_documents(request: Request) -> Response:
        if (denied := refused(request)) is not None:
            return denied
        try:
            if int(request.headers.get("content-length") or 0) > limit:
                return _too_large(limit)
            if not request.headers.get("content-type", "").startswith("multipart/form-data"):
                raise MultiPartException("send the files as multipart/form-data, in the field `files`")
            form = await MultiPartParser(request.headers, _limited(request, limit), max_part_size=1_000_000).parse()
            files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
            if not files:
                raise MultiPartException("no files: send them in the multipart field `files`")
            given = [Upload(f.filename or "", await f.read()) for f in files]
        except _TooLarge:
            return _too_large(limit)
        except (MultiPartException, ValueError) as exc:
            return api_error(400, f"Invalid request: {getattr(exc, 'message', exc)}", "invalid_request_error")
        try:
            outcomes = await run_in_threadpool(library.add, given)
            await run_in_threadpool(refresh)
        except Exception as exc:  # each kind with its status; no traceback reaches the client
            return _failure(exc)
        indexed = sum(o.status == "indexed" for o in outcomes)
        return JSONResponse(
            {"indexed": indexed, "skipped": len(outcomes) - indexed, "files": [o.as_dict() for o in outcomes]}
        )

    @router.get("/documents", response_model=None)
    async def list_documents(request: Request) -> Response:
        if (denied := refused(request)) is not None:
            return denied
        try:
            docs = await run_in_threadpool(library.list)
        except Exception as exc:
            return _failure(exc)
        return JSONResponse({"object": "list", "data": [d.as_dict() for d in docs]})

    @router.delete("/documents/{doc_id}", response_model=None)
    async def remove_document(doc_id: str, request: Request) -> Response:
        if (denied := refused(request)) is not None:
            return denied
        try:
            removal = await run_in_threadpool(library.remove, doc_id)
            await run_in_threadpool(refresh)
        except UnknownDocumentError as exc:
            return api_error(404, str(exc), "not_found_error")
        except Exception as exc:
            return _failure(exc)
        return JSONResponse({**removal.document.as_dict(), "deleted": True, "moved_to": removal.moved_to or None})

    return router


# -- the page's Documents panel ------------------------------------------------------------------


def upload_report(outcomes: Sequence[Outcome]) -> str:
    """One line per file: indexed (with its chunks) or skipped with its reason."""
    if not outcomes:
        return '<p class="doc-note">Choose one or more files first.</p>'
    lines = []
    for o in outcomes:
        name = html.escape(o.source or o.name or "(no name)")
        if o.status == "indexed":
            note = f" — {html.escape(o.reason)}" if o.reason else ""
            chunks = f"{o.chunks} chunk{'' if o.chunks == 1 else 's'}"
            lines.append(f'<li class="doc-ok">✓ <b>{name}</b> indexed ({chunks}){note}</li>')
        else:
            lines.append(f'<li class="doc-skip">✗ <b>{name}</b> skipped: {html.escape(o.reason)}</li>')
    return f'<ul class="doc-report">{"".join(lines)}</ul>'


def document_rows(docs: Sequence[DocumentInfo]) -> list[list[Any]]:
    return [[d.source, d.title or "—", d.date or "—", d.chunks] for d in docs]


def document_choices(docs: Sequence[DocumentInfo]) -> list[tuple[str, str]]:
    return [(f"{d.source} — {d.title}" if d.title else d.source, d.id) for d in docs]


def _message(text: str, kind: str = "note") -> str:
    return f'<p class="doc-{kind}">{html.escape(text)}</p>'


class DocumentsPage:
    """The panel's logic, apart from Gradio: each method returns what the panel shows next."""

    def __init__(self, uploads: Uploads, refresh: Refresh):
        self.uploads, self.refresh = uploads, refresh

    def _denied(self, token: str) -> str:
        return self.uploads.access.refusal(f"Bearer {token}" if token else None)

    def listing(self, token: str = "") -> tuple[list[list[Any]], list[tuple[str, str]]]:
        docs = [] if self._denied(token) else self.uploads.library.list()
        return document_rows(docs), document_choices(docs)

    def add(self, paths: Sequence[str] | None, token: str = "") -> str:
        if why := self._denied(token):
            return _message(why, "skip")
        try:
            given = [Upload(Path(p).name, Path(p).read_bytes()) for p in paths or ()]
            outcomes = self.uploads.library.add(given) if given else []
            self.refresh()
        except (IndexBusyError, StoreError, OSError) as exc:
            return _message(str(exc), "skip")
        return upload_report(outcomes)

    def ask_remove(self, doc_id: str | None, token: str = "") -> tuple[str, str]:
        """(the id waiting for confirmation, the question shown); nothing is removed yet."""
        if why := self._denied(token):
            return "", _message(why, "skip")
        doc = next((d for d in self.uploads.library.list() if d.id == doc_id), None)
        if doc is None:
            return "", _message("Choose a document to remove first.")
        name = html.escape(doc.source)
        return doc.id, (
            f'<p class="doc-confirm">Remove <b>{name}</b> ({doc.chunks} chunks) from the index? '
            "Its file moves to the corpus folder's <code>.removed/</code>, where you can get it back.</p>"
        )

    def confirm_remove(self, pending: str, token: str = "") -> str:
        if why := self._denied(token):
            return _message(why, "skip")
        if not pending:
            return _message("Nothing to remove.")
        try:
            removal = self.uploads.library.remove(pending)
            self.refresh()
        except (UnknownDocumentError, IndexBusyError, StoreError, OSError) as exc:
            return _message(str(exc), "skip")
        where = f"; its file is now {removal.moved_to}" if removal.moved_to else ""
        return _message(f"Removed {removal.document.source} from the index{where}.", "ok")


def documents_panel(blocks: gr.Blocks, uploads: Uploads | None, refresh: Refresh) -> None:
    """The Documents panel, inside the page's Blocks: hidden controls and a one-line why when off."""
    with gr.Accordion("Documents", open=False, elem_id="documents"):
        if uploads is None or not uploads.access.allowed:
            why = uploads.access.why_off if uploads else "Adding and removing documents is off for this server."
            gr.HTML(_message(why), elem_id="documents-off")
            return
        page = DocumentsPage(uploads, refresh)
        token = gr.Textbox(
            label="Upload token", type="password", visible=uploads.access.token is not None, elem_id="upload-token"
        )
        with gr.Row():
            with gr.Column(scale=2):
                files = gr.File(
                    label="Add documents (.txt, .md, .html, .pdf)",
                    file_count="multiple",
                    file_types=SUFFIXES,
                    type="filepath",
                    elem_id="add-documents",
                )
                add = gr.Button("Add to the index", variant="primary", elem_id="add-button")
                report = gr.HTML(elem_id="upload-report")
            with gr.Column(scale=3):
                table = gr.Dataframe(
                    headers=["File", "Title", "Date", "Chunks"], interactive=False, elem_id="document-list"
                )
                with gr.Row():
                    pick = gr.Dropdown(label="Remove a document", choices=[], elem_id="remove-pick", scale=3)
                    remove = gr.Button("Remove…", variant="secondary", elem_id="remove-button", scale=1)
                confirm_text = gr.HTML(elem_id="remove-confirm")
                with gr.Row(visible=False) as confirm_row:
                    confirm = gr.Button("Yes, remove it", variant="stop", elem_id="remove-yes")
                    cancel = gr.Button("Cancel", elem_id="remove-cancel")
        pending = gr.State("")
        private: dict[str, Any] = {"api_visibility": "private", "concurrency_id": "documents", "concurrency_limit": 1}

        def show(tok: str) -> tuple[Any, Any]:
            rows, choices = page.listing(tok)
            return rows, gr.Dropdown(choices=choices, value=None)

        def added(paths: list[str] | None, tok: str) -> tuple[str, Any, Any, Any]:
            message = page.add(paths, tok)
            return (message, *show(tok), None)

        def asked(doc_id: str | None, tok: str) -> tuple[str, str, Any]:
            waiting, question = page.ask_remove(doc_id, tok)
            return waiting, question, gr.Row(visible=bool(waiting))

        def confirmed(waiting: str, tok: str) -> tuple[str, str, Any, Any, Any]:
            message = page.confirm_remove(waiting, tok)
            return ("", message, gr.Row(visible=False), *show(tok))

        def cancelled() -> tuple[str, str, Any]:
            return "", _message("Nothing was removed."), gr.Row(visible=False)

        add.click(added, [files, token], [report, table, pick, files], **private)
        remove.click(asked, [pick, token], [pending, confirm_text, confirm_row], **private)
        confirm.click(confirmed, [pending, token], [pending, confirm_text, confirm_row, table, pick], **private)
        cancel.click(cancelled, None, [pending, confirm_text, confirm_row], api_visibility="private", queue=False)
        token.submit(show, [token], [table, pick], **private)
        blocks.load(show, [token], [table, pick], **private)


DOCUMENTS_CSS = """
#documents { margin-top: 12px; }
.doc-report { margin: 6px 0 0; padding-left: 0; list-style: none; font-size: .9rem; }
.doc-ok, p.doc-ok { color: #166534; } .doc-skip, p.doc-skip { color: #b91c1c; }
.doc-note { color: var(--body-text-color-subdued); font-size: .9rem; }
.doc-confirm { border-left: 4px solid #dc2626; background: #fef2f2; padding: 6px 10px; border-radius: 6px; }
"""
