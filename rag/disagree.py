"""Disagreement: where another article gives a different value for what was asked.

The short answer sits in a slot of its cited sentence: the common words around it ("near the village
of ___", "killed ___ people", "collapsed on ___"; other names and numbers are values, not slot). A
sentence of a passage from another source file disagrees when its article tells the same story (its
shown passages hold half the question's words that the answer's article holds), it is about the same
thing (it holds the names the question gives that the cited sentence holds, and half its other
question words) and holds, in the same slot (its nearest word on one side, the question's words next
to it, the same preposition before it, two matches in all), a value of the answer's kind (name,
number, date) that is not the answer's. Two names are one name spelled two ways when their letters agree up to
transliteration (`rag.values.spelled_alike`); numbers and dates only differ in value.

Conservative on purpose: a false "the sources disagree" is worse than a missed one. So a sentence that
also states the answer's value agrees; a source any of whose aligned sentences agrees is no
disagreement; a slot two different values fill equally well is skipped; a number said loosely ("about
50", "more than 50") or counting another thing ("15 km" / "20 miles") contradicts nothing. Swept over
the gold answers of the news, planted-news, BIG-bench-conflicts and QuAC sets (every sentence holding
a gold answer as the cited one), it reported only Gorbakha / Harbacha and Oleg / Olek Konovalov; over
the suite's answers (session 22) also a narrator and an actress of other stories, which the same-story
test now turns away.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer_type import Kind
from rag.guard import gives_instructions
from rag.question import Question
from rag.text import STOPWORDS, WORD, has_term, sentence_spans, terms
from rag.types import Disagreement, DisagreementKind, Passage, ShortAnswer
from rag.values import Key, Value, comparable, compare_names, loose, loosely_agree, same_value, values

# Chosen by hand, not measured (there is no dev set of disagreements yet); strict on purpose.
_NEAR = 3  # content words read on each side of the answer: its slot
_NEAR_OTHER = 4  # ... and of a candidate, which may phrase the slot with a word more
_ASKED_REACH = 3  # the question's words this close to the answer (in words) say what is asked
_MIN_FIT = 2  # slot words matched (`_fit`): one shared word ("missile") does not make a slot
_MIN_ANCHORS = 0.5  # share of the question's other words in the cited sentence the other sentence must hold
_PREPOSITIONS = frozenset(
    "in on at over under from to into onto by with near of for after before since during about against "
    "across through between among around toward towards".split()
)


@dataclass(frozen=True)
class _Slot:
    left: tuple[tuple[str, int], ...]  # content terms before the value, nearest first, with their distance
    right: tuple[tuple[str, int], ...]
    next_left: str  # the word right before the value, function word or not; "" across punctuation
    next_right: str


@dataclass(frozen=True)
class _Found:
    value: Value
    score: int
    passage: Passage
    end: int  # the value's span may grow by the answer's own words around it ("56 people")
    start: int


def find_disagreements(
    question: Question, short: ShortAnswer, cited: Passage, passages: Sequence[Passage]
) -> tuple[Disagreement, ...]:
    """The values passages from other source files give, in the answer's slot, for what was asked: one
    per source file, in passage order. () when the answer is not a name, number or date, or its
    sentence shares no word with the question, or none of the names the question gives."""
    home = next((p for p in (cited, *passages) if _holds(p, short)), None)
    if home is None:
        return ()
    at, to = short.start - home.start, short.end - home.start
    sentence = next(((a, b) for a, b in sentence_spans(home.text) if a <= at and to <= b), None)
    if sentence is None:
        return ()
    answer = _core(question.kind, home.text, at, to)
    if answer is None or loose(home.text, answer.start):
        return ()
    slot = _slot(home.text, sentence, answer.start, answer.end)
    said = set(terms(short.text, parts=False))
    asked = [t for t in dict.fromkeys(terms(question.text, parts=False)) if t not in said]
    in_sentence = set(terms(home.text[sentence[0] : sentence[1]], parts=False))
    anchors = [t for t in asked if has_term(t, in_sentence)]
    named = [n for n in question.names + question.numbers if not _says(short.text, n)]
    names = [n for n in named if _says(home.text[sentence[0] : sentence[1]], n)]
    names += _named_by_question(question, home.text, sentence, answer)
    if not anchors or (named and not names):
        return ()  # what the other sentence must be about is not in the answer's sentence
    must = {t for t, d in slot.left + slot.right if d <= _ASKED_REACH and has_term(t, set(anchors))}
    # Not answers: the other values of the cited sentence (shared context: "in the Brest district"),
    # and values the question itself states.
    shared = {v.key for v in values(answer.kind, home.text, *sentence, sentence_start=sentence[0])}
    shared |= {v.key for v in values(answer.kind, question.text, sentence_start=0, years=True)}
    by_source: dict[str, list[_Found]] = {}
    story = _told(asked, passages, short.source)
    for p in passages:
        if p.source == short.source:
            continue  # an article repeating itself is no disagreement
        if gives_instructions(p.text):
            continue  # text that tells the assistant what to say reports nothing
        if len(_told(story, passages, p.source)) < _MIN_ANCHORS * len(story):
            continue  # another story: its shown passages hold few of the question's words the answer's hold
        for a, b in sentence_spans(p.text):
            text = p.text[a:b]
            if not all(_says(text, n) for n in names) or not _about(anchors, names, text):
                continue
            found = _best_in(answer, slot, must, shared, p, (a, b))
            if found is not None:
                by_source.setdefault(p.source, []).append(found)
    return tuple(_disagreement(answer, short, home, fs) for fs in by_source.values() if _disagrees(answer, fs))


def _told(words: Sequence[str], passages: Sequence[Passage], source: str) -> list[str]:
    """The words (question terms) that the shown passages of one article hold: what the article is
    about, as far as the question goes. "narrated" alone does not make "The show, narrated by Future
    Ted, ..." the story of "the Vietnam documentary on PBS"."""
    held = {t for p in passages if p.source == source for t in terms(p.text, parts=False)}
    return [w for w in words if has_term(w, held)]


