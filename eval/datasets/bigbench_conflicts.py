"""Convert BIG-bench contextual_parametric_knowledge_conflicts into a RAG corpus folder and gold.jsonl."""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import urllib.request
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TASK_NAME = "contextual_parametric_knowledge_conflicts"
PACKAGE_SPEC = "bigbench==1.0.0"
TASK_MEMBER_SUFFIX = f"bigbench/benchmark_tasks/{TASK_NAME}/task.json"
FILE_PREFIX = "bb_"
# Share of the selected examples held out as unanswerable (their passage left out of the corpus), and
# its cap. The eval suite's set uses 0.2 (at least a fifth unanswerable); sessions 1-20 used 0.1 and
# 20, which is what the yes/no and "which" sets' documents were picked from (see eval/suites/).
MAX_UNANSWERABLE = 100
UNANSWERABLE_FRACTION = 0.20
SHINGLE_SIZE = 5
# Share of the smaller passage's word 5-grams (answer masked) above which two
# passages count as edited copies of the same Natural Questions passage.
NEAR_DUPLICATE_OVERLAP = 0.5
# Unanswerable candidates drawn per planned unanswerable (spares replace rejected ones).
UNANSWERABLE_POOL_FACTOR = 3

# Skip reasons (printed in the summary).
SKIP_MALFORMED = "malformed input (no 'Question:'/'Context:' parts)"
SKIP_BAD_SCORES = "target_scores does not mark the target as correct"
SKIP_EMPTY = "empty question, passage or target after cleaning"
SKIP_NO_ANSWER = "answer string not found verbatim in the cleaned passage"
SKIP_DUP_QUESTION = "question duplicates a kept question"
SKIP_NEAR_DUP = "passage is an edited copy of a kept passage (conflicting answers)"
SKIP_ORIGINAL_IN_CORPUS = "a kept passage states this question's original (pre-edit) answer"
SKIP_CORPUS_HAS_ORIGINAL = "passage states the original (pre-edit) answer of a kept question"
SKIP_REVEALS_UNANS = "passage would reveal the answer of a held-out (unanswerable) question"


# --------------------------------------------------------------------------- #
# Loading task.json (plain file, directory, sdist tar.gz, wheel/zip, or pip)
# --------------------------------------------------------------------------- #


def _is_task_member(name: str) -> bool:
    return name.replace("\\", "/").endswith(TASK_MEMBER_SUFFIX)


def _read_from_tar(path: Path) -> bytes | None:
    with tarfile.open(path, "r:*") as archive:
        for member in archive:
            if member.isfile() and _is_task_member(member.name):
                handle = archive.extractfile(member)
                if handle is not None:
                    with handle:
                        return handle.read()
    return None


def _read_from_zip(path: Path) -> bytes | None:
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if _is_task_member(name):
                return archive.read(name)
    return None


def read_task_bytes(path: Path) -> bytes:
    """Return the bytes of task.json from a file, a directory, or an archive."""
    if path.is_dir():
        hits = sorted(p for p in path.rglob("task.json") if _is_task_member(p.as_posix()))
        if not hits:
            raise FileNotFoundError(f"no .../{TASK_MEMBER_SUFFIX} under {path}")
        return hits[0].read_bytes()
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if path.suffix == ".json":
        return path.read_bytes()
    data: bytes | None
    if tarfile.is_tarfile(path):
        data = _read_from_tar(path)
    elif zipfile.is_zipfile(path):
        data = _read_from_zip(path)
    else:
        raise ValueError(f"{path}: not a .json file, a tar archive or a zip archive")
    if data is None:
        raise FileNotFoundError(f"{path}: archive has no member ending in {TASK_MEMBER_SUFFIX}")
    return data


