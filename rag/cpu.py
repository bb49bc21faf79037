"""Whether llama.cpp was built for this CPU: a build for instructions it lacks dies on the first one."""

from __future__ import annotations

# llama.cpp's names for the instruction sets it was built with, and /proc/cpuinfo's for the same.
_CPU_FLAG = {
    "AVX": "avx",
    "AVX2": "avx2",
    "F16C": "f16c",
    "FMA": "fma",
    "BMI2": "bmi2",
    "AVX512": "avx512f",
    "AVX512_VBMI": "avx512vbmi",
    "AVX512_VNNI": "avx512_vnni",
    "AVX512_BF16": "avx512_bf16",
    "AMX_INT8": "amx_int8",
}


def missing_instructions(system_info: str, cpu_flags: set[str]) -> list[str]:
    """The instruction sets llama.cpp was built with ("AVX512 = 1" in its system info) that this CPU
    lacks: such a build dies on an illegal instruction, so it is refused with a clear message first."""
    pairs = (part.split("=", 1) for part in system_info.split("|") if "=" in part)
    built = {name.strip() for name, on in pairs if on.strip() == "1"}
    return sorted(n for n in built if n in _CPU_FLAG and _CPU_FLAG[n] not in cpu_flags)


def check_build(error: type[Exception]) -> None:
    import llama_cpp

    try:
        with open("/proc/cpuinfo") as fh:
            flags_line = next(x for x in fh.read().splitlines() if x.startswith("flags"))
    except (OSError, StopIteration):
        return  # not Linux: nothing to compare with
    info = llama_cpp.llama_print_system_info().decode(errors="replace").split(":", 1)[-1]
    missing = missing_instructions(info, set(flags_line.split(":", 1)[1].split()))
    if missing:
        raise error(
            f"llama.cpp was built for instructions this CPU lacks ({', '.join(missing)}): "
            "run `make clean install` to build it for this CPU"
        )
