"""One slow model call must not stall the other users of the web app (real app, fake slow model)."""

from __future__ import annotations

import time

from gradio_client import Client

from coach.llm.fake_chat import RecordingFakeChat
from tests.ui_support import coach_like, message_text, running_app

QUESTION = "How do I detect concept drift when labels arrive late?"


def test_grading_and_template_replies_never_wait_behind_a_model_call(real_coach, tmp_path):
    coach = coach_like(real_coach, tmp_path)  # server.concurrency_limit = 1: one model call at a time
    slow = RecordingFakeChat(replies=["Compare live feature distributions with a reference window."] * 3,
                             delay_s=8.0)
    coach.__dict__["chat_model"] = slow
    with running_app(coach) as url:
        first = Client(url, verbose=False).submit(QUESTION, "any", [], api_name="/ask")
        deadline = time.monotonic() + 60
        while not slow.calls and time.monotonic() < deadline:
            time.sleep(0.1)
        assert slow.calls, "the first user's model call never started"
        started = time.monotonic()
        dims = coach.bank.rubric.dimension_ids
        graded = Client(url, verbose=False).predict("mon-q01", "Covariate shift means P(X) changes.",
                                                    *(["2"] * len(dims)), api_name="/assess")
        assert graded.startswith("### Self vs coach — ")
        chat, _ = Client(url, verbose=False).predict(QUESTION, "any", [], api_name="/ask")
        assert message_text(chat[-1]) and "[1]" in message_text(chat[-1])
        waited = time.monotonic() - started
        assert not first.done(), "the slow model call is still running"
        assert waited < 6, f"grading and a template answer waited {waited:.1f} s behind a model call"
        assert len(slow.calls) == 1, "the second Ask got the template text instead of queueing for the model"
        first.result(timeout=60)


def test_the_queue_takes_server_handler_concurrency(real_coach, tmp_path, monkeypatch):
    """Set when the Blocks are made (no second FastAPI app); the process environment is left as it was."""
    import os

    from coach.ui.app import build_app

    monkeypatch.delenv("GRADIO_DEFAULT_CONCURRENCY_LIMIT", raising=False)
    app = build_app(coach_like(real_coach, tmp_path, server={"handler_concurrency": 7}))
    assert app._queue.default_concurrency_limit == 7
    assert "GRADIO_DEFAULT_CONCURRENCY_LIMIT" not in os.environ
