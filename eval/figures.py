"""Write the README's current figures from a suite run: one table per area, between the markers
`<!-- figures:start -->` and `<!-- figures:end -->`.

    .venv/bin/python -m eval.figures eval/out-suite/suite.json [more suite.json ...] [--readme README.md]

Several suite.json files (runs of some sets each, `--set`) make one set of tables, in the order given.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from eval.suite import _fmt, halves

START, END = "<!-- figures:start -->", "<!-- figures:end -->"

AREAS = [
    (
        "Answers",
        [
            ("answered", "answered"),
            ("correct", "right"),
            ("answer_correct", "answer correct"),
            ("answer_f1", "token F1"),
            ("refusal_accuracy", "refusal accuracy"),
            ("false_refusal_rate", "false refusals"),
            ("citation_precision", "citation precision (strict)"),
            ("citation_precision_source", "(gold source)"),
        ],
    ),
    ("Overviews and disagreements", [("facts_held", "overview facts held"), ("both_sides", "both sides named")]),
    ("Retrieval", [("hit@5", "hit@5"), ("mrr", "MRR")]),
    (
        "Speed and cost",
        [
            ("latency_first_token_p50_s", "first token p50 s"),
            ("latency_first_token_p95_s", "p95 s"),
            ("latency_total_p50_s", "full answer p50 s"),
            ("latency_total_p95_s", "p95 s"),
            ("calls_mean", "generations mean"),
            ("calls_max", "max"),
        ],
    ),
]


def tables(suite: dict[str, Any]) -> str:
    sets = suite["sets"]
    cpu = sets[0]["settings"].get("cpu", "?") if sets else "?"
    out = [
        f"Measured by `rag eval --suite {suite['suite']}` ({len(sets)} sets, {suite['seconds'] / 60:.0f} min on "
        f"{cpu}, 2 cores; the embedded default models). `dev` is the half studied when building; `test` is "
        "only measured; our own gold set is all dev (the rules were found on it). Regenerate with "
        "`.venv/bin/python -m eval.figures DIR/suite.json`.",
        "",
    ]
    for title, cols in AREAS:
        out += [f"**{title}**", ""]
        out.append("| set | half | records | " + " | ".join(h for _, h in cols) + " |")
        out.append("|---|---|---|" + "---|" * len(cols))
        for s in sets:
            if not any(s["metrics"].get(k) is not None for k, _ in cols):
                continue  # a set this area says nothing about
            for half, m in halves(s):
                cells = " | ".join(_fmt(m.get(k)) for k, _ in cols)
                out.append(f"| {s['set']} | {half} | {m.get('records')} | {cells} |")
        out.append("")
    return "\n".join(out).rstrip()


def update(readme: Path, suite: dict[str, Any]) -> None:
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{readme} has no {START} … {END} block")
    block = f"{START}\n{tables(suite)}\n{END}"
    readme.write_text(re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("suite_json", type=Path, nargs="+")
    p.add_argument("--readme", type=Path, default=Path(__file__).resolve().parent.parent / "README.md")
    args = p.parse_args()
    runs = [json.loads(p.read_text()) for p in args.suite_json]
    suite = {
        "suite": " + ".join(dict.fromkeys(r["suite"] for r in runs)),
        "seconds": sum(r["seconds"] for r in runs),
        "sets": [s for r in runs for s in r["sets"]],
    }
    update(args.readme, suite)
    print(f"updated {args.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
