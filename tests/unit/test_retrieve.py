"""Hybrid retrieval: lexical matches for rare tokens, fusion, and answering from the last complete index
(while a run writes, and while the next snapshot is built)."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from index.types import Chunk, content_hash
from rag.config import Settings
from rag.factory import build_pipeline, open_store, run_index
from rag.passages import to_passages
from rag.rerank import ScoredSentence
from rag.retrieve import HybridRetriever, Snapshot, SnapshotSource
from tests.fakes import FakeGenerator, HashEmbedder


def chunk(source: str, text: str) -> Chunk:
    return Chunk(content_hash(source, text), source, 0, len(text), text, "h")


def test_bm25_finds_rare_tokens_and_numbers():
    snap = Snapshot(
        [chunk("a", "The S-300 missile fell."), chunk("b", "A house 66 meters away."), chunk("c", "Nothing here.")]
    )
    assert snap.chunks[snap.bm25("S-300", 3)[0][0]].source == "a"
    assert snap.chunks[snap.bm25("how far, 66 meters?", 3)[0][0]].source == "b"
    assert snap.bm25("unrelated words", 3) == []


def test_hybrid_retrieval_ranks_the_matching_chunk_first(settings: Settings, corpus: Path):
    embedder = HashEmbedder()
    run_index(settings, corpus, embedder=embedder)
    pipeline = build_pipeline(settings, embedder=embedder, generator=FakeGenerator())
    hits = pipeline.retriever.retrieve("Anatoly Glaz spokesperson", 5)
    assert "Glaz" in hits[0].chunk.text
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_answers_come_from_the_last_complete_index_while_a_run_writes(settings: Settings, corpus: Path):
    embedder = HashEmbedder()
    run_index(settings, corpus, embedder=embedder)
    pipeline = build_pipeline(settings, embedder=embedder, generator=FakeGenerator())
    source = pipeline.retriever.source  # type: ignore[attr-defined]
    source._check_every_s = 0
    before = source.current()
    # A run in progress: chunks written, generation not yet bumped.
    store = open_store(settings, writable=True)
    fresh = chunk("new.txt", "Zanzibar lighthouse keepers went on strike.")
    store.add([fresh], embedder.embed([fresh.text]), n_chunks=1)
    hits = pipeline.retriever.retrieve("Zanzibar lighthouse strike", 5)
    assert all(h.chunk.source != "new.txt" for h in hits)
    assert source.current() is before
    store.bump_generation()  # the run completes; the next snapshot is built in the background
    pipeline.retriever.retrieve("Zanzibar lighthouse strike", 5)
    assert source.wait_for_rebuild(30)
    hits = pipeline.retriever.retrieve("Zanzibar lighthouse strike", 5)
    assert hits[0].chunk.source == "new.txt"


class GatedStore:
    """An in-memory SearchStore whose chunk listing can be held at a gate, as a slow rebuild would be."""

    def __init__(self, chunks: list[Chunk], embedder: HashEmbedder):
        self.chunks = chunks
        self.embedder = embedder
        self.gen = 0
        self.gate = threading.Event()
        self.gate.set()
        self.listing = threading.Event()
        self.fail_next = False

    def generation(self) -> int:
        return self.gen

    def iter_chunks(self) -> list[Chunk]:
        self.listing.set()
        assert self.gate.wait(30)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("store busy")
        return list(self.chunks)

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        sims = self.embedder.embed([c.text for c in self.chunks]) @ vector
        return [(self.chunks[i].id, float(sims[i])) for i in np.argsort(-sims)[:k]]


NEWS = [
    chunk("a.txt", "A missile fell in the Brest region of Belarus."),
    chunk("b.txt", "The ambassador was summoned by the foreign ministry."),
    chunk("c.txt", "Rates rose by a quarter point at the central bank."),
]
FRESH = chunk("new.txt", "Zanzibar lighthouse keepers went on strike.")


def gated_retriever() -> tuple[GatedStore, SnapshotSource, HybridRetriever]:
    embedder = HashEmbedder()
    store = GatedStore(list(NEWS), embedder)
    source = SnapshotSource(store, check_every_s=0)
    retriever = HybridRetriever(source, embedder, candidates=3)
    retriever.warm_up()  # the first snapshot is built now, synchronously
    assert len(source.current()) == 3
    return store, source, retriever


def test_a_new_generation_is_built_in_the_background_while_answers_use_the_last_snapshot():
    store, source, retriever = gated_retriever()
    store.gate.clear()  # the next listing will hang until the test opens the gate
    store.chunks.append(FRESH)
    store.gen = 1
    store.listing.clear()

    started = time.monotonic()
    hits = retriever.retrieve("Zanzibar lighthouse strike", 3)
    assert store.listing.wait(5)  # the rebuild has started and is held at the gate...
    hits += retriever.retrieve("Zanzibar lighthouse strike", 3)
    assert time.monotonic() - started < 5  # ...and the answers did not wait for it
    assert hits and all(h.chunk.source != "new.txt" for h in hits)
    assert source.current().generation == 0
    assert not source.wait_for_rebuild(0.05)

    store.gate.set()
    assert source.wait_for_rebuild(30)
    assert source.current().generation == 1
    assert retriever.retrieve("Zanzibar lighthouse strike", 3)[0].chunk.source == "new.txt"


def test_a_failed_rebuild_keeps_the_last_snapshot_and_is_tried_again(capsys: pytest.CaptureFixture[str]):
    store, source, retriever = gated_retriever()
    store.chunks.append(FRESH)
    store.gen = 1
    store.fail_next = True
    retriever.retrieve("Zanzibar lighthouse strike", 3)
    assert source.wait_for_rebuild(30)
    assert source.current().generation == 0
    assert "store busy" in capsys.readouterr().err
    source.current()  # the generation still differs: built again
    assert source.wait_for_rebuild(30)
    assert source.current().generation == 1


def test_chunks_are_reranked_by_their_best_sentence():
    from rag.rerank import ScoredSentence, rank_by_best_sentence
    from rag.types import Hit

    def chunk(source: str, start: int, text: str) -> Chunk:
        return Chunk(content_hash(source, str(start)), source, start, start + len(text), text, "h")

    a = chunk("a.txt", 0, "Background. More background about the war.")
    b = chunk("b.txt", 100, "Context. The ambassador was summoned on Friday.")
    c = chunk("c.txt", 0, "Nothing scored here.")
    hits = [Hit(a, 0.9), Hit(b, 0.5), Hit(c, 0.4)]

    def sentence(source: str, start: int, score: float) -> ScoredSentence:
        return ScoredSentence(source, start, start + 5, "x", score, 0.0, score, "", "")

    scored = [sentence("b.txt", 109, 0.8), sentence("a.txt", 12, 0.3), sentence("b.txt", 100, 0.1)]
    ranked = rank_by_best_sentence(hits, scored, k=3)
    assert [h.chunk.source for h in ranked] == ["b.txt", "a.txt", "c.txt"]
    assert [h.score for h in ranked] == [0.8, 0.3, 0.4]  # the best sentence's score; unscored kept as is
    assert [h.chunk.source for h in rank_by_best_sentence(hits, scored, k=1)] == ["b.txt"]


def test_a_sentence_holding_the_number_or_time_asked_for_ranks_higher():
    from rag.rerank import SentenceSelector
    from rag.types import Hit
    from tests.fakes import HashEmbedder

    text = "Lukashenko spoke about the new front on the border. What, open another 932 miles of the front?"
    hits = [Hit(Chunk(content_hash("a.txt", text), "a.txt", 0, len(text), text, "h"), 1.0)]
    plain = SentenceSelector(HashEmbedder(), kind_weight=0.0)
    typed = SentenceSelector(HashEmbedder(), kind_weight=0.5)

    def first(selector: SentenceSelector, query: str, question: str | None = None) -> str:
        return selector.score(query, hits, question)[0].text

    assert first(plain, "How long would the front on the border be?").startswith("Lukashenko")
    assert first(typed, "How long would the front on the border be?").startswith("What, open")
    # The kind comes from this turn's question, not from earlier turns carried in the query...
    assert first(typed, "What about the front on the border? (How many miles?)", "What about the front?").startswith(
        "Lukashenko"
    )
    # ...and questions asking for no number or time are scored as before.
    assert first(typed, "What did Lukashenko say about the front on the border?").startswith("Lukashenko")


def test_a_heading_is_a_sentence_of_its_own_and_short_fragments_and_list_lines_join_the_next():
    from rag.rerank import SentenceSelector
    from rag.types import Hit
    from tests.fakes import HashEmbedder

    text = (
        "The missile fell in a field near the village on Thursday.\n"
        "Belarus Summons Ukrainian Ambassador\n"
        "Anatoly Glaz, a spokesperson for the Foreign Ministry, confirmed the protest.\n"
        "Cast\nHenry Thomas as Elliott\nPeter Coyote as Keys\n"
        "No. The ministry gave no further details about the incident."
    )
    hits = [Hit(Chunk(content_hash("a.txt", text), "a.txt", 0, len(text), text, "h"), 1.0)]
    sentences = {s.text for s in SentenceSelector(HashEmbedder()).score("ambassador", hits)}
    assert "Belarus Summons Ukrainian Ambassador" in sentences  # not "... Ambassador Anatoly Glaz, a ..."
    assert any(s.startswith("Anatoly Glaz") for s in sentences)
    # A one-word line, the lines of a list, a short fragment inside a line and a short line at the text's
    # edge (a chunk may cut a line) join what follows them.
    assert "Cast\nHenry Thomas as Elliott\nPeter Coyote as Keys" in sentences
    assert "No. The ministry gave no further details about the incident." in sentences
    cut = "Al Powell\nPaul Gleason as Dwayne T. Robinson, the Deputy Chief of Police"
    hits = [Hit(Chunk(content_hash("b.txt", cut), "b.txt", 0, len(cut), cut, "h"), 1.0)]
    assert [s.text for s in SentenceSelector(HashEmbedder()).score("police", hits)] == [cut]


def _sentences(source: str, text: str, scores: list[float]) -> list[ScoredSentence]:
    """The sentences of `text` (split at ". "), as scored sentences of `source`, best first."""
    out, start = [], 0
    for part, score in zip(text.split(". "), scores, strict=True):
        body = part if part.endswith(".") else part + "."
        out.append(ScoredSentence(source, start, start + len(body), body, score, 0.0, score, "", ""))
        start += len(body) + 1
    return sorted(out, key=lambda s: -s.score)


ROZON = (
    "Tim Rozon (May 10, 1929 -- July 18, 2015) was an American actor and voice artist. "
    "He did voice-over work in video games. He was a cast member of Saturday Night Live and voiced Woodhouse"
)


def test_a_sentence_whose_subject_is_a_pronoun_is_shown_after_the_one_naming_its_person():
    both = _sentences("a.txt", ROZON, [0.2, 0.3, 0.9]) + _sentences("b.txt", "Other news. More of it", [0.5, 0.4])
    scored = sorted(both, key=lambda s: -s.score)
    passages = to_passages(scored, 3)
    assert [p.text[:12] for p in passages] == ["Tim Rozon (M", "He was a cas", "Other news."]
    assert [p.number for p in passages] == [1, 2, 3]
    assert [p.context_from for p in passages] == [None, 1, None]

    # Not among the first ranks, not adjacent, or already shown: nothing moves.
    assert [p.text[:6] for p in to_passages(scored, 3, antecedents=0)] == ["He was", "Other ", "More o"]
    gap = [s for s in scored if not s.text.startswith("He did")]
    assert [p.text[:6] for p in to_passages(gap, 2)] == ["He was", "Other "]
    named_first = _sentences("a.txt", ROZON, [0.95, 0.3, 0.9])
    assert [p.text[:6] for p in to_passages(named_first, 2)] == ["Tim Ro", "He was"]


S300 = (
    "Russia and Ukraine use S-300 missiles, but for distinct objectives. "
    "Ukraine uses the system to intercept missiles, while Russia employs it to attack ground targets"
)


def test_the_best_sentence_is_shown_with_the_next_sentence_of_its_line():
    from dataclasses import replace

    in_line = [replace(s, space_after=" ") for s in _sentences("a.txt", S300, [0.9, 0.2])]
    other = _sentences("b.txt", "Other news. More of it", [0.5, 0.4])
    scored = sorted(in_line + other, key=lambda s: -s.score)
    passages = to_passages(scored, 3)
    assert [p.text for p in passages] == [S300 + ".", "Other news."]  # one passage: its exact span
    assert [(p.number, p.start, p.end) for p in passages] == [(1, 0, len(S300) + 1), (2, 0, 11)]

    # Not when a line break follows the best sentence, nor for a lower rank, nor when `continued` is 0.
    plain = sorted(_sentences("a.txt", S300, [0.9, 0.2]) + other, key=lambda s: -s.score)
    assert [p.text[:6] for p in to_passages(plain, 3)] == ["Russia", "Other ", "More o"]
    second = sorted(
        [replace(s, space_after=" ") for s in _sentences("a.txt", S300, [0.45, 0.2])] + other, key=lambda s: -s.score
    )
    assert [p.text[:6] for p in to_passages(second, 3)] == ["Other ", "Russia", "More o"]
    assert [p.text[:6] for p in to_passages(scored, 3, continued=0)] == ["Russia", "Other ", "More o"]
    # Nor when the question asks for a number or a time that the best sentence holds already.
    counted = [
        replace(s, space_after=" ") for s in _sentences("a.txt", "Russia fired 69 missiles. Sirens rang", [0.9, 0.2])
    ]
    both = sorted(counted + other, key=lambda s: -s.score)
    assert [p.text for p in to_passages(both, 3, question="How many missiles were fired?")][:2] == [
        "Russia fired 69 missiles.",
        "Other news.",
    ]
    assert [p.text for p in to_passages(both, 3, question="Who fired the missiles?")][:1] == [
        "Russia fired 69 missiles. Sirens rang."
    ]


def test_a_sentence_shown_with_its_follower_keeps_the_passage_naming_its_person():
    from dataclasses import replace

    text = ROZON + ". He won an award for it"
    scored = _sentences("a.txt", text, [0.2, 0.3, 0.9, 0.1])
    scored = [replace(s, space_after=" ") if s.text.startswith("He was") else s for s in scored]
    passages = to_passages(scored, 3)
    assert [p.text[:12] for p in passages] == ["Tim Rozon (M", "He was a cas"]
    assert passages[1].text.endswith("He won an award for it.")
    assert [p.context_from for p in passages] == [None, 1]


def test_the_selector_knows_which_sentences_a_line_break_follows():
    from rag.rerank import SentenceSelector
    from rag.types import Hit
    from tests.fakes import HashEmbedder

    text = (
        "The missile fell in a field on Thursday.  Nobody was hurt by it, the ministry said.\n"
        "A new paragraph starts here, with a second fact."
    )
    hits = [Hit(Chunk(content_hash("a.txt", text), "a.txt", 0, len(text), text, "h"), 1.0)]
    space = {s.text[:10]: s.space_after for s in SentenceSelector(HashEmbedder()).score("missile", hits)}
    # The last sentence of a chunk: what follows it was not seen, so it counts as a line's end.
    assert space == {"The missil": "  ", "Nobody was": None, "A new para": None}


def test_a_closing_quote_mark_stays_in_its_sentence():
    from rag.text import sentence_spans

    text = 'It will be met with "retaliation using all forces and means." It was confirmed (in Minsk.) Then it ended.'
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        'It will be met with "retaliation using all forces and means."',
        "It was confirmed (in Minsk.)",
        "Then it ended.",
    ]
    # A closing mark before a line break, and an abbreviation, as before.
    text = 'He said "no."\nMr. Smith left at 10 a.m. Monday.'
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        'He said "no."',
        "Mr. Smith left at 10 a.m. Monday.",
    ]


def test_the_follower_is_the_sentence_exactly_after_the_white_space_between_them():
    from dataclasses import replace

    from rag.passages import _follower

    first, second = _sentences("a.txt", S300, [0.9, 0.2])
    assert _follower(replace(first, space_after=" "), [replace(first, space_after=" "), second]) == second
    wider = replace(first, space_after="  ")  # two spaces recorded: the scored sentence does not start there
    assert _follower(wider, [wider, second]) is None
