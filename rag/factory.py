"""Wiring: build the components from one Settings object. The only place that knows every adapter."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from index.chunk import Chunker, ChunkSettings
from index.embed import Embedder, SentenceTransformerEmbedder
from index.embed_onnx import OnnxEmbedder, find_onnx_model
from index.lock import index_lock
from index.pipeline import IndexSummary, Progress, index_corpus
from index.store import ChromaStore, StoreError
from rag.config import Settings
from rag.generate import Generator, GeneratorError, LlamaCppGenerator, LlamaIndexGenerator, Message, chatml
from rag.memory import cache_in_small_pages, releasing_mapped_file
from rag.models import resolve_gguf
from rag.pipeline import Pipeline, PipelineOptions
from rag.rerank import SentenceSelector
from rag.retrieve import HybridRetriever, SnapshotSource


def open_store(settings: Settings, writable: bool = False) -> ChromaStore:
    return ChromaStore.open(
        path=None if settings.is_server() else settings.store,
        host=settings.chroma_host,
        port=settings.chroma_port,
        collection=settings.collection,
        writable=writable,
    )


def build_embedder(settings: Settings) -> Embedder:
    """The ONNX export of the embedding model when `rag.prepare` has made it: no torch in the process
    (0.27 GB less resident) and, measured on 500 chunks, 2.4× the chunks/s of sentence-transformers on
    this CPU. Both give the same vectors (cosine ≥ 0.9999) under the same name, so indexes stay valid."""
    model, why_not = find_onnx_model(settings.embed_model, settings.cache_dir / "models")
    if model is not None:
        return OnnxEmbedder(model)
    print(f"note: embedding with sentence-transformers (torch): {why_not}", file=sys.stderr)
    return SentenceTransformerEmbedder(settings.embed_model, settings.embed_batch_size)


def build_chunker(settings: Settings) -> Chunker:
    return Chunker(ChunkSettings(settings.chunk_size, settings.chunk_overlap))


def lock_path(settings: Settings) -> Path:
    if settings.is_server():
        key = f"{settings.chroma_host}:{settings.chroma_port}/{settings.collection}"
        return settings.cache_dir / "locks" / f"server-{hashlib.sha256(key.encode()).hexdigest()[:16]}.lock"
    # Beside the store, not in it: a rebuild may remove the store folder.
    return settings.store.parent / f".{settings.store.name}.index.lock"


def run_index(
    settings: Settings,
    corpus: Path,
    *,
    rebuild: bool = False,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
) -> IndexSummary:
    with index_lock(lock_path(settings)):
        try:
            store = open_store(settings, writable=True)
        except StoreError:
            if not (rebuild and not settings.is_server()):
                raise
            ChromaStore.remove_local(settings.store)  # unreadable, and a rebuild was asked for
            store = open_store(settings, writable=True)
        return index_corpus(
            corpus,
            store,
            embedder or build_embedder(settings),
            build_chunker(settings),
            max_file_bytes=settings.max_file_bytes,
            batch_size=settings.embed_batch_size,
            rebuild=rebuild,
            progress=progress,
        )


def build_pipeline(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
    store: ChromaStore | None = None,
) -> Pipeline:
    embedder = embedder or build_embedder(settings)
    store = store or open_store(settings)
    store.info()  # fail now, with the store's own message, if it holds no index
    if generator is None:
        # Load the embedder before llama.cpp: loading briefly needs twice its size, and the process's
        # peak memory is lower when that happens before the 1.2 GB model is in.
        warm = getattr(embedder, "warm_up", None)
        if warm:
            warm()
    retriever = HybridRetriever(SnapshotSource(store), embedder, candidates=settings.candidates)
    options = PipelineOptions(
        top_k=settings.top_k,
        rerank_pool=settings.rerank_pool,
        passages=settings.passages,
        min_relevance=settings.min_relevance,
        refuse_at=settings.refuse_at,
        min_cited_score=settings.min_cited_score,
    )
    return Pipeline(retriever, SentenceSelector(embedder), generator or build_generator(settings), options=options)


def build_generator(settings: Settings) -> Generator:
    if settings.llm == "openai":
        return _openai_generator(settings)
    return _llamacpp_generator(settings)


def _llamacpp_generator(settings: Settings) -> LlamaCppGenerator:
    import os

    from llama_index.llms.llama_cpp import LlamaCPP

    from rag.cpu import check_build

    check_build(GeneratorError)
    path = resolve_gguf(settings.llm_model, settings.cache_dir / "models")
    threads = settings.llm_threads or os.cpu_count() or 1
    # Mapped, not read: llama.cpp reads the whole file once to repack most weights into its own memory,
    # then reads only the rest (embeddings, output layer, Q6_K layers) through the mapping. Releasing
    # the mapped pages while it loads keeps only those resident. Measured, 1.5B model, after a
    # 460-token prompt: read into memory (use_mmap=False) 1208 MB; mapped 1810 MB; mapped and
    # released 1127 MB. Elsewhere than Linux the pages cannot be released this way: read, as before.
    mapped = sys.platform.startswith("linux")
    if mapped:
        cache_in_small_pages(path)  # else each hot tensor keeps its 2 MB neighbourhood resident
    with releasing_mapped_file(path):
        llm = LlamaCPP(
            model_path=str(path),
            temperature=0.0,
            max_new_tokens=settings.max_answer_tokens,
            context_window=settings.context_window,
            generate_kwargs={"top_k": 1, "repeat_penalty": 1.0},
            model_kwargs={"n_threads": threads, "n_batch": 256, "use_mmap": mapped, "verbose": False},
            messages_to_prompt=chatml,
            completion_to_prompt=lambda text: chatml([Message("user", text)]),
            verbose=False,
        )
    return LlamaCppGenerator(llm, f"llama.cpp:{path.name}", after_each=lambda: _free_sampler(llm))


def _free_sampler(llm: Any) -> None:
    """Free the sampler llama-cpp-python made for the last generation now, not at the next cyclic GC.

    Its `LlamaSampler` is in a reference cycle (the callback that frees the native sampler closes over
    the object), so each generation's native memory waited for Python's cyclic collector: in a scratch
    probe (24 questions, pipeline in-process) anonymous memory grew 39 MB without this and 0 MB with it;
    `gc.collect()` after each answer did the same at 0.12 s each. The next generation makes a new one."""
    model = getattr(llm, "_model", None)
    sampler = getattr(model, "_sampler", None)
    if sampler is not None and hasattr(sampler, "close"):
        sampler.close()
        model._sampler = None  # type: ignore[union-attr]


def _openai_generator(settings: Settings) -> LlamaIndexGenerator:
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(
        model=settings.llm_model,
        api_base=settings.llm_base_url,
        api_key=settings.llm_api_key,
        is_chat_model=True,
        temperature=0.0,
        max_tokens=settings.max_answer_tokens,
        timeout=settings.llm_timeout_s,
        max_retries=0,
    )
    return LlamaIndexGenerator(
        llm,
        f"openai:{settings.llm_model}",
        f"The LLM server at {settings.llm_base_url} did not answer (timeout {settings.llm_timeout_s:g} s)",
    )
