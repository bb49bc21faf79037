"""Prompt templates as files, loaded with importlib.resources and rendered strictly."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load(name: str) -> str:
    return (files(__package__) / f"{name}.txt").read_text(encoding="utf-8")


def render(name: str, **values: str) -> str:
    """Fill a template; a placeholder without a value raises KeyError instead of rendering blank."""
    return load(name).format(**values).strip()
