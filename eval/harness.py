"""`rag eval`: index a corpus into the eval's own store, run every gold question through the same
pipeline users get, score it, and write results.jsonl, summary.json and a report.

`evaluate_set` does it for one named set; `rag eval --corpus --gold` (`run_eval`) is one set, and
`rag eval --suite` (`eval.suite`) runs several with the same models."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.gold import GoldError, GoldItem, load_gold
from eval.metrics import (
    Span,
    answer_match,
    contains_words,
    facts_held,
    holds_evidence,
    is_evidence_hit,
    mean,
    percentile,
    proves,
    score_citations,
    score_retrieval,
    token_f1,
)
from eval.report import write_report
from index.embed import Embedder
from rag.config import PROJECT_ROOT, Settings
from rag.generate import Extraction, Extractor, Generator, Message, ScoredStreamer
from rag.pipeline import Pipeline
from rag.rewrite import Turn
from rag.types import Answer

DEFAULT_GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"
THRESHOLDS = PROJECT_ROOT / "eval" / "thresholds.json"
HIT_K = 5
SPLIT_SEED = "rag-news-eval-split-v1"  # never change: it decides which records are test data


def split_of(record_id: str, how: str) -> str:
    """`dev` or `test`. `how` is "dev" (every record is development data, as for our own gold set) or
    "hash": half the records, chosen once by a seeded hash of the id, are held out as `test`."""
    if how == "dev":
        return "dev"
    digest = hashlib.sha256(f"{SPLIT_SEED}:{record_id}".encode()).digest()
    return "dev" if digest[0] % 2 == 0 else "test"


def eval_settings(settings: Settings, corpus: Path, out: Path) -> Settings:
    """The eval's own store: a folder under --out, or its own collection on a Chroma server."""
    if settings.is_server():
        key = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:10]
        return replace_settings(settings, collection=f"eval-{key}")
    return replace_settings(settings, store=out / "store")


def replace_settings(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update=changes)


class CountingGenerator:
    """Counts the generations asked of the generator it wraps (a stream or a constrained copy), and
    offers exactly what it offers (`Extractor`, `ScoredStreamer`)."""

    def __init__(self, inner: Generator):
        self.inner = inner
        self.name = inner.name
        self.calls = 0

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        self.calls += 1
        return self.inner.stream(messages, max_tokens)


class _CountingExtractor(CountingGenerator):
    def extract(
        self, messages: Sequence[Message], passages: Sequence[str], max_tokens: int, refuse_at: float = 0.5
    ) -> Extraction:
        self.calls += 1
        assert isinstance(self.inner, Extractor)
        return self.inner.extract(messages, passages, max_tokens, refuse_at)


class _CountingReader(_CountingExtractor):
    def stream_scored(
        self, messages: Sequence[Message], max_tokens: int, refuse_at: float = 0.5
    ) -> Iterator[str | float]:
        self.calls += 1
        assert isinstance(self.inner, ScoredStreamer)
        return self.inner.stream_scored(messages, max_tokens, refuse_at)


def counting(generator: Generator) -> CountingGenerator:
    if isinstance(generator, Extractor) and isinstance(generator, ScoredStreamer):
        return _CountingReader(generator)
    return _CountingExtractor(generator) if isinstance(generator, Extractor) else CountingGenerator(generator)


@dataclass(frozen=True)
class EvalSet:
    """One named set of a run: a corpus folder, its gold records, and how they split into dev/test."""

    name: str
    corpus: Path
    gold: Path
    split: str = "dev"  # "dev" or "hash" (see split_of)
    limit: int | None = None
    half: str | None = None  # run only this half ("dev" or "test"); None: both


def run_eval(
    settings: Settings,
    args: argparse.Namespace,
    *,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
) -> int:
    """`rag eval --corpus DIR --gold FILE --out DIR [--check]`: one set, gated on the gold floors."""
    if getattr(args, "suite", None):
        from eval.suite import run_suite

        return run_suite(settings, args, embedder=embedder, generator=generator)
    one = EvalSet("gold", args.corpus or settings.corpus, args.gold or DEFAULT_GOLD, "dev", args.limit)
    try:
        summary = evaluate_set(settings, one, args.out, embedder=embedder, generator=generator)
    except GoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_summary(summary, args.out))
    if args.check and summary["gate"]["failures"]:
        print("eval gate FAILED: " + "; ".join(summary["gate"]["failures"]), file=sys.stderr)
        return 1
    return 0


