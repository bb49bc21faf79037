"""Generation through llama-index's LLM interface: an embedded GGUF model run by llama.cpp, or any
OpenAI-compatible server. llama-index's types stay in this module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


class Generator(Protocol):
    name: str

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]: ...


@dataclass(frozen=True)
class Extraction:
    """A constrained reply (`NOT FOUND`, or `[n]` and words copied from passage n) and the reader's own
    probability of NOT FOUND against a quote at its first token (both choices renormalised)."""

    text: str
    not_found_p: float


@runtime_checkable
class Extractor(Protocol):
    """A generator that can also be held to copying words from the passages (`rag.extract`). The first
    token is NOT FOUND when the reader's probability of it is at least `refuse_at`, else a quote."""

    def extract(
        self, messages: Sequence[Message], passages: Sequence[str], max_tokens: int, refuse_at: float = 0.5
    ) -> Extraction: ...


@runtime_checkable
class ScoredStreamer(Protocol):
    """A generator that can say, as it streams, its own probability that the reply begins with
    `NOT FOUND` (its first-token distribution), and follow a threshold on it: the reply is NOT FOUND
    when that probability is at least `refuse_at`, else anything but. Yields that probability (a
    float) once the first token is chosen, then the text."""

    def stream_scored(
        self, messages: Sequence[Message], max_tokens: int, refuse_at: float = 0.5
    ) -> Iterator[str | float]: ...


class GeneratorError(Exception):
    """The language model could not answer (server down, timed out, model missing)."""


def chatml(messages: Sequence[Any]) -> str:
    """Qwen's ChatML prompt; the system message comes first so llama.cpp can reuse its KV cache."""
    parts = [f"<|im_start|>{_role(m)}\n{m.content}<|im_end|>\n" for m in messages]
    return "".join(parts) + "<|im_start|>assistant\n"


def _role(m: Any) -> str:
    role = getattr(m.role, "value", m.role)
    return str(role)


class LlamaIndexGenerator:
    """Streams from any llama-index LLM. One request at a time: a llama.cpp context is not reentrant."""

    def __init__(self, llm: Any, name: str, describe_error: str, after_each: Callable[[], None] | None = None):
        self._llm = llm
        self.name = name
        self._describe_error = describe_error
        self._after_each = after_each  # runs after every generation, finished or not, under the lock
        self._lock = threading.Lock()

    def stream(self, messages: Sequence[Message], max_tokens: int) -> Iterator[str]:
        from llama_index.core.llms import ChatMessage

        chat = [ChatMessage(role=m.role, content=m.content) for m in messages]
        with self._lock:
            deltas: Any = None
            try:
                deltas = self._llm.stream_chat(chat, max_tokens=max_tokens)
                for delta in deltas:
                    if delta.delta:
                        yield delta.delta
            except GeneratorError:
                raise
            except Exception as exc:  # network and runtime errors of many libraries
                raise GeneratorError(f"{self._describe_error}: {str(exc).splitlines()[0][:200]}") from exc
            finally:
                if hasattr(deltas, "close"):
                    deltas.close()  # a reader that stopped early ends the generation here, not at GC
                if self._after_each:
                    self._after_each()


