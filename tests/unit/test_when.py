"""A relative day ("Thursday", "yesterday") read as a calendar date from the article's stated date."""

from __future__ import annotations

from datetime import date

from rag.question import parse_question
from rag.when import resolve_day

WHEN = parse_question("When did Belarus say it shot down the missile?")


def test_a_weekday_is_the_last_such_day_on_or_before_the_articles_date() -> None:
    same = resolve_day(WHEN, "Thursday", "2022-12-29")  # a Thursday
    assert same is not None and same.day == date(2022, 12, 29)
    later = resolve_day(WHEN, "on Thursday", "2022-12-31")  # the Saturday after
    assert later is not None and later.day == date(2022, 12, 29)
    assert resolve_day(WHEN, "Friday", "2022-12-29").day == date(2022, 12, 23)  # type: ignore[union-attr]
    assert resolve_day(WHEN, "yesterday", "2022-12-29").day == date(2022, 12, 28)  # type: ignore[union-attr]


def test_the_sentence_says_how_the_date_was_found_and_cites_the_article() -> None:
    day = resolve_day(WHEN, "Thursday", "2022-12-29")
    assert day is not None
    said = "“Thursday” in the article, which is dated 2022-12-29, is Thursday 29 December 2022 [2]."
    assert day.phrase("[2]") == said


def test_nothing_to_resolve() -> None:
    assert resolve_day(WHEN, "Thursday", "") is None  # the article states no date
    assert resolve_day(WHEN, "Thursday, 29 December", "2022-12-29") is None  # already a calendar date
    assert resolve_day(WHEN, "in the morning", "2022-12-29") is None
    assert resolve_day(parse_question("Who shot the missile down?"), "Thursday", "2022-12-29") is None
    assert resolve_day(WHEN, "Thursday", "not a date") is None
