"""Concurrent conversations through the Gradio API: all answered, none mixed up, latency p50 / p95.

Starts `rag serve` on 127.0.0.1, then asks the multi-turn conversations of eval/gold.jsonl through
`gradio_client` (`/ask`, each client sending its own history, as the page does): first one at a
time (the reference answers), then `--users` conversations at once, each in its own client. A
conversation is "mixed up" when the search query of a follow-up does not come from its own
history; answers that differ from the reference are counted too (generation is greedy, so they
should not, unless llama.cpp's prompt cache splits a prefill differently).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=20, help="conversations at once")
    p.add_argument("--store", type=Path, help="an existing index (default: index data/corpus into a temporary one)")
    p.add_argument("--gold", type=Path, default=ROOT / "eval" / "gold.jsonl")
    p.add_argument("--timeout", type=float, default=900, help="seconds any one answer may take")
    return p.parse_args()


@dataclass
class Conversation:
    name: str
    questions: list[str]
    answers: list[dict[str, Any]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    error: str = ""


def conversations(gold: Path) -> list[list[str]]:
    """The longest question sequence of each conversation in the gold file."""
    longest: dict[str, list[str]] = {}
    for line in gold.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        turns = [*item["history"], item["question"]]
        if len(turns) < 2:
            continue
        if len(turns) > len(longest.get(turns[0], [])):
            longest[turns[0]] = turns
    return list(longest.values())


def talk(base: str, conv: Conversation, timeout_s: float) -> Conversation:
    from gradio_client import Client

    try:
        client = Client(base, verbose=False)
        history: list[dict[str, str]] = []
        for question in conv.questions:
            t = time.perf_counter()
            job = client.submit(question, json.dumps(history), api_name="/ask")
            reply = job.result(timeout=timeout_s)
            conv.latencies.append(time.perf_counter() - t)
            conv.answers.append(reply)
            history.append({"question": question, "answer": "" if reply["refused"] else reply["answer"]})
    except Exception as exc:  # reported, not raised: the other conversations go on
        conv.error = f"{type(exc).__name__}: {exc}"
    return conv


def own_history(conv: Conversation) -> bool:
    """Every follow-up's search query mentions nothing but its own question and earlier turns."""
    for i, reply in enumerate(conv.answers[1:], start=1):
        query = reply.get("search_query", "")
        if conv.questions[i] not in query:
            return False
    return True


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> int:
    args = parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from proc import VENV_BIN, free_port, load_average, project_index, stop, tree_rss_mb, wait_http

    rag = str(VENV_BIN / "rag")
    tmp = Path(tempfile.mkdtemp(prefix="bench-conv-"))
    store = project_index(args.store, tmp)
    scripts = conversations(args.gold)
    if not scripts:
        raise SystemExit(f"no multi-turn conversations in {args.gold}")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp / "serve.log").open("wb")
    server = subprocess.Popen(
        [rag, "serve", "--store", str(store), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    result: dict[str, Any] = {"bench": "conversations", "users": args.users, "load_average": [load_average()]}
    try:
        wait_http(f"{base}/healthz", 600, server)
        # Reference: each distinct conversation alone.
        started = time.perf_counter()
        reference = [talk(base, Conversation(f"ref{i}", qs), args.timeout) for i, qs in enumerate(scripts)]
        result["sequential_s"] = round(time.perf_counter() - started, 1)
        solo = [x for c in reference for x in c.latencies]
        # Then --users at once, cycling through the scripts.
        crowd = [Conversation(f"user{u:02d}", scripts[u % len(scripts)]) for u in range(args.users)]
        peak = [0.0]
        stop_sampling = threading.Event()

        def sample() -> None:
            while not stop_sampling.wait(0.5):
                peak[0] = max(peak[0], tree_rss_mb(server.pid))

        threading.Thread(target=sample, daemon=True).start()
        started = time.perf_counter()
        with ThreadPoolExecutor(args.users) as pool:
            crowd = list(pool.map(lambda c: talk(base, c, args.timeout), crowd))
        result["concurrent_s"] = round(time.perf_counter() - started, 1)
        stop_sampling.set()
        turns = [x for c in crowd for x in c.latencies]
        mixed, differ = [], []
        for u, conv in enumerate(crowd):
            ref = reference[u % len(scripts)]
            if not conv.error and not own_history(conv):
                mixed.append(conv.name)
            if not conv.error and [a.get("answer") for a in conv.answers] != [a.get("answer") for a in ref.answers]:
                differ.append(conv.name)
        result.update(
            conversations=len(crowd),
            turns_asked=sum(len(c.questions) for c in crowd),
            turns_answered=len(turns),
            reference_turns=sum(len(c.questions) for c in reference),
            reference_answered=len(solo),
            errors=[f"{c.name}: {c.error}" for c in reference + crowd if c.error],
            mixed_up=mixed,
            answers_differ_from_alone=differ,
            solo_turn_p50_s=round(statistics.median(solo), 2),
            solo_turn_p95_s=round(pct(solo, 0.95), 2),
            turn_p50_s=round(statistics.median(turns), 2) if turns else None,
            turn_p95_s=round(pct(turns, 0.95), 2) if turns else None,
            conversation_p95_s=round(pct([sum(c.latencies) for c in crowd if not c.error], 0.95), 1),
            peak_rss_mb=round(peak[0]),
        )
    finally:
        stop(server)
        log.close()
    result["load_average"].append(load_average())
    detail = {c.name: {"questions": c.questions, "answers": c.answers, "error": c.error} for c in reference + crowd}
    (tmp / "conversations.json").write_text(json.dumps(detail, indent=1, ensure_ascii=False))
    print(f"\nbench_conversations — {args.users} conversations at once via gradio_client /ask (log: {tmp})")
    print(
        f"  reference (one at a time)   {len(scripts)} conversations in {result['sequential_s']} s; per turn "
        f"p50 {result['solo_turn_p50_s']} s, p95 {result['solo_turn_p95_s']} s"
    )
    print(
        f"  concurrent                  {result['conversations']} conversations, {result['turns_answered']} of "
        f"{result['turns_asked']} turns answered in {result['concurrent_s']} s"
    )
    print(
        f"  per turn (queue + answer)   p50 {result['turn_p50_s']} s, p95 {result['turn_p95_s']} s; whole "
        f"conversation p95 {result['conversation_p95_s']} s"
    )
    print(f"  errors                      {len(result['errors'])}  {result['errors'][:3]}")
    print(f"  mixed up (foreign history)  {len(mixed)}  {mixed}")
    print(f"  answer differs from alone   {len(differ)} conversations  {differ}")
    print(f"  peak RSS of the server      {result['peak_rss_mb']} MB")
    print(f"  load average                {' | '.join(result['load_average'])}")
    print(json.dumps(result))
    return 0 if not result["errors"] and not mixed else 1


if __name__ == "__main__":
    raise SystemExit(main())
