"""The ONNX embedder's own logic on a tiny hand-made model (a lookup table as the "transformer" and a
word-level tokenizer): pooling, padding, batching, truncation, and when an export may be used."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from tokenizers import Tokenizer, models, pre_tokenizers, processors

from index.embed import SentenceTransformerEmbedder
from index.embed_onnx import (
    FORMAT,
    OnnxEmbedder,
    OnnxModel,
    find_onnx_model,
    mean_pool_normalize,
    onnx_paths,
    sha256_of,
)
from rag.config import Settings
from rag.factory import build_embedder

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "alpha", "beta", "gamma", "delta", "omega"]
DIM = 4


def table() -> np.ndarray:
    return np.random.default_rng(7).standard_normal((len(WORDS), DIM)).astype(np.float32)


def write_tokenizer(path: Path) -> None:
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tok.save(str(path))


def write_lookup_model(path: Path) -> None:
    """token_embeddings = table[input_ids]; the mask and type inputs are accepted and unused."""
    names = ("input_ids", "attention_mask", "token_type_ids")
    ints = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "tokens"]) for n in names]
    out = helper.make_tensor_value_info("token_embeddings", TensorProto.FLOAT, ["batch", "tokens", DIM])
    weights = helper.make_tensor("table", TensorProto.FLOAT, [len(WORDS), DIM], table().flatten().tolist())
    node = helper.make_node("Gather", ["table", "input_ids"], ["token_embeddings"], axis=0)
    graph = helper.make_graph([node], "lookup", ints, [out], initializer=[weights])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


@pytest.fixture
def tiny(tmp_path: Path) -> OnnxModel:
    write_tokenizer(tmp_path / "tokenizer.json")
    write_lookup_model(tmp_path / "tiny.onnx")
    return OnnxModel("tiny", tmp_path / "tiny.onnx", tmp_path / "tokenizer.json", max_seq_length=5, dim=DIM)


def expected(words: list[str]) -> np.ndarray:
    v = table()[[WORDS.index(w) for w in ["[CLS]", *words, "[SEP]"]]].mean(axis=0)
    return v / np.linalg.norm(v)


def test_vectors_are_the_normalised_mean_of_the_unpadded_tokens(tiny: OnnxModel):
    out = OnnxEmbedder(tiny, batch_size=8, threads=1).embed(["alpha beta", "gamma", "alpha beta gamma"])
    assert out.dtype == np.float32 and out.shape == (3, DIM)
    np.testing.assert_allclose(out[0], expected(["alpha", "beta"]), atol=1e-6)
    np.testing.assert_allclose(out[1], expected(["gamma"]), atol=1e-6)  # padded to 5 tokens in its batch
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)


def test_order_batches_and_padding_do_not_change_a_vector(tiny: OnnxModel):
    texts = ["gamma", "alpha beta gamma", "beta", "delta omega", "alpha"]
    together = OnnxEmbedder(tiny, batch_size=2, threads=1).embed(texts)
    alone = np.vstack([OnnxEmbedder(tiny, batch_size=2, threads=1).embed([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_long_texts_are_truncated_at_max_seq_length_and_texts_stripped(tiny: OnnxModel):
    embedder = OnnxEmbedder(tiny, threads=1)
    long, short = embedder.embed(["alpha beta gamma delta omega", "  alpha beta gamma \n"])
    np.testing.assert_allclose(long, short, atol=1e-6)  # [CLS] alpha beta gamma [SEP]
    assert embedder.embed([]).shape == (0, DIM)


def test_mean_pooling_ignores_masked_tokens():
    hidden = np.array([[[1.0, 0.0], [3.0, 0.0], [100.0, 100.0]]], dtype=np.float32)
    out = mean_pool_normalize(hidden, np.array([[1, 1, 0]]))
    np.testing.assert_allclose(out, [[1.0, 0.0]])


def fake_st_folder(root: Path) -> Path:
    """A sentence-transformers folder layout (weights are placeholder bytes: only their hash matters)."""
    folder = root / "mini-model"
    (folder / "1_Pooling").mkdir(parents=True)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 5}))
    pooling = {"word_embedding_dimension": DIM, "pooling_mode_mean_tokens": True}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    (folder / "model.safetensors").write_bytes(b"weights v1")
    write_tokenizer(folder / "tokenizer.json")
    return folder


def stamp_export(folder: Path, models_dir: Path) -> None:
    onnx_file, stamp = onnx_paths(str(folder), models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    write_lookup_model(onnx_file)
    stamp.write_text(json.dumps({"format": FORMAT, "source_sha256": sha256_of(folder / "model.safetensors")}))


def test_an_export_is_used_only_when_its_stamp_matches_the_weights(tmp_path: Path):
    folder = fake_st_folder(tmp_path)
    models_dir = tmp_path / "cache" / "models"
    model, why = find_onnx_model(str(folder), models_dir)
    assert model is None and "rag.prepare" in why

    stamp_export(folder, models_dir)
    model, why = find_onnx_model(str(folder), models_dir)
    assert model is not None and why == ""
    assert (model.name, model.max_seq_length, model.dim) == ("mini-model", 5, DIM)
    assert OnnxEmbedder(model, threads=1).embed(["alpha"]).shape == (1, DIM)

    (folder / "model.safetensors").write_bytes(b"weights v2")  # the model changed after the export
    model, why = find_onnx_model(str(folder), models_dir)
    assert model is None and "out of date" in why


def test_build_embedder_prefers_the_export_and_says_when_it_falls_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    folder = fake_st_folder(tmp_path)
    settings = Settings(store=tmp_path / "store", cache_dir=tmp_path / "cache", embed_model=str(folder))
    fallback = build_embedder(settings)  # nothing is loaded until first use
    assert isinstance(fallback, SentenceTransformerEmbedder)
    assert "sentence-transformers (torch)" in capsys.readouterr().err

    stamp_export(folder, settings.cache_dir / "models")
    embedder = build_embedder(settings)
    assert isinstance(embedder, OnnxEmbedder) and embedder.name == fallback.name == "mini-model"
