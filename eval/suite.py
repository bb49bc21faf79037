"""`rag eval --suite FILE`: several named sets, each a corpus folder and a gold file, run with the same
models into `--out DIR/<set>/`, then one `DIR/suite.json` and `DIR/suite.html` with a row per set and half.

A suite file is TOML (or JSON of the same shape); paths in it are relative to the file:

    [[sets]]
    name = "bigbench_conflicts"
    corpus = "../datasets/data/bigbench_conflicts/corpus"
    gold = "../datasets/data/bigbench_conflicts/gold.jsonl"
    split = "hash"      # "dev" (all development data) or "hash" (a seeded half held out as test)
    limit = 60          # optional: the first N records
    build = "{python} eval/datasets/bigbench_conflicts.py --out {dir} --limit 250 --seed 0"  # optional

A set with `build` is built (run from the project root, `{dir}` the folder its `corpus` and `gold`
sit in) when its gold file is missing.
"""

from __future__ import annotations

import argparse
import html
import json
import shlex
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eval.gold import GoldError
from eval.harness import EvalSet, evaluate_set
from index.embed import Embedder
from rag.config import PROJECT_ROOT, Settings
from rag.generate import Generator

# The columns of the suite's table: (metric key, heading).
COLUMNS = [
    ("records", "records"),
    ("answered", "answered"),
    ("correct", "correct"),
    ("answer_correct", "answer correct"),
    ("answer_f1", "token F1"),
    ("refusal_accuracy", "refusal accuracy"),
    ("false_refusal_rate", "false refusals"),
    ("citation_precision", "citation precision (strict)"),
    ("citation_precision_source", "citation precision (gold source)"),
    ("hit@5", "hit@5"),
    ("mrr", "MRR"),
    ("hijacked", "hijacked"),
    ("facts_held", "overview facts held"),
    ("both_sides", "both sides named"),
    ("latency_first_token_p50_s", "first token p50 s"),
    ("latency_first_token_p95_s", "first token p95 s"),
    ("latency_total_p50_s", "total p50 s"),
    ("latency_total_p95_s", "total p95 s"),
    ("calls_mean", "calls mean"),
    ("calls_max", "calls max"),
]


class SuiteError(ValueError):
    """A suite file that cannot be used; the message says why."""


@dataclass(frozen=True)
class SuiteSet:
    spec: EvalSet
    build: str | None = None


def load_suite(path: Path) -> list[SuiteSet]:
    if not path.is_file():
        raise SuiteError(f"The suite file {path} does not exist.")
    try:
        data = json.loads(path.read_text()) if path.suffix == ".json" else tomllib.loads(path.read_text())
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SuiteError(f"{path}: cannot be read ({exc})") from exc
    sets = data.get("sets")
    if not isinstance(sets, list) or not sets:
        raise SuiteError(f"{path}: no [[sets]]")
    out, names = [], set()
    for i, s in enumerate(sets, start=1):
        missing = [k for k in ("name", "corpus", "gold") if not isinstance(s.get(k), str)]
        if missing:
            raise SuiteError(f"{path}: set {i} lacks {', '.join(missing)}")
        if s["name"] in names:
            raise SuiteError(f"{path}: two sets are named {s['name']!r}")
        names.add(s["name"])
        if s.get("split", "dev") not in ("dev", "hash"):
            raise SuiteError(f"{path}: set {s['name']!r}: split must be 'dev' or 'hash'")
        limit = s.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise SuiteError(f"{path}: set {s['name']!r}: limit must be a positive integer")
        base = path.resolve().parent
        spec = EvalSet(
            s["name"], (base / s["corpus"]).resolve(), (base / s["gold"]).resolve(), s.get("split", "dev"), limit
        )
        out.append(SuiteSet(spec, s.get("build")))
    return out


def build_set(s: SuiteSet) -> None:
    """Run the set's converter when its gold file is missing."""
    if s.spec.gold.is_file() or not s.build:
        return
    folder = s.spec.gold.parent
    cmd = s.build.format(python=shlex.quote(sys.executable), dir=shlex.quote(str(folder)))
    print(f"{s.spec.name}: building the set: {cmd}", file=sys.stderr)
    done = subprocess.run(cmd, shell=True, cwd=PROJECT_ROOT, stdout=sys.stderr, check=False)
    if done.returncode != 0 or not s.spec.gold.is_file():
        raise SuiteError(f"{s.spec.name}: building the set failed (exit {done.returncode}): {cmd}")


