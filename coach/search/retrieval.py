"""Hybrid retrieval over the guide: dense (Chroma) + BM25, fused by reciprocal rank.

Dense search finds paraphrases; BM25 finds the exact terms people type (PSI, p99, SRM). Fusing
ranks rather than scores avoids calibrating two unrelated scales. The BM25 index is built from
the chunks already in Chroma, so both halves always see the same corpus.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import threading
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any


from coach.errors import IndexMissingError, QueryError
from coach.settings import TOPICS
from coach.text import clean_text, stems
from coach.search.vectorstore import chroma_errors

if TYPE_CHECKING:  # pragma: no cover
    from coach.search.embeddings import LocalEmbeddings
    from coach.settings import Settings


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk; ``score`` is the fused RRF score, ``similarity`` the dense cosine."""

    rank: int
    score: float
    topic: str
    section_id: str
    title: str
    heading: str
    source: str
    text: str
    similarity: float

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 6)
        data["similarity"] = round(self.similarity, 4)
        return data


def check_query(query: str, topic: str | None, max_chars: int) -> str:
    """Validate user input before any work; raises QueryError with a one-line reason."""
    if not isinstance(query, str) or not query.strip():
        raise QueryError("the query is empty: type a question, e.g. coach retrieve \"how do I detect drift?\"")
    if len(query) > max_chars:
        raise QueryError(f"the query is {len(query):,} characters; the limit is {max_chars:,} (retrieval.max_query_chars)")
    if topic is not None and topic not in TOPICS:
        raise QueryError(f"unknown topic {topic!r}; choose one of {', '.join(TOPICS)}")
    return clean_text(query.strip())


def _stemmed_corpus(ids: list[str], docs: list[str], cache_dir: Path) -> list[list[str]]:
    """Stemmed chunk texts for BM25, cached on disk: stemming the guide costs ~0.5 s per cold process.

    Chunk ids are content digests, so the digest of the id list names this exact corpus; a cache
    that cannot be read or written is ignored (it only saves time).
    """
    key = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
    path = cache_dir / f"stems-{key}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(cached, list) and len(cached) == len(docs):
            return cached
    except (OSError, ValueError):
        pass
    corpus = [stems(d) for d in docs]
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        for old in cache_dir.glob("stems-*.json"):
            old.unlink(missing_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(corpus), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass
    return corpus


class HybridSearcher:
    """Dense + BM25 search with reciprocal-rank fusion and an optional topic filter."""

    def __init__(self, store: Any, embeddings: "LocalEmbeddings", settings: "Settings") -> None:
        from rank_bm25 import BM25Okapi

        self._collection = getattr(store, "_collection", store)  # a LangChain Chroma or the collection itself
        self._embeddings = embeddings
        self._cfg = settings.retrieval
        self._settings = settings
        import numpy as np

        with chroma_errors(settings):
            got = self._collection.get(include=["documents", "metadatas", "embeddings"])
        if not got["ids"]:
            raise IndexMissingError("the index is empty: run `coach ingest`")
        self._ids: list[str] = got["ids"]
        self._docs: list[str] = got["documents"]
        self._metas: list[dict] = [m or {} for m in got["metadatas"]]
        self._row = {chunk_id: i for i, chunk_id in enumerate(self._ids)}
        self._matrix = np.asarray(got["embeddings"], dtype="float32")
        self._bm25 = BM25Okapi(_stemmed_corpus(self._ids, self._docs, settings.data_dir / "bm25"))
        self._lock = threading.Lock()  # BM25 scoring and chromadb queries from many UI threads

    @property
    def size(self) -> int:
        return len(self._ids)

    def term_weights(self, query: str) -> dict[str, float]:
        """The query's content stems, each weighted by its BM25 IDF over the guide (a term the guide
        never uses gets the highest): rare terms ("effect size", "ADWIN") say more than common ones."""
        idf = self._bm25.idf
        top = max(idf.values(), default=1.0)
        return {t: max(idf.get(t, top), 0.01) for t in set(stems(query))}

    def term_coverage(self, query: str, hits: list[Hit]) -> float:
        """Largest share of the query's IDF weight found in one hit (a term the guide never uses
        counts with the highest IDF). High for a terse query in the guide's vocabulary ("ndcg vs
        mrr"), low for one that merely shares common words with it ("marathon training plan").
        """
        weight = self.term_weights(query)
        if not weight:
            return 0.0
        total = sum(weight.values())
        best = 0.0
        for hit in hits:
            present = set(stems(hit.text))
            best = max(best, sum(w for t, w in weight.items() if t in present) / total)
        return best

    def _dense(self, vector: Any, n: int, topic: str | None) -> list[tuple[int, float]]:
        with chroma_errors(self._settings):
            res = self._collection.query(
                query_embeddings=[vector.tolist()], n_results=min(n, len(self._ids)),
                where={"topic": topic} if topic else None, include=["distances"],
            )
        return [(self._row[i], 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0]) if i in self._row]

    def _lexical(self, query: str, n: int, topic: str | None) -> list[tuple[int, float]]:
        tokens = stems(query)
        if not tokens:
            return []
        import numpy as np

        scores = self._bm25.get_scores(tokens)
        hits: list[tuple[int, float]] = []
        for i in np.argsort(-scores, kind="stable"):
            if scores[i] <= 0 or len(hits) >= n:
                break
            if topic is None or self._metas[i].get("topic") == topic:
                hits.append((int(i), float(scores[i])))
        return hits

    def search(self, query: str, k: int = 5, topic: str | None = None) -> list[Hit]:
        query = check_query(query, topic, self._cfg.max_query_chars)
        if k < 1:
            raise QueryError(f"k must be at least 1 (got {k})")
        n = max(self._cfg.candidates, k)
        vector = self._embeddings.encode([query])[0]
        with self._lock:
            dense = self._dense(vector, n, topic)
            lexical = self._lexical(query, n, topic)
        fused: dict[int, float] = {}
        for ranked in (dense, lexical):
            for rank, (row, _score) in enumerate(ranked, start=1):
                fused[row] = fused.get(row, 0.0) + 1.0 / (self._cfg.rrf_k + rank)
        best = sorted(fused, key=lambda r: (-fused[r], r))[:k]
        hits = []
        for rank, row in enumerate(best, start=1):
            meta = self._metas[row]
            hits.append(
                Hit(
                    rank=rank, score=fused[row], topic=meta.get("topic", ""), section_id=meta.get("section_id", ""),
                    title=meta.get("title", ""), heading=meta.get("heading", ""), source=meta.get("source", ""),
                    text=self._docs[row], similarity=float(self._matrix[row] @ vector),
                )
            )
        return hits
