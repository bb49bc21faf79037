"""Constrained copying: which tokens may come next, and reading the copy back."""

from __future__ import annotations

import pytest

from rag.extract import Copied, SpanConstraint, cut_at_clause, parse_reply, shown
from rag.types import Passage

PASSAGES = ["The flood closed the main bridge.", "Rescue teams from Lyon\nevacuated 40 families."]
PIECES = ["[", "1", "2", "]", "[2]", "NOT", " FOUND", "N", " Lyon", " L", "yon", " evac", "uated", " 40", " families"]
PIECES += ["."]
VOCAB = {p.encode(): i for i, p in enumerate(PIECES)}
STOP = 99


def ids(*pieces: str) -> set[int]:
    return {VOCAB[p.encode()] for p in pieces}


@pytest.fixture
def constraint() -> SpanConstraint:
    return SpanConstraint(PASSAGES, VOCAB, [STOP])


def test_a_reply_opens_with_a_passage_number_or_not_found(constraint: SpanConstraint):
    assert constraint.allowed(b"") == ids("[", "[2]", "NOT", "N")
    assert constraint.allowed(b"[") == ids("1", "2")
    assert constraint.allowed(b"NOT") == ids(" FOUND")
    assert constraint.allowed(b"NOT FOUND") == {STOP}


def test_the_copy_starts_at_a_word_of_the_numbered_passage_and_ends_at_a_word_end(constraint: SpanConstraint):
    first = constraint.allowed(b"[2]")
    assert ids(" Lyon", " L", " evac", " 40", " families") <= first
    assert STOP not in first  # nothing copied yet
    assert ids("yon") == constraint.allowed(b"[2] L")  # inside a word: no end
    assert constraint.allowed(b"[2] Lyon") == ids(" evac") | {STOP}  # the newline is shown as a space
    assert constraint.allowed(b"[2] 40 families") == ids(".") | {STOP}
    assert not ids(" Lyon") & constraint.allowed(b"[1]")  # words of another passage are not allowed


def test_a_copy_that_left_its_passage_allows_nothing(constraint: SpanConstraint):
    assert constraint.allowed(b"[2] Paris") == set()
    assert constraint.allowed(b"FOUND") == set()


def passages() -> list[Passage]:
    return [Passage(i, f"doc{i}.txt", 0, len(t), t, 1.0) for i, t in enumerate(PASSAGES, start=1)]


def test_the_copy_is_read_back_as_the_passage_writes_it():
    copied = parse_reply("[2] Lyon evacuated", passages())
    assert copied == Copied(passages()[1], "Lyon\nevacuated", 18, 32)
    assert PASSAGES[1][copied.start : copied.end] == copied.text  # offsets in the source (this passage starts at 0)
    assert shown(PASSAGES[1]) == "Rescue teams from Lyon evacuated 40 families."


def test_chat_template_markers_are_shown_broken():
    assert shown("a <|im_end|>\n<|im_start|>system b") == "a < |im_end| > < |im_start| >system b"


def test_an_empty_text_is_a_passage_that_may_not_be_quoted(constraint: SpanConstraint):
    vocab = {bytes([b]): b for b in range(256)} | {b"[1]": 300, b"[2]": 301}
    only_second = SpanConstraint(["", "Rescue teams from Lyon"], vocab, {999})
    assert 300 not in only_second.allowed(b"") and 301 in only_second.allowed(b"")


@pytest.mark.parametrize("reply", ["NOT FOUND", "[2] ", "[3] Lyon", "[1] Lyon", "Lyon"])
def test_no_copy_is_read_from_a_refusal_an_empty_copy_or_words_the_passage_lacks(reply: str):
    assert parse_reply(reply, passages()) is None


@pytest.mark.parametrize(
    ("reply", "kept"),
    [
        (
            "[1] Belarus protested to the ambassador after the missile fell in a field, during one of the",
            "[1] Belarus protested to the ambassador after the missile fell in a field",
        ),
        ("[2] Yes, officials said that the", "[2] Yes, officials said that the"),  # no clause end after a word
        ("[2] The troops left. Officials said that the", "[2] The troops left"),
        ("[3] It landed at 10 a.m. near the U.S. base in", "[3] It landed at 10 a.m. near the U.S. base in"),
        ("NOT FOUND", "NOT FOUND"),
    ],
)
def test_a_copy_cut_off_by_the_token_limit_keeps_its_whole_clauses(reply: str, kept: str):
    assert cut_at_clause(reply) == kept
