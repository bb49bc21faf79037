"""Quick A/B of a pipeline change on part of a gold set: asks the chosen records (earlier turns first,
as `rag eval` does), prints each answer and the counts. For comparing prompt variants: edit
prompts/*.txt, run this, compare. Not a replacement for `rag eval` (no report, no gate).

    .venv/bin/python -m eval.subset --single --out /tmp/a.jsonl
    .venv/bin/python -m eval.subset --conversations
    .venv/bin/python -m eval.subset q002 q007
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from eval.gold import load_gold
from eval.harness import DEFAULT_GOLD, ask_in_conversation, eval_settings, score_row
from rag.config import Settings
from rag.factory import build_embedder, build_pipeline, run_index
from rag.types import Answer


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("ids", nargs="*", help="record ids (default: see --single / --conversations)")
    p.add_argument("--single", action="store_true", help="the records without history (incl. first turns)")
    p.add_argument("--conversations", action="store_true", help="the records of multi-turn conversations")
    p.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    p.add_argument("--work", type=Path, default=Path("eval/out-subset"), help="folder for the index")
    p.add_argument("--out", type=Path, help="write the scored rows here (JSON lines)")
    args = p.parse_args()

    items = load_gold(args.gold)
    conv_starts = {i.history[0] for i in items if i.history}
    chosen = [
        i
        for i in items
        if i.id in args.ids
        or (args.single and not i.history)
        or (args.conversations and (i.history or i.question in conv_starts))
    ]
    settings = Settings()
    settings = eval_settings(settings, settings.corpus, args.work)
    embedder = build_embedder(settings)
    run_index(settings, settings.corpus, embedder=embedder)
    pipeline = build_pipeline(settings, embedder=embedder)
    pipeline.warm_up()

    memo: dict[tuple[str, ...], tuple[Answer, int]] = {}
    rows, started = [], time.perf_counter()
    for item in chosen:
        answer, calls = ask_in_conversation(pipeline, item, memo)
        row = score_row(item, answer, calls=calls)
        rows.append(row)
        ok = row["scores"].get("answer_correct") if item.answerable else answer.refused
        print(f"{'OK ' if ok else 'BAD'} {item.id} | {item.question}")
        print(f"    {answer.text[:200]!r} ({answer.reason[:100]})")
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    print(
        f"answerable right {sum(r['scores']['answer_correct'] for r in answerable):.0f} / {len(answerable)}, "
        f"unanswerable refused {sum(r['refused'] for r in unanswerable)} / {len(unanswerable)}, "
        f"{time.perf_counter() - started:.0f} s"
    )
    if args.out:
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
