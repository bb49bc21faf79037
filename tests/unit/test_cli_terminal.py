"""`rag chat` and `rag ask` in the terminal, over a pipeline of fakes: follow-ups carry the
conversation, `/new` forgets it, a pipe gets only verified answers, a terminal sees the draft
replaced, errors do not end a chat."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from rag.config import Settings
from rag.factory import build_pipeline, run_index
from rag.generate import GeneratorError, Message
from rag.pipeline import Pipeline
from rag.terminal import chat_loop, show_answer
from tests.fakes import FailingGenerator, FakeGenerator, HashEmbedder

ANSWER = "Belarus summoned the ambassador [1]."


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def reader(typed: Sequence[str]) -> Callable[[str], str]:
    it = iter(typed)

    def read(prompt: str) -> str:
        try:
            return next(it)
        except StopIteration:
            raise EOFError from None

    return read


@pytest.fixture
def indexed(settings: Settings, corpus: Path, embedder: HashEmbedder) -> Settings:
    run_index(settings, corpus, embedder=embedder)
    return settings


def pipeline(settings: Settings, generator: object) -> Pipeline:
    return build_pipeline(settings, embedder=HashEmbedder(), generator=generator)  # type: ignore[arg-type]


def conversation_in(messages: Sequence[Message]) -> bool:
    return "Earlier in this conversation" in messages[-1].content


def test_a_follow_up_is_asked_with_the_conversation_and_new_forgets_it(indexed: Settings):
    generator = FakeGenerator(ANSWER)
    out = io.StringIO()
    typed = ["Who summoned the Ukrainian ambassador?", "What did they demand?", "/new", "What did they demand?"]
    assert chat_loop(pipeline(indexed, generator), reader(typed), out) == 0
    asked = [p for p in generator.prompts if "Question: What did they demand?" in p[-1].content]
    assert conversation_in(asked[0]) and "Q: Who summoned the Ukrainian ambassador?" in asked[0][-1].content
    assert not conversation_in(asked[-1])
    assert "(new conversation)" in out.getvalue()


def test_a_pipe_gets_each_verified_answer_once_with_its_citations(indexed: Settings):
    out = io.StringIO()
    chat_loop(pipeline(indexed, FakeGenerator(ANSWER)), reader(["Who summoned the Ukrainian ambassador?"]), out)
    text = out.getvalue()
    assert text.count("Belarus summoned the ambassador") == 1
    assert "\x1b" not in text and "\r" not in text
    assert "characters" in text  # the citation: file and span


def test_a_terminal_sees_the_draft_then_the_verified_answer_in_its_place(indexed: Settings):
    out = Terminal()
    chat_loop(pipeline(indexed, FakeGenerator(ANSWER)), reader(["Who summoned the Ukrainian ambassador?"]), out)
    draft, _, final = out.getvalue().partition("\x1b[J")
    assert "Belarus summoned the ambassador [1]." in draft
    assert final.startswith("bot> Belarus summoned the ambassador") and "characters" in final


def test_a_bad_question_or_a_failing_model_is_one_line_and_the_chat_goes_on(indexed: Settings):
    out = io.StringIO()
    failing = FailingGenerator(GeneratorError("the model is missing"))
    typed = ["   ", "Who summoned the Ukrainian ambassador?", "/quit", "never read"]
    assert chat_loop(pipeline(indexed, failing), reader(typed), out) == 0
    text = out.getvalue()
    assert "error: Please type a question." in text
    assert "error: the model is missing" in text
    assert "Traceback" not in text


def test_ask_writes_the_verified_answer_and_shows_a_terminal_the_draft_it_erases(indexed: Settings):
    question = "Who summoned the Ukrainian ambassador?"
    out, err = io.StringIO(), io.StringIO()
    show_answer(pipeline(indexed, FakeGenerator(ANSWER)), question, out, err)
    assert out.getvalue().startswith("Belarus summoned the ambassador") and "characters" in out.getvalue()
    assert "evidence ready" in err.getvalue() and "Belarus" not in err.getvalue()

    out, tty = io.StringIO(), Terminal()
    show_answer(pipeline(indexed, FakeGenerator(ANSWER)), question, out, tty)
    draft, erased, rest = tty.getvalue().partition("\x1b[J")
    assert "Belarus summoned the ambassador [1]." in draft and erased and rest == ""
    assert out.getvalue().startswith("Belarus summoned the ambassador")


def test_the_terminal_shows_each_citations_title_and_date():
    from rag.terminal import render_answer
    from rag.types import Answer, Citation

    answer = Answer(
        "When?",
        "On Thursday [1]. Belarus said so [2].",
        False,
        citations=(
            Citation(1, "003.txt", 0, 10, "date 2022-12-29 Belarus said Thursday", "", "2022-12-29"),
            Citation(2, "004.txt", 5, 20, "Belarus deploys Iskander missiles", "Belarus deploys Iskander missiles", ""),
        ),
    )
    text = render_answer(answer)
    assert "[1] 2022-12-29, 003.txt, characters 0-10:" in text
    assert "[2] “Belarus deploys Iskander missiles”, 004.txt, characters 5-20:" in text
