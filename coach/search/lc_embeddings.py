"""Our embeddings as LangChain ``Embeddings``, for the LangChain Chroma wrapper that ingest writes through.

Kept apart from :mod:`coach.search.embeddings` for the same reason as :mod:`coach.search.lc_retriever`:
``langchain_core.embeddings`` brings LangChain's runnables and callbacks (~0.1 s of every cold
``coach retrieve``), and the query path talks to chromadb directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:  # pragma: no cover
    from coach.search.embeddings import LocalEmbeddings


class LangChainEmbeddings(Embeddings):
    """``embed_documents`` / ``embed_query`` over :class:`LocalEmbeddings` (same vectors, as lists)."""

    def __init__(self, embeddings: "LocalEmbeddings") -> None:
        self.embeddings = embeddings

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embeddings.encode(list(texts)).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self.embeddings.encode([text])[0].tolist()
