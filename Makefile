# Everyday tasks. `make run` and `make test` each work on a fresh machine by themselves.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

# llama.cpp is compiled for this CPU's instruction sets, named one by one: a plain -march=native
# build turns on AMX where present and crashes on the first decode (see ../shared/MODELS.md).
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
GGML_ARGS := -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
ifneq (,$(findstring avx512f,$(CPU_FLAGS)))
GGML_ARGS += -DGGML_AVX512=ON
# Flag names as /proc/cpuinfo spells them: avx512vbmi (VBMI; "avx512_vbmi" would only match avx512_vbmi2).
ifneq (,$(findstring avx512vbmi,$(CPU_FLAGS)))
GGML_ARGS += -DGGML_AVX512_VBMI=ON
endif
ifneq (,$(findstring avx512_vnni,$(CPU_FLAGS)))
GGML_ARGS += -DGGML_AVX512_VNNI=ON
endif
ifneq (,$(findstring avx512_bf16,$(CPU_FLAGS)))
GGML_ARGS += -DGGML_AVX512_BF16=ON
endif
endif

.PHONY: install run test test-unit browser eval lint clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -d $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	CMAKE_ARGS="$(GGML_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PIP) install -q -e '.[dev]'
	$(PY) -m rag.prepare
	touch $(STAMP)

run: install
	$(VENV)/bin/rag index
	$(VENV)/bin/rag serve

test: install browser
	$(VENV)/bin/pytest -q tests
	$(VENV)/bin/rag eval --check --out eval/out

# Debian's Chromium drives the browser tests (Playwright's own browser download is not reachable).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

test-unit: install
	$(VENV)/bin/pytest -q -m "not integration and not browser" tests

eval: install
	$(VENV)/bin/rag eval --out eval/out

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy rag index eval app.py

clean:
	rm -rf $(VENV) .rag eval/out
