"""What a news reader expects, in a real headless Chromium over the project's articles: an overview
citing several articles, a disagreement between articles shown with both sides, citations with their
article's title and date."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_page import ANSWER_TIMEOUT_MS, SHOTS, ask, page
from tests.serve_fixture import Server, server

pytestmark = pytest.mark.browser
__all__ = ["page", "server"]  # fixtures, imported so pytest finds them here
_ = Server


def answer_of(page: Page, question: str) -> str:
    ask(page, question)
    expect(page.locator("#evidence .ev-cited")).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    return page.locator("#chat .bot").last.inner_text()


def test_an_overview_cites_several_articles(page: Page) -> None:
    text = answer_of(page, "What happened in Belarus on Thursday? Summarize.")
    markers = page.locator("#chat .bot").last.locator("a.cite")
    assert markers.count() >= 3, text
    sources = page.locator("#evidence .ev-cited .ev-card .ev-src").all_inner_texts()
    assert len(set(sources)) >= 2, sources
    page.screenshot(path=SHOTS / "07-overview.png", full_page=True)


def test_a_disagreement_between_articles_shows_both_sides(page: Page) -> None:
    text = answer_of(page, "Where exactly was the missile found?")
    assert "Gorbakha" in text and "Harbacha" in text, text
    assert "another article" in text
    sources = page.locator("#evidence .ev-cited .ev-card .ev-src").all_inner_texts()
    assert len(set(sources)) >= 2, sources
    page.screenshot(path=SHOTS / "08-disagreement.png", full_page=True)


def test_a_citation_shows_its_articles_date_and_a_weekday_is_read_as_a_date(page: Page) -> None:
    text = answer_of(page, "When did Belarus say it shot down the missile?")
    assert "29 December 2022" in text, text  # "Thursday", read from the article's date line
    expect(page.locator("#evidence .ev-cited .ev-date").first).to_have_text("2022-12-29")
    page.screenshot(path=SHOTS / "09-date.png", full_page=True)


def test_a_citation_shows_its_articles_title(page: Page) -> None:
    answer_of(page, "What missiles did Lukashenko say Belarus deployed?")
    title = page.locator("#evidence .ev-cited .ev-title").first
    expect(title).to_contain_text("Belarus deploys Iskander missiles")
    page.screenshot(path=SHOTS / "10-title.png", full_page=True)
