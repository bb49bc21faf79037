"""Memory that the process no longer needs leaves its resident set: freed heap blocks, read file pages."""

from __future__ import annotations

import hashlib
import mmap
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT
from rag.memory import cache_in_small_pages, release_mapped_file, releasing_mapped_file

PROBE = """
import sys
from pathlib import Path
from rag.memory import return_freed_memory

def rss_mb():
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmRSS"))
    return int(line.split()[1]) // 1024

if sys.argv[1] == "fixed":
    assert return_freed_memory()
big = b"x" * (24 << 20)
del big  # glibc now serves blocks up to 24 MB from its heap, unless the threshold is fixed
before = rss_mb()
blocks = [b"x" * (4 << 20) for _ in range(8)]
del blocks
print(rss_mb() - before)
"""


def retained_mb(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc only")
def test_freed_blocks_are_returned_to_the_system():
    assert retained_mb("default") >= 24  # the behaviour this works around
    assert retained_mb("fixed") <= 4


def rss_file_mb() -> int:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("RssFile"))
    return int(line.split()[1]) // 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and madvise")
def test_released_pages_of_a_mapped_file_leave_the_resident_set_and_read_back_intact(tmp_path: Path):
    data = bytes(range(256)) * (4 * 32 * 1024)  # 32 MB
    path = tmp_path / "weights.bin"
    path.write_bytes(data)
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        assert hashlib.sha256(mapped).digest() == hashlib.sha256(data).digest()  # every page touched
        before = rss_file_mb()
        assert release_mapped_file(path) >= len(data)
        assert rss_file_mb() <= before - 24
        assert mapped[:] == data  # read back from the page cache
        with releasing_mapped_file(path, every_s=0.01):
            assert mapped[-256:] == data[-256:]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and posix_fadvise")
def test_a_file_cached_in_small_pages_keeps_resident_only_what_is_read(tmp_path: Path):
    data = bytes(range(256)) * (4 * 64 * 1024)  # 64 MB, written the usual way (large folios where the kernel uses them)
    path = tmp_path / "weights.bin"
    path.write_bytes(data)
    assert cache_in_small_pages(path)
    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        before = rss_file_mb()
        touched = [mapped[i] for i in range(0, len(data), 1 << 20)]  # one byte per MB
        assert rss_file_mb() - before <= 8  # was 64 MB here with the file's large folios
        assert touched == [data[i] for i in range(0, len(data), 1 << 20)]
        assert hashlib.sha256(mapped).digest() == hashlib.sha256(data).digest()


def test_the_generator_frees_its_sampler_after_every_generation_even_when_the_reader_stops_early():
    from rag.generate import LlamaIndexGenerator, Message

    class Delta:
        def __init__(self, text: str):
            self.delta = text

    class FakeLLM:
        def __init__(self) -> None:
            self.open_streams = 0

        def stream_chat(self, chat: object, max_tokens: int):
            self.open_streams += 1
            try:
                yield from (Delta(w) for w in ["one ", "two ", "three"])
            finally:
                self.open_streams -= 1

    llm, freed = FakeLLM(), []
    gen = LlamaIndexGenerator(llm, "fake", "failed", after_each=lambda: freed.append(llm.open_streams))
    assert "".join(gen.stream([Message("user", "hi")], 8)) == "one two three"
    reader = gen.stream([Message("user", "hi")], 8)
    assert next(reader) == "one "
    reader.close()  # a reader that stops early (the NOT FOUND re-check does)
    assert freed == [0, 0]  # after each generation, with the model's stream already closed
    assert gen._lock.acquire(blocking=False)