def download_task_bytes() -> bytes:
    """Fetch the bigbench sdist with pip into a temp dir and read task.json from it."""
    attempts: list[list[str]] = [
        ["--no-binary", ":all:"],  # the sdist (the PyPI release ships only one)
        [],  # fall back to whatever pip picks, e.g. a wheel
    ]
    with tempfile.TemporaryDirectory(prefix="bigbench_dl_") as tmp:
        for extra in attempts:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", *extra, PACKAGE_SPEC, "-d", tmp]
            print(f"[download] {' '.join(cmd)}  (the archive is about 360 MB)", file=sys.stderr)
            # pip's progress goes to stderr so that stdout carries only the summary.
            result = subprocess.run(cmd, stdout=sys.stderr, stderr=sys.stderr, check=False)
            if result.returncode != 0:
                continue
            for archive in sorted(Path(tmp).iterdir()):
                if archive.name.startswith("bigbench"):
                    return read_task_bytes(archive)
        # pip 26 prepares the sdist's metadata even with --no-deps and refuses it ("Distributions from
        # PyPI cannot declare direct URL dependencies"): take the file from the registry's index.
        return read_task_bytes(download_sdist(Path(tmp), index_url()))


def index_url() -> str:
    """The package index pip is set to use (PIP_INDEX_URL, pip's configuration, else its default)."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"]
    cmd = [sys.executable, "-m", "pip", "config", "get", "global.index-url"]
    configured = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if configured.returncode == 0 and configured.stdout.strip():
        return configured.stdout.strip()
    from pip._internal.models.index import PyPI

    return str(PyPI.simple_url)


def _page_url(index: str, name: str) -> str:
    return f"{index}/{name}/"


def download_sdist(folder: Path, index: str) -> Path:
    """Download the bigbench sdist named in the package index's simple page, checking its sha256."""
    name, version = PACKAGE_SPEC.split("==")
    page = urllib.request.urlopen(_page_url(index.rstrip("/"), name), timeout=60).read().decode()
    wanted = f"{name}-{version}.tar.gz"
    for url in re.findall(r'href="([^"]+)"', page):
        url = html.unescape(url)
        if url.split("#")[0].rsplit("/", 1)[-1] != wanted:
            continue
        target = folder / wanted
        print(f"[download] {url.split('#')[0]}  (about 360 MB)", file=sys.stderr)
        digest = hashlib.sha256()  # computed as the file arrives: no second read of 360 MB
        with urllib.request.urlopen(url.split("#")[0], timeout=600) as response, target.open("wb") as out:
            while block := response.read(1 << 20):
                digest.update(block)
                out.write(block)
        expected = re.search(r"sha256=([0-9a-f]{64})", url)
        if expected and digest.hexdigest() != expected.group(1):
            raise RuntimeError(f"{wanted}: sha256 does not match the index")
        return target
    raise RuntimeError(f"could not download {PACKAGE_SPEC}: pip failed and {index} lists no {wanted}")


def load_task(task_json: Path | None) -> dict[str, Any]:
    raw = download_task_bytes() if task_json is None else read_task_bytes(task_json)
    task = json.loads(raw.decode("utf-8"))
    if not isinstance(task, dict) or not isinstance(task.get("examples"), list):
        raise ValueError("task.json has no 'examples' list")
    if task.get("name") != TASK_NAME:
        print(f"[warn] task name is {task.get('name')!r}, expected {TASK_NAME!r}", file=sys.stderr)
    return task


# --------------------------------------------------------------------------- #
# Text cleaning (Natural Questions tokenisation, HTML-ish tags, whitespace)
# --------------------------------------------------------------------------- #

_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*\s*/?>")  # <Ol> <Dd> </Dt> <Dl> ...
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u200e\u200f\u202a-\u202e\u2060\ufeff]")
_SORTKEY_RE = re.compile(r"\b\d{19} ♠ ?")  # Wikipedia sort keys: "7004188830000000000 ♠ 51 years"
_BLOCK_SPLIT_RE = re.compile(r"\s{2,}|\n")  # runs of spaces separate list items / cells
_SPACES_RE = re.compile(r"[ \t\r\f\v]+")