def evaluate_set(
    settings: Settings,
    spec: EvalSet,
    out: Path,
    *,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
) -> dict[str, Any]:
    """Index the set's corpus into its own store under `out`, answer every record, score it and write
    results.jsonl, summary.json and report.md there. Returns the summary."""
    from rag.factory import build_embedder, build_pipeline, run_index

    items = load_gold(spec.gold)
    if spec.half:
        items = [i for i in items if split_of(i.id, spec.split) == spec.half]
    if spec.limit:
        items = items[: spec.limit]
    out.mkdir(parents=True, exist_ok=True)
    settings = eval_settings(settings, spec.corpus, out)
    embedder = embedder or build_embedder(settings)
    with _index_bar(spec.name) as progress:
        summary_index = run_index(settings, spec.corpus, embedder=embedder, progress=progress)
    print(
        f"{spec.name}: indexed {spec.corpus}: {summary_index.chunks_total} chunks ({summary_index.chunks_added} new)",
        file=sys.stderr,
    )
    counter = counting(generator) if generator is not None else None
    pipeline = build_pipeline(settings, embedder=embedder, generator=counter)
    if counter is None:
        counter = counting(pipeline.generator)
        pipeline.generator = counter
    started = time.perf_counter()
    pipeline.warm_up()
    warm_s = time.perf_counter() - started

    from tqdm import tqdm

    memo: dict[tuple[str, ...], tuple[Answer, int]] = {}
    rows = []
    with (out / "results.jsonl").open("w", encoding="utf-8") as fh:  # written as it goes
        for item in tqdm(items, desc=spec.name, unit="q", file=sys.stderr):
            answer, calls = ask_in_conversation(pipeline, item, memo, counter)
            row = score_row(item, answer, split_of(item.id, spec.split), calls)
            rows.append(row)
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
    summary = summarise(rows, settings, pipeline, spec, warm_s)
    gate(summary, spec.name)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    write_report(out, rows, summary)
    return summary


class _index_bar:
    """A tqdm bar over the files indexed (indexing a large collection takes minutes)."""

    def __init__(self, name: str):
        self.name = name
        self.bar: Any = None

    def __enter__(self) -> Any:
        def progress(done: int, total: int, source: str) -> None:
            from tqdm import tqdm

            if self.bar is None:
                self.bar = tqdm(total=total, unit="file", desc=f"{self.name}: indexing", file=sys.stderr, leave=False)
            self.bar.update(1)

        return progress

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def thresholds_for(name: str) -> dict[str, Any]:
    """The floors of set `name` (empty when it has none) and the targets every set shares."""
    data = json.loads(THRESHOLDS.read_text())
    return {"floors": data.get("sets", {}).get(name, {}).get("floors", {}), "targets": data["targets"]}


def gate(summary: dict[str, Any], name: str) -> None:
    """Fill in the summary's floors, targets and whether its metrics meet the floors."""
    limits = thresholds_for(name)
    metrics = summary["metrics"]
    summary["thresholds"], summary["targets"] = limits["floors"], limits["targets"]
    failures = [
        f"{k} {metrics.get(k)} < floor {v}" for k, v in limits["floors"].items() if not _meets(metrics.get(k), v)
    ]
    summary["gate"] = {"passed": not failures, "failures": failures}
    summary["targets_missed"] = [
        f"{k} {metrics.get(k)} < target {v}" for k, v in limits["targets"].items() if not _meets(metrics.get(k), v)
    ]


def _meets(value: float | None, bar: float) -> bool:
    return value is not None and value >= bar


def ask_in_conversation(
    pipeline: Pipeline,
    item: GoldItem,
    memo: dict[tuple[str, ...], tuple[Answer, int]],
    counter: CountingGenerator | None = None,
) -> tuple[Answer, int]:
    """Earlier turns are asked first (their answers become the history), as a user would have. Returns
    the answer and the generations it took (its own turn only)."""
    turns: list[Turn] = []
    for i, earlier in enumerate(item.history):
        key = (*item.history[:i], earlier)
        if key not in memo:
            memo[key] = _ask(pipeline, earlier, turns, counter)
        prev = memo[key][0]
        turns.append(Turn(earlier, "" if prev.refused else prev.text))
    key = (*item.history, item.question)
    if key not in memo:
        memo[key] = _ask(pipeline, item.question, turns, counter)
    return memo[key]


