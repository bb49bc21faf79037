"""Documents one at a time: uploads saved into the corpus folder and indexed, what the index holds,
and removal that takes a document's chunks out and moves its file aside, never deleting it.

An upload is checked exactly as `rag index` checks a file (`load_file`: type, size, encoding, text)
before it is put in the corpus, so a bad file never lands there; its name is reduced to a plain file
name in the corpus folder, and an existing file of that name is never overwritten. A removed file goes
to `<corpus>/.removed/`, which `list_files` skips, so a later `rag index` does not bring it back and the
user can recover it. Writers take the index lock; readers see the change when the generation moves on.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from index.chunk import Chunker
from index.embed import Embedder
from index.load import SUPPORTED_SUFFIXES, load_file
from index.lock import IndexBusyError, index_lock
from index.pipeline import BatchWriter, IndexSummary, prepare_store, write_document
from index.store import ChromaStore, FileState, StoreError
from index.types import Document, Skipped

REMOVED = ".removed"  # hidden: list_files skips it
_STAGING = ".uploading"
MAX_NAME_CHARS = 120
# Letters and digits of any script, then those, spaces and a little punctuation: no separators, no
# control characters, nothing a shell or a URL would read specially.
_PLAIN_NAME = re.compile(r"^\w[\w .,()+=-]*$")


@dataclass(frozen=True)
class Upload:
    name: str  # as the client sent it: not trusted
    data: bytes


@dataclass(frozen=True)
class Outcome:
    """What became of one uploaded file."""

    name: str  # the name as sent
    status: Literal["indexed", "skipped"]
    reason: str = ""  # why it was skipped, or a note (saved under another name)
    source: str = ""  # its file in the corpus folder, when indexed
    id: str = ""  # the document's content hash, when indexed
    chunks: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "reason": self.reason or None,
            "source": self.source or None,
            "id": self.id or None,
            "chunks": self.chunks,
        }


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed document: `id` is the content hash of its file."""

    id: str
    source: str
    title: str
    date: str
    chunks: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source": self.source,
            "title": self.title or None,
            "date": self.date or None,
            "chunks": self.chunks,
        }


@dataclass(frozen=True)
class Removal:
    document: DocumentInfo
    moved_to: str  # where its file went, relative to the corpus folder ("" when it was not there)


class UnknownDocumentError(LookupError):
    """No indexed document has this id."""


def safe_name(name: str) -> tuple[str, str]:
    """(the plain file name to save `name` under, "") or ("", why it is refused). Directories are
    stripped; a name that climbs (`..`), is hidden, or holds odd characters is refused."""
    parts = [p for p in re.split(r"[\\/]+", name.strip()) if p]
    if ".." in parts:
        return "", "refused name: it points outside the folder ('..')"
    if not parts:
        return "", "refused name: empty"
    base = parts[-1].strip()
    if base.startswith("."):
        return "", "refused name: hidden files (starting with '.') are not indexed"
    if len(base) > MAX_NAME_CHARS:
        return "", f"refused name: longer than {MAX_NAME_CHARS} characters"
    if not _PLAIN_NAME.match(base) or base.endswith((" ", ".")):
        return "", "refused name: use letters, digits, spaces and . , ( ) + = - _ only"
    return base, ""


