# Everyday tasks. `make run` and `make test` each work on a fresh machine by themselves.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
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
# The wheel is built once per set of instruction flags and kept under a key of those flags: pip's own
# wheel cache ignores CMAKE_ARGS, so it would hand an AVX-512 build to an AVX2-only CPU (which then
# dies on an illegal instruction). A machine with other flags builds its own.
LLAMA_SPEC := llama-cpp-python==0.3.36
LLAMA_KEY := $(shell echo '$(LLAMA_SPEC) $(GGML_ARGS)' | sha256sum | cut -c1-12)
LLAMA_WHEELS := $(HOME)/.cache/rag-news/llama-wheels/$(LLAMA_KEY)
STAMP := $(VENV)/.installed-$(LLAMA_KEY)

.PHONY: install run test test-unit browser eval lint clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -d $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	@echo "llama.cpp for this CPU: $(GGML_ARGS)"
	ls $(LLAMA_WHEELS)/*.whl >/dev/null 2>&1 || { rm -rf $(LLAMA_WHEELS).part && mkdir -p $(LLAMA_WHEELS).part && \
	  CMAKE_ARGS="$(GGML_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	  $(PIP) wheel -q --no-deps --no-cache-dir $(LLAMA_SPEC) -w $(LLAMA_WHEELS).part && \
	  rm -rf $(LLAMA_WHEELS) && mv $(LLAMA_WHEELS).part $(LLAMA_WHEELS); }
	$(PIP) install -q --force-reinstall --no-deps $(LLAMA_WHEELS)/*.whl
	$(PIP) install -q -e '.[dev]'
	rm -f $(VENV)/.installed*
	$(PY) -m rag.prepare
	touch $(STAMP)

run: install
	$(VENV)/bin/rag index
	$(VENV)/bin/rag serve

test: install browser
	$(VENV)/bin/pytest -q tests
	$(VENV)/bin/rag eval --suite eval/suites/ci.toml --check --out eval/out

# Debian's Chromium drives the browser tests (Playwright's own browser download is not reachable).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

test-unit: install
	$(VENV)/bin/pytest -q -m "not integration and not browser" tests

eval: install
	$(VENV)/bin/rag eval --suite eval/suites/default.toml --out eval/out-suite

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy rag index eval app.py app_documents.py

clean:
	rm -rf $(VENV) .rag eval/out
