"""One indexing run per store at a time: a second run is refused at once with a clear message."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout


class IndexBusyError(Exception):
    """Another `rag index` run holds the store."""


@contextmanager
def index_lock(lock_path: Path) -> Iterator[None]:
    lock = FileLock(str(lock_path), timeout=0)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout as exc:
        holder = _read_pid(lock_path.with_suffix(".pid"))
        who = f" (process {holder})" if holder else ""
        raise IndexBusyError(
            f"Another indexing run is already writing to this index{who}; wait for it to finish."
        ) from exc
    except OSError as exc:
        raise IndexBusyError(f"Cannot take the index lock {lock_path}: {exc.strerror or exc}") from exc
    pid_file = lock_path.with_suffix(".pid")
    try:
        pid_file.write_text(str(os.getpid()))
        yield
    finally:
        pid_file.unlink(missing_ok=True)
        lock.release()


def _read_pid(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
