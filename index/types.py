"""The data that ingestion produces: documents read from disk and the chunks cut from them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


def content_hash(*parts: str) -> str:
    """A stable hex id for a sequence of strings (parts are length-prefixed, so no two splits collide)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()[:32]


@dataclass(frozen=True)
class Document:
    """One source file as read: `text` is what citations index into (UTF-8 text of the file, or the
    text extracted from HTML/PDF)."""

    source: str  # path relative to the indexed folder, with forward slashes
    text: str
    doc_hash: str
    title: str = ""
    date: str = ""


@dataclass(frozen=True)
class Chunk:
    """A span of a document: `text == document.text[start:end]`, always."""

    id: str
    source: str
    start: int
    end: int
    text: str
    doc_hash: str
    index: int = 0
    title: str = ""
    date: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    source: str
    reason: str
