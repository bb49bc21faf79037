"""Overviews: evidence across articles in date order, sentences verified, a short overview completed."""

from __future__ import annotations

from rag.overview import check_overview, cover
from rag.question import parse_question
from rag.rerank import ScoredSentence
from rag.types import Passage


def sentence(source: str, start: int, text: str, score: float, date: str = "") -> ScoredSentence:
    return ScoredSentence(source, start, start + len(text), text, score, score, score, "", date)


def test_overview_questions_are_told_from_questions_for_one_fact() -> None:
    for q in (
        "What happened in Orvel on Thursday?",
        "Summarize what the articles say about the fire",
        "How did the mayor react to the flood?",
        "what do we know about the ship collision",
    ):
        assert parse_question(q).overview, q
    for q in ("What was the summary judgment?", "Who won the election?", "How did the fire start?"):
        assert not parse_question(q).overview, q


def test_cover_takes_each_article_in_turn_and_numbers_them_by_date() -> None:
    sentences = [
        sentence("a.txt", 0, "The dam burst above Orvel early on Thursday.", 0.9, "2025-03-14"),
        sentence("a.txt", 50, "Rescue boats reached the old town by noon.", 0.8, "2025-03-14"),
        sentence("b.txt", 0, "Heavy rain had swollen the river for a week.", 0.7, "2025-03-12"),
        sentence("c.txt", 0, "An unrelated line about football results.", 0.1, "2025-03-13"),
    ]
    passages = cover(sentences, 2, floor=0.3)
    assert [p.source for p in passages] == ["b.txt", "a.txt"]  # one from each article, older first
    assert [p.number for p in passages] == [1, 2]
    assert len(cover(sentences, 8, floor=0.3)) == 3  # the football line is below the floor


def passage(n: int, source: str, text: str, score: float) -> Passage:
    return Passage(n, source, 0, len(text), text, score)


PASSAGES = [
    passage(1, "b.txt", "Heavy rain had swollen the Selka river for a week.", 0.7),
    passage(2, "a.txt", "The dam above Orvel burst early on Thursday.", 0.9),
    passage(3, "a.txt", "Rescue boats reached the old town by noon.", 0.8),
    passage(4, "c.txt", "Governor Marta Ilyenko ordered 4,200 people to leave.", 0.6),
]


def test_an_overview_citing_one_passage_is_completed_from_other_articles_in_order() -> None:
    checked = check_overview(
        "The dam above Orvel burst on Thursday [2]. Aliens landed in Orvel [3].", PASSAGES, 0.5, 0.4
    )
    assert not checked.problem
    assert "Aliens" not in checked.text  # unsupported: dropped
    assert "Selka" in checked.text and "Ilyenko" in checked.text  # the other articles first
    assert checked.text.index("Selka") < checked.text.index("dam")  # in the passages' order
    assert len({c.source for c in checked.citations}) == 3
    assert "added" in checked.outcome


def test_an_overview_with_no_supported_sentence_is_refused() -> None:
    checked = check_overview("Aliens landed in Orvel [1].", PASSAGES, 0.5, 0.4)
    assert checked.problem and not checked.citations


def test_a_sentence_said_again_is_said_once_and_a_cut_quotation_is_not_added() -> None:
    passages = [*PASSAGES, passage(5, "d.txt", '"We will rebuild the dam, the mayor said.', 0.95)]
    reply = "The dam above Orvel burst early on Thursday [2]. The dam above Orvel burst early on Thursday [2]."
    checked = check_overview(reply, passages, 0.5, 0.4)
    assert checked.text.count("burst") == 1 and "rebuild" not in checked.text


def test_the_reader_is_stopped_when_it_starts_saying_a_sentence_again() -> None:
    from rag.read import said_again

    assert said_again("The dam burst [1]. The dam burst [1].")
    assert not said_again("The dam burst [1]. Boats came [2].") and not said_again("The dam burst [1]. The dam")


def test_two_wordings_of_one_sentence_are_one() -> None:
    from rag.overview import _same_sentence

    assert _same_sentence(
        "Belarus summoned Ukraine's ambassador over the missile.",
        "Belarusian authorities summoned Ukraine’s ambassador over the missile.",
    )
    assert not _same_sentence("The dam burst on Thursday.", "Rescue boats reached the old town by noon.")
