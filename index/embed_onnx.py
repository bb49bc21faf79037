"""The embedder without torch: a sentence-transformers model exported once to ONNX, run by onnxruntime.

`export_onnx` (install time, `python -m rag.prepare`; needs torch) writes `<name>.onnx` and then its
stamp `<name>.onnx.json` into the model cache. The stamp is written last, after the export has been
checked against the torch model, and records the sha256 of the weights it came from, so a half-written
or stale export is never used. `OnnxEmbedder` (query time) needs only onnxruntime and `tokenizers`,
both chromadb dependencies: the serving process does not load torch (about 0.35 GB less resident).
It reproduces sentence-transformers' Transformer → mean Pooling → Normalize: same tokenizer, same
`max_seq_length`, mean over the attention mask, L2 normalisation.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.embed import embedder_name, resolve_embed_model

FORMAT = 1  # bump when the exported graph or the stamp changes, so old exports are redone
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_MODULES = [
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
]
# Checked at export time: the ONNX model must give the torch model's vectors for these.
_CHECK_TEXTS = (
    "Poland said a Russian-made missile came down on its territory.",
    "The central bank raised interest rates by a quarter point.",
    "short",
    "A much longer sentence " * 40,  # past max_seq_length: truncation must match
)
MIN_COSINE = 0.9999


class OnnxExportError(Exception):
    """The model cannot be exported, or the export does not reproduce the torch model."""


@dataclass(frozen=True)
class OnnxModel:
    """A checked export: the ONNX file and what the runtime needs to reproduce sentence-transformers."""

    name: str
    onnx: Path
    tokenizer: Path
    max_seq_length: int
    dim: int


@dataclass(frozen=True)
class SentenceTransformerLayout:
    """What a sentence-transformers folder says about its modules; only mean pooling + normalise exports."""

    tokenizer: Path
    weights: Path
    max_seq_length: int
    dim: int


def onnx_paths(model: str, models_dir: Path) -> tuple[Path, Path]:
    base = models_dir / f"{embedder_name(model)}.onnx"
    return base, base.with_name(base.name + ".json")


def read_layout(model_dir: Path) -> SentenceTransformerLayout:
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith(".Pooling"))
        pooling = json.loads((model_dir / pooling_dir / "config.json").read_text())
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise OnnxExportError(f"{model_dir} is not a sentence-transformers folder: {exc}") from exc
    if [m["type"] for m in modules] != _MODULES or not pooling.get("pooling_mode_mean_tokens"):
        raise OnnxExportError(f"{model_dir}: only Transformer + mean Pooling + Normalize models are exported")
    weights = model_dir / "model.safetensors"
    tokenizer = model_dir / "tokenizer.json"
    for path in (weights, tokenizer):
        if not path.is_file():
            raise OnnxExportError(f"{model_dir} has no {path.name}")
    return SentenceTransformerLayout(
        tokenizer, weights, int(st_config["max_seq_length"]), int(pooling["word_embedding_dimension"])
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def find_onnx_model(model: str, models_dir: Path) -> tuple[OnnxModel | None, str]:
    """The checked export of `model`, or None and the reason it cannot be used."""
    onnx, stamp_path = onnx_paths(model, models_dir)
    if not stamp_path.is_file() or not onnx.is_file():
        return None, f"no ONNX export in {models_dir} (run `python -m rag.prepare`)"
    try:
        stamp = json.loads(stamp_path.read_text())
        layout = read_layout(resolve_embed_model(model))
    except (OSError, ValueError, OnnxExportError) as exc:
        return None, f"the ONNX export cannot be checked: {exc}"
    if stamp.get("format") != FORMAT or stamp.get("source_sha256") != sha256_of(layout.weights):
        return None, f"the ONNX export in {models_dir} is out of date (run `python -m rag.prepare`)"
    return OnnxModel(embedder_name(model), onnx, layout.tokenizer, layout.max_seq_length, layout.dim), ""


class OnnxEmbedder:
    """Loads lazily on first use; safe to share between threads (onnxruntime sessions are).

    Texts go to onnxruntime 4 at a time (longest first): on 512 chunks, CPU time was 7.2 s in batches
    of 4, 8.3 s of 8, 9.8 s of 16 and 13 s of 64, and the activations of a small batch stay small."""

    def __init__(self, model: OnnxModel, batch_size: int = 4, threads: int = 0):
        self.name = model.name
        self.dim = model.dim
        self.model = model
        self.batch_size = batch_size
        self._threads = threads or os.cpu_count() or 1
        self._session: Any = None
        self._tokenizer: Any = None
        self._run_options: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime as ort
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.model.tokenizer))
            # tokenizer.json pads every text to a fixed 128 tokens and truncates there; sentence-transformers
            # pads to the longest text of the batch and truncates at max_seq_length (256 for MiniLM).
            tokenizer.enable_truncation(max_length=self.model.max_seq_length)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            options = ort.SessionOptions()
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            # Threads that spin between runs would take the cores from llama.cpp, which runs next.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            # The arena keeps the largest batch's activations (≈ 100 MB after 64 sentences) for good;
            # giving them back after each run costs a few per cent of embedding time.
            run_options = ort.RunOptions()
            run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
            self._run_options = run_options
            self._tokenizer = tokenizer
            self._session = ort.InferenceSession(str(self.model.onnx), options, providers=["CPUExecutionProvider"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.warm_up()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # sentence-transformers strips each text, and batches texts of similar length to pad less.
        stripped = [str(t).strip() for t in texts]
        order = sorted(range(len(stripped)), key=lambda i: -len(stripped[i]))
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            out[batch] = self._embed_batch([stripped[i] for i in batch])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self._session.run(None, feeds, self._run_options)[0]
        return mean_pool_normalize(hidden, feeds["attention_mask"])


def mean_pool_normalize(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean Pooling then Normalize (same epsilons)."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def export_onnx(model: str, models_dir: Path) -> OnnxModel:
    """Export `model` unless a checked export of these weights is already there. Needs torch."""
    found, _ = find_onnx_model(model, models_dir)
    if found is not None:
        return found
    model_dir = resolve_embed_model(model)
    layout = read_layout(model_dir)
    onnx, stamp = onnx_paths(model, models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = onnx.with_name(f".{onnx.name}.{os.getpid()}.tmp")
    try:
        expected = _export_graph(model_dir, layout, tmp)
        candidate = OnnxModel(embedder_name(model), tmp, layout.tokenizer, layout.max_seq_length, layout.dim)
        got = OnnxEmbedder(candidate, threads=1).embed(_CHECK_TEXTS)
        cosine = float(np.min(np.sum(got * expected, axis=1)))
        if cosine < MIN_COSINE:
            raise OnnxExportError(f"the ONNX export of {model} differs from the torch model (cosine {cosine:.6f})")
        os.replace(tmp, onnx)
        record = {"format": FORMAT, "source_sha256": sha256_of(layout.weights), "onnx_sha256": sha256_of(onnx)}
        tmp_stamp = stamp.with_name(f".{stamp.name}.{os.getpid()}.tmp")
        tmp_stamp.write_text(json.dumps(record, indent=1))
        os.replace(tmp_stamp, stamp)
    finally:
        tmp.unlink(missing_ok=True)
    return OnnxModel(embedder_name(model), onnx, layout.tokenizer, layout.max_seq_length, layout.dim)


def _export_graph(model_dir: Path, layout: SentenceTransformerLayout, target: Path) -> np.ndarray:
    """Write the transformer (token embeddings out; pooling stays in numpy) and return the torch
    model's sentence vectors for the check texts, computed before the export touches the model."""
    import warnings

    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    st = SentenceTransformer(str(model_dir), device="cpu")
    expected = st.encode(list(_CHECK_TEXTS), normalize_embeddings=True, convert_to_numpy=True)
    if st.max_seq_length != layout.max_seq_length:
        raise OnnxExportError(f"max_seq_length {st.max_seq_length} != {layout.max_seq_length}")
    transformer: Any = st[0].auto_model
    transformer.eval()

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.transformer(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    # Traced with a padded batch, so the graph keeps the attention-mask path for any batch.
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])
    example = (ids, (ids != 0).long(), torch.zeros_like(ids))
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "token_embeddings")}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer notes
        torch.onnx.export(
            TokenEmbeddings(),
            example,
            str(target),
            input_names=list(_INPUTS),
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,  # the TorchScript exporter needs only `onnx`, not onnxscript
        )
    return np.asarray(expected, dtype=np.float32)
