"""The ONNX export of all-MiniLM-L6-v2 against sentence-transformers, and a serving process without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eval.gold import load_gold
from index.chunk import Chunker, ChunkSettings
from index.embed import DEFAULT_EMBED_MODEL, SentenceTransformerEmbedder
from index.embed_onnx import MIN_COSINE, OnnxEmbedder, OnnxModel, export_onnx
from index.load import load_documents
from index.types import Document
from rag.config import PROJECT_ROOT, Settings
from rag.text import sentence_spans
from tests.conftest import CORPUS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def onnx_model() -> OnnxModel:
    """The export `make install` prepares (made here if it is missing or stale)."""
    return export_onnx(DEFAULT_EMBED_MODEL, Settings().cache_dir / "models")


def real_texts() -> list[str]:
    """What the embedder sees in use: the corpus's sentences and chunks, and the gold questions."""
    texts: list[str] = []
    settings = Settings()
    chunker = Chunker(ChunkSettings(settings.chunk_size, settings.chunk_overlap))
    for doc in load_documents(CORPUS, settings.max_file_bytes):
        if isinstance(doc, Document):
            texts += [doc.text[a:b] for a, b in sentence_spans(doc.text)]
            texts += [c.text for c in chunker.chunk(doc)]
    for record in load_gold(PROJECT_ROOT / "eval" / "gold.jsonl"):
        texts += [record.question, *record.history]
    return texts


def test_onnx_vectors_match_sentence_transformers(onnx_model: OnnxModel):
    texts = real_texts()
    assert len(texts) >= 250
    reference = SentenceTransformerEmbedder().embed(texts)
    got = OnnxEmbedder(onnx_model).embed(texts)
    assert got.shape == reference.shape == (len(texts), 384)
    cosine = np.sum(got * reference, axis=1)
    assert float(cosine.min()) >= MIN_COSINE, texts[int(cosine.argmin())]


SERVE = """
import json, sys
from pathlib import Path
import app
from rag.config import Settings

settings = Settings(store=Path(sys.argv[1]), llm_model="qwen2.5-coder-0.5b", llm_threads=1)
pipeline = app.load_for(settings, Path(sys.argv[2]))(lambda message: None)  # what `rag serve` loads
pipeline.warm_up()
answer = pipeline.ask("Which Belarusian region did the missile come down in?")
print(json.dumps({"torch": "torch" in sys.modules, "embedder": type(pipeline.selector.embedder).__name__,
                  "retrieved": len(answer.retrieved)}))
"""


def test_serving_process_does_not_import_torch(onnx_model: OnnxModel, tmp_path: Path):
    """Index, load, warm up and answer as `rag serve` does, in a fresh process: torch is never imported."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "RAG_CORPUS": str(CORPUS)}
    done = subprocess.run(
        [sys.executable, "-c", SERVE, str(tmp_path / "store"), str(CORPUS)],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"torch": False, "embedder": "OnnxEmbedder", "retrieved": result["retrieved"]}
    assert result["retrieved"] > 0
