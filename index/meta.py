"""A document's title and date, as the document itself states them.

The title is a text file's headline (its first line when that reads as one, a Markdown `# heading`),
an HTML page's `<title>`, a PDF's /Title. The date is a date line near the top of the text ("date
2022-12-29", "Published 12 March 2025", "RIVERTON, March 12, 2025 —"), HTML metadata
(`article:published_time`, `<time datetime>`), or a PDF's /CreationDate; always ISO `YYYY-MM-DD`, and
never the file's modification time. A date only mentioned in the story is not the article's date.
Unknown is "".
"""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    name: n
    for n, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_DATE_FORMS = [
    re.compile(r"(?P<year>(?:19|20)\d\d)-(?P<month>0[1-9]|1[0-2])-(?P<day>0[1-9]|[12]\d|3[01])(?![\d])"),
    re.compile(_WEEKDAY + _DAY + r"\s+" + _MONTH + r",?\s+" + _YEAR, re.IGNORECASE),
    re.compile(_WEEKDAY + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR, re.IGNORECASE),
]
# Words that introduce the article's own date on a line of its own.
_DATE_LABEL = re.compile(
    r"^\W*(?:date[d]?|published(?: on)?|first published|posted(?: on)?|updated(?: on)?|last updated|"
    r"issued|filed)\s*[:\-–—]?\s*",
    re.IGNORECASE,
)
# A news dateline: "RIVERTON, March 12, 2025 —" or "March 12, 2025 -" opening a paragraph.
_DATELINE_DASH = re.compile(r"\s*(?:\([^)]*\)\s*)?[-–—]")
_HEAD_LINES = 6  # non-empty lines at the top where a title or date line is looked for


def parse_date(text: str) -> str:
    """The first date written in `text`, as ISO `YYYY-MM-DD`, or ""."""
    found = _first_date(text)
    return found[0] if found else ""


def _first_date(text: str) -> tuple[str, int, int] | None:
    best: tuple[str, int, int] | None = None
    for form in _DATE_FORMS:
        for m in form.finditer(text):
            iso = _iso(m.group("year"), m.group("month"), m.group("day"))
            if iso:
                if best is None or m.start() < best[1]:
                    best = (iso, m.start(), m.end())
                break
    return best


def _iso(year: str, month: str, day: str) -> str:
    n = int(month) if month.isdigit() else _MONTHS.get(month.lower().rstrip("."), 0)
    try:
        return date(int(year), n, int(day)).isoformat()
    except ValueError:
        return ""


def text_date(text: str) -> str:
    """The article's date from a date line near its top: a labelled date ("Published 12 March 2025"), a
    line that is only a date (and time), or a dateline opening a paragraph ("RIVERTON, March 12, 2025
    —"). A date elsewhere in a sentence is a date the story mentions, not the article's."""
    for line in _head(text):
        labelled = _DATE_LABEL.match(line)
        rest = line[labelled.end() :] if labelled else line
        found = _first_date(rest)
        if found is None:
            continue
        iso, start, end = found
        before, after = rest[:start], rest[end:]
        if labelled and not before.strip(" ,"):
            return iso
        if not before.strip(" ,") and len(after.strip()) <= 24 and not re.search(r"[a-z]{4,}", after):
            return iso  # a line holding only the date, perhaps a time and a zone
        if len(before) <= 40 and not re.search(r"[.!?]", before) and _DATELINE_DASH.match(after):
            return iso
    return ""


def text_title(text: str, markdown: bool = False) -> str:
    """A headline: a Markdown `# heading`, or a short first line that does not end as a sentence does,
    or the words before a dash that joins a headline to the lead ("Will Belarus ...? – The ministry
    ..."). Date lines are passed over."""
    for line in _head(text):
        if markdown and line.startswith("#"):
            return line.lstrip("#").strip()
        labelled = _DATE_LABEL.match(line)
        if text_date(line) or (labelled and labelled.end() == len(line)):
            continue
        if len(line) <= 150 and not line.endswith((".", '"', "”", ":", ",")):
            return line
        joined = re.match(r"(.{12,140}?)\s+[–—]\s+[A-Z]", line)
        if joined and _headline_like(joined.group(1)):
            return joined.group(1).strip()
        return ""
    return ""


def _headline_like(words: str) -> bool:
    """Ends as a headline question does, or is set in title case (most longer words capitalised)."""
    if re.search(r"[.;]\s", words):
        return False
    longer = [w for w in re.findall(r"[^\W\d_][\w'’-]*", words) if len(w) > 3]
    capital = sum(w[0].isupper() for w in longer)
    return words.rstrip().endswith(("?", "!")) or (len(longer) >= 2 and capital >= 0.6 * len(longer))


def _head(text: str) -> list[str]:
    lines = [line.strip() for line in text[:4000].splitlines() if line.strip()]
    return lines[:_HEAD_LINES]


_HTML_DATE_KEYS = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "dc.date",
    "dc.date.issued",
    "dcterms.date",
    "dcterms.created",
    "sailthru.date",
    "article:modified_time",
)


def html_date(soup: object) -> str:
    """The date an HTML page's metadata gives (published before modified), else its first `<time
    datetime>`."""
    metas: dict[str, str] = {}
    for tag in soup.find_all("meta"):  # type: ignore[attr-defined]
        key = str(tag.get("property") or tag.get("name") or tag.get("itemprop") or "").strip().lower()
        if key and tag.get("content") and key not in metas:
            metas[key] = str(tag["content"])
    for key in _HTML_DATE_KEYS:
        if key in metas and (iso := parse_date(metas[key])):
            return iso
    for tag in soup.find_all("time"):  # type: ignore[attr-defined]
        if iso := parse_date(str(tag.get("datetime") or tag.get_text(" ", strip=True))):
            return iso
    return ""


def pdf_date(value: object) -> str:
    """A PDF metadata date ("D:20221229103000+02'00'") as ISO, or ""."""
    m = re.match(r"(?:D:)?((?:19|20)\d\d)(\d\d)(\d\d)", str(value or ""))
    return _iso(*m.groups()) if m else ""
