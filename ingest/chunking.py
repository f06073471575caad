"""Heading-aware chunking: split on Markdown headings, then bound the size with overlap.

Every chunk keeps its heading path ("Title > Section > Subsection") and gets an id derived from
its content, so re-ingesting the same text upserts the same ids and a small edit re-embeds only
the chunks it touched.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from coach.content.guide import Section

_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str  # what is stored and searched: heading path, blank line, chunk body
    metadata: dict[str, str | int]


def _chunk_id(section_id: str, heading: str, body: str, occurrence: int) -> str:
    digest = hashlib.sha256(f"{section_id}\x00{heading}\x00{body}\x00{occurrence}".encode()).hexdigest()
    return f"{section_id}:{digest[:24]}"


class Chunker:
    """Splits sections into chunks; one instance is reused for the whole guide."""

    def __init__(self, chunk_size: int, chunk_overlap: int) -> None:
        self._headings = MarkdownHeaderTextSplitter(headers_to_split_on=_HEADERS, strip_headers=True)
        self._sizer = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size, chunk_overlap=chunk_overlap, separators=["\n\n", "\n", ". ", " ", ""]
        )

    def split(self, section: Section) -> list[Chunk]:
        chunks: list[Chunk] = []
        seen: dict[tuple[str, str], int] = {}
        for part in self._sizer.split_documents(self._headings.split_text(section.body)):
            body = part.page_content.strip()
            if not body:
                continue
            levels = [part.metadata[k] for k in ("h1", "h2", "h3") if part.metadata.get(k)]
            if not levels or levels[0] != section.title:
                levels.insert(0, section.title)
            heading = " > ".join(levels)
            key = (heading, body)
            occurrence = seen.get(key, 0)
            seen[key] = occurrence + 1
            chunks.append(
                Chunk(
                    id=_chunk_id(section.id, heading, body, occurrence),
                    text=f"{heading}\n\n{body}",
                    metadata={
                        "section_id": section.id,
                        "topic": section.topic,
                        "title": section.title,
                        "heading": heading,
                        "source": section.source,
                        "kind": section.meta.kind,
                        "chunk_index": len(chunks),
                    },
                )
            )
        return chunks
