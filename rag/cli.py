"""The `rag` command: index, ask, chat, eval, serve. Errors are one clear line, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "TRANSFORMERS_VERBOSITY": "error",
}.items():
    os.environ.setdefault(_key, _value)

from rag.config import Settings  # noqa: E402


def _known_errors() -> tuple[type[BaseException], ...]:
    from index.embed import ModelNotFoundError
    from index.load import CorpusError
    from index.lock import IndexBusyError
    from index.store import StoreError
    from rag.generate import GeneratorError
    from rag.guard import QuestionError
    from rag.models import ModelAssemblyError

    return (
        CorpusError,
        StoreError,
        IndexBusyError,
        QuestionError,
        GeneratorError,
        ModelAssemblyError,
        ModelNotFoundError,
    )


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--store", type=Path, help="folder of the embedded index (default: .rag/store in the project)")
    p.add_argument("--chroma-host", help="use the Chroma server on this host instead of the embedded store")
    p.add_argument("--chroma-port", type=int, help="port of the Chroma server (default 8000)")
    p.add_argument("--collection", help="collection name (default: news)")


def _llm(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--llm", choices=["llama-cpp", "openai"], help="embedded llama.cpp model or an OpenAI-compatible server"
    )
    p.add_argument("--model", dest="llm_model", help="packaged model name or .gguf path; the model name for a server")
    p.add_argument("--llm-base-url", help="base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1")
    p.add_argument("--llm-timeout", dest="llm_timeout_s", type=float, help="seconds to wait for the LLM server")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Answer questions about a folder of news articles, with cited evidence."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index a folder of documents (default: the project's corpus)")
    p.add_argument("corpus", nargs="?", type=Path, help="folder to index")
    p.add_argument("--rebuild", action="store_true", help="drop the index and build it afresh")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    _common(p)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    _common(p)
    _llm(p)

    p = sub.add_parser("chat", help="a conversation in the terminal, with follow-up questions")
    _common(p)
    _llm(p)

    p = sub.add_parser("eval", help="score the pipeline on gold questions and write a report")
    p.add_argument("--corpus", type=Path, help="folder to index for the eval (default: the project's corpus)")
    p.add_argument("--gold", type=Path, help="gold file (default: eval/gold.jsonl)")
    p.add_argument(
        "--suite", type=Path, help="run the named sets of this TOML/JSON file (e.g. eval/suites/default.toml)"
    )
    p.add_argument("--set", action="append", help="with --suite: run only this set (may be repeated)")
    p.add_argument("--half", choices=["dev", "test"], help="with --suite: run only this half of each set")
    p.add_argument("--out", type=Path, default=Path("eval/out"), help="folder for results and report")
    p.add_argument("--limit", type=int, help="score only the first N records (of each set)")
    p.add_argument("--check", action="store_true", help="exit 1 when a metric is below its floor")
    _common(p)
    _llm(p)

    p = sub.add_parser("serve", help="start the web chat and the APIs")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument(
        "--corpus",
        type=Path,
        help="index this folder first if the store is empty; uploaded documents go here (default: RAG_CORPUS)",
    )
    p.add_argument(
        "--upload-token",
        help="allow adding and removing documents with this bearer token (needed on a non-loopback address)",
    )
    _common(p)
    _llm(p)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    keys = (
        "store",
        "chroma_host",
        "chroma_port",
        "collection",
        "llm",
        "llm_model",
        "llm_base_url",
        "llm_timeout_s",
        "upload_token",
    )
    overrides = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
    return Settings(**overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "index": cmd_index,
        "ask": cmd_ask,
        "chat": cmd_chat,
        "eval": cmd_eval,
        "serve": cmd_serve,
    }
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except _known_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the last line of defence: one line, and how to see more
        if os.environ.get("RAG_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (set RAG_DEBUG=1 for details)", file=sys.stderr)
        return 1


def cmd_index(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from rag.factory import run_index

    settings = settings_from(args)
    corpus = args.corpus or settings.corpus
    bar: Any = None

    def progress(done: int, total: int, name: str) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="file", desc="indexing", file=sys.stderr, leave=False)
        bar.set_postfix_str(name[-40:], refresh=False)
        bar.update(1)

    try:
        summary = run_index(settings, corpus, rebuild=args.rebuild, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    data = summary.as_dict()
    if args.json:
        print(json.dumps(data))
        return 0
    print(
        f"Indexed {corpus} into {summary.store} in {summary.seconds:.1f} s\n"
        f"  files: {summary.files_seen} seen, {summary.files_indexed} indexed, "
        f"{summary.files_unchanged} unchanged, {summary.files_skipped} skipped\n"
        f"  chunks: {summary.chunks_added} added, {summary.chunks_unchanged} unchanged, "
        f"{summary.chunks_removed} removed, {summary.chunks_total} in the index"
    )
    for s in summary.skipped:
        print(f"  skipped {s['source']}: {s['reason']}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.factory import build_pipeline
    from rag.guard import clean_question

    clean_question(args.question)  # a bad question is refused before the models load
    pipeline = build_pipeline(settings_from(args))
    started = time.perf_counter()
    pipeline.warm_up()  # so the timings measure answering, not loading
    load_s = time.perf_counter() - started
    if args.json:
        data = pipeline.ask(args.question).as_dict()
        data["timings"]["load_s"] = round(load_s, 3)  # type: ignore[index]
        print(json.dumps(data, ensure_ascii=False))
        return 0
    print(f"(models loaded in {load_s:.1f} s)", file=sys.stderr)
    from rag.terminal import show_answer

    show_answer(pipeline, args.question)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from rag.factory import build_pipeline

    pipeline = build_pipeline(settings_from(args))
    print("Loading models…", end="", flush=True, file=sys.stderr)
    pipeline.warm_up()
    print("\r" + " " * 20 + "\r", end="", file=sys.stderr)
    from rag.terminal import chat_loop

    return chat_loop(pipeline)


def cmd_eval(args: argparse.Namespace) -> int:
    from eval.harness import run_eval

    if args.suite and (args.corpus or args.gold):
        print("error: give either --suite or --corpus/--gold, not both", file=sys.stderr)
        return 2

    return run_eval(settings_from(args), args)


def cmd_serve(args: argparse.Namespace) -> int:
    import app

    return app.serve(settings_from(args), host=args.host, port=args.port, corpus=args.corpus)


if __name__ == "__main__":
    raise SystemExit(main())
