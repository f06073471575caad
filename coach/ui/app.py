"""The web app (Gradio): a thin edge over ``Coach``; every tab only calls the services.

``build_app(coach)`` returns the Blocks (tests launch it themselves); ``serve(coach)`` launches it
with the server settings: host, port, optional login, and a queue sized by
``server.handler_concurrency``; model calls are capped separately (``server.concurrency_limit``). Each browser session keeps its own session id
in ``gr.State``, so two people never see each other's chat.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import gradio as gr

from coach.ui.common import ReportFiles
from coach.ui.ask_tab import build_ask_tab
from coach.ui.assess_tab import build_assess_tab
from coach.ui.guide_tab import build_guide_tab
from coach.ui.practice_tab import build_practice_tab
from coach.ui.progress_tab import build_progress_tab

if TYPE_CHECKING:  # pragma: no cover
    from coach.core import Coach

TITLE = "AI / ML system design interview coach"


@contextmanager
def _default_concurrency(limit: int) -> Iterator[None]:
    """``gr.Blocks()`` sets up its queue with the documented GRADIO_DEFAULT_CONCURRENCY_LIMIT.

    Calling ``app.queue(default_concurrency_limit=...)`` afterwards builds the whole FastAPI app a
    second time (~80 routes; a tenth of the app's start on two cores), so the limit is given here.
    """
    key = "GRADIO_DEFAULT_CONCURRENCY_LIMIT"
    before = os.environ.get(key)
    os.environ[key] = str(limit)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


def build_app(coach: "Coach") -> gr.Blocks:
    """All five tabs over one Coach; the queue is configured here so tests and `serve` share it."""
    settings = coach.settings
    reports = ReportFiles()
    _ = coach.guide, coach.bank  # fail early (KnowledgeError) rather than on the first click
    # Model calls are capped inside the phrasing layer (server.concurrency_limit), so the queue only
    # bounds the deterministic work: grading, the critique card and template replies never wait
    # behind another user's model call.
    with _default_concurrency(settings.server.handler_concurrency):
        app = gr.Blocks(title=TITLE, delete_cache=(3600, 3600), analytics_enabled=False)
    with app:
        gr.Markdown(f"## {TITLE}\n"
                    f"Offline practice for ML system design interviews · chat model: `{settings.llm.mode}`")
        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab("Practice", id="practice", elem_id="tab-practice"):
                practice = build_practice_tab(coach, reports)
            with gr.Tab("Ask the guide", id="ask", elem_id="tab-ask"):
                build_ask_tab(coach)
            with gr.Tab("Self-assess", id="assess", elem_id="tab-assess"):
                build_assess_tab(coach)
            with gr.Tab("Progress", id="progress", elem_id="tab-progress") as progress_tab:
                refresh, refresh_outputs = build_progress_tab(coach, reports, practice, tabs)
            with gr.Tab("Guide", id="guide", elem_id="tab-guide"):
                build_guide_tab(coach)
        progress_tab.select(refresh, None, refresh_outputs, api_visibility="undocumented")
    return app


def serve(coach: "Coach", host: str | None = None, port: int | None = None) -> None:
    """Launch the app and block; host/port default to ``settings.server``; login when both are set."""
    server = coach.settings.server
    auth = (server.username, server.password) if server.username and server.password else None
    app = build_app(coach)
    app.launch(server_name=host or server.host, server_port=port or server.port, auth=auth,
               auth_message="Log in to the interview coach." if auth else None, footer_links=["api", "settings"])
