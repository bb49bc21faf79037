"""The Documents panel in a real headless Chromium: upload a made-up article, get an answer citing it,
then remove it with the confirmation step. The server serves a copy of the corpus (tests/serve_fixture.py)."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_page import ANSWER_TIMEOUT_MS, SHOTS, ask, page
from tests.serve_fixture import Server, server

pytestmark = pytest.mark.browser
__all__ = ["page", "server"]  # the fixtures, imported so pytest finds them here

NAME = "zorbulan-lighthouse.txt"
ARTICLE = """Zorbulan lighthouse reopens after eleven years

KESTRAVA, 2025-03-14 — The Zorbulan lighthouse on the island of Kestrava reopened on Friday after a repair
that took eleven years. The harbour master of Kestrava, Ilse Varkonen, switched the new lamp on at dusk.
She said its beam can be seen 40 kilometres out at sea. The repair cost 2.3 million euros.
"""


def _documents(server: Server) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{server.url}/v1/documents", timeout=30) as r:
        return list(json.load(r)["data"])


def _remove_by_api(server: Server, source: str) -> None:
    for doc in _documents(server):
        if doc["source"] == source:
            request = urllib.request.Request(f"{server.url}/v1/documents/{doc['id']}", method="DELETE")
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(request, timeout=60).close()


def test_an_uploaded_article_answers_a_question_and_can_be_removed(page: Page, server: Server, tmp_path: Path) -> None:
    article = tmp_path / NAME
    article.write_text(ARTICLE, encoding="utf-8")
    expect(page.locator("#status")).to_contain_text("Ready", timeout=ANSWER_TIMEOUT_MS)
    try:
        page.locator("#documents").get_by_text("Documents").first.click()
        page.locator("#add-documents input[type=file]").set_input_files(str(article))
        expect(page.locator("#add-documents")).to_contain_text(Path(NAME).stem)  # name and suffix in two cells
        page.locator("#add-button").click()
        report = page.locator("#upload-report")
        expect(report).to_contain_text(f"{NAME} indexed", timeout=120_000)
        expect(page.locator("#document-list")).to_contain_text(NAME)
        assert (server.corpus / NAME).read_text(encoding="utf-8") == ARTICLE, "saved in the served copy"
        page.screenshot(path=SHOTS / "04-document-uploaded.png")

        ask(page, "Who is the harbour master of Kestrava?")
        cited = page.locator("#evidence .ev-cited")
        expect(cited).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
        expect(page.locator("#chat .bot").last).to_contain_text("Varkonen")
        expect(cited.locator(".ev-src").first).to_contain_text(NAME)
        page.screenshot(path=SHOTS / "05-answer-from-upload.png", full_page=True)

        page.locator("#remove-pick input").click()
        page.get_by_role("option", name=NAME, exact=False).click()
        page.locator("#remove-button").click()
        confirm = page.locator("#remove-confirm")
        expect(confirm).to_contain_text(f"Remove {NAME}")
        assert NAME in {d["source"] for d in _documents(server)}, "asking removes nothing"
        page.screenshot(path=SHOTS / "06-remove-confirm.png")
        page.locator("#remove-yes").click()
        expect(confirm).to_contain_text(f"Removed {NAME}", timeout=60_000)
        assert NAME not in {d["source"] for d in _documents(server)}
        assert (server.corpus / ".removed" / NAME).exists() and not (server.corpus / NAME).exists()
    finally:
        _remove_by_api(server, NAME)  # leave the session's server as the other tests expect it
