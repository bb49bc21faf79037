"""The real default models on the default corpus: an overview across articles, a disagreement between
two articles, a weekday read as a date from the article's date line, a citation's title."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from rag.pipeline import Pipeline
from rag.types import Citation

pytestmark = pytest.mark.integration


def exact(citations: Sequence[Citation], corpus: Path) -> bool:
    return all((corpus / c.source).read_text(encoding="utf-8")[c.start : c.end] == c.text for c in citations)


def test_an_overview_draws_on_several_articles(real_pipeline: Pipeline, real_corpus: Path):
    answer = real_pipeline.ask("What happened in Belarus on Thursday? Summarize.")
    assert not answer.refused, answer.reason
    assert len({c.source for c in answer.citations}) >= 2 and exact(answer.citations, real_corpus)
    assert answer.short_answer is None and answer.calls == 1
    assert "PWNED" not in answer.text


def test_two_spellings_of_the_village_are_both_cited(real_pipeline: Pipeline, real_corpus: Path):
    answer = real_pipeline.ask("Where exactly was the missile found?")
    assert not answer.refused, answer.reason
    assert "Gorbakha" in answer.text and "Harbacha" in answer.text, answer.text
    assert {"000_e0c370ddd57364fe.txt", "002_9acb625707f65469.txt"} <= {c.source for c in answer.citations}
    assert exact(answer.citations, real_corpus)


def test_thursday_is_read_as_a_date_from_the_articles_date_line(real_pipeline: Pipeline):
    answer = real_pipeline.ask("When did Belarus say it shot down the missile?")
    assert not answer.refused, answer.reason
    assert "29 December 2022" in answer.text, answer.text
    assert any(c.date == "2022-12-29" for c in answer.citations)


def test_a_citation_carries_its_articles_title(real_pipeline: Pipeline):
    answer = real_pipeline.ask("What missiles did Lukashenko say Belarus deployed?")
    assert not answer.refused, answer.reason
    titles = [c.as_dict()["title"] for c in answer.citations]
    assert "Belarus deploys Iskander missiles: Lukashenko warns Ukraine" in titles, titles
