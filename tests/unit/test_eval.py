"""The gold-file loader and the metrics, on small hand-made records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gold import GoldError, GoldItem, load_gold
from eval.metrics import Span, answer_match, holds_evidence, score_citations, score_retrieval, token_f1

GOOD = {
    "id": "q1",
    "question": "Who summoned the ambassador?",
    "history": [],
    "answers": ["Belarus"],
    "sources": ["a.txt"],
    "evidence": ["Belarus summoned the ambassador"],
    "answerable": True,
}


def write(tmp_path: Path, *records: object) -> Path:
    p = tmp_path / "gold.jsonl"
    p.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n")
    return p


def test_the_project_gold_set_loads_and_is_big_enough():
    items = load_gold(Path(__file__).resolve().parents[2] / "eval" / "gold.jsonl")
    assert len([i for i in items if not i.history]) >= 60
    assert len({i.id.split("-")[0] for i in items if i.history}) >= 10


def test_every_gold_evidence_quote_is_verbatim_in_its_sources():
    root = Path(__file__).resolve().parents[2]
    for item in load_gold(root / "eval" / "gold.jsonl"):
        texts = [(root / "data" / "corpus" / s).read_text(encoding="utf-8") for s in item.sources]
        for quote in item.evidence:
            assert any(quote in t for t in texts), (item.id, quote)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ({**GOOD, "id": "q2", "answers": "Belarus"}, "line 2: field 'answers' must be list"),
        ({k: v for k, v in GOOD.items() if k != "evidence"} | {"id": "q2"}, "line 2: missing field 'evidence'"),
        (GOOD, "line 2: duplicate id 'q1'"),
        ({**GOOD, "id": "q2", "answers": []}, "line 2: an answerable record needs at least one answer"),
        ({**GOOD, "id": "q2", "answerable": False}, "line 2: an unanswerable record must have no answers"),
    ],
)
def test_bad_records_are_named_by_line(tmp_path: Path, record: object, message: str):
    with pytest.raises(GoldError, match=message):
        load_gold(write(tmp_path, GOOD, record))


def test_answer_match_is_normalised_containment():
    assert answer_match("It was the Belarusian foreign ministry [1].", ["Belarusian foreign ministry"])
    assert answer_match("About 15 km away.", ["15 km"])
    assert not answer_match("It was 150 km away.", ["15 km"])
    assert token_f1("Belarus did", ["Belarus"]) == pytest.approx(2 / 3)


def test_a_yes_no_answer_is_judged_by_its_first_word():
    assert answer_match("No, it was fired from Ukrainian territory [1].", ["no", "Ukrainian territory"])
    assert not answer_match("Yes, it was fired from Ukrainian territory [1].", ["no", "Ukrainian territory"])
    assert not answer_match("Yes, there were no reports of injuries [1].", ["no"])
    assert answer_match("It was not fired from Russia [1].", ["no", "not"])
    assert not answer_match("It was fired from Russia [1].", ["no"])
    assert answer_match("Yes. Two people were killed [1].", ["yes", "two people"])
    assert answer_match("Two people were killed [1].", ["yes", "two people"])
    # Without "yes" or "no" in the gold, an opening "No" is plain text, as before.
    assert answer_match("No casualties were recorded [1].", ["no casualties"])


def test_retrieval_and_citation_scores():
    item = GoldItem("q", "?", (), ("Belarus",), ("a.txt",), ("Belarus summoned the ambassador",), True)
    hit = Span("a.txt", "Yesterday Belarus summoned the ambassador over it.")
    miss = Span("b.txt", "Something else.")
    assert score_retrieval([miss, hit], item, 5) == {"hit@5": 1.0, "mrr": 0.5}
    assert score_retrieval([miss], item, 5) == {"hit@5": 0.0, "mrr": 0.0}
    scores = score_citations([hit, miss], item)
    assert scores == {"citation_precision": 0.5, "citation_recall": 1.0}
    assert holds_evidence("Belarus summoned the ambassador", ["Yesterday Belarus summoned the ambassador over it"])
    # Quote marks and punctuation at the edges of quote and passage are left out of the match: a gold
    # quote may hold a closing quote mark or a full stop that its passage does not, or the reverse.
    quote = ['It will be met with "retaliation using all forces and means."']
    passage = 'The document names Russia as an ally. It will be met with "retaliation using all forces and means.'
    assert holds_evidence(passage, quote)
    assert not holds_evidence("The document names Russia as an ally.", quote)


def test_harness_writes_results_summary_and_report(tmp_path: Path, corpus: Path):
    import argparse

    from eval.harness import run_eval
    from rag.config import Settings
    from tests.fakes import FakeGenerator, HashEmbedder

    out = tmp_path / "out"
    args = argparse.Namespace(gold=None, corpus=corpus, out=out, limit=12, check=True)
    settings = Settings(store=tmp_path / "user-store", cache_dir=tmp_path / "cache")
    code = run_eval(settings, args, embedder=HashEmbedder(), generator=FakeGenerator("NOT FOUND"))
    assert code == 1  # a generator that never answers is below the floors
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 12
    assert {"id", "question", "answer", "refused", "citations", "retrieved", "timings", "scores"} <= set(rows[0])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gate"]["passed"] is False and summary["metrics"]["answer_correct"] < 0.5
    # Only a step that needs no generator answers: q002, a "which" asked through a preposition (rag.align).
    assert {r["id"] for r in rows if not r["refused"]} <= {"q002"}
    assert (out / "report.md").read_text().startswith("# Eval report")
    assert (out / "metrics.png").stat().st_size > 1000 and (out / "latency.png").exists()
    assert not (tmp_path / "user-store").exists()  # the eval never touches the user's store
