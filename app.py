"""The web front: a Gradio chat page with cited evidence, the `ask` Gradio API and an OpenAI-compatible API."""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import html
import json
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import gradio as gr
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from app_documents import DOCUMENTS_CSS, Uploads, access_for, documents_panel, documents_router
from index.documents import DocumentLibrary
from index.embed import Embedder
from index.store import StoreError
from rag.config import Settings
from rag.factory import build_chunker, build_embedder, build_pipeline, lock_path, open_store, run_index
from rag.generate import GeneratorError
from rag.guard import QuestionError
from rag.memory import return_freed_memory
from rag.pipeline import Done, Event, Evidence, Pipeline, Token
from rag.rewrite import Turn
from rag.types import Answer, Citation, Hit, Passage

MODEL_ID = "rag-news"
EXAMPLES = (
    "Who summoned the Ukrainian ambassador?",
    "Where did the missile fall?",
    "What did Belarus deploy in 2024?",
)
REFUSAL_LABEL = "⚠ Not in the articles"
Loader = Callable[[Callable[[str], None]], Pipeline]  # given a status callback, returns a pipeline


@dataclass(frozen=True)
class ServeOptions:
    concurrency: int = 4  # Gradio events answered at once (generation itself is serialized)
    queue_size: int = 64  # Gradio events waiting beyond that; more are told the queue is full
    max_pending: int = 32  # OpenAI requests waiting + running; more get 503 at once
    load_wait_s: float = 300.0  # how long a question waits for the models to finish loading


# -- loading -----------------------------------------------------------------------------------


class NotReady(Exception):
    """The models are still loading, or failed to load."""


class Service:
    """Builds and warms the pipeline in a background thread, so the server answers pages meanwhile."""

    def __init__(self, load: Loader):
        self._load = load
        self._pipeline: Pipeline | None = None
        self._done = threading.Event()
        self._started = False
        self._lock = threading.Lock()
        self._stale = False  # the documents changed while the pipeline was loading
        self.state: Literal["loading", "ready", "failed"] = "loading"
        self.message = "Starting…"

    def start(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._run, name="rag-warm-up", daemon=True).start()

    def _run(self) -> None:
        try:
            pipeline = self._load(self._set_message)
            self._set_message("Loading models…")
            pipeline.warm_up()
            with self._lock:
                self._pipeline, stale = pipeline, self._stale
            if stale:  # its first search snapshot may predate the change: questions wait for this
                _refresh(pipeline)
            self.state, self.message = "ready", f"Ready · {pipeline.generator.name}"
        except Exception as exc:  # shown on the page and in the log; the server keeps running
            self.state, self.message = "failed", f"Could not load the models: {exc}"
            print(f"error: {self.message}", file=sys.stderr)
        finally:
            self._done.set()

    def _set_message(self, message: str) -> None:
        self.message = message

    def pipeline(self, wait_s: float) -> Pipeline:
        if not self._done.wait(wait_s):
            raise NotReady("The models are still loading; please try again in a few seconds.")
        if self._pipeline is None:
            raise NotReady(self.message)
        return self._pipeline

    def refresh_search(self) -> None:
        """After the documents changed: answers search the new index from the next question on."""
        with self._lock:
            pipeline = self._pipeline
            self._stale = pipeline is None
        if pipeline is not None:
            _refresh(pipeline)


def _refresh(pipeline: Pipeline) -> None:
    refresh = getattr(pipeline.retriever, "refresh", None)  # HybridRetriever's; other retrievers need none
    if refresh is not None:
        refresh()


def load_for(settings: Settings, corpus: Path | None, embedder: Embedder | None = None) -> Loader:
    """Index `corpus` first when the store holds no index, then build the pipeline."""

    def load(status: Callable[[str], None]) -> Pipeline:
        if corpus is not None:
            try:
                empty = open_store(settings).count() == 0
            except StoreError:
                empty = True
            if empty:
                status(f"Indexing {corpus}…")
                run_index(settings, corpus, embedder=embedder)
        status("Loading models…")
        return build_pipeline(settings, embedder=embedder)

    return load


