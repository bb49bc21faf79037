"""An answer split into claims: its sentences, each with the [n] markers that follow or sit inside it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import MARKER, sentence_spans

_LEADING_MARKERS = re.compile(rf"^(?:{MARKER.pattern})+")  # markers that open a piece: "[1][2] ..."


@dataclass(frozen=True)
class Claim:
    text: str  # the sentence without its markers
    markers: tuple[int, ...]


def parse_claims(answer: str) -> list[Claim]:
    """Split an answer into sentences with the markers that follow or sit inside each one."""
    answer = answer.strip()
    claims: list[Claim] = []
    spans = sentence_spans(answer)
    for a, b in spans:
        piece = answer[a:b]
        # Markers written at the start of a sentence ("... missile. [1] Then ...") belong to the one before.
        lead = _LEADING_MARKERS.match(piece)
        if lead and claims:
            prev = claims[-1]
            claims[-1] = Claim(prev.text, prev.markers + _numbers_in(lead.group(0)))
            piece = piece[lead.end() :]
        markers = _numbers_in(" ".join(m.group(0) for m in MARKER.finditer(piece)))
        text = MARKER.sub("", piece).strip()
        text = re.sub(r"\s+([.,;:!?])", r"\1", text)
        if text and re.search(r"\w", text):
            claims.append(Claim(text, markers))
        elif markers and claims:
            prev = claims[-1]
            claims[-1] = Claim(prev.text, prev.markers + markers)
    return claims


def _numbers_in(s: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", s))
