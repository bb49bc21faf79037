"""The passages the reader is shown: the best scored sentences, numbered [1]..[n], within a character
budget, some read with a neighbour (the sentence that names a pronoun's person, the next sentence of
the same line)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from rag.answer_type import asked_kind, holds_asked
from rag.rerank import ScoredSentence
from rag.text import PERSON_PRONOUNS_AND_POSSESSIVES
from rag.types import Passage

ANTECEDENT_RANKS = 3
CONTINUED_RANKS = 1
_PRONOUN_SUBJECT = re.compile(rf"^\W*(?:{PERSON_PRONOUNS_AND_POSSESSIVES})\b", re.I)
_PRONOUN = re.compile(rf"\b(?:{PERSON_PRONOUNS_AND_POSSESSIVES})\b", re.I)


def to_passages(
    sentences: Sequence[ScoredSentence],
    n: int,
    max_chars: int = 2400,
    antecedents: int = ANTECEDENT_RANKS,
    continued: int = CONTINUED_RANKS,
    question: str = "",
) -> list[Passage]:
    """The first n sentences, within a character budget (prompt length is the main cost), some with a
    neighbour; the last ones make room:
    - a sentence among the first `antecedents` whose subject is a pronoun ("He was a cast member ...
      and voiced Woodhouse") comes after the sentence that names its person (`_antecedent`), and is
      read with it (`Passage.context_from`);
    - each of the first `continued` sentences makes one passage with the next sentence of its line
      (`_follower`), its exact span: news states a fact, then its particulars ("Russia and Ukraine use
      S-300 missiles ... but for distinct objectives. Ukraine uses the defense system to intercept
      incoming Russian missiles, while Russia employs it to attack ground-based targets."); not when
      the `question` asks for a number or a time that the sentence already holds.
    Only scored sentences are shown: a neighbour outside the chunks kept is not fetched."""
    kind = asked_kind(question)
    chosen: list[ScoredSentence] = []
    context: dict[int, int] = {}  # index in chosen -> index of the sentence it is read after
    follows: dict[int, int] = {}  # index in chosen of a follower -> index of the sentence it continues

    def place(s: ScoredSentence) -> int:
        if s not in chosen:
            chosen.append(s)
        return chosen.index(s)

    for rank, s in enumerate(sentences[:n]):
        named = _antecedent(s, sentences) if rank < antecedents else None
        before = place(named) if named is not None else None
        at = place(s)
        if before is not None and before < at:
            context.setdefault(at, before)
        follower = _follower(s, sentences) if rank < continued and not holds_asked(kind, s.text) else None
        if follower is not None:
            follows.setdefault(place(follower), at)
    out: list[Passage] = []
    number: dict[int, int] = {}  # index in chosen -> number of the passage showing it
    used = 0
    for i, s in enumerate(chosen[:n]):
        if out and used + len(s.text) > max_chars:
            break
        used += len(s.text)
        j = follows.get(i)
        if j is not None and number.get(j) == len(out):  # the last passage ends with the sentence it continues
            # _follower found it exactly after that sentence's recorded white space.
            out[-1] = replace(out[-1], end=s.end, text=f"{out[-1].text}{chosen[j].space_after}{s.text}")
            number[i] = len(out)
            continue
        number[i] = len(out) + 1
        read_after = number.get(context[i]) if i in context else None
        out.append(Passage(len(out) + 1, s.source, s.start, s.end, s.text, s.score, s.title, s.date, read_after))
    return out


def _antecedent(s: ScoredSentence, sentences: Sequence[ScoredSentence], reach: int = 3) -> ScoredSentence | None:
    """For a sentence whose subject is a pronoun, the nearest sentence before it in its source that
    holds no third-person pronoun ("Tim Rozon (May 10, 1929 -- July 18, 2015) was an American ...
    actor", two sentences before "He was a cast member ..."), walking back over adjacent sentences
    only, at most `reach` of them; None when there is none."""
    if not _PRONOUN_SUBJECT.match(s.text):
        return None
    same = _in_order(s.source, sentences)
    i = same.index(s)
    for before in reversed(same[max(0, i - reach) : i]):
        if not _adjacent(before, same[i]):
            return None  # a sentence between them is not among the scored ones
        if not _PRONOUN.search(before.text):
            return before
        i -= 1
    return None


def _follower(s: ScoredSentence, sentences: Sequence[ScoredSentence]) -> ScoredSentence | None:
    """The sentence right after s in its source when the two share a line (a paragraph) and it was
    scored; else None."""
    if s.space_after is None:
        return None
    same = _in_order(s.source, sentences)
    i = same.index(s)
    return same[i + 1] if i + 1 < len(same) and same[i + 1].start == s.end + len(s.space_after) else None


def _in_order(source: str, sentences: Sequence[ScoredSentence]) -> list[ScoredSentence]:
    return sorted((t for t in sentences if t.source == source), key=lambda t: t.start)


def _adjacent(first: ScoredSentence, second: ScoredSentence) -> bool:
    """Only white space lies between the two (at most three characters of it)."""
    return first.end <= second.start <= first.end + 3
