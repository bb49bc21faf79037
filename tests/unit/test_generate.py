"""The check that llama.cpp was built for instructions this CPU has."""

from __future__ import annotations

from rag.cpu import missing_instructions

AVX512_BUILD = (
    "SSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 1 | AVX512_VNNI = 1 | OPENMP = 1 | "
)
AVX2_CPU = {"sse3", "avx", "avx2", "f16c", "fma", "bmi2"}


def test_an_avx512_build_on_an_avx2_cpu_names_what_is_missing():
    assert missing_instructions(AVX512_BUILD, AVX2_CPU) == ["AVX512", "AVX512_VNNI"]


def test_a_build_for_this_cpu_misses_nothing():
    assert missing_instructions(AVX512_BUILD, AVX2_CPU | {"avx512f", "avx512_vnni"}) == []
    assert missing_instructions("AVX2 = 1 | AVX512 = 0 | LLAMAFILE = 1", AVX2_CPU) == []
