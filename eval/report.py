"""The eval report of one set: a Markdown page with charts of the metrics, the latencies and refusal
against its threshold, the figures of each half (dev, test), and a table of the dev records.

Test records are summarised, never listed: they are for measuring, not for studying failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

METRIC_BARS = [
    "hit@5",
    "mrr",
    "answer_correct",
    "answer_f1",
    "citation_precision",
    "citation_precision_source",
    "citation_recall",
    "refusal_accuracy",
    "false_refusal_rate",
]


def _reader_refused(r: dict[str, Any]) -> bool:
    steps = r.get("steps") or []
    return bool(r["refused"] and steps and steps[-1]["step"] == "read")


def refused_at(r: dict[str, Any], t: float) -> bool:
    """Whether the record would be refused with the refusal threshold at t. With the reader's
    probability of NOT FOUND (`not_found_p`): refused when that is at least t, or when another step
    refused it (a record the reader refused counts as answered below its probability: what would
    have followed was not measured). Without it, on the evidence score: refused when the pipeline
    refused it or its score is below t (below the pipeline's own threshold, records it refused before
    reading count as refused)."""
    p = r.get("not_found_p")
    if p is not None:
        return p >= t or (r["refused"] and not _reader_refused(r))
    return bool(r["refused"] or r.get("evidence_score", 0.0) < t)


def refusal_curve(rows: list[dict[str, Any]], thresholds: list[float]) -> dict[str, list[float | None]]:
    """Refusal accuracy (unanswerable records refused) and false-refusal rate (answerable records
    refused) if the refusal threshold were each of `thresholds` (`refused_at`)."""
    una = [r for r in rows if not r["answerable"]]
    ans = [r for r in rows if r["answerable"]]

    def share(group: list[dict[str, Any]], t: float) -> float | None:
        if not group:
            return None
        return sum(1 for r in group if refused_at(r, t)) / len(group)

    return {
        "refusal_accuracy": [share(una, t) for t in thresholds],
        "false_refusal_rate": [share(ans, t) for t in thresholds],
    }


def _charts(out: Path, rows: list[dict[str, Any]], summary: dict[str, Any]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    m = summary["metrics"]
    vals = [m.get(k) or 0.0 for k in METRIC_BARS]
    fig, ax = plt.subplots(figsize=(8, 3.8))
    bars = ax.barh(METRIC_BARS[::-1], vals[::-1], color="#4C72B0")
    for k, v in summary.get("thresholds", {}).items():
        if k in METRIC_BARS:
            y = METRIC_BARS[::-1].index(k)
            ax.plot([v, v], [y - 0.4, y + 0.4], color="#C44E52", lw=2)
    ax.bar_label(bars, fmt="%.2f", padding=3)
    ax.set_xlim(0, 1.1)
    for k, v in summary.get("targets", {}).items():
        if k in METRIC_BARS:
            y = METRIC_BARS[::-1].index(k)
            ax.plot([v, v], [y - 0.4, y + 0.4], color="#55A868", lw=2, ls="--")
    ax.set_title(f"{summary['set']}: metrics (red: CI floor, green dashed: target)")
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

    dev = [r for r in rows if r["split"] == "dev"]
    grid = [i / 50 for i in range(51)]
    curve = refusal_curve(dev, grid)
    fig, ax = plt.subplots(figsize=(8, 3.4))
    for key, label, colour in (
        ("refusal_accuracy", "refusal accuracy (unanswerable refused)", "#55A868"),
        ("false_refusal_rate", "false refusals (answerable refused)", "#C44E52"),
    ):
        if any(v is not None for v in curve[key]):
            ax.plot(grid, [float("nan") if v is None else v for v in curve[key]], label=label, color=colour)
    on_reader = any(r.get("not_found_p") is not None for r in dev)
    t = summary.get("refuse_at") if on_reader else summary.get("refusal_threshold")
    if t is not None:
        ax.axvline(t, color="#333333", ls="--", lw=1)
        if not on_reader:
            ax.axvspan(0, t, color="#dddddd", alpha=0.5, lw=0)
        ax.text(t, 0.02, f" pipeline's threshold {t:.2f}", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(
        "refusal threshold on the reader's P(NOT FOUND)"
        if on_reader
        else "refusal threshold on the evidence score (grey: below the pipeline's, not measured)"
    )
    ax.set_title(f"{summary['set']} (dev): refusal against its threshold")
    ax.legend(loc="center right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "refusal.png", dpi=110)
    plt.close(fig)
    names.append("refusal.png")
    return names


def _cell(text: Any, limit: int = 160) -> str:
    s = " ".join(str(text).split())
    s = s if len(s) <= limit else s[: limit - 1] + "…"
    return s.replace("|", "\\|")


def _gate(summary: dict[str, Any]) -> str:
    gate = summary.get("gate", {})
    if not summary.get("thresholds"):
        return "no floors for this set"
    return "passed" if gate.get("passed") else "FAILED " + "; ".join(gate.get("failures", []))


def write_report(out: Path, rows: list[dict[str, Any]], summary: dict[str, Any]) -> Path:
    charts = _charts(out, rows, summary)
    c = summary["counts"]
    halves = summary.get("splits", {})
    lines = [
        f"# Eval report: {summary['set']}",
        "",
        f"{c['passed']} of {c['records']} records passed "
        f"({c['answerable']} answerable, {c['unanswerable']} unanswerable; {c['dev']} dev, {c['test']} test). "
        f"Gate: {_gate(summary)}.",
        "",
        *[f"![{n}]({n})" for n in charts],
        "",
        "| metric | all | " + " | ".join(halves) + " | CI floor | target |",
        "|---|---|" + "---|" * len(halves) + "---|---|",
    ]
    floors, targets = summary.get("thresholds", {}), summary.get("targets", {})
    for k, v in summary["metrics"].items():
        parts = " | ".join("-" if h.get(k) is None else str(h.get(k)) for h in halves.values())
        lines.append(
            f"| {k} | {'-' if v is None else v} | {parts}{' | ' if halves else ''}{floors.get(k, '')} | "
            f"{targets.get(k, '')} |"
        )
    lines += ["", "Settings: " + ", ".join(f"{k}={v}" for k, v in summary["settings"].items()), ""]
    dev = [r for r in rows if r["split"] == "dev"]
    if len(dev) < len(rows):
        lines += [f"The {len(rows) - len(dev)} test records are summarised above and not listed.", ""]
    lines += [
        "| id | question | gold | answer | citations | calls | pass | why |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in dev:
        q = r["question"] if not r["history"] else f"({' → '.join(r['history'])}) → {r['question']}"
        cites = "; ".join(f"{x['source']}:{x['start']}-{x['end']}" for x in r["citations"])
        gold = " / ".join(r["gold"]) or "(unanswerable)"
        answer = ("REFUSED: " if r["refused"] else "") + r["answer"]
        lines.append(
            f"| {r['id']} | {_cell(q)} | {_cell(gold, 60)} | {_cell(answer)} | {_cell(cites, 120)} | "
            f"{r.get('calls', '')} | {'✅' if r['pass'] else '❌'} | {_cell(r['why'], 160)} |"
        )
    path = out / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