class LlamaCppGenerator(LlamaIndexGenerator):
    """llama-index's LlamaCPP, plus constrained copying through the llama.cpp model it wraps: llama-index
    has no way to mask the next token, so `extract` calls the same `llama_cpp.Llama` (same KV cache,
    same lock) with a logits processor."""

    def __init__(self, llm: Any, name: str, after_each: Callable[[], None] | None = None):
        super().__init__(llm, name, "The embedded model failed", after_each)
        self._vocab: dict[bytes, int] | None = None

    def extract(
        self, messages: Sequence[Message], passages: Sequence[str], max_tokens: int, refuse_at: float = 0.5
    ) -> Extraction:
        import numpy as np
        from llama_cpp import LogitsProcessorList

        from rag.extract import SpanConstraint, cut_at_clause

        model = self._llm._model
        with self._lock:
            try:
                stop = {model.token_eos(), *model.tokenize(b"<|im_end|>", add_bos=False, special=True)}
                constraint = SpanConstraint(passages, self._vocabulary(model), stop)
                prompt_length: list[int] = []
                not_found_p: list[float] = []

                def mask(input_ids: Any, scores: Any) -> Any:
                    if not prompt_length:
                        prompt_length.append(len(input_ids))  # first call: nothing generated yet
                    generated = model.detokenize(list(input_ids[prompt_length[0] :]))
                    allowed = np.fromiter(constraint.allowed(generated) or stop, dtype=np.intc)
                    if not generated:
                        # The reader's choice between NOT FOUND and a quote, as a probability: its
                        # first-token distribution over the allowed tokens, renormalised.
                        first = np.isin(allowed, np.fromiter(constraint.not_found_starts, dtype=np.intc))
                        logits = scores[allowed].astype(np.float64)
                        p = np.exp(logits - logits.max())
                        not_found_p.append(float(p[first].sum() / p.sum()))
                        allowed = allowed[first] if not_found_p[0] >= refuse_at else allowed[~first]
                    masked = np.full_like(scores, -np.inf)
                    masked[allowed] = scores[allowed]
                    return masked

                out = model(
                    chatml(messages),
                    max_tokens=max_tokens,
                    temperature=0.0,
                    top_k=1,
                    repeat_penalty=1.0,
                    logits_processor=LogitsProcessorList([mask]),
                )
                choice = out["choices"][0]
                text = str(choice["text"])
                # A copy cut off by the token limit ends mid-clause ("... since the"): keep its whole clauses.
                text = cut_at_clause(text) if choice.get("finish_reason") == "length" else text
                return Extraction(text, not_found_p[0] if not_found_p else 1.0)
            except Exception as exc:  # runtime errors of llama.cpp
                raise GeneratorError(f"The embedded model failed: {str(exc).splitlines()[0][:200]}") from exc
            finally:
                if self._after_each:
                    self._after_each()

    def stream_scored(
        self, messages: Sequence[Message], max_tokens: int, refuse_at: float = 0.5
    ) -> Iterator[str | float]:
        import numpy as np
        from llama_cpp import LogitsProcessorList

        from rag.extract import NOT_FOUND

        model = self._llm._model
        with self._lock:
            chunks: Any = None
            try:
                refusing = np.fromiter(self._starts_of(model, NOT_FOUND.encode()), dtype=np.intc)
                state: dict[str, Any] = {}

                def first_token(input_ids: Any, scores: Any) -> Any:
                    if "prompt" not in state:
                        state["prompt"] = len(input_ids)
                    if len(input_ids) != state["prompt"]:
                        return scores
                    logits = scores.astype(np.float64)
                    p = np.exp(logits - logits.max())
                    state["p"] = float(p[refusing].sum() / p.sum())
                    out = np.full_like(scores, -np.inf)
                    if state["p"] >= refuse_at:
                        out[refusing] = scores[refusing]
                    else:
                        out[:] = scores
                        out[refusing] = -np.inf
                    return out

                chunks = model.create_completion(
                    chatml(messages),
                    max_tokens=max_tokens,
                    temperature=0.0,
                    top_k=1,
                    repeat_penalty=1.0,
                    stream=True,
                    stop=["<|im_end|>"],
                    logits_processor=LogitsProcessorList([first_token]),
                )
                told = False
                for chunk in chunks:
                    if not told and "p" in state:
                        told = True
                        yield state["p"]
                    text = chunk["choices"][0]["text"]
                    if text:
                        yield text
            except Exception as exc:  # runtime errors of llama.cpp
                raise GeneratorError(f"The embedded model failed: {str(exc).splitlines()[0][:200]}") from exc
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
                if self._after_each:
                    self._after_each()

    def _starts_of(self, model: Any, text: bytes) -> list[int]:
        """Tokens that can begin `text` as the first token of a reply (leading white space allowed)."""
        return [t for piece, t in self._vocabulary(model).items() if piece.strip() and text.startswith(piece.lstrip())]

    def _vocabulary(self, model: Any) -> dict[bytes, int]:
        """Each token's bytes (the first token for bytes several share), read once from the model."""
        if self._vocab is None:
            vocab: dict[bytes, int] = {}
            for token in range(model.n_vocab()):
                piece = model.detokenize([token])
                if piece:
                    vocab.setdefault(piece, token)
            self._vocab = vocab
        return self._vocab
