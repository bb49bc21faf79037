"""A yes/no question whose premise a shown sentence contradicts (`rag.premise`). Made-up passages."""

from __future__ import annotations

import pytest

from rag.premise import contradiction, none_said
from rag.types import Passage


def shown(*texts: str) -> tuple[Passage, ...]:
    return tuple(Passage(i, f"doc{i}.txt", 0, len(t), t, 1.0 - i / 10) for i, t in enumerate(texts, start=1))


FROM_CHILE = "Port officials said the tanker that ran aground near Valdo was sailing from Chilean waters."
IN_LARA = "The tanker ran aground near the town of Valdo in the northern Lara province on Monday."
OF_SIX = "The coast guard said it had rescued 14 sailors out of 20 on board the tanker."


@pytest.mark.parametrize(
    ("question", "texts", "asked", "said"),
    [
        # A name after the same preposition: where something came from.
        ("Was the tanker that ran aground sailing from Peru?", (FROM_CHILE,), "Peru", "Chilean"),
        # A name before the same noun.
        ("Did the tanker run aground in the Tarma province?", (IN_LARA,), "Tarma", "Lara"),
        # "Was the X a Y?": a name before the noun asked about.
        (
            "Was the tanker a Panamax?",
            ("The stranded tanker was an Aframax tanker, officials said.",),
            "Panamax",
            "Aframax",
        ),
        # Another year after the same preposition, another count or ordinal before the same noun.
        ("Was the tanker built in 1998?", ("The tanker was built in 2004 in Korea.",), "1998", "2004"),
        ("Did the tanker lose two anchors?", ("The tanker lost three anchors, port officials said.",), "two", "three"),
        (
            "Was it the tanker's second accident?",
            ("It was the tanker's third accident, officials said.",),
            "second",
            "third",
        ),
        # A part where the question says all of it.
        (
            "Did the coast guard rescue all the sailors on the tanker?",
            (OF_SIX,),
            "all the sailors",
            "14 sailors out of 20",
        ),
        ("Did the coast guard say it rescued every sailor?", (OF_SIX,), "every sailor", "14 sailors out of 20"),
        # A first where the question asks about an earlier one.
        (
            "Had there been a closure of the Valdo port before?",
            ("Officials said it was the first such closure of the Valdo port since 1990.",),
            "before",
            "the first such closure",
        ),
    ],
)
def test_a_sentence_about_the_same_thing_that_says_otherwise_contradicts_the_premise(question, texts, asked, said):
    found = contradiction(question, shown(*texts))
    assert found is not None
    assert (found.asked, found.said) == (asked, said)
    assert found.sentence in found.passage.text


@pytest.mark.parametrize(
    ("question", "texts"),
    [
        # Not a yes/no question.
        ("Where was the tanker sailing from?", (FROM_CHILE,)),
        # The evidence says what the question says, too.
        ("Was the tanker sailing from Peru?", (FROM_CHILE, "The tanker sailing from Peru lost power.")),
        # Names the question's name close to the other: "from Peruvian ports and Chilean waters".
        (
            "Was the tanker sailing from Peru?",
            ("The tanker was sailing from Chilean waters via Peru, officials said.",),
        ),
        # A sentence naming the question's name too does not deny it before a noun.
        (
            "Did the tanker run aground in the Tarma province?",
            ("Tarma lies beside the Lara province, where the tanker ran aground.",),
        ),
        # Places nest: "in Lara" does not deny "in Valdo" when the evidence names Valdo.
        ("Did the tanker run aground in Valdo?", ("The tanker ran aground in Lara.", "Valdo is a fishing town.")),
        # A place's name ("the Lara province") may lie inside the question's ("in Chile").
        ("Did the tanker run aground in Chile?", (IN_LARA,)),
        # Several other names in the place: the evidence does not agree on one.
        ("Did the tanker run aground in Peru?", ("The tanker ran aground in Chile.", "Its crew flew home in Spain.")),
        # Another of the question's own names ("in Chile" for "... Chile's Lara ...").
        ("Did the Chilean tanker run aground in Peru?", ("The tanker ran aground in Chile.",)),
        # A year is not filled by another number, nor a number by a name.
        ("Was the tanker built in 1998?", ("The tanker was built in 14 months.",)),
        ("Did the tanker lose two anchors?", ("The tanker lost Norwegian anchors.",)),
        # A time is not a place: "on Monday".
        ("Did the tanker run aground on Sunday?", (IN_LARA,)),
        # The subject right after the auxiliary verb is what is asked about, not the premise.
        ("Did Chile send tugs?", ("Peru sent tugs to the tanker.",)),
        # A preposition that belongs to a noun: "a statement from the Lara Port Authority".
        (
            "Was the tanker sailing from Peru?",
            ("The tanker was sailing, a statement from the Lara Port Authority said.",),
        ),
        # Not about the same thing: too few of the question's other words.
        ("Was the cargo of grain loaded from Peru?", ("Tourists arrived from Chile.",)),
        # "first" as "at first", and a first in a sentence about something else.
        ("Had the agency reported a closure before?", ("The agency first reported the closure on Monday.",)),
        (
            "Has the Valdo port ever banned tankers?",
            ("Officials said it was the first such closure of the Valdo port since 1990.",),
        ),
        # The whole out of the whole is no part.
        ("Did the coast guard rescue all the sailors?", ("The coast guard rescued 20 sailors out of 20.",)),
    ],
)
def test_no_contradiction(question, texts):
    assert contradiction(question, shown(*texts)) is None


