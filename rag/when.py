"""A day named relative to the article ("on Thursday", "yesterday") read as a calendar date, from the
date the article states. News writes the weekday of the past week: "Thursday" in an article dated
Thursday 29 December 2022 is that day, in one dated the Saturday after it is two days before."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from index.meta import parse_date
from rag.question import Question

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today)\b", re.I)
_CALENDAR = re.compile(r"\b(?:19|20)\d\d\b|\b\d{1,2}\s+[A-Z][a-z]+\b|\b[A-Z][a-z]+\s+\d{1,2}\b")


@dataclass(frozen=True)
class ResolvedDay:
    said: str  # the words the article uses: "Thursday"
    day: date  # the date they name
    article_date: str  # the article's own date, ISO

    def phrase(self, marker: str) -> str:
        """The sentence that says how the date was worked out, citing the article."""
        when = f"{self.day.strftime('%A')} {self.day.day} {self.day.strftime('%B %Y')}"
        return f"“{self.said}” in the article, which is dated {self.article_date}, is {when} {marker}."


def article_date_for_event(q: Question, answer: str, passage_text: str, article_date: str) -> tuple[int, int] | None:
    """For a "when" answered with the cited article's own date (the day it was written, as a date line
    or dateline gives it) while the cited sentence names the event's day relative to it ("June 10,
    2025 — Officials began moving the rhinos on Monday"): the span, in `passage_text`, of the words that
    name the event's day. None otherwise."""
    if q.kind != "time" or not article_date or parse_date(answer) != article_date:
        return None
    for m in _RELATIVE.finditer(passage_text):
        return m.start(), m.end()
    return None


def resolve_day(q: Question, short_text: str, article_date: str) -> ResolvedDay | None:
    """The date that the short answer's relative day names, for a "when" question answered from an
    article with a stated date; None when the answer is already a calendar date or there is nothing to
    resolve."""
    if q.kind != "time" or not article_date or _CALENDAR.search(short_text):
        return None
    m = _RELATIVE.search(short_text)
    if not m:
        return None
    try:
        written = date.fromisoformat(article_date)
    except ValueError:
        return None
    word = m.group(1).lower()
    if word == "today":
        day = written
    elif word == "yesterday":
        day = written - timedelta(days=1)
    else:
        day = written - timedelta(days=(written.weekday() - _WEEKDAYS.index(word)) % 7)
    return ResolvedDay(m.group(1), day, article_date)
