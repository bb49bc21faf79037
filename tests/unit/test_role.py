"""The role check: a "who is the X" answer is proven when its passage sets the name in apposition with X."""

from __future__ import annotations

import pytest

from rag.role import asked_role, holds_role, other_role
from rag.text import terms

GLAZ = (
    "Belarus Summons Ukrainian Ambassador\nAnatoly Glaz, a spokesperson for the Belarusian Foreign Ministry, "
    "confirmed on Thursday that the Ukrainian ambassador had been summoned to receive a formal protest."
)
LUKASHENKO = (
    'The event was reported "immediately" to Belarusian President Alexander Lukashenko, a firm supporter of '
    "Russian President Vladimir Putin."
)


def stems(*words: str) -> list[str]:
    return [t for w in words for t in terms(w, parts=False)]


@pytest.mark.parametrize(
    "question, head, words",
    [
        (
            "Who was the Belarusian foreign ministry spokesperson commenting on the missile?",
            "spokesperson",
            ["Belarusian", "foreign", "ministry"],
        ),
        ("Who was Belarus's defence minister when the S-300 was shot down?", "minister", ["Belarus", "defence"]),
        ("What was the name of the Ukrainian ambassador Belarus summoned?", "ambassador", ["Ukrainian"]),
        ("Who is the president of France?", "president", ["France"]),
        ("Who was the head of the armed forces in 2022?", "head", ["armed", "forces"]),
        ("Who's the mayor, according to the paper?", "mayor", []),
    ],
)
def test_the_role_a_question_names(question: str, head: str, words: list[str]):
    role = asked_role(question)
    assert role is not None and (role.head, role.words) == (stems(head)[0], tuple(stems(*words)))


@pytest.mark.parametrize(
    "question",
    [
        "Who summoned the ambassador?",
        "Who was told about the missile?",
        "Who spoke for them?",
        "What's that person's name?",
        "What did the spokesman say?",
    ],
)
def test_questions_that_name_no_role(question: str):
    assert asked_role(question) is None


def test_who_spoke_for_the_x_asks_for_its_spokesperson_and_refutes_no_other_role():
    role = asked_role("Who spoke for the Belarusian foreign ministry about the missile?")
    assert role is not None and not role.refutes
    assert role.words == tuple(stems("Belarusian", "foreign", "ministry"))
    assert holds_role(role, stems("Anatoly", "Glaz"), GLAZ)
    city = asked_role("Who spoke for the city?")
    keller = "Maria Keller, the city's spokeswoman, spoke."
    assert city is not None and holds_role(city, stems("Maria", "Keller"), keller)
    military = asked_role("Who spoke for the Ukrainian military?")
    assert military is not None and not holds_role(military, stems("Anatoly", "Glaz"), GLAZ)


def test_a_year_the_question_names_must_be_in_the_passage_or_its_date():
    role = asked_role("Who was the Belarusian foreign ministry spokesperson in 2010?")
    assert role is not None and role.years == ("2010",)
    assert not holds_role(role, stems("Anatoly", "Glaz"), GLAZ, date="2022-12-29")
    assert holds_role(role, stems("Anatoly", "Glaz"), GLAZ, date="2010-05-01")


@pytest.mark.parametrize(
    "question, name, passage, held",
    [
        # A comma, a few words, the head: an apposition after the name.
        ("Who was the Belarusian foreign ministry spokesperson?", "Anatoly Glaz", GLAZ, True),
        # The role's head in the same sentence, not apposed; and a headline on its own line.
        ("What was the name of the Ukrainian ambassador?", "Anatoly Glaz", GLAZ, False),
        # The head apposed, but the role's other words elsewhere.
        ("Who was the Ukrainian military spokesman?", "Anatoly Glaz", GLAZ, False),
        # A title before the name, its qualifier before the title.
        ("Who was Belarus's president?", "Alexander Lukashenko", LUKASHENKO, True),
        ("Who is the president of Belarus?", "Lukashenko", LUKASHENKO, True),
        ("Who was Belarus's defence minister?", "Alexander Lukashenko", LUKASHENKO, False),
        # "Lukashenko, a supporter of Russian President Putin" does not make Lukashenko Russia's president.
        ("Who was Russia's president?", "Alexander Lukashenko", LUKASHENKO, False),
        ("Who was Russia's president?", "Vladimir Putin", LUKASHENKO, True),
    ],
)
def test_a_passage_gives_the_name_the_role_only_in_apposition(question: str, name: str, passage: str, held: bool):
    role = asked_role(question)
    assert role is not None
    assert holds_role(role, stems(*name.split()), passage) is held


@pytest.mark.parametrize(
    "question, name, passage, other",
    [
        # "Glaz, a spokesperson for ...": another role than the ambassador asked about.
        ("What was the name of the Ukrainian ambassador?", "Anatoly Glaz", GLAZ, "spokesperson"),
        ("Who was the Belarusian foreign ministry spokesperson?", "Anatoly Glaz", GLAZ, None),
        ("Who was Russia's president?", "Alexander Lukashenko", LUKASHENKO, "supporter"),
        # A title before the name is not an apposition after it; nor is a name without one.
        ("Who was Belarus's defence minister?", "Vladimir Putin", LUKASHENKO, None),
        (
            "Who is the president of Belarus?",
            "Alexander Lukashenko",
            "Alexander Lukashenko, the president of Belarus",
            None,
        ),
    ],
)
def test_the_role_a_passage_gives_the_name_after_it(question: str, name: str, passage: str, other: str | None):
    role = asked_role(question)
    assert role is not None
    assert other_role(role, stems(*name.split()), passage) == other
