"""Retrieval eval: the labelled queries against our hybrid search and two baselines, in one process.

A query is a hit at k when any of its labelled sections is among the first k *distinct* sections
of the results. Systems:

- ``ours``: ``HybridSearcher`` (heading-aware chunks, dense + BM25, reciprocal-rank fusion), asked for
  ``depth`` chunks. Fusion takes ``max(candidates, k)`` hits from each half, so for ``depth`` up to
  ``retrieval.candidates`` the top of the list is exactly what the app's default ``k=5`` returns.
- ``dense``: a plain LangChain set-up: the raw files (front matter included, no heading awareness)
  cut by ``RecursiveCharacterTextSplitter(1000, 150)``, embedded with the same packaged model
  (``coach.embeddings.LocalEmbeddings``) into an in-memory ``langchain_chroma.Chroma``.
- ``bm25``: ``rank_bm25.BM25Okapi`` alone over the chunks of our own index, with our tokenizer.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from evals.common import TOPICS, Check, gate, latency

if TYPE_CHECKING:  # pragma: no cover
    from coach.core import Coach

SYSTEMS = {"ours": "ours (hybrid)", "dense": "dense-only, fixed chunks", "bm25": "BM25-only"}
KS = (1, 3, 5)
MRR_DEPTH = 10

Search = Callable[[str, int], list[str]]  # query, depth -> section id of each chunk, best first


@dataclass
class QueryOutcome:
    id: str
    topic: str
    style: str
    query: str
    expected: list[str]
    got: list[str]            # first distinct sections (up to MRR_DEPTH)
    rank: int | None          # 1-based rank of the first labelled section among distinct sections
    ms: float
    split: str = ""           # case-library queries: dev (seen while writing the sections) or test


@dataclass
class SystemResult:
    name: str
    outcomes: list[QueryOutcome] = field(default_factory=list)
    build_s: float = 0.0
    chunks: int = 0
    skipped: str | None = None

    def scores(self, topic: str | None = None, style: str | None = None, split: str | None = None
               ) -> dict[str, float | int]:
        rows = [o for o in self.outcomes if (topic is None or o.topic == topic) and (style is None or o.style == style)
                and (split is None or o.split == split)]
        n = len(rows)
        out: dict[str, float | int] = {"n": n}
        for k in KS:
            out[f"recall@{k}"] = sum(1 for o in rows if o.rank is not None and o.rank <= k) / n if n else 0.0
        out["mrr"] = sum(1.0 / o.rank for o in rows if o.rank is not None) / n if n else 0.0
        return out

    @property
    def failures(self) -> list[QueryOutcome]:
        return [o for o in self.outcomes if o.rank is None or o.rank > 5]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "label": SYSTEMS.get(self.name, self.name), "skipped": self.skipped,
            "build_s": round(self.build_s, 2), "chunks": self.chunks,
            "overall": self.scores(), "by_topic": {t: self.scores(topic=t) for t in TOPICS},
            "by_style": {s: self.scores(style=s) for s in sorted({o.style for o in self.outcomes})},
            "by_split": {s: self.scores(split=s) for s in ("dev", "test")},
            "latency_ms": latency([o.ms for o in self.outcomes], 2),
            "failures": [asdict(o) for o in self.failures],
        }


@dataclass
class RetrievalResult:
    systems: dict[str, SystemResult]
    thresholds: dict[str, Any]

    @property
    def ours(self) -> SystemResult:
        return self.systems["ours"]

    def checks(self) -> list[Check]:
        cfg = self.thresholds
        out = [gate("Retrieval recall@5", "all", self.ours.scores()["recall@5"], cfg.get("recall_at_5"))]
        per_topic = cfg.get("recall_at_5_per_topic")
        for topic in TOPICS:
            out.append(gate("Retrieval recall@5", topic, self.ours.scores(topic)["recall@5"], per_topic))
        for split in ("dev", "test"):  # the case-library queries; the test half was not seen while writing
            sc = self.ours.scores(split=split)
            if sc["n"]:
                out.append(gate(f"Retrieval recall@5, case-library queries ({split} split)", "architectures",
                                sc["recall@5"], cfg.get("recall_at_5_case_test") if split == "test" else None,
                                note=f"n={sc['n']}"))
        for name in ("dense", "bm25"):
            base = self.systems.get(name)
            label = f"Retrieval ahead of {name} baseline (recall@5 margin)"
            if base is None or base.skipped:
                out.append(Check(label, "all", None, "> 0", None, "skipped"))
                continue
            margin = self.ours.scores()["recall@5"] - base.scores()["recall@5"]
            gated = bool(cfg.get("beat_baselines", True))
            out.append(Check(label, "all", margin, "> 0" if gated else "", (margin > 0) if gated else None))
            for topic in TOPICS:  # per topic: reported, not gated (30-odd queries each)
                m = self.ours.scores(topic)["recall@5"] - base.scores(topic)["recall@5"]
                out.append(Check(label, topic, m, "", None))
        return out

    def as_json(self) -> dict[str, Any]:
        return {"systems": {n: s.as_json() for n, s in self.systems.items()}, "thresholds": self.thresholds}


def distinct_sections(section_ids: list[str], limit: int = MRR_DEPTH) -> list[str]:
    seen: list[str] = []
    for sid in section_ids:
        if sid not in seen:
            seen.append(sid)
            if len(seen) >= limit:
                break
    return seen


def evaluate(name: str, search: Search, queries: list[dict[str, Any]], depth: int) -> SystemResult:
    result = SystemResult(name=name)
    for q in queries:
        start = time.perf_counter()
        ranked = search(q["query"], depth)
        ms = (time.perf_counter() - start) * 1000
        got = distinct_sections(ranked)
        expected = list(q["sections"])
        rank = next((i for i, sid in enumerate(got, start=1) if sid in expected), None)
        result.outcomes.append(QueryOutcome(id=q["id"], topic=q["topic"], style=q.get("style", ""), query=q["query"],
                                            expected=expected, got=got, rank=rank, ms=ms, split=q.get("split", "")))
    return result


# ------------------------------------------------------------------ systems
def ours_search(coach: "Coach") -> Search:
    searcher = coach.searcher

    def search(query: str, depth: int) -> list[str]:
        return [h.section_id for h in searcher.search(query, k=depth)]

    return search


def bm25_search(coach: "Coach") -> tuple[Search, int]:
    """BM25 alone over exactly the chunks of our index, tokenized as our lexical half does."""
    import numpy as np
    from rank_bm25 import BM25Okapi

    from coach.text import stems
    from coach.search.vectorstore import open_store

    got = open_store(coach.settings, coach.embeddings)._collection.get(include=["documents", "metadatas"])
    docs, metas = got["documents"], [m or {} for m in got["metadatas"]]
    bm25 = BM25Okapi([stems(d) for d in docs])

    def search(query: str, depth: int) -> list[str]:
        tokens = stems(query)
        if not tokens:
            return []
        scores = bm25.get_scores(tokens)
        order = np.argsort(-scores, kind="stable")[:depth]
        return [metas[i].get("section_id", "") for i in order if scores[i] > 0]

    return search, len(docs)


def dense_baseline(coach: "Coach") -> tuple[Search, int, Callable[[], None]]:
    """Plain LangChain + Chroma: fixed-size chunks of the raw files, our embedding model, in memory."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from coach.content.guide import guide_files
    from coach.search.lc_embeddings import LangChainEmbeddings

    root = coach.settings.knowledge_dir
    section_of = {s.source: s.id for s in coach.guide.sections.values()}
    docs = []
    for path in guide_files(root):
        rel = path.relative_to(root).as_posix()
        docs.append(Document(page_content=path.read_text(encoding="utf-8"),
                             metadata={"source": rel, "section_id": section_of.get(rel, rel)}))
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=150).split_documents(docs)
    client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
    name = f"eval-dense-baseline-{uuid.uuid4().hex[:8]}"
    store = Chroma(collection_name=name, embedding_function=LangChainEmbeddings(coach.embeddings), client=client)
    store.add_documents(chunks)

    def search(query: str, depth: int) -> list[str]:
        return [d.metadata["section_id"] for d in store.similarity_search(query, k=depth)]

    def close() -> None:
        try:
            client.delete_collection(name)
        except Exception:  # noqa: BLE001 - cleanup of an in-memory collection
            pass

    return search, len(chunks), close


