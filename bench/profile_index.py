"""Where `rag index` spends what is not embedding: the real indexing run (`run_index`: read, chunk,
write to Chroma) with an instant stand-in embedder, under pyinstrument. Prints the call tree and a
one-line JSON split.

    .venv/bin/python bench/profile_index.py --chunks 30000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class InstantEmbedder:
    """Unit vectors seeded from each text's hash: deterministic, near-free, the default model's name
    and dimension (so the store is built as `rag index` builds it)."""

    name = "all-MiniLM-L6-v2"
    dim = 384

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chunks", type=int, default=30000, help="index about this many chunks of the BBC corpus")
    args = p.parse_args()
    from pyinstrument import Profiler

    from data import corpus_with_chunks
    from rag.config import Settings
    from rag.factory import run_index

    corpus, _ = corpus_with_chunks(args.chunks)
    tmp = Path(tempfile.mkdtemp(prefix="profile-index-"))
    try:
        settings = Settings(store=tmp / "store", collection="bench")
        profiler = Profiler(interval=0.005)
        wall, cpu = time.perf_counter(), time.process_time()
        profiler.start()
        summary = run_index(settings, corpus, embedder=InstantEmbedder())
        profiler.stop()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(profiler.output_text(unicode=False, color=False))
        frames = profiler.last_session.root_frame() if profiler.last_session else None
        split = _split(frames) if frames else {}
        print(json.dumps({"chunks": summary.chunks_added, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), **split}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _split(root: object) -> dict[str, float]:
    """Seconds under the store's upsert, the chunker and the embedder, summed over the call tree."""
    names = {"store_upsert_s": "upsert", "chunking_s": "chunk", "embedding_s": "embed"}
    totals = dict.fromkeys(names, 0.0)

    def walk(frame: object, inside: set[str]) -> None:
        fn = getattr(frame, "function", "")
        here = set(inside)
        for key, name in names.items():
            if fn == name and key not in inside:
                totals[key] += float(getattr(frame, "time", 0.0))
                here.add(key)
        for child in getattr(frame, "children", []):
            walk(child, here)

    walk(root, set())
    return {k: round(v, 1) for k, v in totals.items()}


if __name__ == "__main__":
    sys.exit(main())
