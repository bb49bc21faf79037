"""Retrieval alone, without generation: hit@k and MRR of a gold set for several rerank pool sizes,
and how often the passages shown to the generator hold the evidence (any, first, first three).

    .venv/bin/python -m eval.retrieval --store eval/out/store --results eval/out/results.jsonl
    .venv/bin/python -m eval.retrieval --store /tmp/bbstore --gold /tmp/bbconv/gold.jsonl
    .venv/bin/python -m eval.retrieval --store /tmp/bbstore --gold /tmp/bbconv/gold.jsonl --chunk-weight 0.1

Pool 0 is fusion alone (the top_k fused chunks). A follow-up's search query depends on the answers
of earlier turns, so conversation turns are scored only with --results (the `search_query` of an
earlier `rag eval` run); without it, only records without history are used.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from eval.gold import load_gold
from eval.harness import DEFAULT_GOLD, HIT_K
from eval.metrics import Span, is_evidence_hit, score_retrieval
from rag.config import Settings
from rag.factory import build_embedder, open_store
from rag.passages import to_passages
from rag.pipeline import gather_evidence
from rag.rerank import SentenceSelector
from rag.retrieve import HybridRetriever, SnapshotSource


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", type=Path, required=True, help="an index of the gold set's corpus")
    p.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    p.add_argument("--results", type=Path, help="results.jsonl of a `rag eval` run: its search queries")
    p.add_argument("--pools", type=int, nargs="+", default=[0, 12, 16, 24])
    p.add_argument("--chunk-weight", type=float, help="the sentence scorer's chunk weight (default: its own)")
    args = p.parse_args()

    settings = Settings(store=args.store)
    embedder = build_embedder(settings)
    retriever = HybridRetriever(SnapshotSource(open_store(settings)), embedder, candidates=settings.candidates)
    selector = SentenceSelector(embedder)
    if args.chunk_weight is not None:
        selector.chunk_weight = args.chunk_weight
    queries = {}
    if args.results:
        queries = {r["id"]: r["search_query"] for r in map(json.loads, args.results.read_text().splitlines())}
    items = [g for g in load_gold(args.gold) if g.answerable and (g.id in queries or not g.history)]

    print(f"{len(items)} answerable records of {args.gold}; sentence scorer chunk weight {selector.chunk_weight}")
    for pool in args.pools:
        hits_at_k = mrr = 0.0
        shown = [0, 0, 0]  # evidence among the passages shown: anywhere, first, within the first three
        missed, unshown = [], []
        for item in items:
            query = queries.get(item.id, item.question)
            hits, sentences = gather_evidence(retriever, selector, query, settings.top_k, pool, question=item.question)
            scores = score_retrieval([Span(h.chunk.source, h.chunk.text) for h in hits], item, HIT_K)
            hits_at_k += scores[f"hit@{HIT_K}"]
            mrr += scores["mrr"]
            if not scores[f"hit@{HIT_K}"]:
                missed.append(item.id)
            passages = to_passages(sentences, settings.passages, question=item.question)
            rank = next((p.number for p in passages if is_evidence_hit(Span(p.source, p.text), item)), None)
            if rank is not None:
                shown = [shown[0] + 1, shown[1] + (rank == 1), shown[2] + (rank <= 3)]
            else:
                unshown.append(item.id)
        n = len(items) or 1
        label = "fusion only" if pool <= settings.top_k else f"rerank pool {pool}"
        print(
            f"  {label:16s} hit@{HIT_K} {hits_at_k / n:.3f}  MRR {mrr / n:.3f}  "
            f"evidence in the {settings.passages} passages {shown[0] / n:.3f}, first {shown[1] / n:.3f}, "
            f"first 3 {shown[2] / n:.3f}  missed: {' '.join(missed[:12])}"
        )
        print(f"  {'':16s} evidence not in the passages: {' '.join(unshown)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
