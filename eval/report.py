"""The eval report: a Markdown page with charts of the metrics and latencies, and a per-question table."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _charts(out: Path, rows: list[dict[str, Any]], summary: dict[str, Any]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    m = summary["metrics"]
    keys = [
        "hit@5",
        "mrr",
        "answer_correct",
        "answer_f1",
        "citation_precision",
        "citation_recall",
        "refusal_accuracy",
        "false_refusal_rate",
    ]
    vals = [m.get(k) or 0.0 for k in keys]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    bars = ax.barh(keys[::-1], vals[::-1], color="#4C72B0")
    for k, v in summary.get("thresholds", {}).items():
        if k in keys:
            y = keys[::-1].index(k)
            ax.plot([v, v], [y - 0.4, y + 0.4], color="#C44E52", lw=2)
    ax.bar_label(bars, fmt="%.2f", padding=3)
    ax.set_xlim(0, 1.1)
    for k, v in summary.get("targets", {}).items():
        if k in keys:
            y = keys[::-1].index(k)
            ax.plot([v, v], [y - 0.4, y + 0.4], color="#55A868", lw=2, ls="--")
    ax.set_title("Metrics (red: CI floor, green dashed: target)")
    fig.tight_layout()
    fig.savefig(out / "metrics.png", dpi=110)
    plt.close(fig)
    names.append("metrics.png")

    fig, ax = plt.subplots(figsize=(8, 3.2))
    series = {
        "evidence": [r["timings"]["retrieve_s"] for r in rows],
        "first token": [r["timings"]["first_token_s"] for r in rows if r["timings"]["first_token_s"] is not None],
        "full answer": [r["timings"]["total_s"] for r in rows],
    }
    ax.boxplot(list(series.values()), orientation="horizontal", tick_labels=list(series.keys()))
    ax.set_xlabel("seconds")
    ax.set_title("Latency per question")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=110)
    plt.close(fig)
    names.append("latency.png")
    return names


def _cell(text: Any, limit: int = 160) -> str:
    s = " ".join(str(text).split())
    s = s if len(s) <= limit else s[: limit - 1] + "…"
    return s.replace("|", "\\|")


def _gate(summary: dict[str, Any]) -> str:
    gate = summary.get("gate", {})
    return "passed" if gate.get("passed") else "FAILED " + "; ".join(gate.get("failures", []))


def write_report(out: Path, rows: list[dict[str, Any]], summary: dict[str, Any]) -> Path:
    charts = _charts(out, rows, summary)
    c = summary["counts"]
    lines = [
        "# Eval report",
        "",
        f"{c['passed']} of {c['records']} records passed "
        f"({c['answerable']} answerable, {c['unanswerable']} unanswerable). Gate: {_gate(summary)}.",
        "",
        *[f"![{n}]({n})" for n in charts],
        "",
        "| metric | value | CI floor | target |",
        "|---|---|---|---|",
    ]
    floors, targets = summary.get("thresholds", {}), summary.get("targets", {})
    for k, v in summary["metrics"].items():
        lines.append(f"| {k} | {'-' if v is None else v} | {floors.get(k, '')} | {targets.get(k, '')} |")
    lines += ["", "Settings: " + ", ".join(f"{k}={v}" for k, v in summary["settings"].items()), ""]
    lines += ["| id | question | gold | answer | citations | pass | why |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        q = r["question"] if not r["history"] else f"({' → '.join(r['history'])}) → {r['question']}"
        cites = "; ".join(f"{x['source']}:{x['start']}-{x['end']}" for x in r["citations"])
        gold = " / ".join(r["gold"]) or "(unanswerable)"
        answer = ("REFUSED: " if r["refused"] else "") + r["answer"]
        lines.append(
            f"| {r['id']} | {_cell(q)} | {_cell(gold, 60)} | {_cell(answer)} | {_cell(cites, 120)} | "
            f"{'✅' if r['pass'] else '❌'} | {_cell(r['why'], 120)} |"
        )
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
