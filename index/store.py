"""The Chroma adapter: chunks and their vectors in, scored chunks out. Chroma's types stay in here.

The collection's metadata records how its vectors were made (embedding model, dimension, chunking),
so a store built one way is never silently queried or extended another way. It also carries a
generation number that every completed index run bumps, so readers know when to refresh.

Each record is its id, its vector and ONE metadata value: the chunk's fields and text as a JSON string.
Nothing queries Chroma by metadata or by document text (BM25 is ours), and every extra metadata key
and the document (with its full-text index) cost Chroma a write: 30k records, 1,024 per upsert, took
28.7 s with the text as the document and five metadata keys, 15.5 s packed
(`bench/bench_store_writes.py --variant document packed`). Stores written before keep their fields
as separate keys and the text as the document; they are read as they are.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.types import Chunk

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


class StoreError(Exception):
    """The store cannot be used; the message names it and says what to do."""


class IncompatibleStoreError(StoreError):
    """The store was built with another embedding model or chunking."""


@dataclass(frozen=True)
class StoreInfo:
    embed_model: str
    dim: int
    chunker: str

    def as_metadata(self) -> dict[str, Any]:
        return {"rag:embed_model": self.embed_model, "rag:dim": self.dim, "rag:chunker": self.chunker}


@dataclass
class FileState:
    """What the store holds for one source file."""

    ids: set[str] = field(default_factory=set)
    doc_hashes: set[str] = field(default_factory=set)
    n_chunks: int = -1
    titles: set[tuple[str, str]] = field(default_factory=set)  # (title, date) its chunks carry

    def is_complete_for(self, doc_hash: str) -> bool:
        return self.doc_hashes == {doc_hash} and len(self.ids) == self.n_chunks


def _settings() -> Any:
    import chromadb

    return chromadb.Settings(anonymized_telemetry=False, allow_reset=False)


class ChromaStore:
    def __init__(self, client: Any, collection_name: str, location: str):
        self._client = client
        self._name = collection_name
        self.location = location
        self._collection: Any = None

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        *,
        path: Path | None = None,
        host: str | None = None,
        port: int = 8000,
        collection: str = "news",
        writable: bool = False,
    ) -> ChromaStore:
        import chromadb

        if host:
            location = f"Chroma server {host}:{port}"
            try:
                client = chromadb.HttpClient(host=host, port=port, settings=_settings())
                client.heartbeat()
            except Exception as exc:  # the client raises several unrelated types for "unreachable"
                raise StoreError(f"Cannot reach the {location}: {_short(exc)}") from exc
            return cls(client, collection, location)
        assert path is not None
        location = str(path)
        if writable:
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"Cannot create the index folder {path}: {exc.strerror}") from exc
            if not _writable(path) or ((path / "chroma.sqlite3").exists() and not _writable(path / "chroma.sqlite3")):
                raise StoreError(f"The index folder {path} is read-only; choose another with --store.")
        elif not (path / "chroma.sqlite3").exists():
            raise StoreError(f"There is no index at {path}. Build it first: rag index --store {path}")
        sqlite = path / "chroma.sqlite3"
        if sqlite.exists() and sqlite.stat().st_size > 0:
            with sqlite.open("rb") as fh:
                if fh.read(16) != b"SQLite format 3\x00":
                    raise StoreError(
                        f"The index at {path} is corrupt (chroma.sqlite3 is not a database). "
                        "Rebuild it with: rag index --rebuild"
                    )
        try:
            client = chromadb.PersistentClient(path=str(path), settings=_settings())
        except Exception as exc:
            raise StoreError(
                f"The index at {path} cannot be opened: {_short(exc)}. Rebuild it with: rag index --rebuild"
            ) from exc
        return cls(client, collection, location)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn a lost connection (a stopped Chroma server) into a StoreError that says so; the
        HTTP client reconnects by itself on the next call once the server is back."""
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            if self.location.startswith("Chroma server"):
                self._collection = None
                raise StoreError(f"Lost the {self.location}: {_short(exc)}. Retry when it is back.") from exc
            raise

    def _get(self) -> Any:
        if self._collection is None:
            try:
                self._collection = self._client.get_collection(self._name, embedding_function=None)
            except Exception as exc:
                if self.location.startswith("Chroma server") and not self._alive():
                    raise StoreError(f"Lost the {self.location}: {_short(exc)}. Retry when it is back.") from exc
                raise StoreError(
                    f"The index at {self.location} holds no collection '{self._name}'. Build it first: rag index"
                ) from exc
        return self._collection

    def _alive(self) -> bool:
        try:
            self._client.heartbeat()
            return True
        except Exception:
            return False

    def exists(self) -> bool:
        try:
            self._get()
            return True
        except StoreError:
            return False

    def create(self, info: StoreInfo) -> None:
        self._collection = self._client.get_or_create_collection(
            self._name,
            embedding_function=None,
            metadata={**info.as_metadata(), "rag:generation": 0},
            configuration={"hnsw": {"space": "cosine"}},
        )

    def drop(self) -> None:
        with contextlib.suppress(Exception):  # nothing to drop
            self._client.delete_collection(self._name)
        self._collection = None

    @staticmethod
    def remove_local(path: Path) -> None:
        """Delete an embedded store folder, but only if it looks like one of ours."""
        if path.exists() and ((path / "chroma.sqlite3").exists() or not any(path.iterdir())):
            from chromadb.api.client import SharedSystemClient

            SharedSystemClient.clear_system_cache()  # chroma keeps one client per path per process
            shutil.rmtree(path)

    # -- what the store records ------------------------------------------------------------------
    def info(self) -> StoreInfo | None:
        meta = self._get().metadata or {}
        if "rag:embed_model" not in meta:
            return None
        return StoreInfo(str(meta["rag:embed_model"]), int(meta["rag:dim"]), str(meta["rag:chunker"]))

    def generation(self) -> int:
        self._collection = None  # re-read: another process may have indexed meanwhile
        with self._reading():
            return int((self._get().metadata or {}).get("rag:generation", 0))

    def bump_generation(self) -> None:
        col = self._get()
        meta = dict(col.metadata or {})
        meta["rag:generation"] = int(meta.get("rag:generation", 0)) + 1
        meta.pop("hnsw:space", None)
        col.modify(metadata=meta)

    def count(self) -> int:
        return int(self._get().count())

    def file_states(self) -> dict[str, FileState]:
        states: dict[str, FileState] = {}
        for cid, record in self._records():
            state = states.setdefault(str(record["source"]), FileState())
            state.ids.add(cid)
            state.doc_hashes.add(str(record["doc_hash"]))
            state.n_chunks = int(record.get("n_chunks", -1))
            state.titles.add((str(record.get("title", "")), str(record.get("date", ""))))
        return states

    def iter_chunks(self) -> Iterator[Chunk]:
        for cid, record in self._records():
            yield _chunk(cid, record)

    def _records(self, page: int = 5000) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every record's id and fields (text included), a page at a time."""
        col = self._get()
        offset = 0
        while True:
            with self._reading():
                got = col.get(include=["metadatas", "documents"], limit=page, offset=offset)
            if not got["ids"]:
                return
            for cid, meta, document in zip(got["ids"], got["metadatas"], got["documents"], strict=True):
                yield cid, _unpack(meta, document)
            offset += len(got["ids"])

    # -- writing -----------------------------------------------------------------------------
    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray, n_chunks: int | Sequence[int]) -> None:
        """Upsert chunks with their vectors; n_chunks is each chunk's file's chunk count."""
        if not chunks:
            return
        counts = [n_chunks] * len(chunks) if isinstance(n_chunks, int) else list(n_chunks)
        self._get().upsert(
            ids=[c.id for c in chunks],
            embeddings=vectors.astype(np.float32),
            metadatas=[_meta(c, n) for c, n in zip(chunks, counts, strict=True)],
        )

    def set_file_meta(self, chunks: Sequence[Chunk], n_chunks: int) -> None:
        """Refresh the file-level fields of chunks kept from an earlier version of their file."""
        if chunks:
            self._get().update(ids=[c.id for c in chunks], metadatas=[_meta(c, n_chunks) for c in chunks])

    def delete(self, ids: Sequence[str], batch: int = 5000) -> None:
        ids = list(ids)
        for i in range(0, len(ids), batch):
            self._get().delete(ids=ids[i : i + batch])

    # -- reading -----------------------------------------------------------------------------
    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Ids of the k nearest chunks with cosine similarity."""
        with self._reading():
            got = self._get().query(query_embeddings=[vector.astype(np.float32)], n_results=k, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], got["distances"][0], strict=True)]


def _writable(path: Path) -> bool:
    """Writable for this process, and not marked read-only (root ignores permissions; we do not)."""
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)


_PACKED = "rag:chunk"


def _meta(c: Chunk, n_chunks: int) -> dict[str, Any]:
    record = {
        "source": c.source,
        "start": c.start,
        "end": c.end,
        "doc_hash": c.doc_hash,
        "chunk_index": c.index,
        "n_chunks": n_chunks,
        "title": c.title,
        "date": c.date,
        "text": c.text,
    }
    return {_PACKED: json.dumps(record, ensure_ascii=False)}


def _unpack(meta: dict[str, Any] | None, document: str | None) -> dict[str, Any]:
    """A record's fields, from the packed value or, in stores written before it, from separate keys
    and the document."""
    meta = meta or {}
    if _PACKED in meta:
        return dict(json.loads(str(meta[_PACKED])))
    return {**meta, "text": document or ""}


def _chunk(cid: str, record: dict[str, Any]) -> Chunk:
    return Chunk(
        id=cid,
        source=str(record["source"]),
        start=int(record["start"]),
        end=int(record["end"]),
        text=str(record["text"]),
        doc_hash=str(record["doc_hash"]),
        index=int(record.get("chunk_index", 0)),
        title=str(record.get("title", "")),
        date=str(record.get("date", "")),
    )


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