def detokenize(text: str) -> str:
    """Undo the PTB-style tokenisation of Natural Questions on one line of text."""
    s = text
    s = s.replace("`` ", '"').replace(" ''", '"').replace("``", '"').replace("''", '"')
    s = re.sub(r"(?<=\w) n ?'t\b", "n't", s)  # "did n't" / "ca n 't" -> "didn't" / "can't"
    s = re.sub(r"(?<=\w) '(s|re|ve|ll|m|d|S|RE|VE|LL|M|D)\b", r"'\1", s)  # "Phineas 's"
    s = re.sub(r"(?<=\d) : (?=\d)", ":", s)  # "1 : 53" -> "1:53"
    s = re.sub(r"(?<=\w) - (?=\w)", "-", s)  # "fifteen - year - old"
    s = re.sub(r"(?<=\S) ([,.;:!?%)\]}])", r"\1", s)  # no space before closing punctuation
    s = re.sub(r"([(\[{$£]) (?=\S)", r"\1", s)  # no space after opening brackets / currency
    return s


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE_RE.sub("", text)
    return _SORTKEY_RE.sub("", text)


def clean_inline(text: str, detok: bool) -> str:
    """Clean a one-line string (question or answer)."""
    text = _SPACES_RE.sub(" ", _normalise(text).replace("\n", " ")).strip()
    return detokenize(text).strip() if detok else text


def clean_passage(text: str, detok: bool) -> str:
    """Drop HTML-ish tags, turn list/cell separators into line breaks, detokenise."""
    text = _TAG_RE.sub("\n", _normalise(text))
    lines: list[str] = []
    for block in _BLOCK_SPLIT_RE.split(text):
        line = _SPACES_RE.sub(" ", block).strip()
        if detok:
            line = detokenize(line).strip()
        if line:
            lines.append(line)
    return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Evidence selection
# --------------------------------------------------------------------------- #

_SENT_END_RE = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Dr St Jr Sr Prof Gen Col Capt Lt Sgt Maj Mt Ft Rev Hon Gov Sen Rep Pres "
    "Inc Co Corp Ltd No Nos vs Vol Fig Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec "
    "approx ca c".split()
)
_STOPWORDS = frozenset(
    "a an the of in on at to for by with from and or is are was were be been who whom whose "
    "what which when where why how does did do has have had that this it its as s".split()
)


def _is_abbreviation(text: str, dot: int) -> bool:
    """True if the '.' at index `dot` ends an abbreviation or an initial."""
    start = dot
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot]
    if len(word) == 1 and word.isupper():  # initials: "T. D. Evans", "M. Kumar"
        return True
    if "." in word:  # dotted abbreviations: "a.k.a.", "U.S.", "e.g."
        return True
    return word in _ABBREVIATIONS


def sentence_boundaries(text: str) -> list[int]:
    """Indices where a new sentence (or line) starts."""
    cuts: set[int] = set()
    for match in _SENT_END_RE.finditer(text):
        if text[match.start()] == "." and _is_abbreviation(text, match.start()):
            continue
        cuts.add(match.end())
    cuts.update(i + 1 for i, ch in enumerate(text) if ch == "\n")
    return sorted(cuts)


def answer_spans(passage: str, answer: str) -> list[tuple[int, int]]:
    """Word-bounded, case-sensitive occurrences of `answer` in `passage`."""
    pattern = re.compile(r"(?<!\w)" + re.escape(answer) + r"(?!\w)")
    return [(m.start(), m.end()) for m in pattern.finditer(passage)]


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if w not in _STOPWORDS}