# -- formatting: answers, markers and evidence as HTML -------------------------------------------

_MARKER = re.compile(r"\[(\d+)\]")


def link_markers(text: str, prefix: str) -> str:
    """Escape the text and turn each marker [n] into a link to the passage element `prefix-n`."""
    return _MARKER.sub(lambda m: f'<a class="cite" href="#{prefix}-{m.group(1)}">[{m.group(1)}]</a>', html.escape(text))


def answer_html(answer: Answer, turn: int) -> str:
    if answer.refused:
        return f'<div class="refusal"><strong>{REFUSAL_LABEL}.</strong> {html.escape(answer.text)}</div>'
    short = answer.short_answer
    lead = (
        f'<div class="short-answer"><strong>{html.escape(short.text)}</strong></div>'
        if short is not None and short.text.strip() != answer.text.strip() and len(short.text) <= 120
        else ""
    )
    return lead + link_markers(answer.text, f"cite-{turn}")


def context_of(source: str, start: int, end: int, hits: Sequence[Hit], margin: int = 320) -> tuple[str, str, str]:
    """The text around a span (before, span, after), cut from the retrieved chunk that holds it."""
    for hit in hits:
        c = hit.chunk
        if c.source == source and c.start <= start and end <= c.end:
            a, b = start - c.start, end - c.start
            lo, hi = max(0, a - margin), min(len(c.text), b + margin)
            before = ("…" if lo > 0 else "") + c.text[lo:a]
            after = c.text[b:hi] + ("…" if hi < len(c.text) else "")
            return before, c.text[a:b], after
    return "", "", ""


def passage_card(
    anchor: str, number: int, span: Passage | Citation, hits: Sequence[Hit], about: Passage | None, margin: int = 320
) -> str:
    """One passage: its source and span, the cited characters highlighted inside their context."""
    before, cited, after = context_of(span.source, span.start, span.end, hits, margin)
    if not cited:
        before, cited, after = "", span.text, ""
    meta = ([f'<span class="ev-date">{html.escape(span.date)}</span>'] if span.date else []) + [
        f"characters {span.start}–{span.end}"
    ]
    if about is not None:
        meta += [f"score {about.score:.2f}"]
    title = html.escape(span.title) if span.title else '<span class="ev-untitled">no title</span>'
    title = f'<div class="ev-title">{title}</div>'
    return (
        f'<article class="ev-card" id="{anchor}">'
        f'<header><span class="ev-num">[{number}]</span><span class="ev-src">{html.escape(span.source)}</span>'
        f'<span class="ev-meta">{" · ".join(meta)}</span></header>{title}'
        f'<p class="ev-text">{html.escape(before)}<mark>{html.escape(cited)}</mark>{html.escape(after)}</p></article>'
    )


@dataclass(frozen=True)
class Section:
    """The evidence of one question: a heading and its passage cards."""

    question: str
    kind: Literal["candidates", "cited", "refused", "error"]
    body: str


def candidates_section(turn: int, question: str, evidence: Evidence) -> Section:
    cards = "".join(
        passage_card(f"cand-{turn}-{p.number}", p.number, p, evidence.hits, p, margin=140) for p in evidence.passages
    )
    return Section(question, "candidates", cards or _NO_PASSAGE)


def answer_section(turn: int, answer: Answer) -> Section:
    if answer.refused:
        near = answer.passages[:3]
        cards = "".join(passage_card(f"near-{turn}-{p.number}", p.number, p, answer.retrieved, p) for p in near)
        return Section(answer.question, "refused", cards or _NO_PASSAGE)
    passage = {(p.source, p.start, p.end): p for p in answer.passages}
    cards = "".join(
        passage_card(f"cite-{turn}-{c.number}", c.number, c, answer.retrieved, passage.get((c.source, c.start, c.end)))
        for c in answer.citations
    )
    return Section(answer.question, "cited", cards)


