"""Model-written phrasing with a guard: only checked sentences reach the user, else template text.

A 135M model rambles, loops and sometimes leaks what it was shown, so every call goes through
:class:`Phraser`. The model streams in a worker thread and the caller reads from a queue with a
deadline for the whole call. Text is released sentence by sentence: a sentence is held until it
ends, checked together with what came before, and only then yielded. The first block is held
until it reaches the template's ``min_chars``. If the model fails, times out, or that first block
fails a check, the caller's ``fallback`` is yielded instead; a later failure stops the reply
there and keeps what was already released. Nothing here raises for a backend problem.

Checks, on the reply so far (released text plus the new sentence):

- length: at most the template's ``max_chars`` (an unfinished sentence that already exceeds it
  stops the call); at least ``min_chars`` once the model is done; not empty;
- banned phrases: none of ``banned`` appears, ignoring case and runs of whitespace;
- repetition: no 4-word sequence three times, and no sentence of 4+ words said twice;
- on topic: the first released block shares at least one content word (stemmed, stopwords and
  words under three letters dropped) with ``reference`` + ``fallback`` + the prompt's variables.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections import Counter
from typing import Any, Iterator, Sequence

from langchain_core.language_models import BaseChatModel

from coach.prompts import PromptLibrary, PromptTemplate
from coach.text import stems, words

log = logging.getLogger("coach.llm")

NGRAM = 4
NGRAM_LIMIT = 3
_BOUNDARY = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+|\n\s*")
_SPACES = re.compile(r"\s+")


def split_sentences(buffer: str) -> tuple[list[str], str]:
    """Complete sentences in ``buffer`` (stripped) and the unfinished rest."""
    done, start = [], 0
    for match in _BOUNDARY.finditer(buffer):
        piece = buffer[start:match.end()].strip()
        if piece:
            done.append(piece)
        start = match.end()
    return done, buffer[start:]


def _content_stems(text: str) -> set[str]:
    return {s for s in stems(text) if len(s) >= 3 and not s.isdigit()}


def _normal(text: str) -> str:
    return _SPACES.sub(" ", text).strip().lower()


class _Guard:
    """The checks for one reply; holds sentences until the first block may be released."""

    def __init__(self, template: PromptTemplate, banned: Sequence[str], topic_text: str) -> None:
        self.template = template
        self.banned = [_normal(b) for b in banned if b and b.strip()]
        self.topic = _content_stems(topic_text)
        self.released: list[str] = []
        self.held: list[str] = []

    def text(self, *extra: str) -> str:
        return " ".join([*self.released, *self.held, *extra])

    def too_long(self, pending: str) -> bool:
        return len(self.text(pending.strip()) if pending.strip() else self.text()) > self.template.max_chars

    def check(self, sentence: str) -> str | None:
        """Why ``sentence`` may not follow the reply so far, or None when it may."""
        whole = self.text(sentence)
        if len(whole) > self.template.max_chars:
            return f"longer than max_chars={self.template.max_chars}"
        lowered = _normal(whole)
        for phrase in self.banned:
            if phrase in lowered:
                return "banned phrase"
        tokens = words(whole)
        grams = Counter(tuple(tokens[i:i + NGRAM]) for i in range(len(tokens) - NGRAM + 1))
        if grams and max(grams.values()) >= NGRAM_LIMIT:
            return f"repetition loop (a {NGRAM}-word sequence {NGRAM_LIMIT} times)"
        new = words(sentence)
        if len(new) >= NGRAM and any(words(s) == new for s in [*self.released, *self.held]):
            return "repeated sentence"
        return None

    def ready(self) -> bool:
        """Whether held text may be released: the gate opens once the reply reaches min_chars."""
        return bool(self.released) or len(self.text()) >= self.template.min_chars

    def on_topic(self) -> bool:
        return bool(_content_stems(self.text()) & self.topic)


def _pump(model: BaseChatModel, messages: list, out: queue.Queue, cancel: threading.Event) -> None:
    """Worker thread: forward the model's chunks to ``out``; any exception becomes a message."""
    try:
        stream = model.stream(messages)
        try:
            for chunk in stream:
                if cancel.is_set():
                    return
                text = chunk.text
                if text:
                    out.put(("chunk", text))
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
    except BaseException as exc:  # noqa: BLE001 - a backend may raise anything; the caller falls back
        out.put(("error", exc))
        return
    out.put(("done", None))


