"""Incremental ingest of the guide into Chroma.

The whole guide is validated before the index is touched. The stored chunk ids of each source
file are compared with the ids its current text produces: an unchanged file costs nothing, a
changed one embeds only its new chunks, and chunks of edited or deleted sections are removed only
after the new ones are in, so an interrupted run never leaves a section without its text.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from coach.errors import IndexMissingError
from coach.content.guide import Guide, load_guide
from coach.content.questions import load_question_bank
from coach.settings import TOPICS
from ingest.chunking import Chunk, Chunker

if TYPE_CHECKING:  # pragma: no cover
    from coach.search.embeddings import LocalEmbeddings
    from coach.settings import Settings


@dataclass
class TopicSummary:
    sections: int = 0
    chunks: int = 0
    added: int = 0
    removed: int = 0
    unchanged_files: int = 0


@dataclass
class IngestReport:
    """What a run did, per topic, and how long it took."""

    topics: dict[str, TopicSummary] = field(default_factory=dict)
    files_changed: list[str] = field(default_factory=list)
    files_deleted: list[str] = field(default_factory=list)
    chunks_total: int = 0
    seconds: float = 0.0
    embedded: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.files_changed or self.files_deleted)

    def table(self) -> str:
        rows = [f"{'topic':<16}{'sections':>9}{'chunks':>8}{'added':>7}{'removed':>8}{'unchanged files':>17}"]
        for topic in TOPICS:
            t = self.topics.get(topic, TopicSummary())
            rows.append(f"{topic:<16}{t.sections:>9}{t.chunks:>8}{t.added:>7}{t.removed:>8}{t.unchanged_files:>17}")
        rows.append(
            f"{len(self.files_changed)} file(s) changed, {len(self.files_deleted)} deleted, "
            f"{self.embedded} chunk(s) embedded, {self.chunks_total} in the index, {self.seconds:.2f} s"
        )
        return "\n".join(rows)


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="embedding", unit="chunk", disable=not enabled, file=sys.stderr)


def _stored_by_source(store) -> tuple[dict[str, set[str]], dict[str, str]]:
    got = store._collection.get(include=["metadatas"])
    by_source: dict[str, set[str]] = defaultdict(set)
    topic_of: dict[str, str] = {}
    for chunk_id, meta in zip(got["ids"], got["metadatas"]):
        source = (meta or {}).get("source", "?")
        by_source[source].add(chunk_id)
        topic_of[source] = (meta or {}).get("topic", "?")
    return by_source, topic_of


def _set_aside_broken_index(settings: "Settings") -> str | None:
    """Move an unreadable on-disk index out of the way (kept, not deleted) before a rebuild."""
    path = settings.chroma_path
    if settings.vector_store.is_server or not path.exists():
        return None
    target = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
    shutil.move(str(path), str(target))
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # chromadb caches one system per path in-process
    return str(target)


def run_ingest(
    settings: "Settings",
    embeddings: "LocalEmbeddings | None" = None,
    *,
    rebuild: bool = False,
    progress: bool = False,
    log: Callable[[str], None] = lambda _msg: None,
) -> IngestReport:
    """Bring the index in line with ``knowledge/``; returns what changed."""
    from coach.search.embeddings import build_embeddings
    from coach.search.vectorstore import chroma_errors, drop_collection, index_is_intact, open_store

    started = time.perf_counter()
    guide: Guide = load_guide(settings.knowledge_dir)  # raises before anything is written
    # The bank is not indexed, but a broken one must fail here, not on the first practice session.
    load_question_bank(settings.knowledge_dir, set(guide.sections))
    chunker = Chunker(settings.chunking.chunk_size, settings.chunking.chunk_overlap)
    wanted: dict[str, list[Chunk]] = {s.source: chunker.split(s) for s in guide.sections.values()}

    embeddings = embeddings or build_embeddings(settings)
    if rebuild:
        # A damaged chroma.sqlite3 may still open (and even drop) but fail later: check it first.
        if not settings.vector_store.is_server and not index_is_intact(settings.chroma_path):
            log(f"moved the damaged index to {_set_aside_broken_index(settings)}")
        try:
            dropped = drop_collection(settings)
            log("dropped the old collection" if dropped else "no old collection to drop")
        except IndexMissingError:
            moved = _set_aside_broken_index(settings)
            log(f"moved the unreadable index to {moved}")
    store = open_store(settings, embeddings, create=True)
    with chroma_errors(settings):
        stored, stored_topic = _stored_by_source(store)

    report = IngestReport(topics={t: TopicSummary() for t in TOPICS})
    to_embed: list[Chunk] = []
    to_refresh: list[Chunk] = []
    to_delete: list[str] = []
    for section in guide.sections.values():
        summary = report.topics[section.topic]
        chunks = wanted[section.source]
        summary.sections += 1
        summary.chunks += len(chunks)
        have = stored.get(section.source, set())
        new_ids = {c.id for c in chunks}
        if have == new_ids:
            summary.unchanged_files += 1
            continue
        report.files_changed.append(section.source)
        for chunk in chunks:
            (to_refresh if chunk.id in have else to_embed).append(chunk)
        stale = sorted(have - new_ids)
        to_delete.extend(stale)
        summary.added += sum(1 for c in chunks if c.id not in have)
        summary.removed += len(stale)
    for source, ids in stored.items():
        if source not in wanted:
            report.files_deleted.append(source)
            to_delete.extend(sorted(ids))
            topic = stored_topic.get(source)
            if topic in report.topics:
                report.topics[topic].removed += len(ids)

    batch = max(8, settings.embeddings.batch_size)
    with chroma_errors(settings), _progress(len(to_embed), progress and bool(to_embed)) as bar:
        for start in range(0, len(to_embed), batch):
            part = to_embed[start:start + batch]
            store.add_texts(
                texts=[c.text for c in part], metadatas=[c.metadata for c in part], ids=[c.id for c in part]
            )
            bar.update(len(part))
        if to_refresh:  # same text at a new position: update metadata without re-embedding
            store._collection.update(ids=[c.id for c in to_refresh], metadatas=[c.metadata for c in to_refresh])
        if to_delete:
            store.delete(ids=to_delete)
        report.chunks_total = store._collection.count()
    report.embedded = len(to_embed)
    report.seconds = time.perf_counter() - started
    return report
