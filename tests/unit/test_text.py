"""Lexical terms: the per-word cache gives exactly what the word-by-word rules give."""

from __future__ import annotations

import re

import pytest

from rag.config import PROJECT_ROOT
from rag.text import STOPWORDS, WORD, normalize, stem, terms, word_terms


def terms_uncached(text: str, keep_stopwords: bool = False, parts: bool = True) -> list[str]:
    """The rules as `terms` applied them before its per-word cache, kept here as the specification."""
    out: list[str] = []
    for match in WORD.finditer(normalize(text)):
        word = match.group(0).strip("'")
        if word.endswith("'s"):
            word = word[:-2]
        pieces = [p for p in re.split(r"[-.']", word) if len(p) >= 2] if parts and re.search(r"[-.']", word) else []
        for w in (word, *pieces):
            if not w or (not keep_stopwords and w in STOPWORDS):
                continue
            out.append(stem(w))
    return out


SAMPLES = [
    "The S-300 missile's debris fell 66 meters from a house in Brest, officials said.",
    "Belarus’ ministry summoned Ukraine's ambassador; U.S. officials weren't told — 'no comment'.",
    "It's the 3.5% rate at 10 a.m.: e-mail, co-operation, x-ray... Ａｎｄ ﬁnally ''quoted'' text's end",
    "",
]


@pytest.mark.parametrize("keep_stopwords", [False, True])
@pytest.mark.parametrize("parts", [True, False])
def test_terms_are_the_word_by_word_rules(keep_stopwords: bool, parts: bool):
    corpus = [p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "data" / "corpus").iterdir())]
    for text in SAMPLES + corpus:
        assert terms(text, keep_stopwords, parts) == terms_uncached(text, keep_stopwords, parts)


def test_a_repeated_word_is_worked_out_once():
    word_terms.cache_clear()
    terms("lighthouse keepers and lighthouse keepers")
    info = word_terms.cache_info()
    assert (info.misses, info.hits) == (3, 2)  # "and" is a miss too: its answer (no terms) is cached
    assert word_terms("s-300") == ("s-300", "300")
    assert word_terms("the") == () and word_terms("the", keep_stopwords=True) == ("the",)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who summoned the ambassador?", "name"),
        ("What is the name of the spokesman?", "name"),
        ("How many missiles were fired?", "number"),
        ("How far is the village from the border?", "number"),
        ("When did the missile land?", "time"),
        ("Which weekday was it?", "time"),
        ("At what time was it shot down?", "time"),
        ("What did they demand?", None),
    ],
)
def test_asked_kind(question: str, kind: str | None):
    from rag.answer_type import asked_kind

    assert asked_kind(question) == kind


def test_holds_kind():
    from rag.answer_type import holds_kind

    assert holds_kind("number", "about 15 kilometers") and holds_kind("number", "two people")
    assert holds_kind("number", "No casualties were recorded")  # "none" answers "how many"
    assert not holds_kind("number", "in a field near the village")
    assert holds_kind("time", "on Wednesday") and holds_kind("time", "at 0700 GMT")
    assert not holds_kind("time", "in a field near the village")
    with pytest.raises(ValueError):
        holds_kind("name", "Anatoly Glaz")  # type: ignore[arg-type]


def test_without_markers_takes_out_every_citation_marker():
    from rag.text import without_markers

    assert (
        without_markers("Glaz [1], then Lukashenko [2, 3]; nothing more [4;5].")
        == "Glaz, then Lukashenko; nothing more."
    )
