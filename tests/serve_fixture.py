"""A `rag serve` subprocess over a copy of the project's corpus, indexed with the real models: started once per
test session. Documents uploaded through it go to the copy, never to the project's data/corpus."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT

RAG = Path(sys.executable).parent / "rag"
READY_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Server:
    url: str
    store: Path
    corpus: Path
    log: Path
    process: subprocess.Popen[bytes]


_running: Server | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


def start(workdir: Path) -> Server:
    store, log = workdir / "store", workdir / "serve.log"
    corpus = workdir / "corpus"
    shutil.copytree(PROJECT_ROOT / "data" / "corpus", corpus)
    subprocess.run([str(RAG), "index", str(corpus), "--store", str(store)], check=True, env=_env(), timeout=600)
    port = free_port()
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--store", str(store), "--corpus", str(corpus)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(RAG), *serve],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_env(),
        )
    server = Server(f"http://127.0.0.1:{port}", store, corpus, log, process)
    try:
        wait_until_ready(server)
    except BaseException:
        stop(server)
        raise
    return server


def wait_until_ready(server: Server) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"rag serve exited with {server.process.returncode}: {server.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass  # not listening yet, or still loading (503)
        time.sleep(0.5)
    raise TimeoutError(f"rag serve was not ready within {READY_TIMEOUT_S:.0f} s: {server.log.read_text()[-2000:]}")


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(5)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The one server of the session, shared by every module that imports this fixture."""
    global _running
    if _running is None or _running.process.poll() is not None:
        _running = start(tmp_path_factory.mktemp("serve"))
    yield _running
    if _running is not None and _running.process.poll() is None:
        stop(_running)
