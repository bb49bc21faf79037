"""A document's title and date as the document states them: date lines, datelines, HTML and PDF metadata."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from index.load import load_file
from index.meta import html_date, parse_date, pdf_date, text_date, text_title


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("date 2022-12-29 Russia's key ally Belarus said Thursday it shot down a missile.", "2022-12-29"),
        ("Flood in Riverton\nPublished 12 March 2025\n\nThe river rose.", "2025-03-12"),
        ("Updated: 2025-03-12 14:05 GMT\nThe river rose.", "2025-03-12"),
        ("Posted on Mar. 3rd, 2024 by staff\nText.", "2024-03-03"),
        ("Thursday, 29 December 2022\nBody text.", "2022-12-29"),
        ("RIVERTON, March 12, 2025 — The river rose overnight.", "2025-03-12"),
        ("KYIV (Reuters) 12 March 2025 - Officials said.", "2025-03-12"),
    ],
)
def test_a_date_line_near_the_top_is_the_articles_date(text: str, iso: str) -> None:
    assert text_date(text) == iso


@pytest.mark.parametrize(
    "text",
    [
        "The law of 12 March 2025 was passed after a long debate.",
        "Officials said the talks that began on 2023-05-01 would resume.",
        "Headline\n\nOn Thursday the ministry said the strike of 29 December 2022 was an accident.",
        "No date here at all.",
        "date 2022-02-30 is not a day.",
    ],
)
def test_a_date_the_story_mentions_is_not_the_articles_date(text: str) -> None:
    assert text_date(text) == ""


def test_parse_date_reads_the_common_forms_and_rejects_impossible_days() -> None:
    assert parse_date("2024-02-29T10:00:00Z") == "2024-02-29"
    assert parse_date("on 5 Sept 2021") == "2021-09-05"
    assert parse_date("December 1st, 2020") == "2020-12-01"
    assert parse_date("2023-02-29") == ""


def test_titles_headlines_markdown_and_a_headline_joined_to_the_lead() -> None:
    assert text_title("Belarus deploys Iskander missiles: Lukashenko warns Ukraine\nBody.") == (
        "Belarus deploys Iskander missiles: Lukashenko warns Ukraine"
    )
    assert text_title("# Dam Fails\n\nText.", markdown=True) == "Dam Fails"
    joined = "Will Belarus Use Ukraine Missile Strike Against Them? – The Belarusian Ministry of Defense said so."
    assert text_title(joined) == "Will Belarus Use Ukraine Missile Strike Against Them?"
    assert text_title("Published 12 March 2025\nFlood Hits Riverton\nBody.") == "Flood Hits Riverton"


def test_a_lead_sentence_is_not_a_title() -> None:
    assert text_title("Thursday, a Ukrainian S-300 missile reportedly landed on Belarusian soil, officials said.") == ""
    lead = "The minister of defence – who declined to be named in this report – said the missile was Ukrainian."
    assert text_title(lead) == ""


def test_html_metadata_date_before_a_time_element() -> None:
    page = (
        '<html><head><meta property="article:modified_time" content="2025-03-14T09:00:00Z">'
        '<meta property="article:published_time" content="2025-03-12T08:00:00Z"></head>'
        '<body><time datetime="2025-03-13">13 March</time></body></html>'
    )
    assert html_date(BeautifulSoup(page, "html.parser")) == "2025-03-12"
    only_time = '<html><body><p>By staff</p><time datetime="2025-03-13T10:00">13 March</time></body></html>'
    assert html_date(BeautifulSoup(only_time, "html.parser")) == "2025-03-13"


def test_pdf_metadata_dates() -> None:
    assert pdf_date("D:20221229103000+02'00'") == "2022-12-29"
    assert pdf_date(None) == "" and pdf_date("yesterday") == ""


def test_loaded_html_keeps_its_title_and_date(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text(
        "<html><head><title>Ship collision off Port Alder</title>"
        '<meta name="date" content="2025-06-02"></head><body><p>Two ships collided.</p></body></html>'
    )
    doc = load_file(page, "p.html", 10_000_000)
    assert doc.title == "Ship collision off Port Alder" and doc.date == "2025-06-02"  # type: ignore[union-attr]


def test_a_file_without_a_stated_date_has_none(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Thursday, a missile landed in a field, officials said.\nMore text.")
    doc = load_file(path, "a.txt", 10_000_000)
    assert doc.date == "" and doc.title == ""  # type: ignore[union-attr]