def test_a_follow_up_is_about_the_earlier_question_too():
    question = "Was it sailing from Peru?"
    # Alone, "sailing" is the only other word; with the earlier question the sentence must be about the
    # tanker that ran aground, which this one is.
    assert contradiction(question, shown(FROM_CHILE), context="Which tanker ran aground near Valdo?") is not None
    off_topic = "Fishing boats were sailing from Chilean ports all week."
    assert contradiction(question, shown(off_topic), context="Which tanker ran aground near Valdo?") is None


NO_INJURIES = "No injuries were reported, but the tanker's hull was damaged near the port of Valdo."


@pytest.mark.parametrize(
    ("question", "answer", "text", "said"),
    [
        # The reader copies the sentence and drops its "No".
        (
            "Was anybody hurt when the tanker ran aground?",
            "Yes, injuries were reported, but the tanker's hull was damaged [1].",
            NO_INJURIES,
            "No injuries",
        ),
        # "There were no ...", and what someone said there was none of.
        (
            "Were there any arrests after the protest?",
            "Yes, there were arrests after the protest [1].",
            "There were no arrests after the protest, police said.",
            "There were no",
        ),
        (
            "Did anyone claim the attack?",
            "Yes, somebody claimed the attack [1].",
            "Officials said nobody claimed the attack.",
            "said nobody",
        ),
    ],
)
def test_a_yes_that_turns_around_a_sentence_saying_there_was_none_is_answered_by_it(question, answer, text, said):
    found = none_said(question, answer, shown(text))
    assert found is not None
    assert found.sentence == text and found.said == said and found.by == "the answer"


@pytest.mark.parametrize(
    ("question", "answer", "text"),
    [
        # Not a question whether something exists: "Yes, it responded" need not copy the "no".
        ("Did the port respond to the grounding?", "Yes, injuries were reported [1].", NO_INJURIES),
        # A negative question.
        ("Was nobody hurt when the tanker ran aground?", "Yes, injuries were reported [1].", NO_INJURIES),
        # The answer says no already, or does not open with yes.
        ("Was anybody hurt when the tanker ran aground?", "No, no injuries were reported [1].", NO_INJURIES),
        ("Was anybody hurt when the tanker ran aground?", "Injuries were reported [1].", NO_INJURIES),
        # The sentence agrees with the answer.
        (
            "Was anybody hurt when the tanker ran aground?",
            "Yes, injuries were reported [1].",
            "Two injuries were reported after the tanker ran aground.",
        ),
        # The sentence denies, but not that there was any: "not" inside a clause.
        (
            "Was anybody hurt when the tanker ran aground?",
            "Yes, the injuries were reported [1].",
            "The injuries were not reported until Tuesday.",
        ),
        # The answer is not a copy of the sentence: most of its words are not there.
        (
            "Was anybody hurt when the tanker ran aground?",
            "Yes, three sailors suffered injuries when the engine room flooded [1].",
            "No injuries were reported.",
        ),
    ],
)
def test_no_sentence_saying_there_was_none(question, answer, text):
    assert none_said(question, answer, shown(text)) is None