def run_retrieval_eval(coach: "Coach", queries: list[dict[str, Any]], thresholds: dict[str, Any],
                       baselines: tuple[str, ...] = ("dense", "bm25"), log: Callable[[str], None] = lambda m: None
                       ) -> RetrievalResult:
    cfg = thresholds.get("retrieval", {})
    depth = int(cfg.get("depth", 30))
    systems: dict[str, SystemResult] = {}
    coach.searcher.search("warm up", k=1)  # load the model and the index before timing
    systems["ours"] = evaluate("ours", ours_search(coach), queries, depth)
    systems["ours"].chunks = coach.searcher.size
    log(f"retrieval: ours recall@5 {systems['ours'].scores()['recall@5']:.3f}")
    if "bm25" in baselines:
        start = time.perf_counter()
        search, n = bm25_search(coach)
        build = time.perf_counter() - start
        systems["bm25"] = evaluate("bm25", search, queries, depth)
        systems["bm25"].build_s, systems["bm25"].chunks = build, n
        log(f"retrieval: bm25 recall@5 {systems['bm25'].scores()['recall@5']:.3f}")
    if "dense" in baselines:
        start = time.perf_counter()
        search, n, close = dense_baseline(coach)
        build = time.perf_counter() - start
        try:
            systems["dense"] = evaluate("dense", search, queries, depth)
        finally:
            close()
        systems["dense"].build_s, systems["dense"].chunks = build, n
        log(f"retrieval: dense recall@5 {systems['dense'].scores()['recall@5']:.3f} (index built in {build:.1f} s)")
    return RetrievalResult(systems=systems, thresholds=cfg)

