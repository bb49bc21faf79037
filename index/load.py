"""Read a folder of documents: plain text and Markdown as UTF-8, HTML and PDF through their libraries.

Every file either becomes a `Document` or a `Skipped` with a reason a person can act on; one bad file
never stops the rest.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from index.meta import html_date, pdf_date, text_date, text_title
from index.types import Document, Skipped

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES


class CorpusError(Exception):
    """The folder itself cannot be indexed (missing, not a folder, nothing to read)."""


def list_files(root: Path) -> list[Path]:
    """Every regular, non-hidden file below `root`, sorted so runs are deterministic."""
    if not root.exists():
        raise CorpusError(f"The folder {root} does not exist.")
    if not root.is_dir():
        raise CorpusError(f"{root} is not a folder.")
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink():
            files.append(path)
    return files


def load_documents(root: Path, max_bytes: int) -> Iterator[Document | Skipped]:
    """Yield each file below `root` as a Document, or as Skipped with its reason."""
    for path in list_files(root):
        source = path.relative_to(root).as_posix()
        try:
            yield load_file(path, source, max_bytes)
        except OSError as exc:
            yield Skipped(source, f"cannot be read: {exc.strerror or exc}")


def load_file(path: Path, source: str, max_bytes: int) -> Document | Skipped:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return Skipped(source, f"unsupported file type '{suffix or '(none)'}'")
    size = path.stat().st_size
    if size == 0:
        return Skipped(source, "empty file")
    if size > max_bytes:
        return Skipped(source, f"larger than the {max_bytes // 1_000_000} MB limit (RAG_MAX_FILE_MB)")
    data = path.read_bytes()
    doc_hash = hashlib.sha256(data).hexdigest()
    if suffix in PDF_SUFFIXES:
        text, title, date = _pdf_text(data)
    else:
        if b"\x00" in data[:8192]:
            return Skipped(source, "binary content (NUL bytes), not text")
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Skipped(source, f"not valid UTF-8 (bad byte at offset {exc.start})")
        if suffix in HTML_SUFFIXES:
            text, title, date = _html_text(raw)
        else:
            text, title, date = raw, text_title(raw, markdown=suffix in {".md", ".markdown"}), text_date(raw)
    if not text.strip():
        return Skipped(source, "no text in it")
    return Document(source=source, text=text, doc_hash=doc_hash, title=title, date=date)


def _html_text(raw: str) -> tuple[str, str, str]:
    """The page's text, its title (`<title>`, else its first heading) and its date."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    date = html_date(soup)
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    headings = [soup.title, soup.find("h1")]
    title = next((t for h in headings if h is not None and (t := h.get_text(" ", strip=True))), "")
    text = soup.get_text("\n")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, title, date or text_date(text)


def _pdf_text(data: bytes) -> tuple[str, str, str]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta: Any = reader.metadata or {}
        title = str(meta.get("/Title", "") or "").strip()
        made = pdf_date(meta.get("/CreationDate"))
    except (PdfReadError, ValueError, KeyError) as exc:
        raise OSError(0, f"unreadable PDF ({exc})") from exc
    text = "\n\n".join(p.strip() for p in pages).strip()
    return text, title or text_title(text), text_date(text) or made
