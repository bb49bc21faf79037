"""Citation parsing and verification, exhaustively: the pure functions behind every cited answer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answer_type import answers_question_type, asked_unit
from rag.cite import support, verify
from rag.claims import Claim, parse_claims
from rag.types import Passage

P = [
    Passage(1, "a.txt", 0, 70, "Belarusian authorities summoned Ukraine’s ambassador over the missile.", 0.9),
    Passage(2, "b.txt", 100, 160, "The missile was shot down around 10 am local time, the ministry said.", 0.8),
    Passage(3, "c.txt", 5, 60, "The ministry demanded a thorough investigation of the incident.", 0.7),
    Passage(4, "d.txt", 0, 40, "Two people were killed in the Polish village.", 0.6),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Belarus summoned him [1].", [Claim("Belarus summoned him.", (1,))]),
        ("Belarus summoned him. [1]", [Claim("Belarus summoned him.", (1,))]),
        ("One [1][2]. Two [3].", [Claim("One.", (1, 2)), Claim("Two.", (3,))]),
        ("One [1, 2].", [Claim("One.", (1, 2))]),
        ("No markers here.", [Claim("No markers here.", ())]),
        ("First claim [2] and more. Second [4]", [Claim("First claim and more.", (2,)), Claim("Second", (4,))]),
        ("", []),
        ("[1]", []),
    ],
)
def test_parse_claims(text: str, expected: list[Claim]):
    assert parse_claims(text) == expected


def test_supported_claim_keeps_its_citation_with_exact_span():
    v = verify("Belarus summoned Ukraine's ambassador [1].", P)
    assert v.text == "Belarus summoned Ukraine's ambassador [1]."
    assert [(c.source, c.start, c.end, c.text) for c in v.citations] == [("a.txt", 0, 70, P[0].text)]
    assert not v.dropped


def test_marker_pointing_nowhere_is_removed():
    v = verify("Belarus summoned Ukraine's ambassador [1][9].", P)
    assert v.text == "Belarus summoned Ukraine's ambassador [1]."
    assert any("no passage" in n for n in v.notes)


def test_wrongly_cited_claim_is_reattributed_to_the_supporting_passage():
    v = verify("The ministry demanded a thorough investigation [2].", P)
    assert [c.source for c in v.citations] == ["c.txt"]
    assert v.text.endswith("[1].")
    assert any("re-attributed" in n for n in v.notes)


def test_unsupported_claim_is_dropped():
    v = verify("Argentina won the World Cup final in Qatar [1].", P)
    assert not v.citations and v.dropped == ("Argentina won the World Cup final in Qatar.",)


def test_markers_are_renumbered_in_order_of_appearance():
    v = verify("The ministry demanded an investigation [3]. It was shot down around 10 am [2].", P)
    assert [c.source for c in v.citations] == ["c.txt", "b.txt"]
    assert "[1]" in v.text and "[2]" in v.text and "[3]" not in v.text


def test_claim_without_marker_gets_the_passage_that_supports_it():
    v = verify("The missile was shot down around 10 am.", P)
    assert [c.source for c in v.citations] == ["b.txt"]


def test_numbers_must_be_in_the_passage():
    assert support("The missile was shot down around 11 am.", P[1].text) == 0.0
    assert support("Two people were killed.", P[3].text) == 1.0
    assert support("2 people were killed.", P[3].text) == 1.0  # number words count
    assert support("3 people were killed.", P[3].text) == 0.0


def test_names_must_be_in_the_passage_or_the_question():
    q = "Who spoke for the ministry?"
    # A name borrowed from elsewhere (a prompt example, the model's memory) is not supported.
    assert support("Mr. Keller spoke for the ministry.", P[1].text, q) == 0.0
    assert support("The ministry's Anatoly Glaz spoke.", P[1].text, q) == 0.0
    # A sentence-opening word is not a name; titles are not names; Belarusian ~ Belarus.
    assert support("Belarusian authorities summoned him.", P[0].text) == 1.0
    assert support("Two people were killed in the Polish village.", P[3].text) == 1.0
    # Names the question holds need not be repeated by the passage.
    q = "Who summoned Ukraine's envoy?"
    assert support("Ukraine's ambassador was summoned by Belarusian authorities.", P[0].text, q) == 1.0


def test_restating_a_wh_question_is_not_an_answer():
    q = "Who summoned Ukraine's ambassador?"
    assert support("Someone summoned Ukraine's ambassador.", P[0].text, q) == 0.0
    assert support("Belarusian authorities summoned Ukraine's ambassador.", P[0].text, q) == 1.0
    # ...but restating a yes/no question is, when a passage sentence says it.
    assert support("Yes, the missile was shot down.", P[1].text, "Was the missile shot down?") == 1.0


@pytest.mark.parametrize(
    ("claim", "passage", "question"),
    [
        # The question's words in another order: the missile is not said to be an Iskander.
        (
            "Yes, the missile was an Iskander.",
            "The Polonaise and Iskander missile systems have been positioned.",
            "Was the missile an Iskander?",
        ),
        # The words in order, but the sentence denies them.
        (
            "Yes, Russia fired the missile.",
            "Russia denies it fired the missile, while Warsaw blamed Kyiv.",
            "Did Russia fire the missile?",
        ),
        # The words spread over two sentences.
        (
            "Yes, the ministry summoned the ambassador.",
            "The ministry spoke on Monday. Belarus summoned the ambassador.",
            "Did the ministry summon the ambassador?",
        ),
        # A bare "Yes" states nothing a passage can prove.
        ("Yes.", P[0].text, "Did Belarus summon Ukraine's ambassador?"),
    ],
)
def test_restating_a_yes_no_question_needs_a_sentence_that_says_it(claim: str, passage: str, question: str):
    assert support(claim, passage, question) == 0.0


def test_a_yes_no_follow_up_restated_with_the_conversation_words_needs_a_sentence_that_says_it():
    # "missile" comes from the earlier turn: it is no new evidence that the passage holds the answer.
    q, context = "Was it fired from Russia?", "Was it fired from Russia? (What missile did Belarus shoot down?)"
    passage = "Belarus shot down a missile. Russia fired dozens of missiles at Ukraine that day."
    assert support("Yes, the missile was fired from Russia.", passage, q, context) == 0.0
    assert support("Yes, the missile was fired from Russia.", "The missile was fired from Russia.", q, context) == 1.0
    # A wh-follow-up may still answer with a word of the conversation.
    wh, wh_context = "What was it?", "What was it? (missile)"
    assert support("The missile was an S-300.", "It was an S-300 missile.", wh, wh_context) > 0


def test_a_yes_no_restatement_in_the_passage_words_is_supported():
    q = "Did Belarus summon Ukraine's ambassador over the missile?"
    assert support("Yes, Belarus summoned Ukraine's ambassador over the missile.", P[0].text, q) == 1.0
    # Words between the claim's terms are allowed ("later"), and so is a negation the passage shares.
    passage = "Belarus later summoned Ukraine’s ambassador, demanding a probe."
    assert (
        support("Yes, Belarus summoned Ukraine's ambassador.", passage, "Did Belarus summon Ukraine's ambassador?")
        == 1.0
    )
    q = "Were casualties recorded?"
    assert support("No, no casualties were recorded.", "No casualties were recorded, officials said.", q) == 1.0


def test_question_terms_need_not_be_in_the_passage():
    q = "What kind of missile did Belarus say it shot down in December 2022?"
    passage = "The military took down a Ukrainian S-300 missile."
    assert support("Belarus said it shot down a Ukrainian S-300 missile in December 2022.", passage, q) >= 0.5


def test_a_follow_up_answer_may_repeat_the_conversation_but_must_add_to_the_question():
    # "How far is it from the border?" after "Which village?": the search query carries the earlier
    # turn, and repeating it is fine when the passage holds the new fact.
    q = "How far is it from the border?"
    context = f"{q} (Which village did the fragments come down in? They came down in Harbacha.)"
    passage = "The missile came down in the village of Harbacha, about 15 kilometers from the border."
    claim = "The missile came down in Harbacha, about 15 kilometers from the border."
    assert support(claim, passage, q, context) == 1.0
    # Names and numbers the conversation holds need not be repeated by the passage...
    assert support("Harbacha is about 15 kilometers from the border.", "It lies 15 kilometers away.", q, context) > 0
    # ...but restating the question itself is still no answer, and new numbers must be in the passage.
    assert support("It is some distance from the border.", passage, q, context) == 0.0
    assert support("It is 20 kilometers from the border.", passage, q, context) == 0.0


def test_a_date_in_the_passage_supports_the_same_date_written_out():
    q = "On what date did Belarus say it shot down the missile?"
    passage = "date 2022-12-29 Belarus said Thursday it shot down a missile."
    assert support("Belarus said it shot down the missile on December 29, 2022.", passage, q) == 1.0
    assert support("Belarus said it shot down the missile on 29 December 2022.", passage, q) == 1.0
    assert support("Belarus said it shot down the missile on December 28, 2022.", passage, q) < 0.5


def test_an_iso_date_in_the_claim_is_supported_by_the_same_date_written_out():
    # The reverse of the test above: the model writes "2022-02-24" where the passage says "24 February";
    # the claim is kept in the passage's form, without the year the passage does not state.
    q = "On what date did the offensive begin?"
    passages = [Passage(1, "a.txt", 0, 60, "Russia launched its offensive into Ukraine on 24 February.", 0.9)]
    checked = verify("The offensive began on 2022-02-24 [1].", passages, question=q)
    assert checked.text == "The offensive began on 24 February [1]."
    assert "wrote out the ISO date" in checked.notes[0]
    assert not verify("The offensive began on 2022-02-25 [1].", passages, question=q).citations
    # The year is not taken from another article's date line: a date is not assembled from two passages.
    dated_elsewhere = Passage(2, "b.txt", 0, 50, "Belarus said it shot down a missile.", 0.8, date="2022-12-29")
    checked = verify("The offensive began on 2022-02-24 [1].", [passages[0], dated_elsewhere], question=q)
    assert checked.text == "The offensive began on 24 February [1]."
    # A date the passage gives in ISO form needs no rewriting.
    dated = [Passage(1, "a.txt", 0, 60, "date 2022-12-29 Belarus said it shot down a missile.", 0.9)]
    assert verify("It was shot down on 2022-12-29 [1].", dated, question=q).notes == ()


def test_a_claim_joining_two_passages_cites_both():
    passages = [
        Passage(1, "a.txt", 0, 50, "The army said it shot down 54 missiles out of 69.", 0.9),
        Passage(2, "b.txt", 0, 40, "The attack came on 29 December.", 0.8),
        Passage(3, "c.txt", 0, 40, "Sirens sounded in the capital.", 0.7),
    ]
    checked = verify("The army shot down 54 missiles out of 69 on 29 December.", passages)
    assert checked.text == "The army shot down 54 missiles out of 69 on 29 December [1][2]."
    assert [c.source for c in checked.citations] == ["a.txt", "b.txt"]
    assert not verify("The army shot down 54 missiles out of 70 on 29 December.", passages).citations


def test_common_words_do_not_join_two_passages():
    passages = [
        Passage(1, "a.txt", 0, 50, "Fragments were found in an agricultural field, the ministry said.", 0.9),
        Passage(2, "b.txt", 0, 60, "He compared it to the accidental landing of a missile in Poland.", 0.8),
    ]
    q = "What sort of terrain did the missile fragments fall on?"
    # "agricultural" from one passage and "land(ing)" from the other: no fact joins them.
    assert not verify("The missile fragments fell on agricultural land [1].", passages, question=q).citations
    # The same claim in the passage's own words is supported by that passage alone.
    checked = verify("They were found in an agricultural field [1].", passages, question=q)
    assert [c.source for c in checked.citations] == ["a.txt"]


def test_a_year_the_passage_does_not_state_is_removed_not_believed():
    passages = [Passage(1, "a.txt", 0, 60, "Lukashenko announced the deployment on 3 July.", 0.9)]
    checked = verify("Lukashenko announced the deployment on 3 July, 2022 [1].", passages)
    assert checked.text == "Lukashenko announced the deployment on 3 July [1]."
    assert any("removed a year" in n for n in checked.notes)
    # A year the user gave stays; a wrong day is not repaired.
    asked = verify("It was announced on 3 July 2024 [1].", passages, question="What happened in 2024?")
    assert "2024" in asked.text
    assert not verify("Lukashenko announced the deployment on 4 July, 2022 [1].", passages).citations


@pytest.mark.parametrize(
    ("question", "answer", "ok"),
    [
        ("Who summoned the ambassador?", "Belarus summoned the ambassador [1].", True),
        ("Who was the spokesperson for the ministry?", "The spokesperson for the ministry spoke [1].", False),
        ("What is the name of the spokesman?", "Anatoly Glaz [1].", True),
        ("How many people died?", "Two people died [1].", True),
        ("How many people died?", "People died in the village [1].", False),
        ("When did it land?", "It landed on Thursday morning [1].", True),
        ("When did it land?", "It landed in a field [1].", False),
        ("Where did it land?", "In a field [1].", True),
        ("What's that person's name?", "Anatoly Glaz [1].", True),
        ("What's that person's name?", "The foreign ministry spokesman [1].", False),
        ("Who owned the field?", "The field was owned by Ivanovo District [1].", False),  # a place
        ("Who spoke for the region?", "Oleg Konovalov of the Brest Region spoke [1].", True),
        ("Who reported it?", "The Brest Region Administration reported it [1].", True),
        ("Who voices Woodhouse?", "He was a cast member of Saturday Night Live and voiced Woodhouse [1].", False),
        ("Who plays the chief?", "She currently stars in Stranger Things as Police Chief Hopper [1].", False),
        ("Who spoke for the city?", "She is Maria Keller, the city's spokeswoman [1].", True),
        ("Who spoke for the city?", "Helen Ford spoke for the city [1].", True),
        ("Who fired the S-300?", "The S-300 was fired at night [1].", False),  # no name added
        ("Who uses the Soviet-era S-300?", "Soviet-era S-300 missiles are used [1].", False),
    ],
)
def test_answers_question_type(question: str, answer: str, ok: bool):
    assert answers_question_type(question, answer) is ok


def test_a_designation_or_a_number_the_question_holds_does_not_answer_how_far_or_when():
    context = "How far is it from the border? (Which village did the S-300 fragments come down in?)"
    assert not answers_question_type("How far is it from the border?", "The S-300 came down in Gorbakha [1].", context)
    assert answers_question_type("How far is it from the border?", "About 15 kilometers [1].", context)
    assert answers_question_type("How far is it?", "The S-300 fell 15 km away [1].", context)
    assert not answers_question_type("When in 2024 did he speak?", "Lukashenko spoke in 2024 [1].")
    assert answers_question_type("When did it land?", "It landed on 29.12.2022 [1].")
    # An earlier answer may already hold the number this turn asks for.
    context = "How many of them were shot down? (How many missiles were fired? 69, and 54 were shot down.)"
    assert answers_question_type("How many of them were shot down?", "54 were shot down [1].", context)


def test_a_name_the_conversation_holds_in_the_possessive_is_no_new_name():
    question = "What's that person's name?"
    context = f"{question} (Whom did his ministry summon? The Belarusian ministry summoned Ukraine’s ambassador.)"
    assert not answers_question_type(question, "The Belarusian ministry summoned Ukraine’s ambassador [1].", context)
    assert not answers_question_type(question, "Ukraine's ambassador [1].", context)
    assert answers_question_type(question, "Ukraine’s ambassador, Ihor Kizim [1].", context)


@pytest.mark.parametrize(
    ("question", "answer", "ok"),
    [
        ("What time was that in GMT?", "Between 10 a.m. and 11 a.m. local time [1].", False),
        ("What time was that in GMT?", "Around 10 am local time (0700 GMT) [1].", True),
        ("What time was the shootdown in GMT?", "At 07:00 UTC [1].", True),
        ("How many miles long would the front be?", "It would be 932 miles long [1].", True),
        ("How many miles long would the front be?", "It would be 1,500 km long [1].", False),
        ("How many kilometres from the border?", "About 15 km [1].", True),
        ("How many meters from a house?", "Just 66m [1].", True),
        ("How much was paid in dollars?", "5 million euros [1].", False),
        ("How far is it?", "About 15 km [1].", True),  # no unit asked: any will do
    ],
)
def test_a_number_or_time_asked_in_a_unit_must_be_given_in_it(question: str, answer: str, ok: bool):
    assert answers_question_type(question, answer) is ok


_UNITS_ASKED = (
    "GMT UTC km kilometer kilometers kilometre kilometres mile miles meter meters metre metres feet percent "
    "kg kilogram kilograms kilogramme kilogrammes ton tons tonne tonnes dollar dollars euro euros"
).split()


@pytest.mark.parametrize("unit", [*_UNITS_ASKED, "per cent"])
def test_every_unit_a_question_may_name_has_its_spellings(unit: str):
    assert asked_unit(f"How much was it in {unit}?")[0] == unit
    assert len(asked_unit(f"How much was it in {unit}?")) > 2


def test_a_name_the_conversation_already_holds_does_not_answer_who():
    context = "What's that person's name? (Who spoke for the Belarusian foreign ministry?)"
    assert not answers_question_type("What's that person's name?", "The Belarusian spokesman [1].", context)
    assert answers_question_type("What's that person's name?", "Anatoly Glaz [1].", context)


def test_a_passage_dated_before_the_year_asked_about_supports_no_claim_about_that_year():
    q = "What did Lukashenko say his forces had shot down in 2024?"
    old = Passage(1, "a.txt", 0, 60, "The army said it had shot down 54 missiles out of 69.", 0.9, date="2022-12-29")
    assert not verify("Lukashenko said they shot down 54 missiles out of 69 [1].", [old], question=q).citations
    # The same words in an article of that year, or an older one that names the year, support it.
    new = Passage(1, "b.txt", 0, 60, "The army said it had shot down 54 missiles out of 69.", 0.9, date="2024-07-03")
    assert verify("Lukashenko said they shot down 54 missiles out of 69 [1].", [new], question=q).citations
    named = Passage(
        1, "c.txt", 0, 60, "In 2024 the army will have shot down 54 missiles out of 69.", 0.9, date="2022-12-29"
    )
    assert verify("Lukashenko said they shot down 54 missiles out of 69 [1].", [named], question=q).citations
    # Undated passages and questions without a year are not judged by date.
    undated = Passage(1, "d.txt", 0, 60, "The army said it had shot down 54 missiles out of 69.", 0.9)
    assert verify("Lukashenko said they shot down 54 missiles out of 69 [1].", [undated], question=q).citations
    assert verify("They shot down 54 missiles out of 69 [1].", [old], question="What did they shoot down?").citations


def test_a_pronoun_passage_is_read_and_cited_with_the_passage_naming_its_person():
    named = Passage(1, "a.txt", 0, 60, "Tim Rozon (May 10, 1929 -- July 18, 2015) was an American actor.", 0.2)
    voiced = Passage(2, "a.txt", 61, 120, "He was a cast member of Saturday Night Live and voiced Woodhouse.", 0.9)
    other = Passage(3, "b.txt", 0, 30, "Archer is an animated series.", 0.5)
    answer = "Tim Rozon voiced Woodhouse [2]."
    linked = verify(answer, [named, replace(voiced, context_from=1), other], question="Who voiced Woodhouse?")
    assert linked.text == "Tim Rozon voiced Woodhouse [1][2]." and [c.source for c in linked.citations] == ["a.txt"] * 2
    assert not linked.notes  # read together, the cited passage supports it: nothing re-attributed

    # Unlinked, the passage that names him alone is all that is left to cite.
    alone = verify(answer, [named, voiced, other], question="Who voiced Woodhouse?")
    assert [c.start for c in alone.citations] != [0, 61]