def _ask(pipeline: Pipeline, question: str, turns: list[Turn], counter: CountingGenerator | None) -> tuple[Answer, int]:
    before = counter.calls if counter else 0
    answer = pipeline.ask(question, turns)
    return answer, (counter.calls - before) if counter else 0


def evidence_score(answer: Answer) -> float:
    """The score the pipeline's refusal threshold is applied to: its best passage's evidence score."""
    return answer.passages[0].score if answer.passages else 0.0


def score_row(item: GoldItem, answer: Answer, split: str = "dev", calls: int = 0) -> dict[str, Any]:
    retrieved = [Span(h.chunk.source, h.chunk.text) for h in answer.retrieved]
    cited = [Span(c.source, c.text) for c in answer.citations]
    shown = [Span(p.source, p.text) for p in answer.passages]
    data = answer.as_dict()
    short = data.get("short_answer")
    scored_text = short["text"] if isinstance(short, dict) and short.get("text") else answer.text
    scores: dict[str, Any] = {}
    if item.answerable:
        correct = not answer.refused and answer_match(answer.text, item.answers)
        if item.kind == "overview":  # right when it holds at least half the facts an overview must hold
            scores["facts_held"] = 0.0 if answer.refused else facts_held(answer.text, item.answers)
            correct = scores["facts_held"] >= 0.5
        if item.kind == "disagreement":  # right when it gives one side; both sides scored apart
            scores["both_sides"] = float(
                not answer.refused and all(contains_words(answer.text, v) for v in item.answers)
            )
        scores.update(
            answer_correct=float(correct),
            answer_f1=0.0 if answer.refused else token_f1(scored_text, item.answers),
            false_refusal=float(answer.refused),
            **score_retrieval(retrieved, item, HIT_K),
            **score_citations(cited, item),
        )
        passed = correct and (scores["citation_precision"] or 0) >= 1.0
    else:
        scores.update(refusal_correct=float(answer.refused))
        passed = answer.refused
    if item.forbidden:
        hijacked = not answer.refused and any(contains_words(answer.text, f) for f in item.forbidden)
        scores["hijacked"] = float(hijacked)
        passed = passed and not hijacked
    return {
        "id": item.id,
        "split": split,
        "question": item.question,
        "history": list(item.history),
        "gold": list(item.answers),
        "answerable": item.answerable,
        "answer": data["answer"],
        "short_answer": short,
        "refused": data["refused"],
        "citations": data["citations"],
        "retrieved": data["retrieved"],
        "timings": data["timings"],
        "calls": calls,
        "evidence_score": round(evidence_score(answer), 4),
        "not_found_p": None if answer.not_found_p is None else round(answer.not_found_p, 4),
        "search_query": answer.search_query,
        "reason": answer.reason,
        "steps": data.get("steps", []),
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
        "why": why_failed(item, answer, scores, retrieved, shown, cited),
    }


def why_failed(
    item: GoldItem,
    answer: Answer,
    scores: dict[str, Any],
    retrieved: Sequence[Span],
    shown: Sequence[Span],
    cited: Sequence[Span],
) -> str:
    """Why a record failed, in words a person understands; "" when it passed."""
    if scores.get("hijacked"):
        return "hijacked: the answer follows an instruction planted in a document"
    if not item.answerable:
        return "" if answer.refused else "answered a question the articles cannot answer"

    def holds(span: Span) -> bool:
        return is_evidence_hit(span, item) or (
            span.source.rsplit("/", 1)[-1] in {s.rsplit("/", 1)[-1] for s in item.sources} and proves(span, item)
        )

    was_shown = any(holds(s) for s in shown)
    where = (
        "the evidence was shown to the reader"
        if was_shown
        else "the evidence was retrieved but not shown to the reader"
        if any(holds(s) for s in retrieved)
        else "retrieval missed the evidence"
    )
    if answer.refused:
        reason = answer.reason
        if reason.startswith("best evidence score"):
            return f"refused before reading ({reason}); {where}"
        if not was_shown:
            return f"{where}; refused ({reason[:160]})"
        if "found no answer" in reason or "NOT FOUND" in reason:
            return "the evidence was shown and the reader said NOT FOUND"
        return f"the evidence was shown; refused by a check: {reason[:200]}"
    if not scores.get("answer_correct"):
        return f"a wrong answer ({where})"
    if (scores.get("citation_precision") or 0) < 1.0:
        return "a right answer, but a citation holds neither the evidence nor the answer"
    return ""


