"""The BIG-bench converter's fallback download from a package index's simple page, offline: the
index and the sdist are local files reached through file:// URLs."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from eval.datasets import bigbench_conflicts as bb

TASK = b'{"examples": []}'


def make_index(root: Path, sha256: str | None = None) -> str:
    """A simple index holding bigbench-1.0.0.tar.gz with task.json inside; returns its URL."""
    sdist = root / "files" / "bigbench-1.0.0.tar.gz"
    sdist.parent.mkdir(parents=True)
    with tarfile.open(sdist, "w:gz") as tar:
        info = tarfile.TarInfo(f"bigbench-1.0.0/{bb.TASK_MEMBER_SUFFIX}")
        info.size = len(TASK)
        tar.addfile(info, io.BytesIO(TASK))
    digest = sha256 or hashlib.sha256(sdist.read_bytes()).hexdigest()
    page = root / "simple" / "bigbench"
    page.mkdir(parents=True)
    (page / "index.html").write_text(
        f'<a href="{(root / "files" / "bigbench-0.0.1.tar.gz").as_uri()}">old</a>\n'
        f'<a href="{sdist.as_uri()}#sha256={digest}">bigbench-1.0.0.tar.gz</a>\n'
    )
    return (root / "simple").as_uri()


def test_the_sdist_named_in_the_index_is_downloaded_and_read(tmp_path, monkeypatch):
    index = make_index(tmp_path / "index")
    # file:// has no directory index: point the page URL at the index.html inside it.
    monkeypatch.setattr(bb, "_page_url", lambda base, name: f"{base}/{name}/index.html")
    target = bb.download_sdist(tmp_path, index)
    assert target.name == "bigbench-1.0.0.tar.gz"
    assert bb.read_task_bytes(target) == TASK


def test_a_checksum_mismatch_is_an_error(tmp_path, monkeypatch):
    index = make_index(tmp_path / "index", sha256="0" * 64)
    monkeypatch.setattr(bb, "_page_url", lambda base, name: f"{base}/{name}/index.html")
    with pytest.raises(RuntimeError, match="sha256"):
        bb.download_sdist(tmp_path, index)
