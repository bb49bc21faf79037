"""Serving process: time from start to ready, and its resident memory (process tree) before and after a question."""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

GOAL_MB = 1536


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--store", type=Path, help="an existing index (default: index data/corpus into a temporary one)")
    p.add_argument("--model", help="generator for `rag serve --model` (default: the configured one)")
    p.add_argument("--question", default="Which Belarusian region did the missile come down in?")
    p.add_argument("--timeout", type=float, default=600, help="seconds to wait for each step")
    return p.parse_args()


class Sampler(threading.Thread):
    """Samples the resident memory of a process tree every 0.2 s and keeps the largest value."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_mb, self._stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        from proc import tree_rss_mb

        while not self._stop.wait(0.2):
            self.peak_mb = max(self.peak_mb, tree_rss_mb(self.pid))

    def stop(self) -> None:
        self._stop.set()


def get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0


def wait_for(url: str, server: subprocess.Popen[bytes], timeout_s: float, ok: set[int]) -> int:
    """Poll until the status is in `ok`, or a definite 404 (the route does not exist); returns it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"`rag serve` exited with code {server.returncode}")
        status = get_status(url)
        if status in ok or status == 404:
            return status
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout_s:.0f} s")


def chat(base: str, question: str, timeout_s: float) -> tuple[int, dict[str, Any] | None]:
    body = json.dumps({"model": "rag-news", "messages": [{"role": "user", "content": question}]}).encode()
    request = urllib.request.Request(f"{base}/v1/chat/completions", body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:
            return int(resp.status), json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def main() -> int:
    args = parse_args()
    from proc import VENV_BIN, free_port, load_average, project_index, stop, tree_peak_mb, tree_rss_mb

    rag = str(VENV_BIN / "rag")
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    store = project_index(args.store, tmp)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [rag, "serve", "--store", str(store), "--port", str(port), *(["--model", args.model] if args.model else [])]
    log = (tmp / "serve.log").open("wb")
    result: dict[str, Any] = {"bench": "serve", "command": " ".join(cmd), "load_average": [load_average()]}
    started = time.perf_counter()
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    sampler = Sampler(server.pid)
    sampler.start()
    try:
        wait_for(f"{base}/", server, args.timeout, {200})
        result["page_s"] = round(time.perf_counter() - started, 1)
        result["page_rss_mb"] = round(tree_rss_mb(server.pid))
        health = wait_for(f"{base}/healthz", server, args.timeout, {200})
        if health == 200:
            result["ready_s"] = round(time.perf_counter() - started, 1)
        result["ready_rss_mb"] = round(tree_rss_mb(server.pid))
        t = time.perf_counter()
        status, reply = chat(base, args.question, args.timeout)
        result["chat_status"] = status
        if reply is not None:
            result["chat_s"] = round(time.perf_counter() - t, 1)
            result["chat_refused"] = reply.get("refused")
            result["chat_answer"] = reply["choices"][0]["message"]["content"][:200]
        result["after_chat_rss_mb"] = round(tree_rss_mb(server.pid))
        result["sampled_peak_rss_mb"] = round(sampler.peak_mb)
        result["sum_of_vmhwm_mb"] = round(tree_peak_mb(server.pid))
    finally:
        sampler.stop()
        stop(server)
        log.close()
    result["load_average"].append(load_average())
    print_result(result, tmp / "serve.log")
    print(json.dumps(result))
    return 0


def print_result(r: dict[str, Any], log: Path) -> None:
    print(f"\nbench_serve — {r['command']}   (server log: {log})")
    print(f"  page answers at GET /          {r['page_s']:>7} s   RSS {r['page_rss_mb']} MB")
    ready = f"{r['ready_s']:>7} s" if "ready_s" in r else "    n/a (no /healthz)"
    print(f"  models ready (/healthz 200)    {ready}   RSS {r['ready_rss_mb']} MB")
    if "chat_s" in r:
        print(
            f"  POST /v1/chat/completions      {r['chat_s']:>7} s   refused={r['chat_refused']}: {r['chat_answer']!r}"
        )
    else:
        print(f"  POST /v1/chat/completions      status {r['chat_status']} (not measured)")
    verdict = "met" if r["sampled_peak_rss_mb"] <= GOAL_MB else "NOT met"
    print(f"  RSS after the question         {r['after_chat_rss_mb']} MB")
    print(f"  peak RSS of the tree (sampled) {r['sampled_peak_rss_mb']} MB   (goal <= {GOAL_MB} MB: {verdict})")
    print(f"  sum of per-process VmHWM       {r['sum_of_vmhwm_mb']} MB")
    print(f"  load average                   {' | '.join(r['load_average'])}")


if __name__ == "__main__":
    raise SystemExit(main())
