"""Retrieval latency (dense, BM25, fused) and snapshot build time at growing index sizes."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

VECTOR_MODES = {
    "replicate": "real all-MiniLM-L6-v2 vectors for the real BBC chunks; replicated chunks (same text, own id "
    "and source) get their original's vector plus deterministic Gaussian noise",
    "hash": "every vector from a deterministic hashed bag of words (no model); the query embedding time is "
    "still measured with the real model",
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000], help="index sizes in chunks")
    p.add_argument(
        "--vectors",
        choices=sorted(VECTOR_MODES),
        default="replicate",
        help="; ".join(f"{k}: {v}" for k, v in VECTOR_MODES.items()),
    )
    p.add_argument("--noise", type=float, default=0.01, help="per-dimension sigma of the replicas' noise")
    p.add_argument("--queries", type=int, default=100, help="number of queries")
    p.add_argument("--rounds", type=int, default=3, help="timed passes over the queries (after one warm-up)")
    return p.parse_args()


class HashEmbedder:
    """A deterministic bag of hashed words: texts sharing words get close vectors. No model."""

    name = "hash-bag-of-words"

    def __init__(self, dim: int = 384):
        self.dim = dim
        self._words: dict[str, np.ndarray] = {}

    def _word(self, w: str) -> np.ndarray:
        if w not in self._words:
            seed = int.from_bytes(hashlib.sha256(w.encode()).digest()[:8], "big")
            self._words[w] = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return self._words[w]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for w, n in Counter(re.findall(r"\w+", text.lower())).items():
                out[i] += n * self._word(w)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


class Precomputed:
    """Query vectors computed beforehand, so the fused timing leaves out query embedding."""

    def __init__(self, name: str, vectors: dict[str, np.ndarray]):
        self.name, self._vectors = name, vectors
        self.dim = len(next(iter(vectors.values())))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vectors[t] for t in texts])


def latencies_ms(fn: Callable[[str], object], queries: Sequence[str], rounds: int) -> list[float]:
    for q in queries:  # warm-up: caches, lazy loads, first HNSW pages
        fn(q)
    out = []
    for _ in range(rounds):
        for q in queries:
            t = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - t) * 1000)
    return out


def p50_p95(xs: Sequence[float]) -> tuple[float, float]:
    return float(np.percentile(xs, 50)), float(np.percentile(xs, 95))


def corpus_vectors(mode: str, chunks: Sequence[Any], size: int, noise: float, real_embedder: Any) -> np.ndarray:
    """Vectors for chunks[:size] (replicas included) under the chosen mode."""
    from data import VectorCache, noisy_copies

    if mode == "hash":
        return HashEmbedder().embed([c.text for c in chunks[:size]])
    real = [c.text for c in chunks[:size] if not c.source.startswith("rep")]
    cache = VectorCache(real_embedder.name)
    missing = cache.missing(real)
    if missing:
        print(f"  embedding {len(missing)} real chunks once (cached in {cache.path}) ...", flush=True)
        cache.put(
            missing, np.concatenate([real_embedder.embed(missing[i : i + 64]) for i in range(0, len(missing), 64)])
        )
    return noisy_copies(cache.get(real), size, noise)


def build_store(path: Path, chunks: Sequence[Any], vectors: np.ndarray, model: str) -> Any:
    from index.chunk import ChunkSettings
    from index.store import ChromaStore, StoreInfo

    store = ChromaStore.open(path=path, writable=True, collection="bench")
    store.create(StoreInfo(model, vectors.shape[1], ChunkSettings().fingerprint()))
    per_file = Counter(c.source for c in chunks)
    for i in range(0, len(chunks), 4000):
        batch = chunks[i : i + 4000]
        store.add(batch, vectors[i : i + 4000], n_chunks=[per_file[c.source] for c in batch])
    store.bump_generation()
    return store


def bench_size(
    size: int, args: argparse.Namespace, chunks: Sequence[Any], queries: Sequence[str], embedder: Any
) -> dict[str, Any]:
    from proc import self_peak_mb

    from rag.retrieve import HybridRetriever, Snapshot, SnapshotSource
    from rag.text import stem, word_terms

    t = time.perf_counter()
    vectors = corpus_vectors(args.vectors, chunks, size, args.noise, embedder)
    vectors_s = time.perf_counter() - t
    tmp = Path(tempfile.mkdtemp(prefix="bench-retrieval-"))
    try:
        t = time.perf_counter()
        store = build_store(
            tmp / "store", chunks[:size], vectors, embedder.name if args.vectors == "replicate" else HashEmbedder.name
        )
        write_s = time.perf_counter() - t

        # What SnapshotSource does on a new generation, in its two parts, with the stemmer's and the
        # term extraction's caches emptied as in a freshly started server.
        t = time.perf_counter()
        stored = list(store.iter_chunks())
        read_s = time.perf_counter() - t
        stem.cache_clear()
        word_terms.cache_clear()
        t = time.perf_counter()
        Snapshot(stored, store.generation())
        bm25_build_s = time.perf_counter() - t
        source = SnapshotSource(store)
        snap = source.current()

        qvec_of = {q: v for q, v in zip(queries, query_vectors(args.vectors, queries, embedder), strict=True)}
        fused = HybridRetriever(source, Precomputed(embedder.name, qvec_of))
        dense_k = min(fused.candidates * 2, len(snap))
        times = {
            "dense": latencies_ms(lambda q: store.query(qvec_of[q], dense_k), queries, args.rounds),
            "bm25": latencies_ms(lambda q: snap.bm25(q, fused.candidates), queries, args.rounds),
            "fused": latencies_ms(lambda q: fused.retrieve(q, 8), queries, args.rounds),
        }
        if args.vectors == "replicate":
            full = HybridRetriever(source, embedder)
            times["fused+embed"] = latencies_ms(lambda q: full.retrieve(q, 8), queries, args.rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "size": size,
        "real_chunks": sum(1 for c in chunks[:size] if not c.source.startswith("rep")),
        "vectors_s": round(vectors_s, 2),
        "store_write_s": round(write_s, 2),
        "snapshot_read_s": round(read_s, 2),
        "snapshot_bm25_s": round(bm25_build_s, 2),
        "snapshot_total_s": round(read_s + bm25_build_s, 2),
        **{f"{name}_p50_ms": round(p50_p95(xs)[0], 2) for name, xs in times.items()},
        **{f"{name}_p95_ms": round(p50_p95(xs)[1], 2) for name, xs in times.items()},
        "peak_rss_mb": round(self_peak_mb()),
    }


def query_vectors(mode: str, queries: Sequence[str], embedder: Any) -> list[np.ndarray]:
    if mode == "hash":
        return list(HashEmbedder().embed(queries))
    return [embedder.embed([q])[0] for q in queries]


def print_table(rows: list[dict[str, Any]], embed_ms: tuple[float, float]) -> None:
    kinds = [k for k in ("dense", "bm25", "fused", "fused+embed") if f"{k}_p50_ms" in rows[0]]
    head = "  ".join(f"{k + ' p50/p95 ms':>22}" for k in kinds)
    print(f"\n{'chunks':>8}  {'real':>6}  {'snapshot s (read+bm25)':>23}  {head}")
    for r in rows:
        snap = f"{r['snapshot_total_s']:.2f} ({r['snapshot_read_s']:.2f}+{r['snapshot_bm25_s']:.2f})"
        cells = "  ".join(f"{r[f'{k}_p50_ms']:>10.2f} / {r[f'{k}_p95_ms']:<9.2f}" for k in kinds)
        print(f"{r['size']:>8}  {r['real_chunks']:>6}  {snap:>23}  {cells}")
    base = rows[0]
    for r in rows[1:]:
        growth = ", ".join(f"{k} x{r[f'{k}_p50_ms'] / max(base[f'{k}_p50_ms'], 1e-9):.1f}" for k in kinds)
        print(f"  p50 growth {base['size']} -> {r['size']} chunks (x{r['size'] / base['size']:.0f}): {growth}")
    print(
        f"  query embedding alone (real model, one query per call): p50 {embed_ms[0]:.1f} ms, p95 {embed_ms[1]:.1f} ms"
    )
    top = rows[-1]
    if top["size"] >= 100_000:
        ok = top["fused_p50_ms"] <= 20 and top["fused_p95_ms"] <= 60
        print(f"  goal at {top['size']} (fused p50 <= 20 ms, p95 <= 60 ms): {'met' if ok else 'NOT met'}")


def main() -> int:
    args = parse_args()
    from proc import load_average

    from data import bbc_chunks, queries, replicate
    from rag.config import Settings
    from rag.factory import build_embedder

    print(
        f"vectors: {args.vectors} — {VECTOR_MODES[args.vectors]}"
        + (f" (sigma {args.noise})" if args.vectors == "replicate" else "")
    )
    embedder = build_embedder(Settings())
    qs = queries(args.queries)
    real = bbc_chunks()
    chunks = replicate(real, max(args.sizes))
    embed_ms = p50_p95(latencies_ms(lambda q: embedder.embed([q]), qs, 1))
    loads = [load_average()]
    rows = []
    for size in sorted(args.sizes):
        print(f"size {size}: building ...", flush=True)
        rows.append(bench_size(size, args, chunks, qs, embedder))
        loads.append(load_average())
    print_table(rows, embed_ms)
    print(f"  load average: {' | '.join(loads)}")
    print(
        json.dumps(
            {
                "bench": "retrieval",
                "vectors": args.vectors,
                "noise": args.noise,
                "queries": len(qs),
                "rounds": args.rounds,
                "query_embed_p50_ms": round(embed_ms[0], 2),
                "query_embed_p95_ms": round(embed_ms[1], 2),
                "sizes": rows,
                "load_average": loads,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
