"""Cost of writing to the embedded Chroma store alone: synthetic chunks and random unit vectors
upserted in batches, by batch size and by what each record carries. No embedder runs, so the figures
are the store's own work (what `run_index` spends beyond embedding).

    .venv/bin/python bench/bench_store_writes.py --chunks 30000 --batch 64 1024
    .venv/bin/python bench/bench_store_writes.py --batch 1024 --variant document text-in-metadata packed no-fts-schema
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

VARIANTS = ("document", "text-in-metadata", "packed", "no-text", "no-fts-schema")


def collection(path: Path, variant: str) -> Any:
    import chromadb

    client = chromadb.PersistentClient(path=str(path), settings=chromadb.Settings(anonymized_telemetry=False))
    if variant == "no-fts-schema":
        schema = chromadb.Schema()
        schema.create_index(config=chromadb.VectorIndexConfig(space="cosine"))
        schema.delete_index(config=chromadb.FtsIndexConfig(), key="#document")
        return client.create_collection("bench", schema=schema)
    return client.create_collection("bench", configuration={"hnsw": {"space": "cosine"}})


def run(n: int, batch: int, variant: str) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [f"word{i % 997} text " * 60 + str(i) for i in range(n)]  # ~650 characters, like a chunk
    ids = [hashlib.sha256(str(i).encode()).hexdigest()[:32] for i in range(n)]
    metas: list[dict[str, Any]] = [
        {"source": f"f{i // 20}.txt", "start": i * 500, "end": i * 500 + 650, "n_chunks": 20, "doc_hash": "x" * 16}
        for i in range(n)
    ]
    if variant == "text-in-metadata":
        for meta, text in zip(metas, texts, strict=True):
            meta["text"] = text
    if variant == "packed":  # every field and the text in one JSON string: one metadata value per record
        metas = [{"rag": json.dumps({**meta, "text": text})} for meta, text in zip(metas, texts, strict=True)]
    tmp = Path(tempfile.mkdtemp(prefix="bench-store-"))
    try:
        coll = collection(tmp, variant)
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(0, n, batch):
            docs = {"documents": texts[i : i + batch]} if variant in ("document", "no-fts-schema") else {}
            part = slice(i, i + batch)
            coll.upsert(ids=ids[part], embeddings=vectors[part], metadatas=metas[part], **docs)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert coll.count() == n
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"chunks": n, "batch": batch, "variant": variant, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chunks", type=int, default=30000)
    p.add_argument("--batch", type=int, nargs="+", default=[64, 1024])
    p.add_argument("--variant", nargs="+", choices=VARIANTS, default=["document"])
    args = p.parse_args()
    for variant in args.variant:
        for batch in args.batch:
            r = run(args.chunks, batch, variant)
            took = f"{r['wall_s']:6.1f} s wall, {r['cpu_s']:6.1f} s CPU"
            print(f"{variant:18s} batch {batch:5d}: {r['chunks']} chunks in {took}")
            print(json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