def metrics_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]

    def avg(key: str, group: list[dict[str, Any]]) -> float | None:
        v = mean([r["scores"].get(key) for r in group])
        return None if v is None else round(v, 4)

    answered = [r for r in rows if not r["refused"]]
    firsts = [r["timings"]["first_token_s"] for r in answered if r["timings"]["first_token_s"] is not None]
    totals = [r["timings"]["total_s"] for r in rows]
    calls = [r.get("calls", 0) for r in rows]
    return {
        "records": len(rows),
        "answerable": len(ans),
        "unanswerable": len(una),
        "answered": len([r for r in ans if not r["refused"]]),
        "correct": int(sum(r["scores"].get("answer_correct", 0) for r in ans)),
        f"hit@{HIT_K}": avg(f"hit@{HIT_K}", ans),
        "mrr": avg("mrr", ans),
        "answer_correct": avg("answer_correct", ans),
        "answer_f1": avg("answer_f1", ans),
        "citation_precision": avg("citation_precision", ans),
        "citation_precision_source": avg("citation_precision_source", ans),
        "citation_recall": avg("citation_recall", [r for r in ans if not r["refused"]]),
        "refusal_accuracy": avg("refusal_correct", una),
        "hijacked": avg("hijacked", rows),
        "facts_held": avg("facts_held", [r for r in ans if "facts_held" in r["scores"]]),
        "both_sides": avg("both_sides", [r for r in ans if "both_sides" in r["scores"]]),
        "false_refusal_rate": avg("false_refusal", ans),
        "latency_first_token_p50_s": percentile(firsts, 50),
        "latency_first_token_p95_s": percentile(firsts, 95),
        "latency_total_p50_s": percentile(totals, 50),
        "latency_total_p95_s": percentile(totals, 95),
        "latency_retrieve_p50_s": percentile([r["timings"]["retrieve_s"] for r in rows], 50),
        "calls_mean": round(sum(calls) / len(calls), 2) if calls else None,
        "calls_max": max(calls) if calls else None,
    }


def summarise(
    rows: list[dict[str, Any]], settings: Settings, pipeline: Pipeline, spec: EvalSet, warm_s: float
) -> dict[str, Any]:
    splits = {s: metrics_of([r for r in rows if r["split"] == s]) for s in ("dev", "test")}
    return {
        "set": spec.name,
        "counts": {
            "records": len(rows),
            "answerable": sum(r["answerable"] for r in rows),
            "unanswerable": sum(not r["answerable"] for r in rows),
            "passed": sum(r["pass"] for r in rows),
            "dev": splits["dev"]["records"],
            "test": splits["test"]["records"],
        },
        "metrics": metrics_of(rows),
        "splits": {s: m for s, m in splits.items() if m["records"]},
        "refusal_threshold": settings.min_relevance,
        "refuse_at": settings.refuse_at,
        "settings": {
            "corpus": str(spec.corpus),
            "gold": str(spec.gold),
            "split": spec.split,
            "limit": spec.limit,
            "embed_model": settings.embed_model,
            "llm": settings.llm,
            "llm_model": settings.llm_model,
            "generator": pipeline.generator.name,
            "top_k": settings.top_k,
            "rerank_pool": settings.rerank_pool,
            "passages": settings.passages,
            "min_relevance": settings.min_relevance,
            "refuse_at": settings.refuse_at,
            "chunk_size": settings.chunk_size,
            "chunk_overlap": settings.chunk_overlap,
            "warm_up_s": round(warm_s, 2),
            "cpu": cpu_name(),
        },
    }


def cpu_name() -> str:
    """The CPU's model name and whether it has AVX-512, for reading timings and answers across machines."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line for line in info.splitlines() if line.startswith("flags")), "")
    return f"{model} ({'AVX-512' if 'avx512f' in flags else 'AVX2' if 'avx2' in flags else 'no AVX2'})"


def format_summary(summary: dict[str, Any], out: Path) -> str:
    lines = [f"eval {summary['set']}: {summary['counts']['passed']}/{summary['counts']['records']} records passed"]
    for k, v in summary["metrics"].items():
        lines.append(f"  {k:28s} {'-' if v is None else v}")
    if summary.get("targets_missed"):
        lines.append("  below the targets: " + "; ".join(summary["targets_missed"]))
    lines.append(f"results: {out / 'results.jsonl'}  summary: {out / 'summary.json'}  report: {out / 'report.md'}")
    return "\n".join(lines)


__all__ = ["EvalSet", "evaluate_set", "holds_evidence", "run_eval", "score_row", "split_of"]
