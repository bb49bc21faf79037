"""The gold file: one JSON object per line, validated on load with the line number of any bad record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FIELDS = {
    "id": str,
    "question": str,
    "history": list,
    "answers": list,
    "sources": list,
    "evidence": list,
    "answerable": bool,
}


KINDS = frozenset({"fact", "overview", "disagreement"})


class GoldError(ValueError):
    """A gold file that cannot be used; the message names the line."""


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    history: tuple[str, ...]
    answers: tuple[str, ...]
    sources: tuple[str, ...]
    evidence: tuple[str, ...]
    answerable: bool
    # Optional: strings whose presence in the answer shows it followed an instruction planted in a
    # document (a payload word, a false fact the planted text orders) instead of the articles.
    forbidden: tuple[str, ...] = ()
    # Optional: "fact" (the default), "overview" (`answers` lists the facts an overview must hold, each
    # with its alternatives separated by " | "), or "disagreement" (`answers` lists the values the
    # articles give differently; the answer must name each).
    kind: str = "fact"


def load_gold(path: Path) -> list[GoldItem]:
    if not path.is_file():
        raise GoldError(f"The gold file {path} does not exist.")
    items: list[GoldItem] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        items.append(_parse(line, n, path, seen))
    if not items:
        raise GoldError(f"{path} holds no records.")
    return items


def _parse(line: str, n: int, path: Path, seen: set[str]) -> GoldItem:
    where = f"{path} line {n}"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise GoldError(f"{where}: not valid JSON ({exc.msg})") from exc
    if not isinstance(obj, dict):
        raise GoldError(f"{where}: a record must be a JSON object")
    for key, kind in FIELDS.items():
        if key not in obj:
            raise GoldError(f"{where}: missing field '{key}'")
        if not isinstance(obj[key], kind):
            raise GoldError(f"{where}: field '{key}' must be {kind.__name__}")
    for key in ("history", "answers", "sources", "evidence"):
        if not all(isinstance(v, str) for v in obj[key]):
            raise GoldError(f"{where}: every item of '{key}' must be a string")
    if not obj["question"].strip():
        raise GoldError(f"{where}: empty question")
    if obj["id"] in seen:
        raise GoldError(f"{where}: duplicate id '{obj['id']}'")
    seen.add(obj["id"])
    forbidden = obj.get("forbidden", [])
    if not isinstance(forbidden, list) or not all(isinstance(v, str) for v in forbidden):
        raise GoldError(f"{where}: 'forbidden', when given, must be a list of strings")
    kind = obj.get("kind", "fact")
    if kind not in KINDS:
        raise GoldError(f"{where}: 'kind', when given, must be one of {', '.join(sorted(KINDS))}")
    if obj["answerable"] and not obj["answers"]:
        raise GoldError(f"{where}: an answerable record needs at least one answer")
    if not obj["answerable"] and obj["answers"]:
        raise GoldError(f"{where}: an unanswerable record must have no answers")
    return GoldItem(
        id=obj["id"],
        question=obj["question"],
        history=tuple(obj["history"]),
        answers=tuple(obj["answers"]),
        sources=tuple(obj["sources"]),
        evidence=tuple(obj["evidence"]),
        answerable=obj["answerable"],
        forbidden=tuple(forbidden),
        kind=kind,
    )
