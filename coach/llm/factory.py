"""The one backend seam: ``build_chat_model(settings)`` picks a LangChain chat model by ``llm.mode``.

Every service talks to a ``BaseChatModel``, so swapping the embedded SmolLM2 for Ollama, an
OpenAI-compatible server or the scripted fake is a settings change. Builders do no I/O: the
embedded model loads on its first call and the HTTP clients connect on their first request.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Callable
from urllib.parse import urlparse

from langchain_core.language_models import BaseChatModel

from coach.errors import LLMError
from coach.llm.fake_chat import RecordingFakeChat
from coach.llm.llama_chat import LlamaCppChat, packaged_gguf
from coach.settings import Settings

__all__ = ["BUILDERS", "LlamaCppChat", "RecordingFakeChat", "build_chat_model"]

log = logging.getLogger("coach.llm")

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
LOCAL_PLACEHOLDER_KEY = "not-needed-for-local-servers"


def _build_smollm2(settings: Settings) -> BaseChatModel:
    llm = settings.llm
    path = settings.resolve(Path(llm.model).expanduser()) if llm.model else packaged_gguf()
    if not path.is_file():
        raise LLMError(f"llm.model: GGUF file {path} does not exist (leave llm.model empty for the packaged SmolLM2)")
    return LlamaCppChat(
        model_path=str(path), n_ctx=llm.n_ctx, n_threads=llm.n_threads,
        temperature=llm.temperature, max_tokens=llm.max_tokens,
    )


def _required_model(settings: Settings, example: str) -> str:
    if not settings.llm.model:
        raise LLMError(f"llm.model is required for llm.mode={settings.llm.mode}, e.g. COACH_LLM__MODEL={example}")
    return settings.llm.model


def _build_ollama(settings: Settings) -> BaseChatModel:
    from langchain_ollama import ChatOllama

    llm = settings.llm
    return ChatOllama(
        model=_required_model(settings, "llama3.2"), base_url=llm.base_url, temperature=llm.temperature,
        num_predict=llm.max_tokens, client_kwargs={"timeout": llm.timeout_s},
    )


def _api_key(settings: Settings) -> str:
    """The key from the environment; a placeholder is enough for a server on this machine."""
    name = settings.llm.api_key_env
    key = os.environ.get(name, "").strip()
    if key:
        return key
    host = urlparse(settings.llm.base_url or "").hostname
    if host in LOCAL_HOSTS:
        return LOCAL_PLACEHOLDER_KEY
    where = settings.llm.base_url or "the default OpenAI endpoint"
    raise LLMError(
        f"llm.mode=openai needs an API key for {where}: set the environment variable {name} "
        f"(or point llm.base_url at a local server such as http://127.0.0.1:8000/v1)"
    )


def _build_openai(settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    llm = settings.llm
    return ChatOpenAI(
        model=_required_model(settings, "gpt-4o-mini"), base_url=llm.base_url, api_key=_api_key(settings),
        timeout=llm.timeout_s, max_tokens=llm.max_tokens, temperature=llm.temperature,
    )


def _build_fake(settings: Settings) -> BaseChatModel:
    return RecordingFakeChat(replies=list(settings.llm.fake_replies))


BUILDERS: dict[str, Callable[[Settings], BaseChatModel]] = {
    "smollm2": _build_smollm2,
    "ollama": _build_ollama,
    "openai": _build_openai,
    "fake": _build_fake,
}


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model for ``settings.llm.mode``; raises LLMError for an unknown mode or bad config."""
    mode = settings.llm.mode
    builder = BUILDERS.get(mode)
    if builder is None:
        raise LLMError(f"unknown llm.mode {mode!r}; valid modes: {', '.join(BUILDERS)}")
    model = builder(settings)
    log.info("chat backend: mode=%s model=%s base_url=%s",
             mode, settings.llm.model, _without_credentials(settings.llm.base_url))
    return model


def _without_credentials(url: str | None) -> str | None:
    """The URL for logs, with any ``user:password@`` part removed."""
    if not url:
        return url
    parts = urlparse(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()
