"""Whether a claim says the opposite of its passage: "Yes, casualties were recorded" against "No
casualties were recorded". Term-level support cannot see it (the words are the same), and an answer
that cites the passage contradicting it is the worst answer there is.

A term is negated when a negation word ("no", "not", "never", "n't", "without", ...) stands within
the few words before it in the same clause. A claim contradicts a passage when a content term they
share is negated in one and never in the other, so a passage that says both ("no casualties ... two
casualties in Poland") contradicts neither reading.
"""

from __future__ import annotations

import re

from rag.text import WORD, normalize, terms, terms_match, word_terms

_NEGATIONS = frozenset("no not never none nobody neither nor without cannot".split())
# Verbs that deny what the rest of their sentence says: "Russia denies having fired the missile".
_DENIALS = frozenset("deny denies denied denying denial".split())
_WINDOW = 3  # words before a term that a negation may stand in
_CLAUSE = re.compile(r"[,;:()\"“”]|\s[-–—]\s|\b(?:but|while|whereas|although|though|and)\b")
# "not only", "no longer", "no doubt": negation words that do not deny what follows.
_IDIOMS = re.compile(r"\b(?:not only|no longer|not just|no doubt|not least|nothing but)\b")


def term_polarity(text: str) -> tuple[set[str], set[str]]:
    """The stemmed content terms of `text` seen negated, and those seen plain."""
    negated: set[str] = set()
    plain: set[str] = set()
    for clause in _CLAUSE.split(_IDIOMS.sub(" ", normalize(text))):
        words = WORD.findall(clause)
        for i, word in enumerate(words):
            before = words[max(0, i - _WINDOW) : i]
            is_negated = any(w in _NEGATIONS or w.endswith("n't") for w in before)
            for term in word_terms(word, parts=False):
                (negated if is_negated else plain).add(term)
    return negated, plain


def contradicts(claim: str, passage: str) -> bool:
    """A content term the claim and the passage share is negated in one of them and never in the
    other."""
    c_neg, c_plain = term_polarity(claim)
    p_neg, p_plain = term_polarity(passage)
    denied = (c_plain - c_neg) & (p_neg - p_plain)  # the claim affirms what the passage only denies
    affirmed = (c_neg - c_plain) & (p_plain - p_neg)  # the claim denies what the passage only affirms
    return bool(denied or affirmed)


def has_denial(sentence: str) -> bool:
    """The sentence holds a verb of denial: what it says may be what someone denies."""
    return bool(_DENIALS & set(WORD.findall(normalize(sentence))))


_OPENING = re.compile(r"^\W*(yes|no)\b", re.I)


def denies_itself(question: str, answer: str) -> bool:
    """A yes/no answer whose opening word says the opposite of its own sentence: "No, the flood closed
    the bridge" to "Did the flood close the bridge?" (the sentence affirms every content term of the
    question), or "Yes, the bridge was not closed" (it negates one of them)."""
    opened = _OPENING.match(answer)
    asked = set(terms(question, parts=False))
    if not opened or not asked:
        return False
    negated, plain = term_polarity(answer[opened.end() :])
    denied, affirmed = negated - plain, plain - negated
    if opened.group(1).lower() == "yes":
        return any(terms_match(a, d) for a in asked for d in denied)
    return all(any(terms_match(a, s) for s in affirmed) for a in asked)
