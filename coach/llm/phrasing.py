"""Model-written phrasing with a guard: only checked sentences reach the user, else template text.

A 135M model rambles, loops, invents numbers and sometimes leaks what it was shown, so every call
goes through :class:`Phraser`. The model streams in a worker thread and the caller reads from a
queue with one deadline for the whole call. Text is released sentence by sentence: a sentence is
held until it ends, checked together with what came before, and only then yielded. The first
block is held until it is long enough (``min_chars``, and a '?' for ``asks_question`` templates).
If the model fails, times out, or that first block fails a check, the caller's ``fallback`` is
yielded instead; a later failure stops the reply there and keeps what was already released.
Nothing here raises for a backend problem (a broken template still raises PromptError).

Checks, on the reply so far (released text plus the new sentence):

- length: at most ``max_chars`` (an unfinished sentence that already exceeds it stops the call);
  at least ``min_chars`` once the model is done; not empty; at most ``max_sentences`` (a clean
  stop, not a failure);
- banned phrases: none of ``banned`` appears, ignoring case and runs of whitespace;
- repetition: no 4-word sequence three times, and no sentence of 4+ words said twice;
- on topic: the first released block shares at least one content word (stemmed, stopwords and
  words under three letters dropped) with the source: ``reference`` + ``fallback`` + the prompt's
  variables;
- numbers: every number in the reply appears in the source or the rendered prompt (a small
  model invents scores, rates and sizes);
- per template (optional YAML fields): ``asks_question`` holds the first block until a sentence
  ends with '?'; ``must_include`` holds it until the named variables' values appear;
  ``min_grounding`` is the share of each sentence's content words that must be in the source.
The first block waits at most ``max_sentences`` sentences for what it lacks, then falls back.
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
from langchain_core.messages import BaseMessage

from coach.llm.prompts import PromptLibrary, PromptTemplate
from coach.text import stems, words

log = logging.getLogger("coach.llm")

NGRAM = 4
NGRAM_LIMIT = 3
_BOUNDARY = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+|\n\s*")
_WORDLIKE = re.compile(r"[A-Za-z]{2,}")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACES = re.compile(r"\s+")


def split_sentences(buffer: str) -> tuple[list[str], str]:
    """Complete sentences in ``buffer`` (stripped) and the unfinished rest.

    A piece with no word in it (a list marker such as ``2.``) is carried into the next sentence.
    """
    done, start = [], 0
    for match in _BOUNDARY.finditer(buffer):
        piece = buffer[start:match.end()].strip()
        if piece and _WORDLIKE.search(piece):
            done.append(piece)
            start = match.end()
        elif not piece:
            start = match.end()
    return done, buffer[start:]


def _content_stems(text: str) -> set[str]:
    return {s for s in stems(text) if len(s) >= 3 and not s.isdigit()}


def _numbers(text: str) -> set[str]:
    return {n.rstrip(".,") for n in _NUMBER.findall(text)}


def _normal(text: str) -> str:
    return _SPACES.sub(" ", text).strip().lower()


class _Guard:
    """The checks for one reply: ``offer`` each finished sentence, then ``finish``."""

    def __init__(
        self, template: PromptTemplate, banned: Sequence[str], source: str, prompt: str, required: Sequence[str]
    ) -> None:
        self.template = template
        self.banned = [_normal(b) for b in banned if b and b.strip()]
        self.topic = _content_stems(source)
        self.known_numbers = _numbers(source) | _numbers(prompt)
        self.required = [r for r in required if r.strip()]
        self.released: list[str] = []
        self.held: list[str] = []

    def text(self, *extra: str) -> str:
        return " ".join([*self.released, *self.held, *(e for e in extra if e)])

    @property
    def full(self) -> bool:
        """The reply has its ``max_sentences``: stop the model, nothing is wrong."""
        limit = self.template.max_sentences
        return limit is not None and len(self.released) >= limit

    def too_long(self, pending: str) -> str | None:
        if len(self.text(pending.strip())) > self.template.max_chars:
            return f"longer than max_chars={self.template.max_chars}"
        return None

    def check(self, sentence: str) -> str | None:
        """Why ``sentence`` may not follow the reply so far, or None when it may."""
        whole = self.text(sentence)
        if reason := self.too_long(sentence):
            return reason
        lowered = _normal(whole)
        if any(phrase in lowered for phrase in self.banned):
            return "banned phrase"
        tokens = words(whole)
        grams = Counter(tuple(tokens[i:i + NGRAM]) for i in range(len(tokens) - NGRAM + 1))
        if grams and max(grams.values()) >= NGRAM_LIMIT:
            return f"repetition loop (a {NGRAM}-word sequence {NGRAM_LIMIT} times)"
        new = words(sentence)
        if len(new) >= NGRAM and any(words(s) == new for s in [*self.released, *self.held]):
            return "repeated sentence"
        invented = sorted(_numbers(sentence) - self.known_numbers)
        if invented:
            return f"number(s) not in the source: {', '.join(invented)}"
        content = _content_stems(sentence)
        if self.template.min_grounding and content:
            share = len(content & self.topic) / len(content)
            if share < self.template.min_grounding:
                return f"not grounded ({share:.0%} of its content words in the source)"
        return None

    def _waiting_for(self) -> str | None:
        """What the held block still lacks before it may be released."""
        if len(self.text()) < self.template.min_chars:
            return f"shorter than min_chars={self.template.min_chars}"
        if self.template.asks_question and not any(s.rstrip("\"')]").endswith("?") for s in self.held):
            return "no question asked"
        lowered = _normal(self.text())
        missing = [r for r in self.required if _normal(r) not in lowered]
        if missing:
            return f"does not mention {', '.join(missing)}"
        return None

    def offer(self, sentence: str) -> tuple[list[str], str | None]:
        """Sentences now safe to release, or the reason the reply must stop."""
        if reason := self.check(sentence):
            return [], reason
        self.held.append(sentence)
        if not self.released:
            waiting = self._waiting_for()
            limit = self.template.max_sentences
            if waiting:
                return [], (waiting if limit is not None and len(self.held) >= limit else None)
            if self.topic and not (_content_stems(self.text()) & self.topic):
                return [], "off topic (no content word shared with the prompt or fallback)"
        out, self.held = self.held, []
        self.released.extend(out)
        return out, None

    def finish(self) -> str | None:
        """Reason the reply is unusable once the model is done, or None."""
        if self.released:
            return None
        if not self.held:
            return "empty reply"
        return self._waiting_for() or "unusable reply"


class _Slot:
    """One model slot taken from the shared gate, given back once by whoever finishes first.

    The worker gives it back when the model call ends; the reader when it stops listening (done,
    timed out, enough sentences), so a hung backend cannot keep a slot for ever.
    """

    def __init__(self, gate: threading.Semaphore) -> None:
        self._gate = gate
        self._lock = threading.Lock()
        self._held = True

    def release(self) -> None:
        with self._lock:
            if self._held:
                self._held = False
                self._gate.release()


def _pump(model: BaseChatModel, messages: list[BaseMessage], out: queue.Queue, cancel: threading.Event,
          slot: _Slot | None = None) -> None:
    """Worker thread: forward the model's chunks to ``out``; any exception becomes a message."""
    try:
        _forward(model, messages, out, cancel)
    finally:
        if slot is not None:
            slot.release()


