"""End-to-end answer latency on the default corpus: retrieve, prompt build, prefill and decode, per model."""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

GOLD = Path(__file__).resolve().parent.parent / "eval" / "gold.jsonl"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument(
        "--model",
        dest="models",
        action="append",
        help="packaged model or .gguf (repeatable; default: qwen2.5-coder-1.5b then qwen2.5-coder-0.5b)",
    )
    p.add_argument("--questions", type=int, default=10, help="answerable single-turn questions from eval/gold.jsonl")
    p.add_argument("--corpus", type=Path, help="folder to index (default: Settings().corpus, data/corpus)")
    return p.parse_args()


@dataclass
class Call:
    """What one generator call cost: timestamps (perf_counter) and token counts."""

    start: float
    prompt_tokens: int | None = None
    cached_tokens: int | None = None  # prompt prefix already in llama.cpp's KV cache
    first: float | None = None
    end: float | None = None  # the generator's stream ended (after its end-of-sequence step)
    text: str = ""


@dataclass
class TimedGenerator:
    """Delegates to the real generator and records each call; reads llama.cpp's tokenizer and cache."""

    inner: Any
    calls: list[Call] = field(default_factory=list)
    name: str = ""

    def __post_init__(self) -> None:
        self.name = str(self.inner.name)

    def llama(self) -> Any:
        return getattr(getattr(self.inner, "_llm", None), "_model", None)

    def count(self, text: str) -> int | None:
        model = self.llama()
        return None if model is None else len(model.tokenize(text.encode(), add_bos=False, special=True))

    def stream(self, messages: Sequence[Any], max_tokens: int) -> Iterator[str]:
        yield from self._timed(messages, self.inner.stream(messages, max_tokens))

    def stream_scored(self, messages: Sequence[Any], max_tokens: int, refuse_at: float = 0.5) -> Iterator[Any]:
        """The reader's stream (its probability of NOT FOUND, then text), timed like `stream`."""
        yield from self._timed(messages, self.inner.stream_scored(messages, max_tokens, refuse_at))

    def extract(self, messages: Sequence[Any], passages: Sequence[str], max_tokens: int, refuse_at: float = 0.5) -> Any:
        return self.inner.extract(messages, passages, max_tokens, refuse_at)

    def _timed(self, messages: Sequence[Any], deltas: Iterator[Any]) -> Iterator[Any]:
        from rag.generate import chatml

        call = Call(time.perf_counter())
        model = self.llama()
        if model is not None:
            tokens = model.tokenize(chatml(messages).encode(), special=True)
            cached = 0
            for a, b in zip(model.input_ids.tolist(), tokens[:-1], strict=False):
                if a != b:
                    break
                cached += 1
            call.prompt_tokens, call.cached_tokens = len(tokens), cached
        self.calls.append(call)
        for delta in deltas:
            if isinstance(delta, str):
                call.first = call.first or time.perf_counter()
                call.text += delta
            yield delta
        call.end = time.perf_counter()


@dataclass
class TimedRetriever:
    """Records the time of the hybrid retrieval alone (the pipeline's retrieve_s adds sentence selection)."""

    inner: Any
    last_s: float = 0.0

    def warm_up(self) -> None:
        self.inner.warm_up()

    def retrieve(self, query: str, k: int) -> list[Any]:
        t = time.perf_counter()
        hits = self.inner.retrieve(query, k)
        self.last_s = time.perf_counter() - t
        return list(hits)


