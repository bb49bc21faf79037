"""`rag serve` with the real models: the Gradio client, the OpenAI client, 20 users at once, closed file routes."""

from __future__ import annotations

import http.client
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

import pytest
from gradio_client import Client
from openai import BadRequestError, OpenAI

from app import EXAMPLES
from rag.config import PROJECT_ROOT
from tests.serve_fixture import Server, server

pytestmark = pytest.mark.integration
__all__ = ["server"]  # the fixture, imported so pytest finds it here

QUESTION = "Who summoned the Ukrainian ambassador?"
CORPUS = PROJECT_ROOT / "data" / "corpus"


def openai_client(server: Server) -> OpenAI:
    return OpenAI(base_url=f"{server.url}/v1", api_key="x", timeout=300, max_retries=0)


def assert_cited_from_corpus(citations: list[dict[str, Any]]) -> None:
    assert citations, "an answer cites at least one passage"
    for c in citations:
        assert (CORPUS / c["source"]).read_text(encoding="utf-8")[c["start"] : c["end"]] == c["text"]


def test_gradio_client_answers_with_a_citation(server: Server) -> None:
    result = Client(server.url, verbose=False).predict(QUESTION, api_name="/ask")
    assert "belarus" in result["answer"].lower()
    assert result["refused"] is False
    assert "[1]" in result["answer"]
    assert_cited_from_corpus(result["citations"])


def test_gradio_client_follows_up_with_history(server: Server) -> None:
    client = Client(server.url, verbose=False)
    first = client.predict(QUESTION, api_name="/ask")
    history = [{"question": QUESTION, "answer": first["answer"]}]
    result = client.predict("What did they demand?", history, api_name="/ask")
    assert QUESTION in result["search_query"], "the follow-up was searched with its context"
    assert result["refused"] is False
    assert_cited_from_corpus(result["citations"])


def test_openai_client_answers(server: Server) -> None:
    r = openai_client(server).chat.completions.create(
        model="rag-news", messages=[{"role": "user", "content": QUESTION}]
    )
    assert "belarus" in (r.choices[0].message.content or "").lower()
    extra = r.model_extra or {}
    assert extra["refused"] is False
    assert_cited_from_corpus(extra["citations"])


def test_openai_client_streams(server: Server) -> None:
    stream = openai_client(server).chat.completions.create(
        model="rag-news", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "belarus" in text.lower()
    assert len(chunks) > 3
    last = chunks[-1].model_extra or {}
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert_cited_from_corpus(last["citations"])


def test_a_question_the_articles_cannot_answer_is_refused(server: Server) -> None:
    r = openai_client(server).chat.completions.create(
        model="rag-news", messages=[{"role": "user", "content": "Who won the 2022 FIFA World Cup?"}]
    )
    assert (r.model_extra or {})["refused"] is True
    assert (r.model_extra or {})["citations"] == []


def test_a_bad_request_is_a_400(server: Server) -> None:
    with pytest.raises(BadRequestError):
        openai_client(server).chat.completions.create(model="rag-news", messages=[{"role": "system", "content": "x"}])


def test_twenty_users_at_once_all_get_answers(server: Server) -> None:
    questions = [EXAMPLES[i % len(EXAMPLES)] for i in range(20)]

    def by_openai(question: str) -> str:
        r = openai_client(server).chat.completions.create(
            model="rag-news", messages=[{"role": "user", "content": question}]
        )
        return r.choices[0].message.content or ""

    def by_gradio(question: str) -> str:
        return str(Client(server.url, verbose=False).predict(question, api_name="/ask")["answer"])

    start = time.monotonic()
    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(by_openai if i % 2 else by_gradio, q) for i, q in enumerate(questions)]
        answers = [f.result(timeout=600) for f in futures]
    assert all(a.strip() for a in answers)
    assert time.monotonic() - start < 600


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=../../../../etc/passwd",
        "/gradio_api/file=/etc/passwd",
        "/gradio_api/file=..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/gradio_api/file/../../../../etc/passwd",
        "/static/../../../../etc/passwd",
    ],
)
def test_traversal_is_refused(server: Server, path: str) -> None:
    status, body = raw_get(server, path)  # sent as is, without the client normalizing the dots
    assert status in {400, 403, 404}
    assert b"root:" not in body


def test_the_index_is_not_served(server: Server) -> None:
    for path in (server.store / "chroma.sqlite3", server.store):
        status, _ = raw_get(server, f"/gradio_api/file={path}")
        assert status in {400, 403, 404}


def raw_get(server: Server, path: str) -> tuple[int, bytes]:
    url = urlparse(server.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