def pick_evidence(passage: str, answer: str, question: str) -> str | None:
    """The sentence (verbatim slice of the passage) holding the answer that best matches the question."""
    spans = answer_spans(passage, answer)
    if not spans:
        return None
    cuts = sentence_boundaries(passage)
    q_words = _content_words(question)
    best: tuple[int, str] | None = None
    for start, end in spans:
        # Ignore boundaries inside the answer itself (e.g. "T. D. Evans").
        left = max((c for c in cuts if c <= start), default=0)
        right = min((c for c in cuts if c > end), default=len(passage))
        sentence = passage[left:right].strip()
        score = len(q_words & _content_words(sentence))
        if best is None or score > best[0]:
            best = (score, sentence)
    return None if best is None else best[1]


# --------------------------------------------------------------------------- #
# Conflict detection inside the shared corpus
# --------------------------------------------------------------------------- #


Shingle = tuple[str, ...]


def _shingles(passage: str, answers: Iterable[str]) -> frozenset[Shingle]:
    masked = passage
    for answer in answers:
        if answer:
            masked = masked.replace(answer, " ENTITYMASK ")
    words = re.findall(r"\w+", masked.lower())
    if len(words) < SHINGLE_SIZE:
        return frozenset({tuple(words)}) if words else frozenset()
    return frozenset(tuple(words[i : i + SHINGLE_SIZE]) for i in range(len(words) - SHINGLE_SIZE + 1))


def _contains_ci(passage_lower: str, needle: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(needle.lower()) + r"(?!\w)", passage_lower) is not None


# Words too common in NQ questions to show that a sentence is on the question's topic.
_GENERIC_WORDS = frozenset(
    "play plays played playing sing sings sang sung singer wrote write writes written song songs "
    "movie film show series tv new first last original name named called voice voices character "
    "season episode book one many much get gets got become became made make makes won win wins "
    "mean means year years old day time world people".split()
)


def _topic_words(question: str, original: str) -> set[str]:
    return _content_words(question) - _content_words(original) - _GENERIC_WORDS


def states_original(passage: str, question: str, original: str) -> bool:
    """True if `passage` names `original` in a sentence that is about `question`'s topic.

    Such a passage would let a retriever answer the question with its pre-edit
    answer, contradicting the gold answer taken from the edited passage.  A bare
    mention elsewhere ("Isaac" in a novel's plot summary) does not count.
    """
    spans = [
        (m.start(), m.end()) for m in re.finditer(r"(?<!\w)" + re.escape(original.lower()) + r"(?!\w)", passage.lower())
    ]
    if not spans:
        return False
    topic = _topic_words(question, original)
    needed = min(2, len(topic))
    if needed == 0:
        return True  # nothing to tell topics apart: be conservative
    cuts = sentence_boundaries(passage)
    for start, end in spans:
        left = max((c for c in cuts if c <= start), default=0)
        right = min((c for c in cuts if c > end), default=len(passage))
        if len(topic & _content_words(passage[left:right])) >= needed:
            return True
    return False