def _named_by_question(question: Question, text: str, sentence: tuple[int, int], answer: Value) -> list[str]:
    """The names of the answer's sentence that the question says in lower case too ("who first recorded
    tainted love?": "Tainted Love"), as the sentence writes them."""
    asked = {w.lower() for w in WORD.findall(question.text)}
    runs = [text[v.start : v.end] for v in values("name", text, *sentence, sentence_start=sentence[0])]
    return [r for r in runs if r != text[answer.start : answer.end] and {w.lower() for w in WORD.findall(r)} <= asked]


def _holds(p: Passage, short: ShortAnswer) -> bool:
    return p.source == short.source and p.start <= short.start and short.end <= p.end


def _core(kind: Kind | None, text: str, at: int, to: int) -> Value | None:
    """The one value of the short answer: of the kind asked, or, when the question asks no kind, of the
    kind the answer's shape says (a date, else a number, else a name). None when it holds none or two."""
    kinds: tuple[Kind, ...] = (kind,) if kind else ("time", "number", "name")
    for k in kinds:
        found = values(k, text, at, to, sentence_start=None, years=True)
        if found:
            return found[0] if len(found) == 1 else None
    return None


def _says(text: str, word: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.I) is not None


def _about(anchors: Sequence[str], names: Sequence[str], text: str) -> bool:
    """The sentence holds enough of the question's words the cited sentence holds (names apart)."""
    named = {t for n in names for t in terms(n, parts=False)}
    rest = [t for t in anchors if t not in named]
    here = set(terms(text, parts=False))
    return not rest or sum(has_term(t, here) for t in rest) >= _MIN_ANCHORS * len(rest)


def _slot(text: str, sentence: tuple[int, int], start: int, end: int, near: int = _NEAR) -> _Slot:
    before = list(WORD.finditer(text, sentence[0], start))[::-1]
    after = list(WORD.finditer(text, end, sentence[1]))
    return _Slot(_content(before, near), _content(after, near), _word(before, text, start), _word(after, text, end))


def _content(words: list[re.Match[str]], near: int) -> tuple[tuple[str, int], ...]:
    """The nearest content words, with their distance from the value. Not numbers nor capitalised
    words: they are other values ("Ukraine and Poland" / "Ukraine and Russia" share no slot)."""
    out: list[tuple[str, int]] = []
    for distance, m in enumerate(words, 1):
        found = terms(m.group(), parts=False)
        if found and not found[0][:1].isdigit() and not m.group()[:1].isupper():
            out.append((found[0], distance))
        if len(out) == near:
            break
    return tuple(out)


def _word(words: list[re.Match[str]], text: str, at: int) -> str:
    """The word right next to the value, "" when punctuation comes between ("Dravnik, in the ...")."""
    if not words:
        return ""
    near = words[0]
    gap = text[near.end() : at] if near.start() < at else text[at : near.start()]
    return near.group().lower() if gap.isspace() else ""


def _best_in(
    answer: Value, slot: _Slot, must: set[str], shared: set[Key], p: Passage, sentence: tuple[int, int]
) -> _Found | None:
    """The value of the answer's kind that best fills the answer's slot in this sentence, if one does;
    the answer's own value when the sentence states it anywhere."""
    candidates = values(answer.kind, p.text, *sentence, sentence_start=sentence[0], years=_is_year(answer))
    if any(same_value(answer, c) for c in candidates):
        c = next(c for c in candidates if same_value(answer, c))
        return _Found(c, 1_000, p, c.end, c.start)
    scored = [(s, c) for c in candidates if c.key not in shared and (s := _fit(answer, slot, must, p, sentence, c))]
    if not scored:
        return None
    scored.sort(key=lambda sc: -sc[0])
    best_score, best = scored[0]
    if any(s == best_score and not same_value(best, c) for s, c in scored[1:]):
        return None  # two values fill the slot equally well: which one is meant is not clear
    return _Found(best, best_score, p, best.end, best.start)


