"""Cut documents into chunks with llama-index's SentenceSplitter, keeping each chunk's exact span.

The splitter returns strings; we locate each one in the source text (moving forward only), so that
`document.text[chunk.start:chunk.end] == chunk.text` holds for every chunk, including repeated text.
Large documents are cut in windows at paragraph breaks so memory stays bounded by the window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from index.types import Chunk, Document, content_hash

_WORD = re.compile(r"\w+|[^\w\s]")
WINDOW_CHARS = 200_000


def word_tokens(text: str) -> list[str]:
    """A cheap, offline tokenizer: words and punctuation (about 0.8 MiniLM word-pieces each)."""
    return _WORD.findall(text)


@dataclass(frozen=True)
class ChunkSettings:
    chunk_size: int = 120  # in word_tokens
    chunk_overlap: int = 20

    def fingerprint(self) -> str:
        return f"sentence-splitter/words/{self.chunk_size}/{self.chunk_overlap}"


class Chunker:
    """Adapter around llama-index's SentenceSplitter; its types stay in here."""

    def __init__(self, settings: ChunkSettings, tokenizer: Callable[[str], list[str]] = word_tokens):
        from llama_index.core.node_parser import SentenceSplitter

        self.settings = settings
        self._splitter = SentenceSplitter(
            chunk_size=settings.chunk_size,
            chunk_overlap=settings.chunk_overlap,
            tokenizer=tokenizer,
            paragraph_separator="\n\n",
        )

    def chunk(self, doc: Document) -> Iterator[Chunk]:
        index = 0
        for offset, window in _windows(doc.text, WINDOW_CHARS):
            for start, end in locate_spans(window, self._splitter.split_text(window)):
                text = doc.text[offset + start : offset + end]
                yield Chunk(
                    id=content_hash(doc.source, str(offset + start), text, self.settings.fingerprint()),
                    source=doc.source,
                    start=offset + start,
                    end=offset + end,
                    text=text,
                    doc_hash=doc.doc_hash,
                    index=index,
                    title=doc.title,
                    date=doc.date,
                )
                index += 1


def locate_spans(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Find each piece in `text`, in order, allowing for whitespace the splitter normalised."""
    spans: list[tuple[int, int]] = []
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        # Overlapping chunks may start before the previous chunk's end, never before its start.
        search_from = spans[-1][0] + 1 if spans else 0
        at = text.find(piece, search_from)
        if at >= 0:
            spans.append((at, at + len(piece)))
            continue
        words = [re.escape(w) for w in piece.split()]
        match = re.compile(r"\s+".join(words)).search(text, search_from) if words else None
        if match:
            spans.append((match.start(), match.end()))
    return spans


def _windows(text: str, size: int) -> Iterator[tuple[int, str]]:
    """Split `text` into pieces of about `size` characters, cut at a paragraph or line break."""
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            for sep in ("\n\n", "\n", ". "):
                cut = text.rfind(sep, start + size // 2, end)
                if cut > 0:
                    end = cut + len(sep)
                    break
        yield start, text[start:end]
        start = end