_NO_PASSAGE = '<p class="ev-empty">No passage in the index matches this question.</p>'
_SECTION_TITLES = {
    "candidates": "Searching these passages…",
    "cited": "Cited passages",
    "refused": f"{REFUSAL_LABEL} — closest passages",
    "error": "No answer",
}
_EMPTY_PANEL = (
    '<div class="ev-panel"><div class="ev-placeholder"><strong>Evidence</strong>'
    "<p>The passages an answer cites appear here, highlighted in their article. "
    "Click a marker such as [1] in an answer to jump to its passage.</p></div></div>"
)


def panel_html(sections: Sequence[Section]) -> str:
    """The evidence panel: the newest question open, earlier ones folded."""
    if not sections:
        return _EMPTY_PANEL
    parts = [
        f'<details class="ev-section ev-{s.kind}"{" open" if i == 0 else ""}>'
        f'<summary><span class="ev-kind">{_SECTION_TITLES[s.kind]}</span>'
        f'<span class="ev-q">{html.escape(s.question)}</span></summary>{s.body}</details>'
        for i, s in enumerate(sections)
    ]
    return f'<div class="ev-panel">{"".join(parts)}</div>'


def status_html(service: Service) -> str:
    return f'<div class="status status-{service.state}"><span class="dot"></span>{html.escape(service.message)}</div>'


def parse_history(history: object) -> list[Turn]:
    """Earlier turns from the API: [{"question", "answer"}] or [[question, answer]], or that as JSON text."""
    if history is None or history == "":
        return []
    if isinstance(history, str):
        try:
            history = json.loads(history)
        except json.JSONDecodeError as exc:
            raise ValueError(f"history is not valid JSON: {exc.msg}") from exc
    if not isinstance(history, list):
        raise ValueError("history must be a list of earlier turns")
    turns = []
    for item in history:
        if isinstance(item, dict) and isinstance(item.get("question"), str):
            turns.append(Turn(item["question"], str(item.get("answer") or "")))
        elif isinstance(item, list | tuple) and len(item) == 2 and all(isinstance(x, str | None) for x in item):
            turns.append(Turn(item[0] or "", item[1] or ""))
        else:
            raise ValueError('each history item must be {"question": ..., "answer": ...} or [question, answer]')
    return turns


# -- the Gradio page and the `ask` endpoint --------------------------------------------------------

Chat = list[dict[str, str]]
Outputs = tuple[Chat, str, list[Turn], list[Section], Any]
_READING = '<span class="waiting">Reading the passages…</span>'
_WAITING = (
    '<span class="waiting">The models are still loading; '
    "your question will be answered as soon as they are ready.</span>"
)

_HEAD = """<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href*="#cite-"], a[href*="#cand-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const card = document.getElementById(link.getAttribute("href").split("#").pop());
  if (!card) return;
  const section = card.closest("details");
  if (section) section.open = true;
  document.querySelectorAll(".ev-card.ev-focus").forEach((el) => el.classList.remove("ev-focus"));
  card.classList.add("ev-focus");
  card.scrollIntoView({behavior: "smooth", block: "center"});
}, true);
</script>"""

_CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto !important; }
#topbar { align-items: center; border-bottom: 1px solid var(--border-color-primary); padding-bottom: 10px; }
#topbar h1 { font-size: 1.45rem; margin: 0; }
#topbar p { margin: 2px 0 0; color: var(--body-text-color-subdued); font-size: .92rem; }
.status { display: inline-flex; align-items: center; gap: 8px; float: right; padding: 5px 12px; border-radius: 999px;
  font-size: .85rem; background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); }
