"""Whether a passage gives the person an answer names the role the question asks about.

"Who was the foreign ministry spokesperson?" answered "Anatoly Glaz" is proven by "Anatoly Glaz, a
spokesperson for the Belarusian Foreign Ministry": the role's head noun stands beside the name, in
the apposition news writing uses for roles ("Foreign Minister Sergei Lavrov", "Anatoly Glaz, a
spokesperson for ..."), and the role's other words are inside that apposition. A name that merely
shares a sentence with the role ("Glaz ... confirmed that the Ukrainian ambassador had been
summoned") is not proven to hold it.

Only questions that name a role with a determiner or a possessive are judged: "Who was the ...",
"Who is Belarus's ...", "What was the name of the ...". Others (who did, who said) have no role,
except "Who spoke for the X?", which asks for X's spokesperson (spokesman, spokeswoman): a passage
naming one proves the answer, but a name given another role is not refuted by it (a president
speaks for his country too).
A year the question names must be in the passage or its date: who held a role in 2022 does not say
who held it in 2010.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.text import YEAR, sentence_spans, terms, terms_match

_ROLE_QUESTION = re.compile(
    r"^\s*who(?:'s|’s|\s+(?:is|was|are|were))\s+(?P<a>.+)$|\bname\s+of\s+(?P<b>.+)$", re.I | re.S
)
_SPOKE_FOR = re.compile(
    r"^\s*who\s+(?:spoke|speaks|speak|has\s+spoken|had\s+spoken|was\s+speaking|is\s+speaking)\s+for\s+(?P<x>.+)$",
    re.I | re.S,
)
_SPOKES = "spokes"  # the head of "spokesperson", "spokesman", "spokeswoman" as terms_match reads it
_DETERMINER = re.compile(r"^(?:the|a|an)\s+", re.I)
_POSSESSIVE = re.compile(r"^\S+(?:'s|’s|s'|s’)\s+", re.I)
# Words that end a role phrase: prepositions, relative words, conjunctions.
_ENDS_ROLE = frozenset(
    "of in at on for to from by with during after before over about under since when where who whom whose "
    "which that while as and or but than".split()
)
_WORD = re.compile(r"[\w'’-]+|[^\w\s]")
_MAX_BEFORE = 3  # "President [Alexander] Lukashenko": the head at most this many words before the name
_MAX_AFTER = 5  # "Glaz, a spokesperson" / "Glaz, the ministry's spokesperson": after a comma, this many
_MAX_QUALIFIERS = 4  # "Belarusian Foreign Ministry spokesperson": words before the head that may qualify it


@dataclass(frozen=True)
class Role:
    head: str  # stemmed head noun: "spokesperson"
    words: tuple[str, ...]  # the role phrase's other stemmed terms: ("belarusian", "foreign", "ministri")
    years: tuple[str, ...] = ()  # years the question names: "Who was the mayor in 2010?"
    refutes: bool = True  # whether a name given another role in apposition is proven not to hold it


def asked_role(question: str) -> Role | None:
    """The role a "who is the X" / "name of the X" / "who spoke for the X" question asks about, or None."""
    asked = question.strip().rstrip("?").strip()
    spoke_for = _SPOKE_FOR.match(asked)
    m = spoke_for or _ROLE_QUESTION.search(asked)
    if not m:
        return None
    rest = (m.group("x") if spoke_for else m.group("a") or m.group("b") or "").strip()
    possessive = _POSSESSIVE.match(rest)
    determiner = _DETERMINER.match(rest) or possessive
    if not determiner:
        return None  # "Who was told ...": no role named
    phrase: list[str] = [rest[: determiner.end()].strip()] if possessive else []  # "Belarus's"
    previous_lower, qualifying = False, False
    head = ""
    for word in rest[determiner.end() :].split():
        bare = word.strip(",;:.!?\"'“”")
        lower = bare.lower()
        if lower == "of" and not qualifying and phrase:
            head, qualifying = phrase.pop(), True  # "the president of France": the head, then what qualifies it
            continue
        if qualifying and lower in ("the", "a", "an"):
            continue
        new_subject = not qualifying and (lower.endswith(("ing", "ed")) or (bare[:1].isupper() and previous_lower))
        if not bare or lower in _ENDS_ROLE or new_subject:
            break  # "the Ukrainian ambassador Belarus summoned": a new subject begins at "Belarus"
        phrase.append(bare)
        if bare != word.strip("\"'“”"):
            break  # punctuation ends the phrase: "the spokesman, who ..."
        previous_lower = bare[:1].islower()
    if head:
        phrase.append(head)
    stems = [t for w in phrase for t in terms(w, parts=False)]
    years = tuple(sorted(set(YEAR.findall(question))))
    if spoke_for:
        return Role(_SPOKES, tuple(stems), years, refutes=False) if stems else None
    if not stems:
        return None
    return Role(stems[-1], tuple(stems[:-1]), years)


def holds_role(role: Role, names: Sequence[str], passage: str, date: str = "") -> bool:
    """Whether a sentence (or line) of the passage sets one of the stemmed `names` in apposition with the
    role's head noun, the role's other words within that apposition, and the passage or its article's
    `date` holds the years the question names."""
    if any(year not in f"{passage} {date}" for year in role.years):
        return False
    for a, b in sentence_spans(passage):
        for line in passage[a:b].split("\n"):
            words = _WORD.findall(line)
            stems = [(terms(w, parts=False) or [""])[0] for w in words]
            heads = [i for i, s in enumerate(stems) if s and terms_match(role.head, s)]
            spots = [i for i, s in enumerate(stems) if s and any(terms_match(n, s) for n in names)]
            for h in heads:
                for n in spots:
                    window = _apposition(words, h, n)
                    if window and all(any(terms_match(r, s) for s in stems[window] if s) for r in role.words):
                        return True
    return False


def other_role(role: Role, names: Sequence[str], passage: str) -> str | None:
    """The role the passage gives a name in apposition after it, when that role is not the one asked
    about: "Anatoly Glaz, a spokesperson for the Belarusian Foreign Ministry" makes Glaz a spokesperson,
    not "the Ukrainian ambassador". None when no such apposition follows a name."""
    for line in passage.split("\n"):
        words = _WORD.findall(line)
        stems = [(terms(w, parts=False) or [""])[0] for w in words]
        for n, s in enumerate(stems):
            if not (s and words[n][:1].isupper() and any(terms_match(name, s) for name in names)):
                continue
            end = n
            while end + 1 < len(words) and words[end + 1][:1].isupper():
                end += 1  # the rest of the name: "Anatoly Glaz"
            after = words[end + 1 : end + 3]
            if len(after) < 2 or after[0] != "," or after[1].lower() not in ("a", "an", "the"):
                continue
            phrase: list[str] = []
            for w in words[end + 3 :]:
                if not re.match(r"\w", w) or w.lower() in _ENDS_ROLE:
                    break
                phrase.append(w)
            if phrase and not terms_match(role.head, (terms(phrase[-1], parts=False) or [""])[0]):
                return phrase[-1].lower()
    return None


def _apposition(words: list[str], head: int, name: int) -> slice | None:
    """The words of the apposition joining the role's head noun to the name, or None when they are not
    apposed."""
    if head < name:
        # "Belarusian Foreign Ministry spokesperson Anatoly Glaz": only capitalised words between; the
        # role's qualifiers stand just before its head.
        between = words[head + 1 : name]
        if len(between) < _MAX_BEFORE and all(w[:1].isupper() for w in between):
            return slice(max(0, head - _MAX_QUALIFIERS), name)
        return None
    # "Anatoly Glaz, a spokesperson for the Belarusian Foreign Ministry, confirmed": a comma after the
    # name's last capitalised word, a few words (no preposition: "Lukashenko, a supporter of Russian
    # President Putin" does not make him president), the head; its qualifiers run to the next punctuation.
    end = name
    while end + 1 < len(words) and words[end + 1][:1].isupper():
        end += 1
    between = words[end + 1 : head]
    words_between = [w.lower() for w in between[1:]]
    if not (
        0 < len(between) <= _MAX_AFTER
        and between[0] == ","
        and all(re.match(r"\w", w) and w not in _ENDS_ROLE for w in words_between)
    ):
        return None
    stop = next((i for i in range(head + 1, len(words)) if not re.match(r"\w", words[i])), len(words))
    return slice(end + 1, stop)
