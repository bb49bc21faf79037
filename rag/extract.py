"""Extractive answers: words copied from one passage, held to it by constrained decoding.

A small reader that paraphrases past its passage ("fell on agricultural land" for "found in an
agricultural field"), restates the question, or names the wrong thing often copies the right words
when copying is all it may do. `SpanConstraint` says which tokens may come next so that the reply
stays `NOT FOUND`, or `[n]` followed by words copied from passage n, starting at a word and ending
at a word's end. Any runtime that can mask the next token's choices uses it (`rag.generate`); the
class itself knows only bytes and token ids, so it is tested without a model.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from rag.types import Passage

NOT_FOUND = "NOT FOUND"  # the reply that means no passage states the answer, for every prompt

_NOT_FOUND_BYTES = NOT_FOUND.encode()
_REPLY = re.compile(r"\s*\[(\d+)\]\s*(.*\S)\s*$", re.S)


# Chat-template markers a document may carry ("<|im_start|>system ..."): shown with a space inside, so
# the tokenizer never reads them as the real control tokens that end the user's turn.
_CONTROL = re.compile(r"<\|([^|<>\s]{1,32})\|>")


def shown(text: str) -> str:
    """A passage's text as the prompt shows it: whitespace runs as one space, chat-template markers
    broken ("<|im_end|>" as "< |im_end| >")."""
    return _CONTROL.sub(r"< |\1| >", " ".join(text.split()))


class SpanConstraint:
    """The tokens that may follow what was generated so far (as bytes), so that the reply is
    `NOT FOUND` or `[n]` + " " + words copied from `texts[n-1]` (as `shown`)."""

    def __init__(self, texts: Sequence[str], vocab: Mapping[bytes, int], stop: Collection[int]):
        # An empty text is a passage that may not be quoted: its number is not offered.
        self._targets = {f"[{i}]".encode(): f" {shown(t)}".encode() for i, t in enumerate(texts, start=1) if t.strip()}
        self._starts = {h: [i for i, c in enumerate(t) if c == 0x20] for h, t in self._targets.items()}
        self._vocab = vocab
        self._longest = max(map(len, vocab), default=1)
        self._stop = frozenset(stop)
        # The first tokens that begin NOT FOUND: the reader's probability of refusing is theirs.
        self.not_found_starts = frozenset(self._pieces(_NOT_FOUND_BYTES, 0))

    def allowed(self, generated: bytes) -> set[int]:
        out: set[int] = set()
        not_found = _NOT_FOUND_BYTES
        if generated == not_found:
            return set(self._stop)
        if not_found.startswith(generated):
            out |= self._pieces(not_found, len(generated))
        for head, target in self._targets.items():
            if len(generated) < len(head):
                if head.startswith(generated):
                    out |= self._pieces(head, len(generated))
                continue
            if not generated.startswith(head):
                continue
            body = generated[len(head) :]
            for start in self._starts[head]:
                if not target.startswith(body, start):
                    continue
                at = start + len(body)
                out |= self._pieces(target, at)
                if body.strip() and (at == len(target) or not _word_byte(target[at])):
                    out |= self._stop  # a copy may end where a word ends
        return out

    def _pieces(self, text: bytes, at: int) -> set[int]:
        """Tokens whose bytes are the text's next bytes from `at`."""
        found = set()
        for k in range(1, min(self._longest, len(text) - at) + 1):
            token = self._vocab.get(text[at : at + k])
            if token is not None:
                found.add(token)
        return found


_CLAUSE_END = re.compile(r"(?:[,;:]|(?<=\w\w)[.!?])(?=\s)")  # not the dots of "U.S." or "a.m."


def cut_at_clause(reply: str) -> str:
    """A copy that ran out of tokens, back to the end of its last whole clause: "[1] Belarus has
    protested to Ukraine's ambassador after saying ... in a field, during one of Russia's heaviest
    aerial onslaughts since the" → "[1] Belarus has protested ... in a field". Unchanged when it has no
    clause end after its first word."""
    m = _REPLY.match(reply)
    if not m:
        return reply
    body = m.group(2)
    ends = [e.start() for e in _CLAUSE_END.finditer(body) if " " in body[: e.start()].strip()]
    return f"[{m.group(1)}] {body[: ends[-1]]}" if ends else reply


def _word_byte(b: int) -> bool:
    return b >= 0x80 or chr(b).isalnum()


@dataclass(frozen=True)
class Copied:
    """The passage a reply copied from and the words copied, as the passage writes them; `start` and
    `end` are their offsets in the source file (`text == file[start:end]`)."""

    passage: Passage
    text: str
    start: int = 0
    end: int = 0


def parse_reply(reply: str, passages: Sequence[Passage]) -> Copied | None:
    """The copy a constrained reply holds; None for NOT FOUND, an empty copy, or words the passage
    does not hold (the copy is found again in the passage's own text, whitespace as written there)."""
    m = _REPLY.match(reply)
    if not m:
        return None
    number, words = int(m.group(1)), m.group(2).split()
    passage = next((p for p in passages if p.number == number), None)
    if passage is None or not words:
        return None
    found = re.search(r"\s+".join(map(re.escape, words)), passage.text)
    if not found:
        return None
    return Copied(passage, found.group(), passage.start + found.start(), passage.start + found.end())
