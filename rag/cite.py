"""Citation handling as pure functions: parse [n] markers, map them to passages, verify support.

A claim (one sentence of the answer) is supported by a passage when the passage contains at least
`min_coverage` of the claim's content terms (stemmed, prefix-tolerant: Belarus ~ Belarusian) and
every number and name the claim adds to the conversation. A marker pointing at no passage is
removed; a claim whose cited passages fail the check is re-attributed to a passage, or a pair of
passages, that passes it, or dropped. Markers in the returned text are renumbered 1..m in order of
first appearance, matching the citation list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer_type import is_yes_no
from rag.claims import parse_claims
from rag.polarity import contradicts, has_denial
from rag.text import (
    ISO_DATE,
    NUMBER_WORDS,
    YEAR,
    dates_written_out,
    has_term,
    normalize,
    sentence_spans,
    terms,
    terms_match,
    with_dates_written_out,
)
from rag.types import Citation, Passage

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True)
class Verified:
    text: str
    citations: tuple[Citation, ...]
    dropped: tuple[str, ...]  # claims removed as unsupported
    notes: tuple[str, ...]  # what verification changed, for the record


_NUMBER_WORDS = {w: str(i) for i, w in enumerate(NUMBER_WORDS)}
_DISCOURSE = frozenset({"yes", "no", "not", "none", "nobody"})


def _numbers(text: str) -> set[str]:
    words = re.findall(r"[a-z]+", normalize(text))
    found = {n.replace(",", "") for n in _NUMBER.findall(text)}
    return found | {_NUMBER_WORDS[w] for w in words if w in _NUMBER_WORDS}


def _canon(words: list[str]) -> set[str]:
    return {_NUMBER_WORDS.get(w, w) for w in words}


def support(claim: str, passage_text: str, question: str = "", context: str = "") -> float:
    """Share of the claim's new content terms (those not already in the question) found in the
    passage; 0 if the claim states a number or a name that neither the passage nor the conversation
    holds, or if it only restates a wh-question without answering it.

    `question` is what the user asked in this turn; `context` is the conversation it stands in (the
    search query rewritten from earlier turns): its names and numbers may be repeated, but repeating
    it is not an answer to the new question. A date in the passage (2022-12-29) also supports the
    same date written out (29 December 2022)."""
    passage_text = with_dates_written_out(passage_text)
    given = _canon(terms(question, parts=False))
    said = given | _canon(terms(context, parts=False))
    pterms = _canon(terms(passage_text, parts=False))
    if _new_numbers(claim, question, context) - _numbers(passage_text):
        return 0.0  # a number the claim adds is missing from the passage: "3 people" vs "two"
    if any(not has_term(n, pterms | said) for n in _names(claim)):
        return 0.0  # a name the claim adds is in neither the passage nor the conversation: "Mr. Keller"
    if _predates(passage_text, question):
        return 0.0  # the passage was written before the year asked about: it cannot report that year
    if contradicts(claim, passage_text):
        return 0.0  # "Yes, casualties were recorded" against "No casualties were recorded"
    cterms = [
        t for t in dict.fromkeys(_NUMBER_WORDS.get(t, t) for t in terms(claim, parts=False)) if t not in _DISCOURSE
    ]
    yes_no = bool(question) and is_yes_no(question)
    # A yes/no follow-up's words may come from the conversation too ("Was it fired from Russia?" after a
    # question about the missile): "Yes, the missile was fired from Russia" adds nothing but them.
    new = [t for t in cterms if not has_term(t, said if yes_no else given)]
    if not new:
        # Restating "Who was the spokesperson?" is no answer. Restating a yes/no question is one ("Yes,
        # the missile was Ukrainian"), but its words all come from the question, so finding them in a
        # passage proves nothing ("Was the missile an Iskander?" - "Yes" against "The Polonaise and
        # Iskander missile systems"): a passage sentence must say it in the same words, in order.
        if question and not yes_no:
            return 0.0
        return 1.0 if cterms and _says_in_order(cterms, passage_text) else 0.0
    return sum(1 for t in new if has_term(t, pterms)) / len(new)


def _says_in_order(claim_terms: list[str], passage_text: str) -> bool:
    """A sentence of the passage holds the claim's terms in the claim's order (other words between
    them allowed) and denies nothing."""
    for a, b in sentence_spans(passage_text):
        sentence = passage_text[a:b]
        if has_denial(sentence):
            continue
        left = iter(terms(sentence, parts=False))
        if all(any(terms_match(t, s) for s in left) for t in claim_terms):
            return True
    return False


def _predates(passage_text: str, question: str) -> bool:
    """The passage is dated (its article's date, an ISO date) and every year it names is earlier than
    the years the question asks about: "What did he say in 2024?" cannot be answered from an article
    of 2022 that does not mention 2024, however well its words match."""
    asked = {int(y) for y in YEAR.findall(question)}
    if not asked or not ISO_DATE.search(passage_text):
        return False
    named = {int(y) for y in YEAR.findall(passage_text)}
    return not (asked & named) and max(named) < min(asked)


_TITLES = frozenset("mr mrs ms dr prof sir gen col lt sgt president minister".split())


def _names(text: str) -> set[str]:
    """Stemmed capitalised words that do not open a sentence: the names a claim states."""
    found: set[str] = set()
    opens = True
    for word in text.split():
        bare = word.strip("\"'“”‘’()[],;:")
        lower = bare.lower().rstrip(".")
        if bare[:1].isupper() and not opens and lower not in _TITLES:
            found.update(terms(bare, parts=False))
        opens = word.endswith((".", "!", "?", ":")) and lower not in _TITLES
    return found


def verify(
    answer: str, passages: Sequence[Passage], min_coverage: float = 0.5, question: str = "", context: str = ""
) -> Verified:
    """Keep the claims of `answer` that a passage supports (see `support`; `question` and `context`
    are passed on to it), each with the passages that support it."""
    by_number = {p.number: p for p in passages}
    kept: list[tuple[str, list[int]]] = []
    dropped: list[str] = []
    notes: list[str] = []
    # A passage is read with the passage it is read after (`Passage.context_from`), and cited with it:
    # "He voiced Woodhouse" proves "Tim Rozon voiced Woodhouse" only beside "Tim Rozon (...)".
    after = {p.number: p.context_from for p in passages if p.context_from in by_number and p.context_from != p.number}
    evidence = {p.number: _evidence(p) for p in passages}
    evidence = {n: f"{evidence[after[n]]} {text}" if n in after else text for n, text in evidence.items()}
    asked = _numbers(question) | _numbers(context)
    for claim in parse_claims(answer):
        valid = [n for n in dict.fromkeys(claim.markers) if n in by_number]
        if len(valid) < len(set(claim.markers)):
            notes.append(f"removed marker(s) pointing at no passage in: {claim.text!r}")
        text = claim.text
        good, moved = _supporters(text, valid, evidence, min_coverage, question, context)
        if not good:
            for rewritten, why in _rewrites(text, asked):
                good, moved = _supporters(rewritten, valid, evidence, min_coverage, question, context)
                if good:
                    notes.append(f"{why} {text!r}")
                    text = rewritten
                    break
        if moved:
            notes.append(f"re-attributed {text!r} from {valid} to {good}")
        if good:
            kept.append((text, list(dict.fromkeys(m for n in good for m in ([after[n], n] if n in after else [n])))))
        else:
            dropped.append(text)
    return _render(kept, by_number, tuple(dropped), tuple(notes))


def _supporters(
    claim: str, cited: list[int], evidence: dict[int, str], min_coverage: float, question: str, context: str
) -> tuple[list[int], bool]:
    """The passages that support `claim`: those it cites, else their union, else the best single
    passage, else the pair that supports it best (for these two the second value is True when the
    claim cited others: it was re-attributed). Ties go to the lower passage numbers (better ranked)."""
    good = [n for n in cited if support(claim, evidence[n], question, context) >= min_coverage]
    if good:
        return good, False
    # The union of the cited passages may support what no single one does.
    if cited and support(claim, " ".join(evidence[n] for n in cited), question, context) >= min_coverage:
        return cited, False
    numbers = sorted(evidence)
    scored = [(support(claim, evidence[n], question, context), -n) for n in numbers]
    best_score, best = max(scored, default=(0.0, 0))
    if best_score >= min_coverage:
        return [-best], bool(cited)
    # A claim may join two passages' facts ("54 of 69 missiles" from one, the day from another): the
    # pair that supports it best, both cited, when each passage holds a number or name of the claim
    # that the other lacks (what each holds is found once, not once per pair). Common words do not
    # join passages: "fell on agricultural land" is not proven by "agricultural field" plus another
    # article's "landing".
    facts = _stated_facts(claim, question, context)
    held = {n: _facts_in(facts, evidence[n]) for n in numbers} if facts else {}
    pairs = [
        (support(claim, f"{evidence[a]} {evidence[b]}", question, context), -a, -b)
        for i, a in enumerate(numbers)
        for b in numbers[i + 1 :]
        if held and held[a] - held[b] and held[b] - held[a]
    ]
    pair_score, a, b = max(pairs, default=(0.0, 0, 0))
    if pair_score >= min_coverage:
        return [-a, -b], bool(cited)
    return [], False


def _new_numbers(claim: str, question: str, context: str) -> set[str]:
    """The numbers the claim states that the question and the conversation do not."""
    return _numbers(claim) - _numbers(question) - _numbers(context)


def _stated_facts(claim: str, question: str, context: str) -> set[str]:
    """The numbers and (stemmed) names the claim states that the conversation does not already hold,
    years aside: the parts of a date are not assembled from two passages ("24 February" from one
    article, "2022" from another article's date line)."""
    numbers = {n for n in _new_numbers(claim, question, context) if not YEAR.fullmatch(n)}
    return numbers | added_names(claim, question, context)


def added_names(claim: str, question: str, context: str = "") -> set[str]:
    """The (stemmed) names the claim states that the question and the conversation do not hold."""
    said = _canon(terms(f"{question} {context}", parts=False))
    return {n for n in _names(claim) if not has_term(n, said)}


def _facts_in(facts: set[str], passage_text: str) -> set[str]:
    """Which of the facts the passage holds (a date it gives in ISO form counts written out too)."""
    text = with_dates_written_out(passage_text)
    numbers = _numbers(text)
    words = _canon(terms(text, parts=False))
    return {f for f in facts if f in numbers or has_term(f, words)}


def _evidence(p: Passage) -> str:
    """What a passage shows the generator: its text, and its article's date when known."""
    return f"{p.text} {p.date}" if p.date else p.text


def _rewrites(claim: str, asked: set[str]) -> list[tuple[str, str]]:
    """Forms of an unsupported claim that may hold, each with the note that says what changed. Small
    models add a year the passage does not state ("on 3 July, 2022"): without the years the user did
    not give, the claim may hold. They also write a date in ISO form ("2022-02-24") that the passage
    writes out ("24 February"), which then may need its year removed too."""
    spelled = dates_written_out(claim)  # years are cut from written-out dates, never from inside ISO ones
    trimmed = _without_years(spelled, keep=asked)
    found: list[tuple[str, str]] = []
    if spelled != claim:
        found.append((spelled, "wrote out the ISO date of"))
    if trimmed != spelled:
        why = (
            "wrote out the ISO date, without a year its passage does not state, of"
            if found
            else "removed a year its passage does not state from"
        )
        found.append((trimmed, why))
    return found


def _without_years(claim: str, keep: set[str]) -> str:
    """The claim without the years it states, except those in `keep`."""
    for year in set(YEAR.findall(claim)) - keep:
        claim = re.sub(rf",?\s*(?:\bin\s+)?\b{year}\b", "", claim)
    return claim


def _render(
    kept: list[tuple[str, list[int]]],
    by_number: dict[int, Passage],
    dropped: tuple[str, ...],
    notes: tuple[str, ...],
) -> Verified:
    order: dict[int, int] = {}
    parts: list[str] = []
    for text, numbers in kept:
        for n in numbers:
            order.setdefault(n, len(order) + 1)
        marks = "".join(f"[{order[n]}]" for n in numbers)
        end = len(text.rstrip(".!?"))
        parts.append(f"{text[:end]} {marks}{text[end:] or '.'}")
    citations = tuple(_citation(new, by_number[old]) for old, new in sorted(order.items(), key=lambda kv: kv[1]))
    return Verified(" ".join(parts), citations, dropped, notes)


def _citation(number: int, p: Passage) -> Citation:
    return Citation(number, p.source, p.start, p.end, p.text, p.title, p.date)
