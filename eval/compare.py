"""Two runs of the suite side by side, per set and half, as a Markdown table.

.venv/bin/python -m eval.compare --before A/suite.json [...] --after B/suite.json [...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from eval.suite import _fmt, halves

COLUMNS = [
    ("correct", "right"),
    ("answer_correct", "answer correct"),
    ("answer_f1", "F1"),
    ("refusal_accuracy", "refusal acc."),
    ("false_refusal_rate", "false refusals"),
    ("citation_precision", "citation prec. (strict)"),
    ("hijacked", "hijacked"),
    ("latency_first_token_p50_s", "first token p50 s"),
    ("latency_total_p50_s", "total p50 s"),
    ("latency_total_p95_s", "p95 s"),
    ("calls_mean", "calls mean"),
    ("calls_max", "max"),
]


def _sets(paths: list[Path]) -> dict[str, dict[str, Any]]:
    return {s["set"]: s for p in paths for s in json.loads(p.read_text())["sets"]}


def table(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| set | half | path | records | " + " | ".join(h for _, h in COLUMNS) + " |",
        "|---|---|---|---|" + "---|" * len(COLUMNS),
    ]
    for name in [n for n in after if n in before]:
        for (half, m_before), (_, m_after) in zip(halves(before[name]), halves(after[name]), strict=False):
            for label, m in (("before", m_before), ("after", m_after)):
                cells = " | ".join(_fmt(m.get(k)) for k, _ in COLUMNS)
                lines.append(f"| {name} | {half} | {label} | {m.get('records')} | {cells} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", type=Path, nargs="+", required=True)
    p.add_argument("--after", type=Path, nargs="+", required=True)
    args = p.parse_args()
    print(table(_sets(args.before), _sets(args.after)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