class DocumentLibrary:
    """Adds, lists and removes documents of one corpus folder and its index."""

    def __init__(
        self,
        corpus: Path,
        store: Callable[[], ChromaStore],
        embedder: Embedder,
        chunker: Chunker,
        lock_path: Path,
        *,
        max_file_bytes: int,
        max_files: int = 20,
        batch_size: int = 64,
        wait_s: float = 120.0,
        on_change: Callable[[], None] | None = None,
    ):
        self.corpus = corpus
        self._store = store
        self.embedder, self.chunker = embedder, chunker
        self.lock_path = lock_path
        self.max_file_bytes, self.max_files, self.batch_size = max_file_bytes, max_files, batch_size
        self._wait_s = wait_s
        self._on_change = on_change
        self._busy = threading.Lock()  # one writer of this process at a time; the file lock for others

    @contextmanager
    def _writing(self) -> Iterator[None]:
        if not self._busy.acquire(timeout=self._wait_s):
            raise IndexBusyError("Another upload or removal is still running; try again when it is done.")
        try:
            with index_lock(self.lock_path):
                yield
        finally:
            self._busy.release()

    def _changed(self) -> None:
        if self._on_change is None:
            return
        try:
            self._on_change()
        except Exception as exc:  # the index is written; searches catch up with it on their own
            print(f"warning: search not refreshed after a change to the documents: {exc}", file=sys.stderr)

    # -- adding ------------------------------------------------------------------------------------
    def add(self, uploads: Sequence[Upload]) -> list[Outcome]:
        """Check, save and index each file; a bad one is skipped with its reason and the rest go on.
        Searches see the new documents once this returns, and the previous index until then."""
        outcomes: list[Outcome] = []
        with self._writing():
            store = self._store()
            prepare_store(store, self.embedder, self.chunker)
            states = store.file_states()
            by_hash = {h: source for source, state in states.items() for h in state.doc_hashes}
            writer = BatchWriter(store, self.embedder, self.batch_size)
            summary = IndexSummary()
            for i, upload in enumerate(uploads):
                if i >= self.max_files:
                    reason = f"more than {self.max_files} files in one upload (RAG_UPLOAD_MAX_FILES); add it in another"
                    outcomes.append(Outcome(upload.name, "skipped", reason))
                    continue
                outcome, doc = self._admit(upload, by_hash)
                if doc is not None:
                    before = summary.chunks_added + summary.chunks_unchanged
                    write_document(doc, states.get(doc.source), store, self.chunker, writer, summary)
                    by_hash[doc.doc_hash] = doc.source
                    chunks = summary.chunks_added + summary.chunks_unchanged - before
                    outcome = replace(outcome, chunks=chunks)
                outcomes.append(outcome)
            writer.flush()
            if summary.chunks_added or summary.chunks_removed or summary.files_retitled:
                store.bump_generation()
            self._changed()
        return outcomes

    def _admit(self, upload: Upload, by_hash: dict[str, str]) -> tuple[Outcome, Document | None]:
        """Check one upload as `rag index` would and put it in the corpus: (its outcome, its Document)
        or (a skipped outcome, None)."""
        name, refused = safe_name(upload.name)
        if refused:
            return Outcome(upload.name, "skipped", refused), None
        item = self._check(name, upload.data)
        if isinstance(item, Skipped):
            return Outcome(upload.name, "skipped", item.reason), None
        if item.doc_hash in by_hash:
            return Outcome(upload.name, "skipped", f"same content as {by_hash[item.doc_hash]}"), None
        source = self._place(name, upload.data)
        note = "" if source == name else f"saved as {source}: another file named {name} is already in the folder"
        return Outcome(upload.name, "indexed", note, source, item.doc_hash), replace(item, source=source)

    def _check(self, name: str, data: bytes) -> Document | Skipped:
        """The file read as `load_file` reads it, from a hidden staging copy inside the corpus."""
        staging = self.corpus / _STAGING
        staging.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=staging, suffix=Path(name).suffix.lower())
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            try:
                return load_file(Path(tmp), name, self.max_file_bytes)
            except OSError as exc:
                return Skipped(name, f"cannot be read: {exc.strerror or exc}")
        finally:
            Path(tmp).unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                staging.rmdir()

    def _place(self, name: str, data: bytes) -> str:
        """Write the file into the corpus folder under `name`, or `stem-2.ext`… when a different file
        holds that name; a file with the same bytes is used as it is. Never overwrites."""
        stem, suffix = Path(name).stem, Path(name).suffix
        root = self.corpus.resolve()
        for n in range(1, 10_000):
            candidate = name if n == 1 else f"{stem}-{n}{suffix}"
            target = self.corpus / candidate
            if target.resolve().parent != root:  # cannot happen for a plain name; a last guard
                raise ValueError(f"refusing to write outside {self.corpus}: {candidate}")
            if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
                return candidate
            try:
                with target.open("xb") as fh:  # exclusive: fails if anything has this name
                    fh.write(data)
                return candidate
            except (FileExistsError, IsADirectoryError):
                continue
        raise FileExistsError(f"no free name for {name} in {self.corpus}")

    # -- listing -----------------------------------------------------------------------------------
    def list(self) -> list[DocumentInfo]:
        """Every indexed document, by file name."""
        try:
            return sorted(self._documents().values(), key=lambda d: (d.source, d.id))
        except StoreError:
            return []

    def _documents(self, store: ChromaStore | None = None) -> dict[tuple[str, str], DocumentInfo]:
        docs: dict[tuple[str, str], DocumentInfo] = {}
        for chunk in (store or self._store()).iter_chunks():
            key = (chunk.doc_hash, chunk.source)
            have = docs.get(key)
            if have is None:
                docs[key] = DocumentInfo(chunk.doc_hash, chunk.source, chunk.title, chunk.date, 1)
            else:
                docs[key] = replace(have, chunks=have.chunks + 1, title=have.title or chunk.title)
        return docs

    # -- removing ----------------------------------------------------------------------------------
    def remove(self, doc_id: str) -> Removal:
        """Take the document's chunks out of the index and move its file to `<corpus>/.removed/`."""
        with self._writing():
            store = self._store()
            found = [d for (h, _), d in self._documents(store).items() if h == doc_id]
            if not found:
                raise UnknownDocumentError(f"No indexed document has the id {doc_id}.")
            # The file first: if moving it fails, the index is untouched; if deleting the chunks then
            # fails, the next `rag index` drops them, since the file is no longer in the corpus.
            moved = [self._move_aside(d.source) for d in found]
            states = store.file_states()
            ids = sorted(i for d in found for i in states.get(d.source, FileState()).ids)
            store.delete(ids)
            store.bump_generation()
            self._changed()
        first = found[0]
        total = replace(first, chunks=sum(d.chunks for d in found))
        return Removal(total, next((m for m in moved if m), ""))

    def _move_aside(self, source: str) -> str:
        path = self.corpus / source
        root = self.corpus.resolve()
        if not path.is_file() or path.is_symlink() or root not in path.resolve().parents:
            return ""
        dest = self.corpus / REMOVED / source
        dest.parent.mkdir(parents=True, exist_ok=True)
        n = 1
        while dest.exists():
            n += 1
            dest = dest.with_name(f"{Path(source).stem}-{n}{Path(source).suffix}")
        path.rename(dest)
        return dest.relative_to(self.corpus).as_posix()


SUFFIXES = sorted(SUPPORTED_SUFFIXES)  # what an upload may be
