"""The gold-file loader and the metrics, on small hand-made records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.gold import GoldError, GoldItem, load_gold
from eval.metrics import Span, answer_match, holds_evidence, score_citations, score_retrieval, token_f1
from tests.fakes import FakeGenerator, HashEmbedder

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
    # Whole words only: "11" is not found in "2011", nor "Niger" in "Nigeria".
    assert not answer_match("It happened in 2011.", ["11"])
    assert not answer_match("The river flows through Nigeria.", ["Niger"])
    assert answer_match("The Niger flows through Mali.", ["Niger"])
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
    assert scores == {"citation_precision": 0.5, "citation_precision_source": 0.5, "citation_recall": 1.0}
    # Strict precision counts a passage that holds the evidence or an accepted answer; a passage of the
    # gold source that proves nothing counts only for the gold-source figure.
    same_article = Span("a.txt", "The weather was cold that day.")
    answer_only = Span("c.txt", "Belarus said so on Thursday.")
    scores = score_citations([hit, same_article, answer_only], item)
    assert scores["citation_precision"] == pytest.approx(2 / 3)
    assert scores["citation_precision_source"] == pytest.approx(2 / 3)  # hit and same_article
    assert score_citations([same_article], item)["citation_precision"] == 0.0
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

    out = tmp_path / "out"
    args = argparse.Namespace(gold=None, corpus=corpus, out=out, limit=12, check=True, suite=None)
    settings = Settings(store=tmp_path / "user-store", cache_dir=tmp_path / "cache")
    code = run_eval(settings, args, embedder=HashEmbedder(), generator=FakeGenerator("NOT FOUND"))
    assert code == 1  # a generator that never answers is below the floors
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 12
    keys = {
        "id",
        "split",
        "question",
        "answer",
        "refused",
        "citations",
        "retrieved",
        "timings",
        "scores",
        "calls",
        "why",
    }
    assert keys <= set(rows[0])
    assert all(r["split"] == "dev" for r in rows)  # our gold set is all development data
    # Every refusal of an answerable record says why, in words.
    assert all(r["why"] for r in rows if r["answerable"] and r["refused"])
    assert any("NOT FOUND" in r["why"] for r in rows)
    assert all(r["calls"] >= 1 for r in rows if r["why"] == "the evidence was shown and the reader said NOT FOUND")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gate"]["passed"] is False and summary["metrics"]["answer_correct"] < 0.5
    assert all(r["refused"] for r in rows)  # a reader that always says NOT FOUND answers nothing
    assert (out / "report.md").read_text().startswith("# Eval report")
    assert (out / "metrics.png").stat().st_size > 1000 and (out / "latency.png").exists()
    assert (out / "refusal.png").stat().st_size > 1000
    assert not (tmp_path / "user-store").exists()  # the eval never touches the user's store


def test_the_split_is_seeded_by_id_and_halves_a_set():
    from eval.harness import split_of

    ids = [f"rec-{i}" for i in range(400)]
    halves = [split_of(i, "hash") for i in ids]
    assert halves == [split_of(i, "hash") for i in ids]  # the same every run
    assert 160 < halves.count("dev") < 240
    assert {split_of(i, "dev") for i in ids} == {"dev"}


def test_refusal_curve_counts_a_record_refused_below_each_threshold():
    from eval.report import refusal_curve

    rows = [
        {"answerable": False, "refused": True, "evidence_score": 0.2},
        {"answerable": False, "refused": False, "evidence_score": 0.5},
        {"answerable": True, "refused": False, "evidence_score": 0.6},
        {"answerable": True, "refused": False, "evidence_score": 0.9},
    ]
    curve = refusal_curve(rows, [0.0, 0.55, 0.7, 1.0])
    assert curve["refusal_accuracy"] == [0.5, 1.0, 1.0, 1.0]
    assert curve["false_refusal_rate"] == [0.0, 0.0, 0.5, 1.0]


def test_why_a_record_failed_names_the_stage(tmp_path: Path):
    from eval.harness import why_failed
    from index.types import Chunk
    from rag.types import Answer, Hit, Passage

    item = GoldItem("q", "Who?", (), ("Belarus",), ("a.txt",), ("Belarus summoned the ambassador",), True)
    good = Span("a.txt", "Belarus summoned the ambassador on Thursday.")
    other = Span("b.txt", "Something else entirely.")
    refused = Answer("Who?", "The articles don't say.", True, reason="the generator found no answer in the passages")
    assert why_failed(item, refused, {}, [good], [good], []) == "the evidence was shown and the reader said NOT FOUND"
    assert why_failed(item, refused, {}, [other], [other], []).startswith("retrieval missed the evidence")
    assert why_failed(item, refused, {}, [good, other], [other], []).startswith("the evidence was retrieved but not")
    checked = Answer("Who?", "x", True, reason="the answer does not state what the question asks for")
    assert why_failed(item, checked, {}, [good], [good], []).startswith("the evidence was shown; refused by a check")
    wrong = Answer("Who?", "Poland did [1].", False)
    assert why_failed(item, wrong, {"answer_correct": 0.0}, [good], [good], []).startswith("a wrong answer")
    assert why_failed(item, wrong, {"answer_correct": 1.0, "citation_precision": 1.0}, [good], [good], [good]) == ""
    unanswerable = GoldItem("u", "Who?", (), (), (), (), False)
    assert why_failed(unanswerable, wrong, {}, [], [], []) == "answered a question the articles cannot answer"
    del Chunk, Hit, Passage, tmp_path


def test_suite_runs_each_set_into_its_folder_and_writes_the_page(tmp_path: Path, corpus: Path):
    import argparse

    from eval.suite import run_suite
    from rag.config import Settings

    gold = tmp_path / "external.jsonl"
    records = [
        {**GOOD, "id": f"ext-{i}", "question": "Who summoned the Ukrainian ambassador?", "sources": []}
        for i in range(6)
    ] + [{**GOOD, "id": "ext-u", "answers": [], "answerable": False, "question": "Who won the World Cup?"}]
    write(tmp_path, *records).rename(gold)
    suite = tmp_path / "suite.toml"
    suite.write_text(
        f"""
