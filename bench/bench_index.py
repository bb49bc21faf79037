"""Indexing throughput: `run_index` end to end beside the raw embedder on the same chunks, rerun cost, memory."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--chunks", type=int, help="index about this many chunks of the BBC corpus (default: all, ~10.7k)")
    p.add_argument("--server", action="store_true", help="index into a Chroma server started for the run")
    p.add_argument("--batch-size", type=int, help="embedding batch size (default: Settings.embed_batch_size)")
    p.add_argument(
        "--raw-sample",
        type=int,
        help="time the raw embedder on this many evenly spaced chunks instead of all (for 100k runs; a rate is a rate)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary store and print its path")
    return p.parse_args()


class TimedEmbedder:
    """Wraps an embedder to record how run_index calls it: calls, texts, wall and CPU seconds."""

    def __init__(self, inner: Any):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.calls = self.texts = 0
        self.wall_s = self.cpu_s = 0.0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        wall, cpu = time.perf_counter(), time.process_time()
        out = self.inner.embed(texts)
        self.wall_s += time.perf_counter() - wall
        self.cpu_s += time.process_time() - cpu
        self.calls += 1
        self.texts += len(texts)
        return np.asarray(out)


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """fn's result, wall seconds and CPU seconds of this process (all threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def start_chroma(path: Path, port: int) -> subprocess.Popen[bytes]:
    from proc import VENV_BIN, wait_http

    cmd = [str(VENV_BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", 60, server)
    return server


def main() -> int:
    args = parse_args()
    from proc import free_port, load_average, self_peak_mb, stop, tree_cpu_s, tree_peak_mb

    from data import VectorCache, corpus_with_chunks
    from index.load import load_documents
    from index.types import Document
    from rag.config import Settings
    from rag.factory import build_chunker, build_embedder, run_index

    corpus, _ = corpus_with_chunks(args.chunks)
    tmp = Path(tempfile.mkdtemp(prefix="bench-index-"))
    server = None
    overrides: dict[str, Any] = {"store": tmp / "store", "collection": "bench"}
    if args.batch_size:
        overrides["embed_batch_size"] = args.batch_size
    if args.server:
        port = free_port()
        server = start_chroma(tmp / "server", port)
        overrides |= {"chroma_host": "127.0.0.1", "chroma_port": port}
    settings = Settings(**overrides)
    bs = settings.embed_batch_size
    load = [load_average()]
    try:
        chunker = build_chunker(settings)
        docs = [d for d in load_documents(corpus, settings.max_file_bytes) if isinstance(d, Document)]
        texts = [c.text for d in docs for c in chunker.chunk(d)]
        embedder = build_embedder(settings)
        _, load_s, _ = timed(lambda: embedder.embed(texts[:bs]))  # loads the model, warms the kernels

        sample = texts
        if args.raw_sample and args.raw_sample < len(texts):
            step = len(texts) / args.raw_sample
            sample = [texts[int(i * step)] for i in range(args.raw_sample)]
        batches = [sample[i : i + bs] for i in range(0, len(sample), bs)]

        def embed_sample() -> list[np.ndarray]:
            return [np.asarray(embedder.embed(b)) for b in batches]

        vectors, raw_s, raw_cpu = timed(embed_sample)
        VectorCache(embedder.name).put(sample, np.concatenate(vectors))  # bench_retrieval reuses them
        load.append(load_average())

        spy = TimedEmbedder(embedder)
        server_cpu = tree_cpu_s(server.pid) if server else 0.0
        first, first_s, first_cpu = timed(lambda: run_index(settings, corpus, embedder=spy))
        server_cpu = tree_cpu_s(server.pid) - server_cpu if server else 0.0
        load.append(load_average())
        raw_runs = [(raw_s, raw_cpu)]
        if len(sample) < len(texts):
            # A sample timed once, then a 15-minute run: time it again after, and take the mean, so a
            # change in the machine's speed between the two does not pass for indexing overhead.
            _, again_s, again_cpu = timed(embed_sample)
            raw_runs.append((again_s, again_cpu))
            raw_s, raw_cpu = (again_s + raw_s) / 2, (again_cpu + raw_cpu) / 2
        second, second_s, _ = timed(lambda: run_index(settings, corpus, embedder=embedder))
        server_peak = tree_peak_mb(server.pid) if server else None
    finally:
        if server:
            stop(server)
        if args.keep:
            print(f"store kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    n = first.chunks_added
    raw_rate, index_rate = len(sample) / raw_s, n / first_s
    raw_cpu_rate, index_cpu_rate = len(sample) / raw_cpu, n / (first_cpu + server_cpu)
    result = {
        "bench": "index",
        "store": "chroma-server" if args.server else "embedded",
        "corpus": str(corpus),
        "files": first.files_seen,
        "chunks": n,
        "chunks_requested": args.chunks,
        "batch_size": bs,
        "raw_chunks_timed": len(sample),
        "embed_model": embedder.name,
        "model_load_s": round(load_s, 2),
        "raw_embed_s": round(raw_s, 2),
        "raw_embed_cpu_s": round(raw_cpu, 2),
        "raw_chunks_per_s": round(raw_rate, 1),
        "raw_runs_s": [round(w, 2) for w, _ in raw_runs],
        "index_s": round(first_s, 2),
        "index_cpu_s": round(first_cpu + server_cpu, 2),
        "index_chunks_per_s": round(index_rate, 1),
        "index_over_raw": round(index_rate / raw_rate, 3),
        "index_over_raw_cpu": round(index_cpu_rate / raw_cpu_rate, 3),
        "index_embed_calls": spy.calls,
        "index_mean_batch": round(spy.texts / max(spy.calls, 1), 1),
        "index_embed_s": round(spy.wall_s, 2),
        "index_other_s": round(first_s - spy.wall_s, 2),
        "rerun_s": round(second_s, 3),
        "rerun_fraction": round(second_s / first_s, 4),
        "rerun_chunks_added": second.chunks_added,
        "peak_rss_mb": round(self_peak_mb()),
        "server_peak_rss_mb": None if server_peak is None else round(server_peak),
        "load_average": load,
    }
    print_table(result)
    print(json.dumps(result))
    return 0


def _before_after(runs: list[float]) -> str:
    return f"   (mean of before / after the run: {' / '.join(f'{w:.1f}' for w in runs)} s)" if len(runs) > 1 else ""


def print_table(r: dict[str, Any]) -> None:
    rows = [
        ("chunks indexed", f"{r['chunks']} in {r['files']} files, embedding batch {r['batch_size']}"),
        ("", "wall clock                CPU time (all threads)"),
        (
            "raw embedder",
            f"{r['raw_chunks_per_s']:7.1f} chunks/s ({r['raw_chunks_timed']} chunks in {r['raw_embed_s']:.1f} s)"
            f"   {r['raw_embed_cpu_s']:.1f} s{_before_after(r['raw_runs_s'])}",
        ),
        (
            "run_index, first run",
            f"{r['index_chunks_per_s']:7.1f} chunks/s ({r['index_s']:.1f} s)   {r['index_cpu_s']:.1f} s",
        ),
        ("index / raw (goal >= 0.9)", f"{r['index_over_raw']:7.3f}                   {r['index_over_raw_cpu']:.3f}"),
        (
            "  inside run_index",
            f"{r['index_embed_calls']} embed calls of {r['index_mean_batch']} texts on average: "
            f"{r['index_embed_s']:.1f} s embedding, {r['index_other_s']:.1f} s the rest",
        ),
        ("second, unchanged run", f"{r['rerun_s']:.3f} s = {r['rerun_fraction']:.4f} of the first (goal <= 0.02)"),
        ("peak RSS, this process", f"{r['peak_rss_mb']} MB"),
    ]
    if r["server_peak_rss_mb"] is not None:
        rows.append(("peak RSS, chroma server", f"{r['server_peak_rss_mb']} MB"))
    rows.append(("load avg (start/mid/end)", " | ".join(r["load_average"])))
    print(f"\nbench_index — {r['store']} store, model {r['embed_model']}")
    for name, value in rows:
        print(f"  {name:<26} {value}")


if __name__ == "__main__":
    raise SystemExit(main())
