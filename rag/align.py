"""A "which" question asked through a preposition, answered by the sentence that fills the same place:
"From which country's territory was the missile that fell in Belarus launched?" over "... an air
defence missile launched from Ukrainian territory".

The reader answers such a question with another name it finds nearby ("Russia", from "Russia's key
ally Belarus said ..."), or not at all. The answer is found the way early question-answering systems
matched a question to a candidate sentence (surface patterns: Ravichandran and Hovy, ACL 2002): the
question's preposition marks a relation ("from": where something came from; `rag.premise.RELATIONS`),
and a sentence answers when it puts a name in that relation right after one of the question's own
words ("launched from Ukrainian territory"), and is about what the question asks (at least half of
its other content terms). Every shown sentence that does so must give the same name, and a name the
question holds itself ("Belarus") is no answer. Questions for a time or a number ("In what year ...",
"On which day ...") are left to the reader and the checks made for them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer_type import asked_kind, is_yes_no
from rag.premise import RELATIONS, Place, about, is_content, name_terms, nouns_from, place_fillers, tokens
from rag.text import has_term, sentence_spans, terms
from rag.types import Passage

# "From which country's territory was ...", "In which city did ...": the preposition, the words naming
# what is asked for, and the auxiliary verb after them.
_ASKED = re.compile(
    r"^\W*(?P<prep>[a-z]+)\s+(?:which|what)\s+(?:[\w'’-]+\s+){0,3}?"
    r"(?:is|was|are|were|did|does|do|has|have|had|will|would|could|can)\b",
    re.I,
)
_REACH = 3  # words before the preposition within which the sentence must hold one of the question's


@dataclass(frozen=True)
class Aligned:
    """A shown sentence that answers the question in the place it asks about."""

    passage: Passage
    sentence: str
    answer: str  # the preposition, the name and the noun after it: "from Ukrainian territory"


def aligned_answer(question: str, passages: Sequence[Passage], context: str = "") -> Aligned | None:
    """The best-ranked shown sentence that puts a name where the `question` asks "which" through a
    preposition, when every such sentence puts the same name there; None otherwise. `context`: the
    earlier questions, for a follow-up."""
    asked = _ASKED.match(question)
    if not asked or is_yes_no(question) or asked_kind(question) in ("time", "number"):
        return None
    relation = RELATIONS.get(asked.group("prep").lower())
    if relation is None:
        return None
    rest = question[asked.end() :]
    own = set(name_terms(tokens(question)))
    said = {t for w in tokens(rest) if is_content(w) for t in terms(w, parts=False)}
    topic = set(terms(f"{rest} {context}", parts=False))  # names too: the sentence is about them
    named = set(name_terms([w for w in tokens(rest) if w[:1].isupper()]))
    place = Place(name=(), text="", kind="name", relation=relation)
    found: list[tuple[Passage, str, tuple[str, ...], str]] = []
    for p in passages:
        for a, b in sentence_spans(p.text):
            sentence = p.text[a:b]
            words = tokens(sentence)
            for filler in place_fillers(place, words):
                before = {t for w in words[max(0, filler.mark - _REACH) : filler.mark] for t in terms(w, parts=False)}
                if any(has_term(t, own) for t in filler.terms) or not any(has_term(t, before) for t in said):
                    continue
                end = _of_name(words, filler.end)  # "Wicked Witch of the West", "University of Cambridge"
                noun = nouns_from(words, end)  # "territory" in "Ukrainian territory, in the first ..."
                if len(filler.text) < 2 or _names_after(words, end + len(noun)):
                    continue  # an initial ("by D. H. Lawrence"), a modifier ("by American singer Lady Gaga")
                if about(sentence, topic) and _names_one(named, sentence):
                    text = " ".join([words[filler.mark], *words[filler.start : end], *noun])
                    found.append((p, sentence, filler.terms, text))
    if not found or any(not set(name) & set(found[0][2]) for _, _, name, _ in found):
        return None
    p, sentence, _, text = found[0]
    return Aligned(p, sentence, text)


def _names_after(words: Sequence[str], j: int) -> bool:
    """A name starts at word j."""
    return j < len(words) and words[j][:1].isupper()


def _of_name(words: Sequence[str], j: int) -> int:
    """Where a name ending at word j ends when "of (the) Name" continues it."""
    k = j + 1 + (j + 1 < len(words) and words[j + 1].lower() == "the")
    if j < len(words) and words[j].lower() == "of" and k < len(words) and words[k][:1].isupper():
        while k < len(words) and words[k][:1].isupper():
            k += 1
        return k
    return j


def _names_one(named: set[str], sentence: str) -> bool:
    """The sentence names one of the names the question names after its auxiliary verb, if it names any."""
    held = set(terms(sentence, parts=False))
    return not named or any(has_term(t, held) for t in named)