.status .dot { width: 8px; height: 8px; border-radius: 50%; background: #d97706; }
.status-ready .dot { background: #16a34a; }
.status-failed { color: #b91c1c; } .status-failed .dot { background: #dc2626; }
.status-loading .dot { animation: pulse 1s infinite alternate; }
@keyframes pulse { from { opacity: .3; } to { opacity: 1; } }
a.cite { display: inline-block; padding: 0 5px; margin: 0 1px; border-radius: 6px; font-size: .8em; font-weight: 600;
  line-height: 1.5; text-decoration: none !important; color: #1d4ed8 !important; background: #dbeafe; cursor: pointer; }
a.cite:hover { background: #bfdbfe; }
.refusal { border-left: 4px solid #d97706; background: #fffbeb; color: #78350f; padding: 8px 12px; border-radius: 6px; }
.short-answer { font-size: 1.1em; margin-bottom: 4px; }
.failure { border-left: 4px solid #dc2626; background: #fef2f2; color: #7f1d1d; padding: 8px 12px; border-radius: 6px; }
.waiting { color: var(--body-text-color-subdued); font-style: italic; }
#evidence { max-height: 640px; overflow-y: auto !important; padding-right: 4px; }
.ev-title { font-weight: 600; font-size: .85rem; margin-top: 4px; }
.ev-untitled { font-weight: 400; font-style: italic; opacity: .6; }
.ev-date { font-weight: 600; }
.ev-panel { display: flex; flex-direction: column; gap: 10px; }
.ev-placeholder { border: 1px dashed var(--border-color-primary); border-radius: 10px; padding: 18px;
  color: var(--body-text-color-subdued); }
.ev-placeholder p { margin: 6px 0 0; font-size: .9rem; }
.ev-section { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
  background: var(--background-fill-primary); }
.ev-section summary { cursor: pointer; display: flex; flex-direction: column; gap: 2px; }
.ev-kind { font-weight: 600; font-size: .9rem; }
.ev-q { color: var(--body-text-color-subdued); font-size: .85rem; }
.ev-candidates .ev-kind { color: var(--body-text-color-subdued); }
.ev-refused { border-color: #f59e0b; background: #fffbeb; } .ev-refused .ev-kind { color: #92400e; }
.ev-card { margin-top: 10px; padding: 10px 12px; border-radius: 8px; background: var(--background-fill-secondary);
  border: 1px solid transparent; transition: border-color .3s, box-shadow .3s; scroll-margin: 20px; }
.ev-card header { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; font-size: .8rem; }
.ev-num { font-weight: 700; color: #1d4ed8; }
.ev-src { font-family: var(--font-mono); }
.ev-meta { color: var(--body-text-color-subdued); }
.ev-text { margin: 6px 0 0; font-size: .88rem; line-height: 1.5; }
.ev-text mark { background: #fde68a; color: inherit; padding: 1px 2px; border-radius: 3px; }
.ev-candidates .ev-text mark, .ev-refused .ev-text mark { background: #e0e7ff; }
.ev-card.ev-focus { border-color: #2563eb; box-shadow: 0 0 0 3px #bfdbfe; }
.ev-empty { color: var(--body-text-color-subdued); font-size: .88rem; }
"""


def build_blocks(service: Service, options: ServeOptions, uploads: Uploads | None = None) -> gr.Blocks:
    with gr.Blocks(title="News Q&A") as blocks:
        with gr.Row(elem_id="topbar"):
            gr.HTML(
                "<h1>News Q&amp;A</h1><p>Answers come only from the indexed articles; "
                "every claim cites the passage it rests on.</p>",
                js_on_load=None,
            )
            status = gr.HTML(status_html(service), js_on_load=None, elem_id="status")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    elem_id="chat",
                    height=560,
                    show_label=False,
                    examples=[{"text": q} for q in EXAMPLES],
                    placeholder="**Ask about the news articles.** Try one of these:",
                    feedback_options=None,
                    buttons=[],  # a copy button would copy the markers' HTML; selecting the text copies it cleanly
                )
                box = gr.Textbox(
                    placeholder="Ask a question about the articles…", show_label=False, submit_btn="Ask", autofocus=True
                )
                new = gr.Button("New conversation", size="sm", variant="secondary")
            with gr.Column(scale=2):
                evidence = gr.HTML(panel_html([]), elem_id="evidence", js_on_load=None)
        documents_panel(blocks, uploads, service.refresh_search)
        turns = gr.State([])
        sections = gr.State([])
        timer = gr.Timer(1.0)

        def respond(question: str, chat: Chat, history: list[Turn], done: list[Section]) -> Iterator[Outputs]:
            if not question.strip():
                return
            turn = len(history)
            chat = [*chat, {"role": "user", "content": question}, {"role": "assistant", "content": ""}]
            try:
                if service.state == "loading":
                    chat[-1] = {"role": "assistant", "content": _WAITING}
                yield chat, "", history, done, panel_html(done)
                text = ""
                for event in service.pipeline(options.load_wait_s).stream(question, history):
                    if isinstance(event, Evidence):
                        chat[-1] = {"role": "assistant", "content": _READING}
                        yield chat, "", history, done, panel_html([candidates_section(turn, question, event), *done])
                    elif isinstance(event, Token):
                        text += event.text
                        chat[-1] = {"role": "assistant", "content": link_markers(text, f"cand-{turn}")}
                        yield chat, "", history, done, gr.skip()
                    elif isinstance(event, Done):
                        a = event.answer
                        chat[-1] = {"role": "assistant", "content": answer_html(a, turn)}
                        history = [*history, Turn(a.question, "" if a.refused else a.text)]
                        done = [answer_section(turn, a), *done]
                        yield chat, "", history, done, panel_html(done)
            except (QuestionError, GeneratorError, NotReady) as exc:
                chat[-1] = {"role": "assistant", "content": f'<div class="failure">{html.escape(str(exc))}</div>'}
                done = [Section(question, "error", f'<p class="ev-empty">{html.escape(str(exc))}</p>'), *done]
                yield chat, "", history, done, panel_html(done)

        def ask_example(
            chat: Chat, history: list[Turn], done: list[Section], selected: gr.SelectData
        ) -> Iterator[Outputs]:
            yield from respond(str(selected.value["text"]), chat, history, done)

        def refresh_status() -> tuple[str, gr.Timer]:
            return status_html(service), gr.Timer(active=service.state == "loading")

        outputs = [chatbot, box, turns, sections, evidence]
        answer_events = {
            "concurrency_limit": options.concurrency,
            "concurrency_id": "answer",
            "api_visibility": "private",
        }
        box.submit(respond, [box, chatbot, turns, sections], outputs, **answer_events)  # type: ignore[arg-type]
        chatbot.example_select(ask_example, [chatbot, turns, sections], outputs, **answer_events)  # type: ignore[arg-type]

        def start_over() -> Outputs:
            return [], "", [], [], panel_html([])

        new.click(start_over, None, outputs, api_visibility="private", queue=False)
        chatbot.clear(start_over, None, outputs, api_visibility="private", queue=False)
        timer.tick(refresh_status, None, [status, timer], api_visibility="private", queue=False)

        def ask(question: str, history: list[Any] | str | None = None) -> dict[str, Any]:
            """Answer a question from the articles, with its citations. `history`: the earlier turns of the
            conversation, as [{"question": ..., "answer": ...}] or [[question, answer]], or that list as JSON."""
            try:
                earlier = parse_history(history)
                return service.pipeline(options.load_wait_s).ask(question, earlier).as_dict()
            except (ValueError, GeneratorError, NotReady) as exc:  # QuestionError is a ValueError
                raise gr.Error(str(exc)) from exc

        gr.api(ask, api_name="ask", concurrency_limit=options.concurrency, concurrency_id="answer")
    return blocks


# -- the OpenAI-compatible API ---------------------------------------------------------------------


class Gate:
    """Admits at most `limit` requests at a time (waiting and running); the rest are turned away at once."""

    def __init__(self, limit: int):
        self.limit = limit
        self._count = 0
        self._lock = threading.Lock()

    def enter(self) -> bool:
        with self._lock:
            if self._count >= self.limit:
                return False
            self._count += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self._count -= 1


class ChatMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    messages: list[ChatMessage]
    model: str = MODEL_ID
    stream: bool = False


def split_messages(messages: Sequence[ChatMessage]) -> tuple[str, list[Turn]]:
    """The last user message is the question; earlier user/assistant pairs are the conversation."""
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users:
        raise ValueError("`messages` must contain a user message: the question.")
    question = messages[users[-1]].text()
    if not question.strip():
        raise ValueError("The last user message is empty; it must hold the question.")
    turns: list[Turn] = []
    for m in messages[: users[-1]]:
        if m.role == "user":
            turns.append(Turn(m.text()))
        elif m.role == "assistant" and turns and not turns[-1].answer:
            turns[-1] = Turn(turns[-1].question, m.text())
    return question, turns


def _error(status: int, message: str, kind: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": None}}, status, headers)


def _citations(answer: Answer) -> list[dict[str, Any]]:
    return [c.as_dict() for c in answer.citations]


def _drain(events: Iterator[Event]) -> Answer:
    for event in events:
        if isinstance(event, Done):
            return event.answer
    raise RuntimeError("the pipeline ended without an answer")


class _GatedStream(StreamingResponse):
    """A streaming response that runs `on_close` however it ends: finished, failed or abandoned."""

    def __init__(self, content: AsyncIterator[str], on_close: Callable[[], None]):
        super().__init__(content, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()


def openai_router(service: Service, options: ServeOptions, gate: Gate) -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get("/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "local"}]}

    @router.post("/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> Response:
        try:
            body = ChatRequest.model_validate(await request.json())
            question, history = split_messages(body.messages)
        except (ValueError, ValidationError) as exc:  # bad JSON too: JSONDecodeError is a ValueError
            return _error(400, _first_line(exc), "invalid_request_error")
        if not gate.enter():
            return _error(
                503,
                f"The server is busy ({gate.limit} requests in progress); retry shortly.",
                "server_busy",
                {"Retry-After": "5"},
            )
        handed_off = False
        try:
            pipeline = await run_in_threadpool(service.pipeline, options.load_wait_s)
            events = pipeline.stream(question, history)
            await run_in_threadpool(next, events)  # the evidence: a bad question fails here, before any bytes
            if body.stream:
                handed_off = True
                return _GatedStream(_sse(events, body.model), gate.leave)
            answer = await run_in_threadpool(_drain, events)
            return JSONResponse(_completion(answer, body.model))
        except QuestionError as exc:
            return _error(400, str(exc), "invalid_request_error")
        except (NotReady, GeneratorError) as exc:
            return _error(503, str(exc), "server_error")
        finally:
            if not handed_off:  # a stream leaves the gate when it ends
                gate.leave()

    return router


def _first_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"Invalid request: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
    return f"Invalid request: {str(exc).splitlines()[0]}"


def _completion(answer: Answer, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text}, "finish_reason": "stop"}],
        "citations": _citations(answer),
        "refused": answer.refused,
    }


async def _sse(events: Iterator[Event], model: str) -> AsyncIterator[str]:
    """OpenAI chunks of the verified answer: generation runs first, since verification may still change
    the text; the last chunk carries the citations."""
    head = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }

    def chunk(delta: dict[str, str], finish: str | None = None, **extra: Any) -> str:
        data = {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    try:
        answer = await run_in_threadpool(_drain, events)
    except GeneratorError as exc:
        yield f"data: {json.dumps({'error': {'message': str(exc), 'type': 'server_error'}})}\n\n"
        yield "data: [DONE]\n\n"
        return
    for piece in re.findall(r"\s*\S+", answer.text):
        yield chunk({"content": piece})
    yield chunk({}, "stop", citations=_citations(answer), refused=answer.refused)
    yield "data: [DONE]\n\n"


# -- the app and the server ------------------------------------------------------------------------

_CLOSED_ROUTES = ("/gradio_api/file=", "/gradio_api/file/", "/gradio_api/upload", "/gradio_api/proxy=")


def build_app(
    pipeline: Pipeline | Loader,
    *,
    blocked: Sequence[Path] = (),
    options: ServeOptions | None = None,
    uploads: Uploads | None = None,
) -> FastAPI:
    """The FastAPI app: the page at /, the Gradio API under /gradio_api, the OpenAI API under /v1, and
    with `uploads` the documents API under /v1/documents and the page's Documents panel.
    The pipeline loads in the background once the app starts (or is given, already built)."""
    options = options or ServeOptions()
    taking = uploads is not None and uploads.access.allowed
    # The page's file control uploads through Gradio's route, open only while documents are taken.
    closed = tuple(r for r in _CLOSED_ROUTES if not (taking and r == "/gradio_api/upload"))
    service = Service(_given(pipeline) if isinstance(pipeline, Pipeline) else pipeline)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.start()
        yield

    api = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @api.middleware("http")
    async def close_file_routes(request: Request, call_next: Callable[[Request], Any]) -> Response:
        # The page needs no files from disk or other hosts, and takes no uploads but documents.
        if request.url.path.startswith(closed):
            return JSONResponse({"detail": "Not found"}, 404)
        response: Response = await call_next(request)
        return response

    @api.get("/healthz")
    async def health() -> JSONResponse:
        """200 once the models are loaded; 503 while loading or after a failure."""
        return JSONResponse(
            {"status": service.state, "message": service.message}, 200 if service.state == "ready" else 503
        )

    api.include_router(openai_router(service, options, Gate(options.max_pending)))
    if uploads is not None:
        api.include_router(documents_router(uploads, service.refresh_search))
    blocks = build_blocks(service, options, uploads)
    blocks.queue(default_concurrency_limit=options.concurrency, max_size=options.queue_size)
    return gr.mount_gradio_app(
        api,
        blocks,
        path="/",
        blocked_paths=[str(p.resolve()) for p in blocked],
        footer_links=["api"],
        run_history=False,
        theme=gr.themes.Soft(primary_hue="blue", neutral_hue="slate"),
        css=_CSS + DOCUMENTS_CSS,
        max_file_size=uploads.library.max_file_bytes if uploads is not None and taking else None,
        head=_HEAD,
    )


def uploads_for(settings: Settings, host: str, corpus: Path, embedder: Embedder) -> Uploads:
    """Documents go into `corpus` and its index; allowed by the address and the upload token."""
    library = DocumentLibrary(
        corpus,
        lambda: open_store(settings, writable=True),
        embedder,
        build_chunker(settings),
        lock_path(settings),
        max_file_bytes=settings.max_file_bytes,
        max_files=settings.upload_max_files,
        batch_size=settings.embed_batch_size,
    )
    return Uploads(library, access_for(host, settings.upload_token), settings.upload_max_bytes)


def _given(pipeline: Pipeline) -> Loader:
    return lambda status: pipeline


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, corpus: Path | None = None) -> int:
    """Start the server at once; index (if asked and needed) and load the models in the background."""
    return_freed_memory()  # a long-lived process: each question's embedding buffers must not stay resident
    if corpus is None:
        open_store(settings).info()  # no index: fail now with the store's own message
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        print(f"error: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 2
    blocked = [settings.store, settings.cache_dir, *([corpus] if corpus else [])]
    embedder = build_embedder(settings)  # loads lazily; shared by answering and uploads
    app = build_app(
        load_for(settings, corpus, embedder),
        options=ServeOptions(settings.serve_concurrency, settings.serve_queue_size, settings.serve_max_pending),
        blocked=blocked,
        uploads=uploads_for(settings, host, corpus or settings.corpus, embedder),
    )
    print(f"Serving on http://{host}:{port} (the models load in the background)", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5))
    server.run(sockets=[sock])
    return 0