def run_suite(
    settings: Settings,
    args: argparse.Namespace,
    *,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
) -> int:
    from rag.factory import build_embedder, build_generator

    try:
        sets = load_suite(Path(args.suite))
    except SuiteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "set", None):
        sets = [s for s in sets if s.spec.name in args.set]
        if not sets:
            print(f"error: the suite has no set named {', '.join(args.set)}", file=sys.stderr)
            return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    embedder = embedder or build_embedder(settings)
    generator = generator or build_generator(settings)
    summaries, started = [], time.perf_counter()
    for s in sets:
        spec = replace(s.spec, limit=args.limit or s.spec.limit, half=getattr(args, "half", None))
        try:
            build_set(s)
            summary = evaluate_set(settings, spec, out / spec.name, embedder=embedder, generator=generator)
        except (SuiteError, GoldError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        summaries.append(summary)
        print(_line(summary), file=sys.stderr)
    suite = {
        "suite": str(args.suite),
        "seconds": round(time.perf_counter() - started, 1),
        "sets": summaries,
    }
    (out / "suite.json").write_text(json.dumps(suite, indent=2))
    (out / "suite.html").write_text(render_html(suite, out), encoding="utf-8")
    print(format_table(suite))
    print(f"suite: {out / 'suite.html'}  {out / 'suite.json'}")
    failures = [f"{s['set']}: {f}" for s in summaries for f in s["gate"]["failures"]]
    if args.check and failures:
        print("eval gate FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


def _line(summary: dict[str, Any]) -> str:
    m = summary["metrics"]
    return (
        f"{summary['set']}: {m['correct']}/{m['answerable']} right, refusal {m['refusal_accuracy']}, "
        f"gate {'passed' if summary['gate']['passed'] else 'FAILED'}"
    )


def halves(summary: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The rows a set shows: all of it, then each half it has (a set that is all dev shows one)."""
    splits = summary.get("splits", {})
    if list(splits) == ["dev"]:
        return [("dev (all)", summary["metrics"])]
    return [("all", summary["metrics"]), *splits.items()]


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


def format_table(suite: dict[str, Any]) -> str:
    keys = ["answered", "correct", "answer_correct", "refusal_accuracy", "false_refusal_rate", "citation_precision"]
    lines = [f"{'set':22s} {'half':9s} " + " ".join(f"{k[:12]:>12s}" for k in ["records", *keys])]
    for s in suite["sets"]:
        for half, m in halves(s):
            lines.append(f"{s['set']:22s} {half:9s} " + " ".join(f"{_fmt(m.get(k)):>12s}" for k in ["records", *keys]))
    return "\n".join(lines)


def render_html(suite: dict[str, Any], out: Path) -> str:
    """One page: the table of every set and half, then per set its gate, its refusal plot and, for its
    dev half only, why each failed record failed."""
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for _, h in COLUMNS)
    body = []
    for s in suite["sets"]:
        for half, m in halves(s):
            cells = "".join(f"<td>{_fmt(m.get(k))}</td>" for k, _ in COLUMNS)
            body.append(f"<tr><td><a href='#{e(s['set'])}'>{e(s['set'])}</a></td><td>{e(half)}</td>{cells}</tr>")
    sections = []
    for s in suite["sets"]:
        name = s["set"]
        gate = s["gate"]
        status = (
            "no floors"
            if not s.get("thresholds")
            else "passed"
            if gate["passed"]
            else "FAILED: " + "; ".join(gate["failures"])
        )
        fails = _failures(out / name / "results.jsonl")
        rows = "".join(
            f"<tr><td>{e(r['id'])}</td><td>{e(r['question'])}</td>"
            f"<td>{e(' / '.join(r['gold']) or '(unanswerable)')}</td>"
            f"<td>{'REFUSED: ' if r['refused'] else ''}{e(r['answer'][:200])}</td><td>{r.get('calls', '')}</td>"
            f"<td>{e(r['why'])}</td></tr>"
            for r in fails
        )
        settings = ", ".join(f"{k}={v}" for k, v in s["settings"].items() if k in ("corpus", "gold", "split", "limit"))
        sections.append(
            f"<h2 id='{e(name)}'>{e(name)}</h2><p>Gate: <b>{e(status)}</b>. {e(settings)}. "
            f"<a href='{e(name)}/report.md'>report</a>, <a href='{e(name)}/summary.json'>summary</a>.</p>"
            f"<img src='{e(name)}/refusal.png' alt='refusal against threshold'> "
            f"<img src='{e(name)}/metrics.png' alt='metrics'>"
            f"<h3>Dev records that failed ({len(fails)})</h3>"
            "<table><tr><th>id</th><th>question</th><th>gold</th><th>answer</th><th>calls</th><th>why</th></tr>"
            f"{rows}</table>"
        )
    cpu = suite["sets"][0]["settings"].get("cpu", "") if suite["sets"] else ""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Eval suite</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5em;}} table{{border-collapse:collapse;font-size:13px;}}
td,th{{border:1px solid #ccc;padding:3px 6px;vertical-align:top;}} th{{background:#f3f3f3;}}
img{{max-width:48%;}}</style></head><body>
<h1>Eval suite</h1>
<p>{e(suite["suite"])}, {len(suite["sets"])} sets, {suite["seconds"]:.0f} s on {e(cpu)}. Rows per set: the whole set
and its halves. Study failures on <b>dev</b>; <b>test</b> is for measuring only, so its records are not listed.
Citation precision (strict) counts a citation when its passage holds the gold evidence or an accepted answer;
(gold source) also counts any passage of a gold article.</p>
<table><tr><th>set</th><th>half</th>{head}</tr>{"".join(body)}</table>
{"".join(sections)}
</body></html>
"""


def _failures(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["split"] == "dev" and not r["pass"]]