def gold_questions(n: int) -> list[tuple[str, str]]:
    records = [json.loads(line) for line in GOLD.read_text().splitlines() if line.strip()]
    pool = [(r["id"], r["question"]) for r in records if r["answerable"] and not r["history"]]
    return pool[:: max(1, len(pool) // n)][:n]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ask(pipeline: Any, spy: TimedGenerator, retriever: TimedRetriever, qid: str, question: str) -> dict[str, Any]:
    from rag.pipeline import Done, Evidence

    spy.calls.clear()
    t0 = time.perf_counter()
    evidence_at = done_at = 0.0
    answer: Any = None
    for event in pipeline.stream(question):
        if isinstance(event, Evidence):
            evidence_at = time.perf_counter()
        elif isinstance(event, Done):
            done_at, answer = time.perf_counter(), event.answer
    row: dict[str, Any] = {
        "id": qid,
        "refused": answer.refused,
        "retrieve_s": round(retriever.last_s, 3),
        "select_s": round(answer.timings.retrieve_s - retriever.last_s, 3),
        "total_s": round(done_at - t0, 2),
    }
    if not spy.calls or spy.calls[0].first is None:
        return row | {"generated": False}
    c = spy.calls[0]
    assert c.first is not None and c.end is not None
    out_tokens = spy.count(c.text)
    new_tokens = None if c.prompt_tokens is None else c.prompt_tokens - (c.cached_tokens or 0)
    prefill, decode = c.first - c.start, c.end - c.first
    return row | {
        "generated": True,
        "first_token_s": round(c.first - t0, 2),
        "generations": len(spy.calls),
        "prompt_build_s": round(c.start - evidence_at, 4),
        "prefill_s": round(prefill, 2),
        "decode_s": round(decode, 2),
        "verify_s": round(done_at - c.end, 3),
        "prompt_tokens": c.prompt_tokens,
        "prefilled_tokens": new_tokens,
        "output_tokens": out_tokens,
        "prefill_tok_s": None if new_tokens is None else round(new_tokens / prefill, 1),
        # after the first token: the rest of the answer, plus the end-of-sequence step
        "decode_tok_s": None if not out_tokens else round(out_tokens / decode, 1),
    }


def bench_model(model: str, store: Path, embedder: Any, questions: Sequence[tuple[str, str]]) -> dict[str, Any]:
    from rag.config import Settings
    from rag.factory import build_generator, build_pipeline

    settings = Settings(store=store, collection="bench", llm_model=model)
    t = time.perf_counter()
    spy = TimedGenerator(build_generator(settings))
    pipeline = build_pipeline(settings, embedder=embedder, generator=spy)
    retriever = TimedRetriever(pipeline.retriever)
    pipeline.retriever = retriever
    pipeline.warm_up()
    ready_s = time.perf_counter() - t
    rows = [ask(pipeline, spy, retriever, qid, q) for qid, q in questions]
    summary = {"model": model, "load_and_warm_up_s": round(ready_s, 1), "rss_mb": round(rss_mb()), "questions": rows}
    generated = [r for r in rows if r["generated"]]
    for key in ("retrieve_s", "select_s", "total_s"):
        summary[f"median_{key}"] = statistics.median(r[key] for r in rows)
    totals = sorted(r["total_s"] for r in rows)
    summary["p95_total_s"] = totals[min(len(totals) - 1, round(0.95 * (len(totals) - 1)))]
    summary["p95_over_p50"] = round(summary["p95_total_s"] / summary["median_total_s"], 2)
    for key in (
        "prompt_build_s",
        "prefill_s",
        "decode_s",
        "verify_s",
        "prompt_tokens",
        "prefilled_tokens",
        "output_tokens",
        "prefill_tok_s",
        "decode_tok_s",
        "first_token_s",
        "generations",
    ):
        values = [r[key] for r in generated if r[key] is not None]
        summary[f"median_{key}"] = statistics.median(values) if values else None
    return summary


def print_model(s: dict[str, Any]) -> None:
    print(f"\n{s['model']}: loaded and warmed up in {s['load_and_warm_up_s']} s, RSS {s['rss_mb']} MB")
    print(
        f"  {'id':<10}{'retrieve':>9}{'select':>8}{'prompt':>8}{'prefill':>9}{'decode':>8}{'verify':>8}{'total':>7}"
        f"  {'tokens in(new)/out':>19}{'prefill t/s':>12}{'decode t/s':>11}"
    )
    for r in s["questions"]:
        head = f"  {r['id']:<10}{r['retrieve_s']:>8.2f}s{r['select_s']:>7.2f}s"
        if not r["generated"]:
            print(f"{head}  refused before generation{'':>14}{r['total_s']:>6.1f}s")
            continue
        tokens = f"{r['prompt_tokens']}({r['prefilled_tokens']})/{r['output_tokens']}"
        print(
            f"{head}{r['prompt_build_s'] * 1000:>6.1f}ms{r['prefill_s']:>8.2f}s{r['decode_s']:>7.2f}s"
            f"{r['verify_s']:>7.3f}s{r['total_s']:>6.1f}s  {tokens:>19}{r['prefill_tok_s'] or 0:>12.1f}"
            f"{r['decode_tok_s'] or 0:>11.1f}" + ("  (refused after)" if r["refused"] else "")
        )
    m = {k[7:]: float("nan") if v is None else v for k, v in s.items() if k.startswith("median_")}
    print(
        f"  median: retrieve {m['retrieve_s']:.2f} s + select {m['select_s']:.2f} s, prefill {m['prefill_s']:.2f} s "
        f"({m['prefill_tok_s']:.1f} tok/s over {m['prefilled_tokens']:.0f} new of {m['prompt_tokens']:.0f} prompt "
        f"tokens), decode {m['decode_s']:.2f} s ({m['decode_tok_s']:.1f} tok/s, {m['output_tokens']:.0f} tokens), "
        f"total {m['total_s']:.2f} s"
    )
    print(
        f"  first token p50 {m['first_token_s']:.2f} s; total p50 {m['total_s']:.2f} s, p95 {s['p95_total_s']:.2f} s "
        f"(p95/p50 {s['p95_over_p50']}); generations per answered question, median {m['generations']:.0f}"
    )


def main() -> int:
    args = parse_args()
    from proc import load_average

    from rag.config import Settings
    from rag.factory import build_embedder, run_index

    models = args.models or ["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"]
    questions = gold_questions(args.questions)
    corpus = args.corpus or Settings().corpus
    loads = [load_average()]
    from eval.harness import cpu_name

    flags = next((x for x in Path("/proc/cpuinfo").read_text().splitlines() if x.startswith("flags")), "")
    wanted = ("avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx512_bf16", "amx_int8")
    print(f"CPU: {cpu_name()}; flags: {' '.join(f for f in wanted if f in flags.split())}")
    with tempfile.TemporaryDirectory(prefix="bench-answer-") as tmp:
        store = Path(tmp) / "store"
        settings = Settings(store=store, collection="bench")
        embedder = build_embedder(settings)
        summary = run_index(settings, corpus, embedder=embedder)
        print(
            f"indexed {corpus}: {summary.chunks_total} chunks; {len(questions)} questions: "
            + ", ".join(qid for qid, _ in questions)
        )
        results = []
        for model in models:
            results.append(bench_model(model, store, embedder, questions))
            print_model(results[-1])
            loads.append(load_average())
            gc.collect()
    print(f"\nload average: {' | '.join(loads)}")
    print(json.dumps({"bench": "answer", "corpus": str(corpus), "models": results, "load_average": loads}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
