"""`rag eval`: index a corpus into the eval's own store, run every gold question through the same
pipeline users get, score it, and write results.jsonl, summary.json and a report."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from eval.gold import GoldError, GoldItem, load_gold
from eval.metrics import Span, answer_match, mean, percentile, score_citations, score_retrieval, token_f1
from eval.report import write_report
from index.embed import Embedder
from rag.config import PROJECT_ROOT, Settings
from rag.generate import Generator
from rag.pipeline import Pipeline
from rag.rewrite import Turn
from rag.types import Answer

DEFAULT_GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"
THRESHOLDS = PROJECT_ROOT / "eval" / "thresholds.json"
HIT_K = 5


def eval_settings(settings: Settings, corpus: Path, out: Path) -> Settings:
    """The eval's own store: a folder under --out, or its own collection on a Chroma server."""
    if settings.is_server():
        key = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:10]
        return replace_settings(settings, collection=f"eval-{key}")
    return replace_settings(settings, store=out / "store")


def replace_settings(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update=changes)


def run_eval(
    settings: Settings,
    args: argparse.Namespace,
    *,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
) -> int:
    from tqdm import tqdm

    from rag.factory import build_embedder, build_pipeline, run_index

    gold_path = args.gold or DEFAULT_GOLD
    try:
        items = load_gold(gold_path)
    except GoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.limit:
        items = items[: args.limit]
    corpus = args.corpus or settings.corpus
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    settings = eval_settings(settings, corpus, out)

    embedder = embedder or build_embedder(settings)
    summary_index = run_index(settings, corpus, embedder=embedder)
    print(f"indexed {corpus}: {summary_index.chunks_total} chunks ({summary_index.chunks_added} new)", file=sys.stderr)
    pipeline = build_pipeline(settings, embedder=embedder, generator=generator)
    started = time.perf_counter()
    pipeline.warm_up()
    warm_s = time.perf_counter() - started

    memo: dict[tuple[str, ...], Answer] = {}
    rows = []
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:  # written as it goes
        for item in tqdm(items, desc="eval", unit="q", file=sys.stderr):
            row = score_row(item, ask_in_conversation(pipeline, item, memo))
            rows.append(row)
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
    summary = summarise(rows, settings, pipeline, corpus, gold_path, warm_s)
    thresholds = json.loads(THRESHOLDS.read_text())
    summary["thresholds"] = thresholds["floors"]
    summary["targets"] = thresholds["targets"]
    metrics = summary["metrics"]
    failures = [
        f"{k} {metrics.get(k)} < floor {v}" for k, v in thresholds["floors"].items() if not _meets(metrics.get(k), v)
    ]
    summary["gate"] = {"passed": not failures, "failures": failures}
    summary["targets_missed"] = [
        f"{k} {metrics.get(k)} < target {v}" for k, v in thresholds["targets"].items() if not _meets(metrics.get(k), v)
    ]
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    report = write_report(out, rows, summary)
    print(format_summary(summary, out, report))
    if args.check and failures:
        print("eval gate FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


def _meets(value: float | None, bar: float) -> bool:
    return value is not None and value >= bar


def ask_in_conversation(pipeline: Pipeline, item: GoldItem, memo: dict[tuple[str, ...], Answer]) -> Answer:
    """Earlier turns are asked first (their answers become the history), as a user would have."""
    turns: list[Turn] = []
    for i, earlier in enumerate(item.history):
        key = (*item.history[:i], earlier)
        if key not in memo:
            memo[key] = pipeline.ask(earlier, turns)
        prev = memo[key]
        turns.append(Turn(earlier, "" if prev.refused else prev.text))
    key = (*item.history, item.question)
    if key not in memo:
        memo[key] = pipeline.ask(item.question, turns)
    return memo[key]


def score_row(item: GoldItem, answer: Answer) -> dict[str, Any]:
    retrieved = [Span(h.chunk.source, h.chunk.text) for h in answer.retrieved]
    cited = [Span(c.source, c.text) for c in answer.citations]
    scores: dict[str, Any] = {}
    why = ""
    if item.answerable:
        correct = not answer.refused and answer_match(answer.text, item.answers)
        scores.update(
            answer_correct=float(correct),
            answer_f1=0.0 if answer.refused else token_f1(answer.text, item.answers),
            false_refusal=float(answer.refused),
            **score_retrieval(retrieved, item, HIT_K),
            **score_citations(cited, item),
        )
        passed = correct and (scores["citation_precision"] or 0) >= 1.0
        if answer.refused:
            why = f"refused: {answer.reason}"
        elif not correct:
            why = "answer does not contain a gold answer"
        elif not passed:
            why = "a citation holds no evidence"
    else:
        scores.update(refusal_correct=float(answer.refused))
        passed = answer.refused
        why = "" if passed else "answered a question the corpus cannot answer"
    data = answer.as_dict()
    return {
        "id": item.id,
        "question": item.question,
        "history": list(item.history),
        "gold": list(item.answers),
        "answerable": item.answerable,
        "answer": data["answer"],
        "refused": data["refused"],
        "citations": data["citations"],
        "retrieved": data["retrieved"],
        "timings": data["timings"],
        "search_query": answer.search_query,
        "reason": answer.reason,
        "draft": answer.draft,
        "passages": [
            {
                "n": p.number,
                "source": p.source,
                "start": p.start,
                "end": p.end,
                "score": round(p.score, 3),
                "text": p.text,
            }
            for p in answer.passages
        ],
        "scores": scores,
        "pass": bool(passed),
        "why": why,
    }


def summarise(
    rows: list[dict[str, Any]], settings: Settings, pipeline: Pipeline, corpus: Path, gold: Path, warm_s: float
) -> dict[str, Any]:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]

    def avg(key: str, group: list[dict[str, Any]]) -> float | None:
        v = mean([r["scores"].get(key) for r in group])
        return None if v is None else round(v, 4)

    answered = [r for r in rows if not r["refused"]]
    firsts = [r["timings"]["first_token_s"] for r in answered if r["timings"]["first_token_s"] is not None]
    totals = [r["timings"]["total_s"] for r in rows]
    metrics = {
        f"hit@{HIT_K}": avg(f"hit@{HIT_K}", ans),
        "mrr": avg("mrr", ans),
        "answer_correct": avg("answer_correct", ans),
        "answer_f1": avg("answer_f1", ans),
        "citation_precision": avg("citation_precision", ans),
        "citation_recall": avg("citation_recall", [r for r in ans if not r["refused"]]),
        "refusal_accuracy": avg("refusal_correct", una),
        "false_refusal_rate": avg("false_refusal", ans),
        "latency_first_token_p50_s": percentile(firsts, 50),
        "latency_first_token_p95_s": percentile(firsts, 95),
        "latency_total_p50_s": percentile(totals, 50),
        "latency_total_p95_s": percentile(totals, 95),
        "latency_retrieve_p50_s": percentile([r["timings"]["retrieve_s"] for r in rows], 50),
    }
    return {
        "counts": {
            "records": len(rows),
            "answerable": len(ans),
            "unanswerable": len(una),
            "passed": sum(r["pass"] for r in rows),
        },
        "metrics": metrics,
        "settings": {
            "corpus": str(corpus),
            "gold": str(gold),
            "embed_model": settings.embed_model,
            "llm": settings.llm,
            "llm_model": settings.llm_model,
            "generator": pipeline.generator.name,
            "top_k": settings.top_k,
            "rerank_pool": settings.rerank_pool,
            "passages": settings.passages,
            "min_relevance": settings.min_relevance,
            "second_look": settings.second_look,
            "chunk_size": settings.chunk_size,
            "chunk_overlap": settings.chunk_overlap,
            "warm_up_s": round(warm_s, 2),
        },
    }


def format_summary(summary: dict[str, Any], out: Path, report: Path) -> str:
    lines = [f"eval: {summary['counts']['passed']}/{summary['counts']['records']} records passed"]
    for k, v in summary["metrics"].items():
        lines.append(f"  {k:28s} {'-' if v is None else v}")
    if summary.get("targets_missed"):
        lines.append("  below the targets: " + "; ".join(summary["targets_missed"]))
    lines.append(f"results: {out / 'results.jsonl'}  summary: {out / 'summary.json'}  report: {report}")
    return "\n".join(lines)
