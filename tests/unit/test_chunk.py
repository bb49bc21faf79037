"""Chunk spans are exact, even with repeated text and normalised white space."""

from __future__ import annotations

from index.chunk import Chunker, ChunkSettings, locate_spans
from index.types import Document, content_hash


def test_locate_spans_moves_forward_through_repeated_text():
    text = "Alpha beta. Alpha beta. Gamma."
    assert locate_spans(text, ["Alpha beta.", "Alpha beta.", "Gamma."]) == [(0, 11), (12, 23), (24, 30)]


def test_locate_spans_tolerates_normalised_white_space():
    text = "One  two\nthree four."
    [(start, end)] = locate_spans(text, ["One two three four."])
    assert text[start:end] == "One  two\nthree four."


def test_chunks_are_exact_slices_with_content_hash_ids():
    body = "\n\n".join(f"Paragraph {i}. " + "Words follow here and there. " * 20 for i in range(12))
    doc = Document("a.txt", body, content_hash(body))
    chunks = list(Chunker(ChunkSettings(60, 10)).chunk(doc))
    assert len(chunks) > 5
    assert all(body[c.start : c.end] == c.text for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)
    again = list(Chunker(ChunkSettings(60, 10)).chunk(doc))
    assert [c.id for c in again] == [c.id for c in chunks]
    other = list(Chunker(ChunkSettings(60, 10)).chunk(Document("b.txt", body, content_hash(body))))
    assert not {c.id for c in other} & {c.id for c in chunks}
