"""A "which" question asked through a preposition, answered by the sentence that fills the same place
(`rag.align`). Made-up passages."""

from __future__ import annotations

import pytest

from rag.align import aligned_answer
from rag.types import Passage


def shown(*texts: str) -> tuple[Passage, ...]:
    return tuple(Passage(i, f"doc{i}.txt", 0, len(t), t, 1.0 - i / 10) for i, t in enumerate(texts, start=1))


SAILING = "Port officials said the tanker was sailing from Chilean waters when its engine failed."
TOWED = "The tanker was towed to Lara by two tugs on Tuesday, the coast guard said."


@pytest.mark.parametrize(
    ("question", "texts", "answer"),
    [
        # The question's word right before the same preposition; the noun after the name comes along.
        ("From which country's waters was the tanker sailing?", (SAILING,), "from Chilean waters"),
        ("To which port was the tanker towed?", (TOWED, SAILING), "to Lara"),
        # The same name in two sentences is one answer; the better-ranked sentence is quoted.
        (
            "From which country's waters was the tanker sailing?",
            (SAILING, "The tanker, sailing from Chilean waters, lost power near Valdo."),
            "from Chilean waters",
        ),
        # "of (the) Name" continues a name.
        (
            "Into which character was the witch of Valdo turned?",
            ("The witch of Valdo was turned into the Queen of the North by a curse.",),
            "into Queen of the North",
        ),
    ],
)
def test_a_sentence_that_fills_the_place_asked_about_answers(question, texts, answer):
    found = aligned_answer(question, shown(*texts))
    assert found is not None and found.answer == answer
    assert found.sentence == texts[0]


@pytest.mark.parametrize(
    ("question", "texts"),
    [
        # Two names in that place: no one answer.
        (
            "From which country's waters was the tanker sailing?",
            (SAILING, "Officials later said the tanker had been sailing from Peruvian waters."),
        ),
        # A name the question holds is no answer.
        ("From which port was the tanker sailing to Lara?", ("The tanker was sailing to Lara.",)),
        # The preposition does not follow a word of the question ("tugs from Lara", not "sailed from").
        ("From which port did the tanker sail?", ("Tugs from Lara reached the tanker on Tuesday.",)),
        # A name before a noun and another name modifies the noun; an initial is no name.
        (
            "By which producer was the song Rain produced?",
            ("The song Rain was produced by American producer Lee Ross.",),
        ),
        ("By which composer was the song Rain written?", ("The song Rain was written by D. H. Ross in 1990.",)),
        # The question's names count: a sentence about another song is not about this one.
        ("By which composer was the song Rain written?", ("The song Snow was written by Lee Ross in 1990.",)),
        # Not about what the question asks.
        ("From which port did the ferry sail to the island?", (SAILING,)),
        # A time or a number is not a place: left to the reader and its checks.
        ("In which year was the tanker built?", ("The tanker was built in 2004 in Korea.",)),
        ("On which day did the engine fail?", ("The engine failed on Monday.",)),
        # Not asked through a preposition, or a yes/no question.
        ("Which port did the tanker sail from?", (SAILING,)),
        ("Was the tanker sailing from Chilean waters?", (SAILING,)),
    ],
)
def test_no_aligned_answer(question, texts):
    assert aligned_answer(question, shown(*texts)) is None


def test_a_follow_up_is_about_the_earlier_question_too():
    question = "From which country's waters was it sailing?"
    earlier = "Which tanker ran aground near Valdo?"
    # Alone, "sailing" is the only other word; with the earlier question the sentence must be about the
    # tanker that ran aground, which this one is.
    grounded = "Port officials said the tanker that ran aground near Valdo was sailing from Chilean waters."
    assert aligned_answer(question, shown(grounded), context=earlier) is not None
    other = "Fishing boats were sailing from Chilean waters all week, officials said."
    assert aligned_answer(question, shown(other), context=earlier) is None
