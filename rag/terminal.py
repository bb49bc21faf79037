"""The terminal front end of `rag ask` and `rag chat`: the answer's words as they are generated, then
the verified answer with its citations (title, date, file and span) in their place."""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections.abc import Callable
from typing import Any


def show_answer(pipeline: Any, question: str, out: Any = None, err: Any = None) -> None:
    """The verified answer and its citations on `out`. On a terminal, `err` shows the answer's words as
    they are generated, erased when the verified answer is ready; elsewhere only the timings."""
    out, err = out or sys.stdout, err or sys.stderr
    _live_answer(pipeline.stream(question), err, out)


def _live_answer(events: Any, draft: Any, final: Any, lead: str = "") -> Any:
    """Write the answer's words to `draft` as they come, when it is a terminal, after `lead`; then
    erase them and write `lead`, the verified answer and its citations to `final`. Evidence timings
    go to `draft` unless it already shows the words. Returns the answer."""
    from rag.pipeline import Done, Evidence, Token

    live, shown = draft.isatty(), lead
    for event in events:
        if isinstance(event, Evidence) and draft is not final:
            draft.write(f"(evidence ready in {event.retrieve_s:.2f} s)\n")
        elif isinstance(event, Token) and live:
            draft.write(event.text)
            draft.flush()
            shown += event.text
        elif isinstance(event, Done):
            if live:
                draft.write(_erase(shown) + lead)
                draft.flush()
            final.write(render_answer(event.answer) + "\n")
            return event.answer
    raise AssertionError("the pipeline's stream ended without an answer")


def render_answer(answer: Any) -> str:
    """The answer, then each citation as `[n] file, start-end` with the quoted text."""
    lines = [answer.text, ""]
    if answer.refused:
        lines.append("Closest passages:")
        for p in answer.passages[:3]:
            lines.append(f"  - {p.source} [{p.start}:{p.end}] (score {p.score:.2f})")
            lines.append(textwrap.indent(textwrap.fill(p.text, 96), "      "))
    for c in answer.citations:
        about = " — ".join(x for x in (f"“{c.title}”" if c.title else "", c.date) if x)
        lines.append(f"[{c.number}] {about + ', ' if about else ''}{c.source}, characters {c.start}-{c.end}:")
        lines.append(textwrap.indent(textwrap.fill(f"“{c.text}”", 96), "    "))
    t = answer.timings
    first = "-" if t.first_token_s is None else f"{t.first_token_s:.1f} s"
    lines.append(f"(evidence {t.retrieve_s:.2f} s, first token {first}, total {t.total_s:.1f} s)")
    return "\n".join(lines)


def chat_loop(pipeline: Any, read: Callable[[str], str] = input, out: Any = None) -> int:
    """The terminal conversation: each turn's question and answer become the next turns' history.
    On a terminal the answer's words are shown as they are generated, then replaced by the verified
    answer and its citations; elsewhere (a pipe, a file) only the verified answer is written."""
    from rag.generate import GeneratorError
    from rag.guard import QuestionError
    from rag.rewrite import Turn

    out = out or sys.stdout
    history: list[Turn] = []
    out.write("Ask about the articles. /new starts a new conversation, /quit (or Ctrl-D) leaves.\n")
    while True:
        try:
            question = read("\nyou> ")
        except EOFError:
            out.write("\n")
            return 0
        if question.strip() in {"/quit", "/exit"}:
            return 0
        if question.strip() == "/new":
            history = []
            out.write("(new conversation)\n")
            continue
        out.write("bot> ")
        out.flush()
        try:
            answer = _live_answer(pipeline.stream(question, history), out, out, lead="bot> ")
            history.append(Turn(answer.question, "" if answer.refused else answer.text))
        except (QuestionError, GeneratorError) as exc:
            out.write(f"\nerror: {exc}\n")


def _erase(text: str) -> str:
    """Terminal codes that move the cursor back to where `text` began and clear from there on."""
    width = max(shutil.get_terminal_size().columns, 1)
    rows = sum(max(1, -(-len(line) // width)) for line in text.split("\n"))
    return "\r" + (f"\x1b[{rows - 1}A" if rows > 1 else "") + "\x1b[J"
