"""The README's table of topics and sections, generated from the guide's front matter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.settings import TOPICS

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.guide import Guide

BEGIN = "<!-- guide-table:begin -->"
END = "<!-- guide-table:end -->"


def guide_table(guide: "Guide") -> str:
    lines = [BEGIN, "| Topic | Sections | Words |", "|---|---|---:|"]
    for topic in TOPICS:
        sections = [s for s in guide.by_topic(topic) if s.meta.kind == "section"]
        overview = [s for s in guide.by_topic(topic) if s.meta.kind == "overview"]
        names = "; ".join(f"[{s.title}](knowledge/{s.source})" for s in overview + sections)
        words = sum(s.word_count for s in guide.by_topic(topic))
        lines.append(f"| **{topic}** ({len(sections)} + overview) | {names} | {words:,} |")
    lines.append(END)
    return "\n".join(lines)


def replace_table(readme: str, table: str) -> str:
    """``readme`` with the text between the markers replaced by ``table``."""
    start, end = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[:start] + table + readme[end:]
