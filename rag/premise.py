"""A yes/no question whose premise the evidence contradicts: "Was the missile fired from Russia?"
over "... an air defence missile launched from Ukrainian territory".

The small reader answers such a question "Yes" or not at all (README "Session 15"); it does not say
"No, it came from Ukrainian territory". The contradiction is found without it, the way textual
entailment systems find one (de Marneffe, Rafferty and Manning, "Finding Contradictions in Text",
ACL 2008): a sentence about the same thing that says something else where the question says one.

- **Another name, year or number in the same place** (a number in digits or a count or ordinal
  word: "ten themes", "the second season"). A name's place in the question is the common
  noun after it ("Gomel region", "Iskander missile", "30 minutes"), else the preposition before it
  ("from Russia", "in 1989"); for "Was the missile ... an Iskander?" it is the noun the question asks
  about ("missile"). A sentence fills the same place with another of the same kind ("Brest region",
  "S-300 missile", "10 minutes", "from Ukrainian territory", "in 1993").
- **A part for the whole.** "every / all (the) N" against "54 N out of 69".
- **A first for an earlier one.** "Had Minsk reported anything like this before?" against "the
  first such incident reported by Minsk".

The sentence must be about what the question asks: it holds at least half of the question's other
content terms (two thirds for a first). It is no contradiction when the evidence puts the question's
own name in the place too, or puts several other names there (it does not agree on one); when the
sentence names the question's name as well (for a relation, close to the other name: "from Chilean
waters via Peru"); when the other name is one the question holds itself; or when places may nest:
a place named with its kind ("in the Brest region") or any place for a question whose place the
evidence names somewhere ("in Ukraine" against "at Lviv").

The places and what fills them (`tokens`, `Place`, `place_fillers`, `RELATIONS`, `about`) also serve
`rag/align.py`, which answers a "which" asked through a preposition from the sentence that fills it.

`none_said` finds the other kind of "No": a question whether there was any ("Was anybody killed or
injured ...?") whose refused "Yes" copies a shown sentence saying there was none, with its negation
dropped ("Yes, casualties were recorded" from "No casualties were recorded").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer_type import is_yes_no
from rag.polarity import contradicts, opening
from rag.text import (
    MONTHS,
    PLACE_WORDS,
    STOPWORDS,
    WEEKDAYS,
    WORD,
    YEAR,
    has_term,
    normalize,
    sentence_spans,
    terms,
    without_markers,
    word_terms,
)
from rag.types import Passage

_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")  # "54", "1,000", "2.5"
_TOKEN = re.compile(rf"{_NUMBER.pattern}(?![\w-])|{WORD.pattern}|[^\w\s]")
_DETERMINERS = frozenset({"the", "a", "an"})
# Prepositions by the relation they mark: "fell into Belarusian territory" places it as "in Belarus" does.
RELATIONS = {
    **dict.fromkeys("in into inside at on onto within".split(), "where"),
    **dict.fromkeys("from".split(), "whence"),
    **dict.fromkeys("to towards toward".split(), "whither"),
    **dict.fromkeys("by".split(), "by"),
}
_COPULA = frozenset({"is", "was", "are", "were"})
_TIME_NAME = re.compile("|".join(WEEKDAYS + MONTHS))
# "Had Minsk reported anything like this before?" against "the first such incident reported by Minsk".
_EARLIER = re.compile(r"\b(?:before|ever|previously|earlier)\b", re.I)
_FIRST = re.compile(
    r"\b(?:(?:the|its|their|a) first(?: ever)?(?! (?:of|to|time that)\b)(?: \w+){1,2}|for the first time)\b"
)
_COUNTS = {
    **dict.fromkeys("two three four five six seven eight nine ten eleven twelve twenty".split(), "number"),
    **dict.fromkeys("first second third fourth fifth sixth seventh eighth ninth tenth".split(), "ordinal"),
}
_ALL = frozenset({"every", "all", "each"})
_NEAR = 6  # words between the question's name and another's within which a sentence names both
_MIN_SHARE = 0.5  # share of the question's other content terms the sentence must hold
# A "first" stands for no earlier one only in a sentence about most of what the question asks: "the
# first such incident reported by Minsk" does not deny "Has Belarus ever summoned an ambassador?".
_MOST = 2 / 3


@dataclass(frozen=True)
class Contradiction:
    """A sentence of a shown passage that says otherwise than the question assumes."""

    passage: Passage
    sentence: str
    asked: str  # what the question says: "Russia", "every missile"
    said: str  # what the sentence says in its place: "Ukrainian", "54 missiles out of 69"
    by: str = "the question"  # who says `asked`: the question, or the answer that turned the sentence around

    def why(self) -> str:
        return f"passage [{self.passage.number}] says {self.said!r} where {self.by} says {self.asked!r}"


@dataclass(frozen=True)
class _Sentence:
    passage: Passage
    text: str
    words: list[str]  # `tokens(text)`, split once


@dataclass(frozen=True)
class Filler:
    terms: tuple[str, ...]  # a name a sentence puts in the question's place, as terms
    text: str  # as written
    start: int = 0  # where the name's words start in the sentence's words
    end: int = 0  # where they end
    mark: int = -1  # where the preposition before it stands, for a relation's place


@dataclass(frozen=True)
class Place:
    name: tuple[str, ...]  # the question's name (or number), as terms
    text: str  # as written
    kind: str  # "name", "year" or "number": a place is filled by a name of the same kind
    noun: tuple[str, ...] = ()  # the stemmed nouns after it ("air defence"), or the noun asked about
    relation: str = ""  # what the preposition before it marks (where, whence, ...), when it has no noun


def contradiction(question: str, passages: Sequence[Passage], context: str = "") -> Contradiction | None:
    """The best-ranked sentence of `passages` that contradicts the premise of the yes/no `question`
    (`context`: the conversation's words, for a follow-up), or None."""
    if not is_yes_no(question):
        return None
    words = tokens(question)
    places = _places(words)
    whole = _whole(words)
    earlier = _EARLIER.search(question)
    if not places and not whole and not earlier:
        return None
    sentences = [_Sentence(p, p.text[a:b], tokens(p.text[a:b])) for p in passages for a, b in sentence_spans(p.text)]
    topic = set(terms(f"{question} {context}", parts=False))
    own = {t for i, j in _runs(words) for t in name_terms(words[i:j])}
    for place in places:
        fillers = [(s, f) for s in sentences for f in place_fillers(place, s.words)]
        if any(_is_name(place.name, f.terms) for _, f in fillers):
            continue  # the evidence also says what the question says
        if place.relation == "where" and any(_names_near(place.name, (), s.words) for s in sentences):
            continue  # places nest: "in Ukraine" does not deny "at Lviv" when the evidence names Lviv
        others = [(s, f) for s, f in fillers if _may_deny(place, f, s.words, own)]
        if any(not _is_name(others[0][1].terms, f.terms) for _, f in others):
            continue  # the evidence puts several names there: "in Poland", "inside Belarus"
        for s, filler in others:
            if about(s.text, topic - set(place.name) - set(place.noun) or set(place.noun)):
                return Contradiction(s.passage, s.text, place.text, filler.text)
    if whole:
        noun, text = whole
        for s in sentences:
            part = _part_of(noun, s.text)
            if part and about(s.text, topic - {noun}):
                return Contradiction(s.passage, s.text, text, part)
    if earlier:
        for s in sentences:
            first = _FIRST.search(s.text)
            if first and about(s.text, topic - set(terms(earlier.group())), _MOST):
                return Contradiction(s.passage, s.text, earlier.group(), first.group())
    return None


def tokens(text: str) -> list[str]:
    """Words and punctuation marks: a comma ends a name or a compound ("Gorbakha, Ivanovo District")."""
    return _TOKEN.findall(text)


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and word.lower() not in STOPWORDS


def is_content(word: str) -> bool:
    return word[:1].islower() and word.lower() not in STOPWORDS and not word[:1].isdigit()


def is_noun(word: str) -> bool:
    """A content word that is not a participle or an adverb ("Russia launched", "missile reportedly")."""
    return is_content(word) and not word.lower().endswith(("ed", "ing", "ly")) and word.lower() not in _COUNTS


def nouns_from(words: Sequence[str], j: int) -> list[str]:
    """The common nouns from word j on, as written: "air defence" in "Belarusian air defence units"."""
    end = j
    while end < len(words) and is_noun(words[end]):
        end += 1
    return list(words[j:end])


def _compound(words: Sequence[str], j: int) -> tuple[str, ...]:
    """The stemmed nouns from word j on (`nouns_from`)."""
    return tuple(_stem(w) for w in nouns_from(words, j))


def _kind(words: Sequence[str]) -> str:
    """What a run of words names: a year ("1993"), another number ("54", "ten"), an ordinal
    ("second"), or a name."""
    if len(words) == 1 and _NUMBER.fullmatch(words[0]):
        return "year" if YEAR.fullmatch(words[0]) else "number"
    if len(words) == 1 and words[0].lower() in _COUNTS:
        return _COUNTS[words[0].lower()]
    return "name"


def _runs(words: Sequence[str], start: int = 0) -> list[tuple[int, int]]:
    """Runs of capitalised words (names), and numbers, from `start`, as (first, end) index pairs."""
    runs: list[tuple[int, int]] = []
    i = start
    while i < len(words):
        if _NUMBER.fullmatch(words[i]) or words[i].lower() in _COUNTS:
            runs.append((i, i + 1))
            i += 1
        elif _capitalised(words[i]):
            j = i
            while j < len(words) and _capitalised(words[j]):
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    return runs


def _terms(word: str) -> tuple[str, ...]:
    return word_terms(normalize(word), parts=False)


def name_terms(words: Sequence[str]) -> tuple[str, ...]:
    return tuple(t for w in words for t in _terms(w))


def _places(words: list[str]) -> list[Place]:
    """The places of the question's names and numbers (not of a time: "on Thursday"), but not the
    subject's, right after the auxiliary verb: "Did Belarus say ...?" is about Belarus."""
    places = []
    for i, j in [r for r in _runs(words, 1) if not _TIME_NAME.fullmatch(words[r[0]])]:
        if i == 1:
            continue  # the subject ("Did Belarus say ...?"): what the question is about, not its premise
        name = name_terms(words[i:j])
        text = " ".join(words[i:j])
        kind = _kind(words[i:j])
        noun = _compound(words, j)
        if noun:
            places.append(Place(name, text, kind, noun=noun))
            continue
        k = i - 1
        while k > 0 and words[k].lower() in _DETERMINERS:
            k -= 1
        if words[k].lower() in RELATIONS:
            places.append(Place(name, text, kind, relation=RELATIONS[words[k].lower()]))
        elif _ends(words, j) and words[i - 1].lower() in {"a", "an"} and words[0].lower() in _COPULA:
            # "Was the missile that came down in Belarus an Iskander?": the noun asked about.
            subject = next((w for w in words[1:i] if is_content(w)), "")
            if subject:
                places.append(Place(name, text, kind, noun=(_stem(subject),)))
    return places


def _ends(words: Sequence[str], j: int) -> bool:
    """Nothing but punctuation from word j on."""
    return not any(w[:1].isalnum() for w in words[j:])


def _stem(word: str) -> str:
    found = word_terms(normalize(word), keep_stopwords=True, parts=False)
    return found[0] if found else word.lower()


def place_fillers(place: Place, words: list[str]) -> list[Filler]:
    """The names a sentence puts in the place: before the noun, or after the preposition (past
    determiners and one modifier: "from the western Ukrainian border"); not a place's name after the
    preposition ("in the Brest region"), which may lie inside the question's ("in Belarus")."""
    found = []
    for i, j in _runs(words):
        if _TIME_NAME.fullmatch(words[i]) or _kind(words[i:j]) != place.kind:
            continue  # "on Thursday", "in November": a time, not a place or a thing; "in 1993" for a year
        if place.noun:
            noun = _compound(words, j)
            if len(noun) == len(place.noun) and all(has_term(a, {b}) for a, b in zip(noun, place.noun, strict=True)):
                found.append(Filler(name_terms(words[i:j]), " ".join(words[i:j]), i, j))
            continue
        k = i - 1
        while k >= 0 and words[k].lower() in _DETERMINERS:
            k -= 1
        if k >= 0 and is_content(words[k]) and k > 0 and words[k - 1].lower() in _DETERMINERS:
            k -= 1
            while k >= 0 and words[k].lower() in _DETERMINERS:
                k -= 1
        within = j < len(words) and words[j].lower() in PLACE_WORDS  # "in the Brest region" may be in Belarus
        # "a statement from Belarus's Defence Ministry": the preposition belongs to a noun, not to what
        # happened (as in "launched from Ukrainian territory").
        of_noun = k >= 2 and words[k - 2].lower() in _DETERMINERS and is_noun(words[k - 1])
        if k >= 0 and RELATIONS.get(words[k].lower()) == place.relation and not within and not of_noun:
            found.append(Filler(name_terms(words[i:j]), " ".join(words[i:j]), i, j, k))
    return found


def _may_deny(place: Place, filler: Filler, words: list[str], own: set[str]) -> bool:
    """Whether the name a sentence puts in the place can deny the question's: not when the question
    holds it itself ("in Chile" for "Did the Chilean tanker run aground in Peru?"), nor when the
    sentence names the question's name as well, anywhere for a thing ("Tarma lies beside the Lara
    province" for "the Tarma province") and close by for a relation ("from Chilean waters via Peru";
    farther off it does: "Russia's key ally Belarus said ... a missile launched from Ukrainian
    territory" for "from Russia")."""
    if any(has_term(t, own) for t in filler.terms):
        return False
    return not _names_near(place.name, () if place.noun else filler.terms, words)


def _is_name(name: tuple[str, ...], filler: tuple[str, ...]) -> bool:
    return any(has_term(t, set(name)) for t in filler)


def _names_near(name: tuple[str, ...], filler: tuple[str, ...], words: list[str]) -> bool:
    """The sentence (its `words`) names the question's name within a few words of the other name
    (anywhere, when no other name is given)."""
    at = [i for i, w in enumerate(words) if any(has_term(t, set(name)) for t in _terms(w))]
    other = [i for i, w in enumerate(words) if set(_terms(w)) & set(filler)]
    return (bool(at) and not filler) or any(abs(a - b) <= _NEAR for a in at for b in other)


def about(sentence: str, topic: set[str], share: float = _MIN_SHARE) -> bool:
    """The sentence holds at least `share` of the question's content terms (those given)."""
    if not topic:
        return False
    held = set(terms(sentence, parts=False))
    return sum(has_term(t, held) for t in topic) >= share * len(topic)


def _whole(words: list[str]) -> tuple[str, str] | None:
    """ "every missile" / "all (the) missiles": the stemmed noun and the words, or None."""
    for i, w in enumerate(words[:-1]):
        j = i + 2 if w.lower() == "all" and words[i + 1].lower() == "the" and i + 2 < len(words) else i + 1
        if w.lower() in _ALL and is_noun(words[j]):
            return _stem(words[j]), " ".join(words[i : j + 1])
    return None


_PART = re.compile(r"\b(\d[\d,]*)\s+([a-z][\w-]*)\s+(?:\w+\s+){0,3}?(?:out\s+)?of\s+(\d[\d,]*)\b")


def _part_of(noun: str, sentence: str) -> str:
    """ "54 missiles out of 69": a smaller number of the noun out of a larger one; "" if none."""
    for m in _PART.finditer(sentence):
        part, whole = (int(g.replace(",", "")) for g in (m.group(1), m.group(3)))
        if has_term(_stem(m.group(2)), {noun}) and part < whole:
            return m.group(0)
    return ""


# "Was anybody killed ...?", "Were there any arrests?", "Did anyone claim it?": whether something exists.
_EXISTENCE = re.compile(
    r"\b(?:any|anyone|anybody|anything|someone|somebody|something)\b|^\W*(?:is|are|was|were)\s+there\b", re.I
)
# A sentence that says there was none: "No casualties were recorded", "There are currently no reports
# of injuries", "Officials said nobody was hurt" (at the start of a clause, or of what was said).
_NONE = re.compile(
    r"(?:^|[,;:–—]\s*|\b(?:said|says|say|reported|stated|confirmed|added)\s+(?:that\s+)?)"
    r"(?:there\s+(?:is|are|was|were|(?:has|have|had)\s+been)\s+(?:\w+\s+)?no\b|no\s+one\b|nobody\b|none\b|no\s+\w+)",
    re.I,
)
_SOME = frozenset(terms("anyone anybody anything someone somebody something", parts=False))
_NEGATIVE_QUESTION = re.compile(r"\b(?:not|no|never|nobody|none)\b|n't\b", re.I)
_COPIED = 0.8  # share of the answer's content terms the sentence must hold: the answer copies it


def none_said(question: str, answer: str, passages: Sequence[Passage]) -> Contradiction | None:
    """A shown sentence that says there was none, which a "Yes" to an existence question copies with
    its negation dropped: "Yes, casualties were recorded" to "Was anybody killed or injured ...?" over
    "No casualties were recorded". The reader chose the sentence as the one that answers (its words
    are the bridge from "killed or injured" to "casualties") and turned it around; the sentence answers
    "No". None when the question asks no existence question, or is itself negative, or the answer does
    not open with "Yes" or copies no such sentence."""
    if not is_yes_no(question) or not _EXISTENCE.search(question) or _NEGATIVE_QUESTION.search(question):
        return None
    if opening(answer) != "yes":
        return None
    claim = re.sub(r"^\W*yes\b\W*", "", without_markers(answer), flags=re.I)
    said = set(terms(claim, parts=False)) - _SOME  # "somebody claimed it" copies "nobody claimed it"
    if not said:
        return None
    for p in passages:
        for a, b in sentence_spans(p.text):
            sentence = p.text[a:b]
            none = _NONE.search(sentence)
            if not none or not contradicts(claim, sentence):
                continue
            held = set(terms(sentence, parts=False))
            if sum(has_term(t, held) for t in said) >= _COPIED * len(said):
                return Contradiction(p, sentence, claim, none.group(0).strip(" ,;:–—"), by="the answer")
    return None
