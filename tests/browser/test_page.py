"""The chat page in a real headless Chromium: a streamed, cited answer, a clickable marker, a refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from rag.config import PROJECT_ROOT
from tests.serve_fixture import Server, server

pytestmark = pytest.mark.browser
__all__ = ["server"]  # the fixture, imported so pytest finds it here

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = PROJECT_ROOT / "artifacts" / "screenshots"
ANSWER_TIMEOUT_MS = 180_000

# Records what the last assistant message showed while it changed, and whether the evidence panel
# showed candidate passages before the answer was done.
_WATCH = """() => {
  window.__seen = [];
  window.__candidatesBeforeDone = false;
  new MutationObserver(() => {
    const bots = document.querySelectorAll('#chat .bot');
    const text = bots.length ? bots[bots.length - 1].innerText.trim() : '';
    if (text && window.__seen[window.__seen.length - 1] !== text) window.__seen.push(text);
    if (document.querySelector('#evidence .ev-candidates .ev-card') && !document.querySelector('#evidence .ev-cited'))
      window.__candidatesBeforeDone = true;
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture
def page(server: Server) -> Iterator[Page]:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: apt-get install -y chromium (make test installs it)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(server.url)
            page.wait_for_selector("#chat")
            yield page
        finally:
            browser.close()


def ask(page: Page, question: str) -> None:
    box = page.get_by_placeholder("Ask a question about the articles")
    box.fill(question)
    box.press("Enter")


def test_a_cited_answer_streams_and_its_marker_shows_the_passage(page: Page) -> None:
    expect(page.locator("#status")).to_contain_text("Ready")
    page.screenshot(path=SHOTS / "01-empty.png")
    page.evaluate(_WATCH)
    ask(page, "Who summoned the Ukrainian ambassador?")

    cited = page.locator("#evidence .ev-cited")
    expect(cited).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    answer = page.locator("#chat .bot").last
    expect(answer).to_contain_text("Belarus")
    assert page.evaluate("window.__candidatesBeforeDone"), "the evidence panel filled before the answer was done"
    partial = [t for t in page.evaluate("window.__seen") if "Belarus" in t]
    assert len(partial) >= 2, f"the answer appeared in pieces, not at once: {partial}"

    marker = answer.locator("a.cite").first
    expect(marker).to_have_text("[1]")
    marker.click()
    card = page.locator("#cite-0-1")
    expect(card).to_have_class("ev-card ev-focus")
    expect(card).to_be_in_viewport()
    highlighted = card.locator("mark").inner_text()
    assert "summoned" in highlighted.lower()
    expect(card.locator(".ev-src")).to_contain_text(".txt")
    expect(card.locator(".ev-meta")).to_contain_text("score")
    page.screenshot(path=SHOTS / "02-cited-answer.png")


def test_an_unanswerable_question_is_refused_with_the_closest_passages(page: Page) -> None:
    ask(page, "Who won the 2022 FIFA World Cup?")
    refusal = page.locator("#chat .bot .refusal").last
    expect(refusal).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(refusal).to_contain_text("Not in the articles")
    assert refusal.locator("a.cite").count() == 0
    panel = page.locator("#evidence .ev-refused")
    expect(panel).to_contain_text("closest passages")
    assert panel.locator(".ev-card").count() >= 1
    page.screenshot(path=SHOTS / "03-refusal.png")

    page.get_by_role("button", name="New conversation").click()
    expect(page.locator("#chat .bot")).to_have_count(0)
    expect(page.locator("#evidence .ev-placeholder")).to_be_visible()
