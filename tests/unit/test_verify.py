"""The checks of the answering path: the answer's kind, its news as a short span, the question as meant."""

from __future__ import annotations

import pytest

from rag.question import meant, parse_question
from rag.types import Passage
from rag.verify import check_answer, short_span


def passage(text: str, number: int = 1, start: int = 100) -> Passage:
    return Passage(number, "a.txt", start, start + len(text), text, 1.0)


@pytest.mark.parametrize(
    ("question", "answer", "text", "short"),
    [
        (
            "Who summoned the Ukrainian ambassador?",
            "The Belarusian foreign ministry summoned Ukraine's ambassador [1].",
            "The Belarusian foreign ministry summoned Ukraine's ambassador.",
            "Belarusian foreign ministry",
        ),
        (
            "Who confirmed the summons?",
            "Anatoly Glaz, a spokesperson for the ministry, confirmed it [1].",
            "Anatoly Glaz, a spokesperson for the ministry, confirmed on Thursday that it happened.",
            "Anatoly Glaz",
        ),
        ("How many houses did the storm damage?", "The storm damaged 12 houses [1].", "It damaged 12 houses.", "12"),
        ("Was the missile an Iskander?", "No, it was an S-300 [1].", "The debris was of an S-300.", "S-300"),
        # The answer's words as the passage writes them: "air-defence" in the answer, "air defence" there.
        (
            "Which system was it?",
            "It was an air-defence missile [1].",
            "an air defence missile fell",
            "air defence missile",
        ),
    ],
)
def test_the_short_answer_is_the_answers_news_as_its_passage_writes_it(
    question: str, answer: str, text: str, short: str
):
    found = short_span(parse_question(question), answer, [passage(text)])
    assert found is not None and found.text == short
    assert text[found.start - 100 : found.end - 100] == found.text


def test_no_short_answer_when_the_passage_holds_none_of_the_answers_news():
    assert short_span(parse_question("Who won?"), "Lionel Messi did [1].", [passage("France lost the final.")]) is None


def test_an_answer_of_the_wrong_kind_or_unsupported_is_refused():
    p = [passage("The ministry summoned the ambassador to receive a formal protest on Thursday.")]
    no_name = check_answer(parse_question("Who summoned the ambassador?"), "The ministry summoned him [1].", p, "", 0.5)
    assert "a name" in no_name.problem
    invented = check_answer(parse_question("Who won the cup?"), "Argentina beat France [1].", p, "", 0.5)
    assert "no claim" in invented.problem
    kept = check_answer(
        parse_question("When was he summoned?"), "The ambassador was summoned on Thursday [1].", p, "", 0.5
    )
    assert not kept.problem and kept.citations


def test_a_yes_no_answer_its_own_sentence_contradicts_is_refused():
    p = [passage("The flood closed the bridge on Tuesday.")]
    denied = check_answer(
        parse_question("Did the flood close the bridge?"), "No, the flood closed the bridge [1].", p, "", 0.5
    )
    assert "opposite" in denied.problem


@pytest.mark.parametrize(
    ("asked", "question"),
    [
        ("What river, no, which lake does the town lie on?", "Which lake does the town lie on?"),
        ("Who was it, sorry, when was the ambassador summoned?", "When was the ambassador summoned?"),
        ("How many, I mean how far did the missile fly?", "How far did the missile fly?"),
        ("Who summoned the ambassador?", "Who summoned the ambassador?"),
        # "no" inside the question is not a correction.
        ("Was there no warning before the strike?", "Was there no warning before the strike?"),
    ],
)
def test_a_self_correction_leaves_the_question_meant(asked: str, question: str):
    assert meant(asked) == question
    assert parse_question(asked).asked == asked


def test_the_question_is_parsed_once_into_its_kind_unit_and_names():
    q = parse_question("What time, in GMT, did Anatoly Glaz speak in Minsk on 29 December?")
    assert q.kind == "time" and q.unit[0].lower() == "gmt" and not q.yes_no
    assert {"Anatoly", "Glaz", "Minsk", "December"} <= set(q.names) and "29" in q.numbers
    assert parse_question("Did Belarus summon him?").yes_no


def test_an_answer_citing_weak_evidence_is_refused():
    p = [Passage(1, "a.txt", 0, 40, "The ambassador was summoned on Thursday.", 0.35)]
    q = parse_question("When was the ambassador summoned?")
    weak = check_answer(q, "The ambassador was summoned on Thursday [1].", p, "", 0.5, min_cited_score=0.40)
    assert "0.35" in weak.problem and "below 0.40" in weak.problem
    assert not check_answer(q, "The ambassador was summoned on Thursday [1].", p, "", 0.5, 0.30).problem


def test_a_number_with_digit_groups_is_one_short_answer():
    from rag.question import parse_question
    from rag.types import Passage
    from rag.verify import short_span

    text = "At least three people were killed, and 4,200 people were evacuated from low-lying districts."
    cited = [Passage(1, "a.txt", 0, len(text), text, 1.0)]
    short = short_span(parse_question("How many people were evacuated?"), "4,200 were evacuated [1].", cited)
    assert short is not None and short.text == "4,200"
    other = "Some 14,200 people fled."
    found = short_span(parse_question("How many fled?"), "4 people fled [1].", [Passage(1, "b.txt", 0, 24, other, 1.0)])
    assert found is None or "4" not in found.text  # "4" is not found inside "14,200"