@dataclass
class CorpusIndex:
    """Kept passages with indexes for near-duplicate and answer-leak checks."""

    passages: list[str] = field(default_factory=list)
    shingles: list[frozenset[Shingle]] = field(default_factory=list)
    by_shingle: dict[Shingle, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_word: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    # first word of a kept question's original answer -> {(original, question)}
    originals_by_word: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))

    def near_duplicate(self, shingles: frozenset[Shingle]) -> bool:
        """True if a kept passage shares most of its word 5-grams with this one."""
        if not shingles:
            return False
        shared: Counter[int] = Counter()
        for sh in shingles:
            shared.update(self.by_shingle.get(sh, ()))
        return any(
            n / min(len(shingles), len(self.shingles[pid])) >= NEAR_DUPLICATE_OVERLAP for pid, n in shared.items()
        )

    def _candidates(self, needle: str) -> list[int]:
        words = re.findall(r"\w+", needle.lower())
        if not words:
            return []
        return sorted(set.intersection(*(self.by_word.get(w, set()) for w in words)))

    def mentions(self, needle: str) -> bool:
        """Case-insensitive, word-bounded search for `needle` in any kept passage."""
        return any(_contains_ci(self.passages[pid].lower(), needle) for pid in self._candidates(needle))

    def states(self, question: str, original: str) -> bool:
        """True if a kept passage states `original` as the answer to `question` (see states_original)."""
        return any(states_original(self.passages[pid], question, original) for pid in self._candidates(original))

    def contradicts_kept(self, passage: str) -> bool:
        """True if `passage` states the original answer of an already kept question."""
        for word in set(re.findall(r"\w+", passage.lower())):
            for original, question in self.originals_by_word.get(word, ()):
                if states_original(passage, question, original):
                    return True
        return False

    def add_passage(self, passage: str, shingles: frozenset[Shingle]) -> None:
        pid = len(self.passages)
        self.passages.append(passage)
        self.shingles.append(shingles)
        for sh in shingles:
            self.by_shingle[sh].append(pid)
        for word in set(re.findall(r"\w+", passage.lower())):
            self.by_word[word].add(pid)

    def add_question(self, question: str, originals: Iterable[str]) -> None:
        for original in originals:
            words = re.findall(r"\w+", original.lower())
            if words:
                self.originals_by_word[words[0]].add((original, question))


# --------------------------------------------------------------------------- #
# Conversion
# --------------------------------------------------------------------------- #

_INPUT_RE = re.compile(r"^\s*Question:\s*(?P<q>.*?)\s*\nContext:\s*(?P<c>.*?)\s*$", re.DOTALL)


@dataclass(frozen=True)
class Example:
    index: int  # position in task.json
    question: str
    passage: str
    answer: str  # the answer supported by the edited passage
    originals: tuple[str, ...]  # answers from before the edit (target_scores == 0)

    @property
    def distinct_originals(self) -> tuple[str, ...]:
        """Original answers that are not part of the new answer ("Paul" vs "Paul Otlet")."""
        return tuple(o for o in self.originals if o.lower() not in self.answer.lower())


def parse_example(index: int, raw: dict[str, Any], detok: bool) -> Example | str:
    """Parse one task.json example; return a skip reason on failure."""
    match = _INPUT_RE.match(str(raw.get("input", "")))
    target = raw.get("target")
    scores = raw.get("target_scores")
    if match is None or not isinstance(target, str) or not isinstance(scores, dict):
        return SKIP_MALFORMED
    if scores.get(target) != 1:
        return SKIP_BAD_SCORES
    question = clean_inline(match["q"], detok)
    if question and not question.endswith("?"):
        question += "?"
    passage = clean_passage(match["c"], detok)
    answer = clean_inline(target, detok)
    originals = tuple(
        o for o in (clean_inline(str(k), detok) for k, v in scores.items() if v != 1) if o and o != answer
    )
    if not question.rstrip("?") or not passage or not answer:
        return SKIP_EMPTY
    return Example(index, question, passage, answer, originals)


@dataclass
class Summary:
    read: int = 0
    selected: int = 0
    answerable: int = 0
    unanswerable: int = 0
    unanswerable_planned: int = 0
    unanswerable_rejected: int = 0
    passages: int = 0
    passages_deduped: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def render(self) -> str:
        lines = [
            f"examples read:              {self.read}",
            f"examples selected (limit):  {self.selected}",
            f"records written:            {self.answerable + self.unanswerable}",
            f"  answerable:               {self.answerable}",
            f"  unanswerable:             {self.unanswerable} (planned {self.unanswerable_planned}; "
            f"{self.unanswerable_rejected} candidates had an answer in the corpus, tried as answerable)",
            f"passage files written:      {self.passages} (identical passages merged: {self.passages_deduped})",
            f"examples skipped:           {sum(self.skipped.values())}",
        ]
        lines += [f"  {n:5d}  {reason}" for reason, n in self.skipped.most_common()]
        return "\n".join(lines)