class Phraser:
    """Renders a prompt, streams the chat model and guards its output (see the module doc).

    ``last_fallback`` and ``last_reason`` describe the most recent call; one Phraser serves one
    call at a time (the server already limits LLM calls with ``server.concurrency_limit``).
    """

    def __init__(self, chat_model: BaseChatModel, prompts: PromptLibrary, timeout_s: float) -> None:
        self.chat_model = chat_model
        self.prompts = prompts
        self.timeout_s = timeout_s
        self.last_fallback = False
        self.last_reason: str | None = None

    def stream(
        self, prompt_name: str, fallback: str, *, banned: Sequence[str] = (), reference: str = "", **variables: Any
    ) -> Iterator[str]:
        """Checked sentences of the model's reply, or ``fallback``; a bad template raises PromptError now."""
        template = self.prompts.get(prompt_name)
        messages = template.render(**variables)
        topic_text = " ".join([reference, fallback, *(str(v) for v in variables.values())])
        self.last_fallback, self.last_reason = False, None
        return self._run(template, messages, fallback, _Guard(template, banned, topic_text))

    def text(
        self, prompt_name: str, fallback: str, *, banned: Sequence[str] = (), reference: str = "", **variables: Any
    ) -> str:
        """The whole guarded reply as one string."""
        return "".join(self.stream(prompt_name, fallback, banned=banned, reference=reference, **variables))

    def _run(self, template: PromptTemplate, messages: list, fallback: str, guard: _Guard) -> Iterator[str]:
        out: queue.Queue = queue.Queue()
        cancel = threading.Event()
        worker = threading.Thread(
            target=_pump, args=(self.chat_model, messages, out, cancel), daemon=True, name=f"phraser-{template.name}"
        )
        deadline = time.monotonic() + self.timeout_s
        worker.start()
        buffer, reason = "", None
        try:
            while reason is None:
                try:
                    kind, payload = out.get(timeout=max(deadline - time.monotonic(), 0))
                except queue.Empty:
                    reason = f"timeout after {self.timeout_s:g}s"
                    break
                if kind == "error":
                    reason = f"backend error {type(payload).__name__}: {payload}"
                    break
                if kind == "chunk":
                    buffer += payload
                    complete, buffer = split_sentences(buffer)
                elif kind == "done":
                    complete, buffer = [buffer.strip()] if buffer.strip() else [], ""
                for sentence in complete:
                    reason = guard.check(sentence)
                    if reason:
                        break
                    guard.held.append(sentence)
                    if guard.ready():
                        if not guard.released and not guard.on_topic():
                            reason = "off topic (no content word shared with the question or fallback)"
                            break
                        for piece in guard.held:
                            yield piece if not guard.released else " " + piece
                            guard.released.append(piece)
                        guard.held.clear()
                if reason is None and kind == "chunk" and guard.too_long(buffer):
                    reason = f"longer than max_chars={template.max_chars}"
                if reason is None and kind == "done":
                    if not guard.released:
                        reason = "empty reply" if not guard.held else f"shorter than min_chars={template.min_chars}"
                    break
            if reason is not None:
                if guard.released:
                    self.last_reason = f"truncated: {reason}"
                    log.warning("prompt %s: reply stopped after %d sentence(s): %s",
                                template.name, len(guard.released), reason)
                else:
                    self.last_fallback, self.last_reason = True, reason
                    log.warning("prompt %s: using the template text instead of the model's: %s", template.name, reason)
                    yield fallback
        finally:
            cancel.set()
