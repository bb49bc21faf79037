"""A claim that says the opposite of its passage is not supported by it."""

from __future__ import annotations

import pytest

from rag.cite import support, verify
from rag.polarity import contradicts, denies_itself, has_denial, term_polarity
from rag.types import Passage

NO_CASUALTIES = "No casualties were recorded, but fragments of the missile were discovered 66 meters from a house."


def test_negated_terms_are_those_a_negation_stands_just_before_in_the_same_clause():
    negated, plain = term_polarity(NO_CASUALTIES)
    assert "casualti" in negated and "casualti" not in plain
    assert {"fragment", "missil", "66"} <= plain  # after "but": another clause
    negated, _ = term_polarity("Belarus didn't confirm the report.")
    assert "confirm" in negated
    # Idioms that do not deny what follows.
    assert not term_polarity("It was not only a drill.")[0]


@pytest.mark.parametrize(
    ("claim", "passage", "expected"),
    [
        ("Yes, casualties were recorded.", NO_CASUALTIES, True),
        ("Casualties were recorded near the house.", NO_CASUALTIES, True),
        ("The missile did not cause casualties.", NO_CASUALTIES, False),
        ("No casualties were recorded.", NO_CASUALTIES, False),
        ("Fragments were discovered 66 meters from a house.", NO_CASUALTIES, False),
        ("Belarus has not joined the invasion.", "Belarus has joined the invasion, officials said.", True),
        ("Belarus has not yet joined the invasion.", "The Belarusian army has not yet joined the invasion.", False),
        # A passage that says both readings contradicts neither.
        (
            "Two casualties were recorded.",
            "No casualties were recorded in Belarus; two casualties were recorded in Poland.",
            False,
        ),
    ],
)
def test_contradiction(claim: str, passage: str, expected: bool):
    assert contradicts(claim, passage) is expected


def test_a_claim_contradicting_its_passage_is_not_supported():
    q = "Was anybody killed or injured when the missile came down?"
    assert support("Yes, casualties were recorded.", NO_CASUALTIES, q) == 0.0
    assert support("No casualties were recorded.", NO_CASUALTIES, q) == 1.0
    passages = [Passage(1, "a.txt", 0, len(NO_CASUALTIES), NO_CASUALTIES, 0.9)]
    assert not verify("Yes, casualties were recorded [1].", passages, question=q).citations
    assert verify("No casualties were recorded [1].", passages, question=q).citations


@pytest.mark.parametrize(
    ("question", "answer", "denies"),
    [
        # "No", then a sentence affirming all the question asks: the answer says both.
        ("Did the flood close the main bridge?", "No, the flood closed the main bridge on Tuesday [1].", True),
        # "No", then what is true instead: consistent.
        ("Did the rescue teams come from Paris?", "No, the rescue teams came from Lyon [2].", False),
        ("Were people killed in the flood?", "No, no one was killed [1].", False),
        # "Yes", then a sentence negating what was asked.
        ("Was the missile fired from Russia?", "Yes, the missile was not fired from Russia [1].", True),
        ("Was the missile fired from Russia?", "Yes, the missile was fired from Russia [1].", False),
        # Not a yes/no answer.
        ("Did the flood close the bridge?", "The flood closed the bridge [1].", False),
    ],
)
def test_a_yes_no_answer_must_not_deny_its_own_sentence(question: str, answer: str, denies: bool):
    assert denies_itself(question, answer) is denies


def test_a_verb_of_denial_marks_a_sentence_that_may_deny_what_it_says():
    assert has_denial("Russia denies having fired the missile.")
    assert has_denial("Minsk denied it.")
    assert not has_denial("Russia fired the missile.")
