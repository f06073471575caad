"""Shared pieces of the web app: error handling at the edge, input limits, report files.

Nothing here decides anything about interviews; it only adapts the services to Gradio.
"""

from __future__ import annotations

import functools
import html
import inspect
import logging
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import gradio as gr

from coach.errors import CoachError
from coach.settings import LEVELS, TOPICS

if TYPE_CHECKING:  # pragma: no cover
    from coach.core import Coach

log = logging.getLogger("coach.ui")

ANY = "any"
TOPIC_CHOICES = [ANY, *TOPICS]
LEVEL_CHOICES = [ANY, *LEVELS]
# Values are strings: Gradio describes a Radio's values as strings in the API schema and accepts
# exactly its choice values, so "1".."4" is what the schema says and what the server takes.
RATING_CHOICES = [("weak", "1"), ("ok", "2"), ("strong", "3"), ("staff", "4")]
UNEXPECTED = "Something went wrong on the server ({kind}); the details are in the server log."


_MARKUP_START = re.compile(r"([\\\[\]<])")  # backslash, brackets (links, images), '<' (HTML, autolinks)
# Tags that make the browser fetch something (our own Markdown keeps <details>, <summary>).
_FETCHING_TAG = re.compile(r"<(?=/?(img|image|picture|source|video|audio|iframe|frame|object|embed|svg|link|"
                           r"style|script|input|meta|base)\b)", re.I)


def as_text(text: str) -> str:
    """User text for a Markdown widget: no image, link or HTML typed by a user is rendered.

    Only the characters that start those are backslash-escaped, so ``![x](http://host/p.png)``
    or ``<img src=...>`` is displayed as typed and no request leaves the browser, while the text
    an API client or the copy button gets stays close to what was typed.
    """
    return _MARKUP_START.sub(r"\\\1", text)


def typed_text(shown: str) -> str:
    """What the user typed, from the text :func:`as_text` showed (its escapes removed)."""
    return re.sub(r"\\([\\\[\]<])", r"\1", shown)


def no_images(markdown: str) -> str:
    """Coach Markdown (which may quote the user or come from a model) with images and fetching tags disabled."""
    return _FETCHING_TAG.sub("&lt;", markdown.replace("![", "!\\["))


def toast(message: str) -> gr.Error:
    """A short error toast; Gradio renders toasts as HTML, so the message is escaped."""
    return gr.Error(html.escape(message, quote=False), print_exception=False)


def _as_gr_error(exc: Exception) -> gr.Error:
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, CoachError):
        return toast(str(exc))
    log.exception("unexpected error in a web handler")
    return gr.Error(UNEXPECTED.format(kind=type(exc).__name__), print_exception=False)


def guarded(fn: Callable) -> Callable:
    """Turn CoachError into a short gr.Error (no traceback in the page); works for generators too."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - this is the edge
                raise _as_gr_error(exc) from None
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - this is the edge
            raise _as_gr_error(exc) from None
    return wrapper


def check_input(coach: "Coach", text: str | None, what: str = "message") -> str:
    """The stripped text, or gr.Error when it is empty or over ``server.max_input_chars``."""
    # Lone surrogates (JSON "\\ud800") become U+FFFD, as coach.text.clean_text does in the services.
    text = (text or "").strip().encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    limit = coach.settings.server.max_input_chars
    if not text:
        raise gr.Error(f"Type your {what} first.", print_exception=False)
    if len(text) > limit:
        raise toast(f"That {what} is {len(text):,} characters; the limit is {limit:,} characters.")
    return text


def user_of(request: gr.Request | None) -> str:
    """The logged-in user when auth is on, else the single local user."""
    name = getattr(request, "username", None) if request is not None else None
    return name or "local"


def none_if_any(value: str | None) -> str | None:
    return None if value in (None, "", ANY) else value


class ReportFiles:
    """Writes session reports to a private temp folder so Gradio can serve them for download."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="coach-reports-"))

    def write(self, coach: "Coach", session_id: str) -> str:
        folder = self.root / _safe(session_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"report-{_safe(session_id)}.md"
        path.write_text(coach.report(session_id), encoding="utf-8")
        return str(path)


def _safe(name: str) -> str:
    return "".join(ch for ch in name if ch.isalnum() or ch in "-_") or "session"
