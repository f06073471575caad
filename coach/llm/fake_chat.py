"""A scripted chat model that records what it was sent, for ``llm.mode: fake`` and for tests.

Built on LangChain's ``GenericFakeChatModel`` (whose ``_stream`` splits a reply word by word),
but replies come from a queue filled with :meth:`RecordingFakeChat.enqueue`, and every call's
messages are kept in ``calls`` so a test can assert what the coach asked, not only what it got.
An empty queue answers ``""`` so callers exercise their template-text fallback.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr


class RecordingFakeChat(GenericFakeChatModel):
    """Queued replies, recorded calls, and optional simulated failure or slowness."""

    # The parent's reply iterator is unused: replies come from the thread-safe queue below.
    messages: Iterator[AIMessage | str] = Field(default_factory=lambda: iter(()), exclude=True, repr=False)
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    fail_with: Exception | None = Field(None, description="Raised by every call when set.")
    delay_s: float = Field(0.0, ge=0, description="Sleep before answering (a slow backend).")
    chunk_delay_s: float = Field(0.0, ge=0, description="Sleep between streamed words.")
    _queue: deque[str] = PrivateAttr(default_factory=deque)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, replies: list[str] | tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.enqueue(*replies)

    @property
    def _llm_type(self) -> str:
        return "recording-fake-chat"

    def enqueue(self, *texts: str) -> "RecordingFakeChat":
        """Queue replies, answered in order, one per call."""
        with self._lock:
            self._queue.extend(texts)
        return self

    @property
    def pending(self) -> int:
        """Replies still queued."""
        with self._lock:
            return len(self._queue)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            self.calls.append(list(messages))
            reply = self._queue.popleft() if self._queue else ""
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.fail_with is not None:
            raise self.fail_with
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        index = -1
        for index, chunk in enumerate(super()._stream(messages, stop=stop, run_manager=run_manager, **kwargs)):
            if index and self.chunk_delay_s:
                time.sleep(self.chunk_delay_s)
            yield chunk
        if index < 0:  # an empty reply streams as one empty chunk, as real backends do
            yield ChatGenerationChunk(message=AIMessageChunk(content=""))
