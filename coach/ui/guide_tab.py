"""The "Guide" tab: browse the topics and read every section rendered as Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from coach.settings import TOPICS
from coach.ui.common import guarded

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.guide import Section
    from coach.core import Coach


def section_markdown(section: "Section") -> str:
    meta = section.meta
    out = [f"`knowledge/{section.source}` · {meta.topic} · `{meta.id}`", "", f"> {meta.summary}", "",
           section.body.strip(), "", "---", "", "**Sources**", ""]
    out += [f"- {src}" for src in meta.sources]
    if meta.related:
        out += ["", "**Related:** " + ", ".join(f"`{r}`" for r in meta.related)]
    return "\n".join(out)


def build_guide_tab(coach: "Coach") -> None:
    guide = coach.guide

    def section_choices(topic: str) -> list[tuple[str, str]]:
        return [(s.title, s.id) for s in guide.by_topic(topic)]

    first_topic = TOPICS[0]
    first = section_choices(first_topic)
    with gr.Row():
        topic = gr.Dropdown(list(TOPICS), value=first_topic, label="Topic", elem_id="guide-topic")
        section = gr.Dropdown(first, value=first[0][1] if first else None, label="Section", elem_id="guide-section")
    body = gr.Markdown(section_markdown(guide.get(first[0][1])) if first else "", elem_id="guide-body",
                       container=True)

    @guarded
    def on_topic(topic_value: str):
        choices = section_choices(topic_value)
        chosen = choices[0][1] if choices else None
        return gr.Dropdown(choices=choices, value=chosen), on_section(chosen)

    @guarded
    def on_section(section_id: str | None) -> str:
        found = guide.get(section_id) if section_id else None
        return section_markdown(found) if found is not None else "_Choose a section._"

    # Pure reads of the loaded guide: they need not wait behind model calls.
    topic.change(on_topic, [topic], [section, body], api_name="guide_topic", concurrency_limit=None)
    section.change(on_section, [section], [body], api_name="guide_section", concurrency_limit=None)