def _record(
    rid: str, question: str, answers: list[str], sources: list[str], evidence: list[str], answerable: bool
) -> dict[str, Any]:
    return {
        "id": rid,
        "question": question,
        "history": [],
        "answers": answers,
        "sources": sources,
        "evidence": evidence,
        "answerable": answerable,
    }


class Converter:
    """Builds a conflict-free shared corpus and the gold records, one example at a time."""

    def __init__(self, n_selected: int) -> None:
        self.width = max(4, len(str(n_selected)))
        self.index = CorpusIndex()
        self.reserved = CorpusIndex()  # passages of the unanswerable questions (never written)
        self.reserved_answers: list[str] = []
        self.file_of_passage: dict[str, str] = {}
        self.seen_questions: set[str] = set()
        self.records: list[tuple[int, dict[str, Any]]] = []  # (position in the selection, record)
        self.summary = Summary()

    def add_answerable(self, pos: int, ex: Example) -> None:
        """Keep `ex` unless it would contradict or duplicate what is already kept."""
        reason = self._answerable_conflict(ex)
        if reason is not None:
            self.summary.skipped[reason] += 1
            return
        evidence = pick_evidence(ex.passage, ex.answer, ex.question)
        if evidence is None:
            self.summary.skipped[SKIP_NO_ANSWER] += 1
            return
        name = self.file_of_passage.get(ex.passage)
        if name is None:
            name = f"{FILE_PREFIX}{len(self.file_of_passage) + 1:0{self.width}d}.txt"
            self.file_of_passage[ex.passage] = name
            self.index.add_passage(ex.passage, _shingles(ex.passage, (ex.answer,)))
        else:
            self.summary.passages_deduped += 1
        self.index.add_question(ex.question, ex.distinct_originals)
        self.seen_questions.add(ex.question.lower())
        record = _record(f"cpkc-{ex.index:05d}", ex.question, [ex.answer], [name], [evidence], True)
        self.records.append((pos, record))
        self.summary.answerable += 1

    def _answerable_conflict(self, ex: Example) -> str | None:
        if ex.question.lower() in self.seen_questions:
            return SKIP_DUP_QUESTION
        if not answer_spans(ex.passage, ex.answer):
            return SKIP_NO_ANSWER
        if ex.passage not in self.file_of_passage:
            shingles = _shingles(ex.passage, (ex.answer,))
            if self.index.near_duplicate(shingles):
                return SKIP_NEAR_DUP
            if self.index.contradicts_kept(ex.passage):
                return SKIP_CORPUS_HAS_ORIGINAL
            lowered = ex.passage.lower()
            if self.reserved.near_duplicate(shingles) or any(_contains_ci(lowered, a) for a in self.reserved_answers):
                return SKIP_REVEALS_UNANS
        if any(self.index.states(ex.question, o) for o in ex.distinct_originals):
            return SKIP_ORIGINAL_IN_CORPUS
        return None

    def add_unanswerable(self, pos: int, ex: Example) -> bool:
        """Hold `ex` out as unanswerable if nothing kept so far reveals an answer to it."""
        answers = (ex.answer, *ex.originals)
        shingles = _shingles(ex.passage, answers)
        if (
            ex.question.lower() in self.seen_questions
            or ex.passage in self.file_of_passage
            or self.index.near_duplicate(shingles)
            or any(self.index.mentions(a) for a in answers)
        ):
            return False
        self.reserved.add_passage(ex.passage, shingles)
        self.reserved_answers.extend(answers)
        self.seen_questions.add(ex.question.lower())
        self.records.append((pos, _record(f"cpkc-{ex.index:05d}-unans", ex.question, [], [], [], False)))
        self.summary.unanswerable += 1
        return True

    def write(self, out: Path) -> None:
        corpus_dir = out / "corpus"
        corpus_dir.mkdir(parents=True, exist_ok=True)
        for passage, name in self.file_of_passage.items():
            (corpus_dir / name).write_text(passage + "\n", encoding="utf-8")
        with (out / "gold.jsonl").open("w", encoding="utf-8") as handle:
            for _, record in sorted(self.records, key=lambda item: item[0]):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.summary.passages = len(self.file_of_passage)


