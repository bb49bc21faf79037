"""The web app with a pipeline of fakes over a real Chroma index: the OpenAI API, the `ask` API, limits, file routes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import (
    EXAMPLES,
    ServeOptions,
    answer_html,
    answer_section,
    build_app,
    context_of,
    link_markers,
    panel_html,
    parse_history,
    split_messages,
)
from app import ChatMessage as Msg
from rag.config import Settings
from rag.factory import build_pipeline, run_index
from rag.generate import GeneratorError, Message
from rag.pipeline import Pipeline
from rag.rewrite import Turn
from tests.fakes import FakeGenerator, HashEmbedder

QUESTION = "Who summoned the Ukrainian ambassador?"
ANSWER = "Belarus summoned the ambassador [1]."
URL = "/v1/chat/completions"


@pytest.fixture
def indexed(settings: Settings, corpus: Path, embedder: HashEmbedder) -> Settings:
    run_index(settings, corpus, embedder=embedder)
    return settings


def make_pipeline(settings: Settings, reply: str | Callable[[Sequence[Message]], str] = ANSWER) -> Pipeline:
    return build_pipeline(settings, embedder=HashEmbedder(), generator=FakeGenerator(reply))


@pytest.fixture
def client(indexed: Settings) -> Iterator[TestClient]:
    with TestClient(build_app(make_pipeline(indexed), blocked=[indexed.store])) as c:
        yield c


def ask(client: TestClient, content: str = QUESTION, **extra: Any) -> Any:
    return client.post(URL, json={"model": "rag-news", "messages": [{"role": "user", "content": content}], **extra})


def sse_events(body: str) -> list[str]:
    assert body.endswith("\n\n"), "every event ends with a blank line"
    events = [e for e in body.split("\n\n") if e]
    assert all(e.startswith("data: ") for e in events)
    return [e.removeprefix("data: ") for e in events]


def test_chat_completion_answers_with_verified_citations(client: TestClient, corpus: Path) -> None:
    r = ask(client)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": ANSWER}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["refused"] is False
    [cite] = body["citations"]
    assert {"source", "start", "end", "text", "title", "date"} <= set(cite)
    assert (corpus / cite["source"]).read_text(encoding="utf-8")[cite["start"] : cite["end"]] == cite["text"]


def test_streamed_completion_carries_the_same_answer_and_ends_with_done(client: TestClient) -> None:
    expected = ask(client).json()
    with client.stream("POST", URL, json={"messages": [{"role": "user", "content": QUESTION}], "stream": True}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r.read().decode())
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert len(chunks) > 3, "the answer arrives in pieces"
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == ANSWER
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop"
    assert last["citations"] == expected["citations"]
    assert last["refused"] is False
    assert all("citations" not in c for c in chunks[:-1])


def test_earlier_messages_become_the_conversation(indexed: Settings) -> None:
    generator = FakeGenerator(ANSWER)
    pipeline = build_pipeline(indexed, embedder=HashEmbedder(), generator=generator)
    messages = [
        {"role": "system", "content": "ignored"},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "The Belarusian foreign ministry did [1]."},
        {"role": "user", "content": [{"type": "text", "text": "What did they demand?"}]},
    ]
    with TestClient(build_app(pipeline)) as client:
        r = client.post(URL, json={"messages": messages})
    assert r.status_code == 200, r.text
    prompt = generator.prompts[-1][-1].content
    assert "What did they demand?" in prompt
    assert QUESTION in prompt and "The Belarusian foreign ministry did" in prompt


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"messages": [{"role": "system", "content": "hi"}]}, "user message"),
        ({"messages": []}, "user message"),
        ({"messages": [{"role": "user", "content": "   "}]}, "empty"),
        ({"messages": "Who?"}, "messages"),
        ({"model": "x"}, "messages"),
        ({"messages": [{"role": "user", "content": "x" * 5000}]}, "too long"),
        ("not json", "Invalid request"),
    ],
)
def test_bad_requests_get_400_with_an_openai_error(client: TestClient, body: Any, needle: str) -> None:
    data = body if isinstance(body, str) else json.dumps(body)
    r = client.post(URL, content=data, headers={"content-type": "application/json"})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert needle in error["message"]


def test_a_full_server_says_busy_at_once_and_recovers(indexed: Settings) -> None:
    entered, release = threading.Event(), threading.Event()

    def reply(messages: Sequence[Message]) -> str:
        if QUESTION in messages[-1].content:  # not the warm-up prompt
            entered.set()
            release.wait(10)
        return ANSWER

    app = build_app(make_pipeline(indexed, reply), options=ServeOptions(max_pending=1))
    with TestClient(app) as client:
        first: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: first.update(r=ask(client)))
        worker.start()
        try:
            assert entered.wait(10), "the first request reached the generator"
            busy = ask(client)
        finally:
            release.set()
            worker.join(10)
        assert busy.status_code == 503
        assert busy.json()["error"]["type"] == "server_busy"
        assert "busy" in busy.json()["error"]["message"]
        assert first["r"].status_code == 200
        assert ask(client).status_code == 200, "the slot is free again"


def test_questions_wait_for_loading_then_get_answers(indexed: Settings) -> None:
    loaded = threading.Event()
    pipeline = make_pipeline(indexed)

    def load(status: Callable[[str], None]) -> Pipeline:
        status("Indexing the corpus…")
        loaded.wait(10)
        return pipeline

    with TestClient(build_app(load, options=ServeOptions(load_wait_s=0.2))) as client:
        health = client.get("/healthz")
        assert (health.status_code, health.json()["status"]) == (503, "loading")
        early = ask(client)
        assert early.status_code == 503
        assert "still loading" in early.json()["error"]["message"]
        loaded.set()
        assert ask(client).status_code == 200
        assert client.get("/healthz").json()["status"] == "ready"


def test_a_failing_generator_gives_503_not_a_traceback(indexed: Settings) -> None:
    def reply(messages: Sequence[Message]) -> str:
        if QUESTION in messages[-1].content:
            raise GeneratorError("The LLM server did not answer")
        return "OK"

    with TestClient(build_app(make_pipeline(indexed, reply))) as client:
        r = ask(client)
        assert r.status_code == 503
        assert r.json()["error"]["message"] == "The LLM server did not answer"
        with client.stream(
            "POST", URL, json={"messages": [{"role": "user", "content": QUESTION}], "stream": True}
        ) as s:
            events = sse_events(s.read().decode())
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2])["error"]["message"] == "The LLM server did not answer"


def test_models_lists_the_one_model(client: TestClient) -> None:
    r = client.get("/v1/models")
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["data"]] == ["rag-news"]


def test_the_page_is_served_with_its_examples(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    config = client.get("/config").text
    assert all(q in config for q in EXAMPLES)


def test_gradio_ask_api_returns_the_answer_dict(client: TestClient) -> None:
    history = json.dumps([{"question": "Where did the missile fall?", "answer": "Near Ivanovo [1]."}])
    start = client.post("/gradio_api/call/ask", json={"data": [QUESTION, history]})
    assert start.status_code == 200, start.text
    result = client.get(f"/gradio_api/call/ask/{start.json()['event_id']}").text
    assert "event: complete" in result, result
    [answer] = json.loads(result.split("event: complete\ndata: ", 1)[1].splitlines()[0])
    assert answer["answer"] == ANSWER
    assert answer["refused"] is False
    assert answer["citations"][0]["marker"] == 1


def test_gradio_ask_api_reports_a_bad_history(client: TestClient) -> None:
    start = client.post("/gradio_api/call/ask", json={"data": [QUESTION, "[{"]})
    result = client.get(f"/gradio_api/call/ask/{start.json()['event_id']}").text
    assert "event: error" in result
    assert "history is not valid JSON" in result


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=../../etc/passwd",
        "/gradio_api/file=..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=%2Fetc%2Fpasswd",
        "/gradio_api/file/etc/passwd",
        "/gradio_api/file=http://127.0.0.1:1/",
        "/gradio_api/proxy=http://127.0.0.1:1/",
        "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/assets/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_file_routes_serve_nothing_from_disk(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code in {400, 403, 404}
    assert "root:" not in r.text


def test_the_index_folder_is_not_served(client: TestClient, indexed: Settings) -> None:
    for path in (indexed.store / "chroma.sqlite3", indexed.store):
        assert client.get(f"/gradio_api/file={path}").status_code in {400, 403, 404}


def test_uploads_are_refused(client: TestClient) -> None:
    r = client.post("/gradio_api/upload", files={"files": ("a.txt", b"hello")})
    assert r.status_code == 404


def test_split_messages_pairs_questions_with_answers() -> None:
    messages = [Msg(role="user", content="a?"), Msg(role="user", content="b?"), Msg(role="assistant", content="B.")]
    messages += [Msg(role="user", content="c?"), Msg(role="assistant", content="ignored, after the question")]
    assert split_messages(messages) == ("c?", [Turn("a?", ""), Turn("b?", "B.")])


def test_parse_history_accepts_objects_pairs_and_json() -> None:
    expected = [Turn("q1", "a1"), Turn("q2", "")]
    assert parse_history([{"question": "q1", "answer": "a1"}, {"question": "q2"}]) == expected
    assert parse_history([["q1", "a1"], ["q2", None]]) == expected
    assert parse_history('[["q1", "a1"], ["q2", ""]]') == expected
    assert parse_history(None) == parse_history("") == []
    for bad in ("{", {"question": "q"}, [1, 2], [["only one"]]):
        with pytest.raises(ValueError):
            parse_history(bad)


def test_markers_become_links_and_text_is_escaped() -> None:
    html = link_markers("A <b>bold</b> claim [1][2].", "cite-0")
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert html.count('class="cite"') == 2
    assert '<a class="cite" href="#cite-0-2">[2]</a>' in html


def test_context_is_cut_from_the_chunk_that_holds_the_span(indexed: Settings) -> None:
    answer = make_pipeline(indexed).ask(QUESTION)
    [cite] = answer.citations
    before, cited, after = context_of(cite.source, cite.start, cite.end, answer.retrieved, margin=40)
    assert cited == cite.text
    assert 0 < len(before) <= 41 and 0 < len(after) <= 41
    assert context_of("elsewhere.txt", cite.start, cite.end, answer.retrieved) == ("", "", "")


def test_a_cited_answer_and_a_refusal_look_different(indexed: Settings) -> None:
    cited = make_pipeline(indexed).ask(QUESTION)
    refused = make_pipeline(indexed, "NOT FOUND").ask("Who won the 2022 FIFA World Cup?")
    assert not cited.refused and refused.refused

    assert '<a class="cite" href="#cite-3-1">[1]</a>' in answer_html(cited, 3)
    panel = panel_html([answer_section(3, cited)])
    assert 'id="cite-3-1"' in panel and "Cited passages" in panel
    assert f"<mark>{cited.citations[0].text}</mark>" in panel.replace("&#x27;", "'")

    bubble = answer_html(refused, 4)
    assert bubble.startswith('<div class="refusal">') and "Not in the articles" in bubble and "cite" not in bubble
    section = answer_section(4, refused)
    assert section.kind == "refused"
    assert 1 <= section.body.count('class="ev-card"') <= 3, "the closest passages are still shown"
    newest_first = panel_html([section, answer_section(3, cited)])
    assert newest_first.index("closest passages") < newest_first.index("Cited passages")
    assert newest_first.count("<details") == 2 and newest_first.count(" open>") == 1