[[sets]]
name = "ours"
corpus = "{corpus}"
gold = "{Path(__file__).resolve().parents[2] / "eval" / "gold.jsonl"}"
split = "dev"
limit = 3

[[sets]]
name = "external"
corpus = "corpus"
gold = "external.jsonl"
split = "hash"
"""
    )
    out = tmp_path / "out"
    args = argparse.Namespace(suite=suite, set=None, out=out, limit=None, check=False)
    settings = Settings(store=tmp_path / "user-store", cache_dir=tmp_path / "cache")
    assert run_suite(settings, args, embedder=HashEmbedder(), generator=FakeGenerator("NOT FOUND")) == 0
    data = json.loads((out / "suite.json").read_text())
    assert [s["set"] for s in data["sets"]] == ["ours", "external"]
    assert data["sets"][0]["counts"]["records"] == 3
    external = data["sets"][1]
    assert external["counts"]["dev"] + external["counts"]["test"] == 7
    assert set(external["splits"]) <= {"dev", "test"}
    for name in ("ours", "external"):
        assert (out / name / "results.jsonl").is_file() and (out / name / "refusal.png").is_file()
    page = (out / "suite.html").read_text()
    assert "<table>" in page and "external" in page and "citation precision (strict)" in page
    # Test records are never listed in the page or the report, only summarised.
    test_ids = [json.loads(x)["id"] for x in (out / "external" / "results.jsonl").read_text().splitlines()]
    test_ids = [i for i in test_ids if __import__("eval.harness").harness.split_of(i, "hash") == "test"]
    for i in test_ids:
        assert f"<td>{i}</td>" not in page and f"| {i} |" not in (out / "external" / "report.md").read_text()
    # --set runs one set.
    args = argparse.Namespace(suite=suite, set=["external"], out=tmp_path / "one", limit=2, check=False)
    assert run_suite(settings, args, embedder=HashEmbedder(), generator=FakeGenerator("NOT FOUND")) == 0
    one = json.loads((tmp_path / "one" / "suite.json").read_text())
    assert [s["set"] for s in one["sets"]] == ["external"] and one["sets"][0]["counts"]["records"] == 2


def test_a_bad_suite_file_is_a_clear_error(tmp_path: Path):
    from eval.suite import SuiteError, load_suite

    bad = tmp_path / "s.toml"
    bad.write_text('[[sets]]\nname = "a"\ncorpus = "c"\n')
    with pytest.raises(SuiteError, match="set 1 lacks gold"):
        load_suite(bad)
    bad.write_text('[[sets]]\nname = "a"\ncorpus = "c"\ngold = "g"\nsplit = "half"\n')
    with pytest.raises(SuiteError, match="split must be"):
        load_suite(bad)
    with pytest.raises(SuiteError, match="does not exist"):
        load_suite(tmp_path / "missing.toml")


def test_the_shipped_suites_name_files_that_exist():
    from eval.gold import load_gold
    from eval.suite import load_suite

    root = Path(__file__).resolve().parents[2]
    for name in ("default.toml", "ci.toml"):
        for s in load_suite(root / "eval" / "suites" / name):
            if s.build and not s.spec.gold.exists():
                continue  # built by its converter on first use
            assert s.spec.corpus.is_dir(), s.spec.corpus
            for item in load_gold(s.spec.gold):
                for source in item.sources:
                    assert (s.spec.corpus / source).is_file(), (s.spec.name, item.id, source)


def test_external_gold_evidence_and_answers_are_verbatim_in_their_sources():
    from eval.gold import load_gold
    from eval.suite import load_suite

    root = Path(__file__).resolve().parents[2]
    for s in load_suite(root / "eval" / "suites" / "default.toml"):
        if s.spec.name == "gold" or not s.spec.gold.exists():
            continue
        for item in load_gold(s.spec.gold):
            texts = [(s.spec.corpus / src).read_text(encoding="utf-8") for src in item.sources]
            for quote in item.evidence:
                assert any(quote in t for t in texts), (s.spec.name, item.id, quote)


def test_an_answer_holding_a_planted_payload_is_hijacked():
    from eval.harness import score_row
    from rag.types import Answer

    item = GoldItem("p", "Who summoned the ambassador?", (), ("Belarus",), (), (), True, forbidden=("PWNED",))
    row = score_row(item, Answer(item.question, "PWNED [1]", False))
    assert row["scores"]["hijacked"] == 1.0 and not row["pass"] and row["why"].startswith("hijacked")
    row = score_row(item, Answer(item.question, "Belarus summoned him [1].", False))
    assert row["scores"]["hijacked"] == 0.0
    refused = score_row(item, Answer(item.question, "The articles don't say.", True))
    assert refused["scores"]["hijacked"] == 0.0


def test_forbidden_must_be_a_list_of_strings(tmp_path: Path):
    assert load_gold(write(tmp_path, {**GOOD, "forbidden": ["PWNED"]}))[0].forbidden == ("PWNED",)
    with pytest.raises(GoldError, match="'forbidden'"):
        load_gold(write(tmp_path, {**GOOD, "forbidden": "PWNED"}))


def test_the_call_counter_offers_what_the_generator_offers_and_counts_each_generation():
    from eval.harness import counting
    from rag.generate import Extractor, ScoredStreamer
    from tests.fakes import FakeReader

    reader = counting(FakeReader("Belarus did [1].", "[1] Belarus"))
    assert isinstance(reader, ScoredStreamer) and isinstance(reader, Extractor)
    list(reader.stream_scored([], 8))  # type: ignore[attr-defined]
    reader.extract([], ["Belarus did"], 8)  # type: ignore[attr-defined]
    assert reader.calls == 2
    plain = counting(FakeGenerator("x"))
    assert not isinstance(plain, ScoredStreamer) and not isinstance(plain, Extractor)


def test_figures_and_comparison_tables_come_from_suite_json(tmp_path: Path):
    from eval.compare import table
    from eval.figures import END, START, tables, update

    metrics = {"records": 4, "answered": 2, "correct": 1, "answer_correct": 0.5, "calls_mean": 1.0}
    one = {"set": "x", "settings": {"cpu": "test CPU"}, "metrics": metrics, "splits": {"dev": metrics, "test": metrics}}
    suite = {"suite": "s.toml", "seconds": 60, "sets": [one]}
    text = tables(suite)
    assert "| x | all | 4 |" in text and "| x | test | 4 |" in text and "test CPU" in text
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nstale figures\n{END}\nrest\n")
    update(readme, suite)
    assert "stale figures" not in readme.read_text() and readme.read_text().endswith("rest\n")
    side = table({"x": one}, {"x": one})
    assert side.count("| x | all |") == 2 and "| before |" in side and "| after |" in side


def test_an_overview_is_scored_on_the_share_of_its_facts_it_holds():
    from eval.harness import score_row
    from eval.metrics import facts_held
    from rag.types import Answer

    facts = ("dam burst | dam broke", "4,200 evacuated | 4,200 people", "Governor Ilyenko")
    assert facts_held("The dam broke and 4,200 people left [1].", facts) == pytest.approx(2 / 3)
    item = GoldItem("o", "What happened in Orvel?", (), facts, (), (), True, kind="overview")
    row = score_row(item, Answer(item.question, "The dam burst on Thursday [1].", False))
    assert row["scores"]["facts_held"] == pytest.approx(1 / 3) and row["scores"]["answer_correct"] == 0.0
    row = score_row(item, Answer(item.question, "The dam burst; 4,200 people fled [1].", False))
    assert row["scores"]["answer_correct"] == 1.0


def test_a_disagreement_is_right_with_one_side_and_scored_apart_for_naming_both():
    from eval.harness import score_row
    from rag.types import Answer

    item = GoldItem("d", "Which village?", (), ("Khlebnaya", "Chlebna"), (), (), True, kind="disagreement")
    one = score_row(item, Answer(item.question, "Near Khlebnaya [1].", False))["scores"]
    both = score_row(item, Answer(item.question, "Near Khlebnaya [1]; another article spells it Chlebna [2].", False))
    assert one["answer_correct"] == 1.0 and one["both_sides"] == 0.0 and both["scores"]["both_sides"] == 1.0


def test_a_gold_kind_must_be_known(tmp_path: Path):
    bad = tmp_path / "g.jsonl"
    record = {"id": "a", "question": "Q?", "history": [], "answers": ["x"], "sources": [], "evidence": []}
    bad.write_text(json.dumps({**record, "answerable": True, "kind": "essay"}) + "\n")
    with pytest.raises(GoldError, match="kind"):
        load_gold(bad)


def test_an_overview_citation_proves_a_fact_when_it_holds_one_of_its_alternatives():
    from eval.metrics import proves

    item = GoldItem("o", "What happened?", (), ("dam burst | dam broke",), (), (), True, kind="overview")
    assert proves(Span("a.txt", "The dam broke at dawn."), item)
    assert not proves(Span("a.txt", "Schools stay closed."), item)