def _is_year(v: Value) -> bool:
    n = v.key[0]
    return v.kind == "number" and isinstance(n, float) and n.is_integer() and 1900 <= n < 2100


def _fit(answer: Value, slot: _Slot, must: set[str], p: Passage, sentence: tuple[int, int], c: Value) -> int:
    """How well the candidate fills the answer's slot: one for each word of the answer's slot found on
    the same side of the candidate, at most a word further away, and one for each function word right
    next to it that is the same ("village of ___", "on ___"). 0 when the answer's nearest word is
    found on neither side, when the function word next to it is another one, when a word of the
    question next to the answer is missing around the candidate, or when it scores below `_MIN_FIT`."""
    if not comparable(answer, c) or (
        c.kind == "number" and loose(p.text, c.start) and loosely_agree(answer, c, p.text)
    ):
        return 0
    other = _slot(p.text, sentence, c.start, c.end, _NEAR_OTHER)
    if any(not _within(t, _ASKED_REACH + 1, other.left + other.right) for t in must):  # a word more, as for the slot
        return 0
    if c.kind == "number" and not _counts_alike(slot, other):
        return 0
    left = [_within(t, d, other.left) for t, d in slot.left]
    right = [_within(t, d, other.right) for t, d in slot.right]
    if not (left[:1] == [True] or right[:1] == [True]):
        return 0  # the word next to the answer, on one side at least, is what makes the slot
    nexts = ((slot.next_left, other.next_left), (slot.next_right, other.next_right))
    if slot.next_left != other.next_left and slot.next_left in _PREPOSITIONS and other.next_left in _PREPOSITIONS:
        return 0  # "in Minsk" / "over Iskanders": the preposition before it says what the slot holds
    same = sum(left) + sum(right) + sum(a == b and a in STOPWORDS for a, b in nexts)
    return same if same >= _MIN_FIT else 0


def _within(term: str, distance: int, side: tuple[tuple[str, int], ...]) -> bool:
    """The term is on this side, at most one word further than `distance`."""
    return any(d <= distance + 1 and has_term(term, {t}) for t, d in side)


def _counts_alike(a: _Slot, b: _Slot) -> bool:
    """Two numbers count the same thing: the word right after each, when both have one that is not a
    function word, is the same ("54 people" / "56 people", not "15 km" / "20 miles")."""
    if not a.right or not b.right or a.right[0][1] != 1 or b.right[0][1] != 1:
        return True
    return has_term(a.right[0][0], {b.right[0][0]})


def _disagrees(answer: Value, found: list[_Found]) -> bool:
    """No sentence of the source agrees with the answer, and some sentence gives another value."""
    return bool(found) and not any(same_value(answer, f.value) for f in found)


def _disagreement(answer: Value, short: ShortAnswer, home: Passage, found: list[_Found]) -> Disagreement:
    best = max(found, key=lambda f: f.score)
    p = best.passage
    start, end = _grown(short, home, answer, p, best.value)
    kind: DisagreementKind = "value"
    if answer.kind == "name" and compare_names(answer.key, best.value.key) == "spelling":
        kind = "spelling"
    if kind == "spelling":  # a name beside a name: "Gorbakha [1] is spelled Harbacha ..."
        start, end = best.value.start, best.value.end
    # The answer's value in the same words: "54 people" beside "56 people", "Gorbakha" beside "Harbacha".
    before, after = p.text[start : best.value.start], p.text[best.value.end : end]
    a, b = answer.start, answer.end
    if before and home.text[a - len(before) : a] == before:
        a -= len(before)
    if after and home.text[b : b + len(after)] == after:
        b += len(after)
    return Disagreement(p.number, p.source, p.start + start, p.start + end, p.text[start:end], kind, home.text[a:b])


def _grown(short: ShortAnswer, home: Passage, answer: Value, p: Passage, value: Value) -> tuple[int, int]:
    """The candidate's span with the answer's own words around its value, where the other passage has
    them too: "56 people" for the answer "54 people", "Ukrainian foreign ministry" for "Belarusian
    foreign ministry"."""
    at = short.start - home.start
    before = WORD.findall(home.text[at : answer.start])
    after = WORD.findall(home.text[answer.end : at + len(short.text)])
    start, end = value.start, value.end
    if after:
        m = re.match(r"\W+".join([""] + [re.escape(w) for w in after]), p.text[end:], re.I)
        end += m.end() if m else 0
    if before:
        m = re.search(r"\W+".join([re.escape(w) for w in before] + [""]) + r"$", p.text[:start], re.I)
        start = m.start() if m else start
    return start, end
