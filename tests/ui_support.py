"""Helpers for the web-app tests: a Coach with its own session store, and the app on a free port."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from coach.core import Coach
from coach.settings import load_settings
from tests.conftest import ROOT, free_port, write_config

PROBE_ANSWER = ("I would monitor the input feature distributions against the training data with PSI and "
                "track the prediction distribution, then retrain the model when the drift is large.")


def coach_like(real_coach: Coach, folder: Path, **sections) -> Coach:
    """A Coach over the already ingested guide of ``real_coach`` with a fresh session store."""
    sections.setdefault("llm", {"mode": "fake"})
    sections["vector_store"] = {"path": str(real_coach.settings.chroma_path)}
    coach = Coach(load_settings(write_config(folder, ROOT / "knowledge", **sections), env={}))
    for name in ("embeddings", "guide", "bank", "grader"):
        coach.__dict__[name] = getattr(real_coach, name)
    return coach


@contextmanager
def running_app(coach: Coach) -> Iterator[str]:
    """The app of ``coach`` served on 127.0.0.1 in a background thread; yields its URL."""
    from coach.ui.app import build_app

    app = build_app(coach)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()


def message_text(message) -> str:
    """Text of one chatbot message as the API returns it (content is a list of parts in Gradio 6)."""
    content = message["content"] if isinstance(message, dict) else message
    if isinstance(content, list):
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)
