"""The hybrid search as a LangChain retriever, for chains that take one.

Kept apart from :mod:`coach.search.retrieval` so that the query path (``coach retrieve``, Ask,
grading) does not import LangChain's runnables and tracers, which cost about half a second.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict


class GuideRetriever(BaseRetriever):
    """The hybrid search as a LangChain retriever (documents carry the hit fields as metadata)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Any
    k: int = 5
    topic: str | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(page_content=h.text, metadata={k: v for k, v in h.as_json().items() if k != "text"})
            for h in self.searcher.search(query, k=self.k, topic=self.topic)
        ]