def _forward(model: BaseChatModel, messages: list[BaseMessage], out: queue.Queue, cancel: threading.Event) -> None:
    try:
        stream = model.stream(messages)
        try:
            for chunk in stream:
                if cancel.is_set():
                    return
                if chunk.text:
                    out.put(("chunk", str(chunk.text)))
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
    except BaseException as exc:  # noqa: BLE001 - a backend may raise anything; the caller falls back
        out.put(("error", exc))
        return
    out.put(("done", ""))


class Phraser:
    """Renders a prompt, streams the chat model and guards its output (see the module doc).

    ``last_fallback`` and ``last_reason`` describe the most recent call (``last_reason`` is set
    on a fallback and on a truncation); one Phraser serves one call at a time. ``gate``, shared by
    every Phraser of a process, caps the model calls running at once (``server.concurrency_limit``):
    a call that finds no free slot yields its template text at once instead of waiting in line.
    """

    def __init__(self, chat_model: BaseChatModel, prompts: PromptLibrary, timeout_s: float,
                 gate: threading.Semaphore | None = None) -> None:
        self.chat_model = chat_model
        self.prompts = prompts
        self.timeout_s = timeout_s
        self.gate = gate
        self.last_fallback = False
        self.last_reason: str | None = None

    def stream(
        self, prompt_name: str, fallback: str, *, banned: Sequence[str] = (), reference: str = "", **variables: Any
    ) -> Iterator[str]:
        """Checked sentences of the model's reply, or ``fallback``; a bad template raises PromptError now."""
        template = self.prompts.get(prompt_name)
        messages = template.render(**variables)
        source = " ".join([reference, fallback, *(_flat(v) for v in variables.values())])
        prompt = " ".join(str(m.text) for m in messages)
        required = [_flat(variables[name]) for name in template.must_include]
        self.last_fallback, self.last_reason = False, None
        return self._run(template, messages, fallback, _Guard(template, banned, source, prompt, required))

    def text(
        self, prompt_name: str, fallback: str, *, banned: Sequence[str] = (), reference: str = "", **variables: Any
    ) -> str:
        """The whole guarded reply as one string."""
        return "".join(self.stream(prompt_name, fallback, banned=banned, reference=reference, **variables))

    def _run(
        self, template: PromptTemplate, messages: list[BaseMessage], fallback: str, guard: _Guard
    ) -> Iterator[str]:
        if self.gate is not None and not self.gate.acquire(blocking=False):
            self._report(template.name, "model busy: every model slot (server.concurrency_limit) is in use", guard)
            yield fallback
            return
        slot = _Slot(self.gate) if self.gate is not None else None
        out: queue.Queue = queue.Queue()
        cancel = threading.Event()
        threading.Thread(
            target=_pump, args=(self.chat_model, messages, out, cancel, slot), daemon=True,
            name=f"phraser-{template.name}",
        ).start()
        deadline = time.monotonic() + self.timeout_s
        buffer, reason, yielded = "", None, 0
        try:
            while reason is None and not guard.full:
                try:
                    kind, payload = out.get(timeout=max(deadline - time.monotonic(), 0))
                except queue.Empty:
                    reason = f"timeout after {self.timeout_s:g}s"
                    break
                if kind == "error":
                    reason = f"backend error {type(payload).__name__}: {payload}"
                    break
                if kind == "chunk":
                    complete, buffer = split_sentences(buffer + payload)
                else:
                    complete = [buffer.strip()] if _WORDLIKE.search(buffer) else []
                for sentence in complete:
                    released, reason = guard.offer(sentence)
                    for piece in released:
                        yield " " + piece if yielded else piece
                        yielded += 1
                    if reason or guard.full:
                        break
                if reason is None and kind == "chunk" and not guard.full:
                    reason = guard.too_long(buffer)
                if kind == "done":
                    reason = reason or guard.finish()
                    break
            if reason is not None:
                self._report(template.name, reason, guard)
                if not guard.released:
                    yield fallback
        finally:
            cancel.set()
            if slot is not None:
                slot.release()

    def _report(self, name: str, reason: str, guard: _Guard) -> None:
        if guard.released:
            self.last_reason = f"truncated: {reason}"
            log.warning("prompt %s: reply stopped after %d sentence(s): %s", name, len(guard.released), reason)
        else:
            self.last_fallback, self.last_reason = True, reason
            log.warning("prompt %s: using the template text instead of the model's: %s", name, reason)


def _flat(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return str(value)
