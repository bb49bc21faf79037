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


def test_an_answer_giving_the_articles_own_date_for_the_event_is_caught() -> None:
    from rag.when import article_date_for_event

    text = "June 10, 2025 — Wildlife officials began moving 20 black rhinos on Monday from Kapeta."
    span = article_date_for_event(WHEN, "They began on June 10, 2025 [1].", text, "2025-06-10")
    assert span is not None and text[span[0] : span[1]] == "Monday"
    assert article_date_for_event(WHEN, "They began on June 9, 2025 [1].", text, "2025-06-10") is None
    assert article_date_for_event(WHEN, "On 10 June 2025 [1].", "Officials began on 10 June.", "2025-06-10") is None


def test_the_event_day_replaces_the_articles_date_and_is_resolved() -> None:
    from rag.annotate import with_calendar_day
    from rag.types import Citation, ShortAnswer, Step

    sentence = "June 10, 2025 — Wildlife officials began moving 20 black rhinos on Monday from Kapeta."
    cite = Citation(1, "r.txt", 100, 100 + len(sentence), sentence, "", "2025-06-10")
    steps: list[Step] = []
    text, short = with_calendar_day(
        WHEN, "June 10, 2025 [1].", ShortAnswer("June 10", "r.txt", 100, 107), [cite], steps
    )
    assert short.text == "Monday" and short.start == 100 + sentence.index("Monday")
    assert text.startswith("On Monday [1].") and "is Monday 9 June 2025 [1]." in text
    assert [s.step for s in steps] == ["date", "date"]
