"""Process memory: what the process no longer uses leaves its resident set (freed heap blocks, file
pages read once through a mapping)."""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
_MADV_DONTNEED = 4


def return_freed_memory(threshold: int = 128 * 1024) -> bool:
    """Give every allocation above `threshold` bytes its own mapping, which free() unmaps at once.

    glibc starts with this threshold but raises it to the largest block freed so far (up to 32 MB), so
    after the first big embedding batch the next ones come from the heap, which keeps them resident:
    measured 150 MB more after embedding 500 sentences with onnxruntime. Fixing it costs one mmap per
    large allocation. False where the C library is not glibc (nothing is changed there)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library the interpreter already uses
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold))


def release_mapped_file(path: Path) -> int:
    """Drop this process's resident pages of every mapping of `path`; returns the bytes advised.

    The pages stay in the page cache and come back, without reading the disk, on the next access:
    only what is still read through the mapping counts as resident again. Meant for a file that is
    never written while mapped (the model files are replaced by rename, never rewritten)."""
    if not sys.platform.startswith("linux"):
        return 0
    target = os.path.realpath(path)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes, libc.madvise.restype = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int], ctypes.c_int
    advised = 0
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5] == target:
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if libc.madvise(start, end - start, _MADV_DONTNEED) == 0:
                advised += end - start
    return advised


def cache_in_small_pages(path: Path, chunk: int = 1 << 20) -> bool:
    """Put `path` in the page cache as single pages, so a mapping of it holds resident only what is read.

    Linux keeps a file read the usual way in large folios (up to 2 MB), and a fault on one byte maps the
    whole folio: the model's small hot tensors (norms, biases, Q6_K layers) sit between weights that
    llama.cpp copies out and never reads again, and each one kept megabytes of them resident. Measured
    (scratch probe, see README), 1.5B model after one answer: 547 MB of the file resident with large
    folios, 391 MB with single pages, same decode speed. The file's cached pages are dropped (only those
    no process maps) and read back with read-ahead off, which caches them one page each; 0.8 s for the
    1.1 GB model here. False elsewhere than Linux, or when the file system refuses (then nothing more
    is done)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False  # the loader will say what is wrong with the file
    try:
        os.fdatasync(fd)  # pages not yet written back cannot be dropped
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        view = memoryview(bytearray(chunk))
        while os.readv(fd, [view]) > 0:
            pass
    except OSError:
        return False  # a read-only or unusual file system: only memory is at stake, not the answer
    finally:
        os.close(fd)
    return True


@contextmanager
def releasing_mapped_file(path: Path, every_s: float = 0.05) -> Iterator[None]:
    """Release the pages of `path` every `every_s` seconds while the body runs, and once after it:
    a loader that reads a whole mapped file once then does not hold all of it resident at once."""
    done = threading.Event()

    def release() -> None:
        while not done.wait(every_s):
            release_mapped_file(path)

    thread = threading.Thread(target=release, name="release-mapped-file", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        release_mapped_file(path)