def convert(
    task: dict[str, Any],
    out: Path,
    limit: int,
    seed: int,
    detok: bool,
    share: float = UNANSWERABLE_FRACTION,
    most: int = MAX_UNANSWERABLE,
) -> Summary:
    """Shuffle, keep `limit` examples, hold some out as unanswerable, write corpus/ and gold.jsonl."""
    examples_raw: list[Any] = task["examples"]
    rng = random.Random(seed)
    order = list(range(len(examples_raw)))
    rng.shuffle(order)
    selected = order[:limit] if limit > 0 else order
    n_unans = min(most, int(len(selected) * share))
    # Seeded, ordered pool of unanswerable candidates; a candidate whose answer turns
    # out to be in the corpus is replaced by the next one and kept as answerable.
    pool = rng.sample(range(len(selected)), min(len(selected), UNANSWERABLE_POOL_FACTOR * n_unans))
    pool_set = set(pool)

    conv = Converter(len(selected))
    conv.summary.read = len(examples_raw)
    conv.summary.selected = len(selected)
    conv.summary.unanswerable_planned = n_unans
    parsed: dict[int, Example] = {}
    for pos, ex_index in enumerate(selected):
        raw = examples_raw[ex_index]
        result = parse_example(ex_index, raw if isinstance(raw, dict) else {}, detok)
        if isinstance(result, str):
            conv.summary.skipped[result] += 1
        elif pos in pool_set:
            parsed[pos] = result  # decided after the corpus has been built
        else:
            conv.add_answerable(pos, result)

    for pos in pool:
        ex = parsed.get(pos)
        if ex is None:
            continue
        if conv.summary.unanswerable < n_unans:
            if conv.add_unanswerable(pos, ex):
                continue
            conv.summary.unanswerable_rejected += 1
        conv.add_answerable(pos, ex)

    conv.write(out)
    return conv.summary


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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--task-json",
        type=Path,
        default=None,
        help="task.json, a directory holding it, or the bigbench sdist/wheel; "
        f"if omitted, `pip download {PACKAGE_SPEC}` is run into a temp dir",
    )
    parser.add_argument("--out", type=Path, required=True, help="output dir (gets corpus/ and gold.jsonl)")
    parser.add_argument(
        "--limit",
        type=int,
        default=200,
        help="keep the first N examples after the seeded shuffle (0 = all; default 200)",
    )
    parser.add_argument("--seed", type=int, default=0, help="shuffle / unanswerable-choice seed (default 0)")
    parser.add_argument(
        "--keep-tokenization",
        action="store_true",
        help='keep Natural Questions tokenisation ("did n\'t", "`` x \'\'") as is',
    )
    parser.add_argument(
        "--unanswerable-share",
        type=float,
        default=UNANSWERABLE_FRACTION,
        help=f"share of the examples held out as unanswerable (default {UNANSWERABLE_FRACTION})",
    )
    parser.add_argument(
        "--max-unanswerable", type=int, default=MAX_UNANSWERABLE, help=f"at most this many (default {MAX_UNANSWERABLE})"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier conversion in --out")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    out: Path = args.out
    prepare_out_dir(out, args.overwrite)
    try:
        task = load_task(args.task_json)
    except (OSError, ValueError, RuntimeError, tarfile.TarError, zipfile.BadZipFile) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = convert(
        task,
        out,
        args.limit,
        args.seed,
        detok=not args.keep_tokenization,
        share=args.unanswerable_share,
        most=args.max_unanswerable,
    )
    print(summary.render())
    print(f"output: {out / 'corpus'}  {out / 'gold.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
