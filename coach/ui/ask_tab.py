"""The "Ask the guide" tab: a question answered from the guide with numbered citations."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import gradio as gr

from coach.ui.common import TOPIC_CHOICES, as_text, check_input, guarded, no_images, none_if_any, typed_text

if TYPE_CHECKING:  # pragma: no cover
    from coach.core import Coach
    from coach.search.ask import AskResult

EXCERPT_CHARS = 320


def _excerpt(text: str, n: int = EXCERPT_CHARS) -> str:
    flat = " ".join(text.split())
    return html.escape(flat if len(flat) <= n else flat[:n].rsplit(" ", 1)[0] + " …")


def answer_markdown(result: "AskResult") -> str:
    """The answer with its [n] citations, then the sources in a collapsible block."""
    if not result.covered:
        out = ["**Not covered by the guide.** Nothing in the guide is close enough to answer this, "
               "so the coach will not guess."]
        if result.nearest:
            out += ["", "Nearest sections:"] + [f"- {label}" for label in result.nearest]
        return "\n".join(out)
    out = [result.answer, "", f"<details><summary>Sources ({len(result.citations)})</summary>", ""]
    for c in result.citations:
        sub = c.heading[len(c.title) + 3:] if c.heading.startswith(c.title + " > ") else c.heading
        heading = f" — {html.escape(sub)}" if sub and sub != c.title else ""
        out += [f"**[{c.n}] {html.escape(c.title)}**{heading}  ",
                f"`knowledge/{c.source}` · `{c.section_id}`", "", f"> {_excerpt(c.text)}", ""]
    out.append("</details>")
    return "\n".join(out)


def _plain(content: Any) -> str | None:
    """The text of a chat message (Gradio may hand back a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content) or None
    if isinstance(content, dict):
        return content.get("text")
    return None


def exchange(question: str, result: "AskResult") -> tuple[dict[str, str], dict[str, str]]:
    """The user's question (shown as typed) and the coach's answer, as chat messages."""
    return ({"role": "user", "content": as_text(question)},
            {"role": "assistant", "content": no_images(answer_markdown(result))})


def build_ask_tab(coach: "Coach") -> None:
    gr.Markdown("Ask anything about ML system design. Answers come only from the guide, with numbered "
                "citations; when the guide does not cover a question, the coach says so.")
    with gr.Row():
        topic = gr.Dropdown(TOPIC_CHOICES, value="any", label="Only this topic", elem_id="ask-topic", scale=1)
    chat = gr.Chatbot(label="Ask the guide", elem_id="ask-chat", height=560, feedback_options=None,
                      group_consecutive_messages=False)
    with gr.Row():
        question = gr.Textbox(label="Question", elem_id="ask-input", scale=5,
                              placeholder="e.g. How do I detect concept drift when labels arrive late?")
        send = gr.Button("Ask", variant="primary", elem_id="ask-send", scale=1)

    @guarded
    def on_ask(text: str, topic_value: str, history: list[dict[str, Any]] | None):
        text = check_input(coach, text, "question")
        history = list(history or [])
        asked = [m for m in history if m.get("role") == "user"]
        shown = _plain(asked[-1].get("content")) if asked else None
        previous = typed_text(shown) if shown else None  # history holds the escaped text as_text showed
        result = coach.ask(text, topic=none_if_any(topic_value), previous=previous)
        history += list(exchange(text, result))
        return history, ""

    send.click(on_ask, [question, topic, chat], [chat, question], api_name="ask")
    question.submit(on_ask, [question, topic, chat], [chat, question], api_visibility="undocumented")
