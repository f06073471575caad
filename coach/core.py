"""``Coach``: the facade the CLI, the web app and Python users share.

It owns the settings and builds each service on first use (embeddings, index, guide), so
``Coach.from_settings()`` is instant and a command pays only for what it touches.
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.settings import Settings, load_settings

if TYPE_CHECKING:  # pragma: no cover
    from coach.search.embeddings import LocalEmbeddings
    from langchain_core.language_models import BaseChatModel

    from coach.search.ask import AskResult, GuideAnswerer
    from coach.practice.assessment import Assessment
    from coach.grading.drafted_rubric import RubricDrafter
    from coach.grading.grader import Grader
    from coach.grading.results import GradeResult
    from coach.llm.phrasing import Phraser
    from coach.llm.prompts import PromptLibrary
    from coach.practice.engine import PracticeEngine
    from coach.store.sessions import Mastery, Store
    from coach.content.guide import Guide
    from coach.content.questions import Question, QuestionBank
    from coach.search.lc_retriever import GuideRetriever
    from coach.search.retrieval import Hit, HybridSearcher
    from ingest.pipeline import IngestReport


class Coach:
    """Entry point: ``Coach.from_settings().retrieve("how do I detect drift?")``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        # One gate for every model call of this process, whichever user or tab makes it.
        self._model_gate = threading.BoundedSemaphore(settings.server.concurrency_limit)

    @classmethod
    def from_settings(cls, path: str | Path | None = None, **overrides: Any) -> "Coach":
        """Load settings from ``path`` (or $COACH_CONFIG / ./coach.yaml) plus the environment.

        Keyword overrides use dotted keys with ``__`` for dots, e.g. ``llm__mode="fake"``.
        """
        dotted = {key.replace("__", "."): value for key, value in overrides.items()}
        return cls(load_settings(path, overrides=dotted))

    @cached_property
    def embeddings(self) -> "LocalEmbeddings":
        from coach.search.embeddings import build_embeddings

        return build_embeddings(self.settings)

    @cached_property
    def guide(self) -> "Guide":
        from coach.content.guide import load_guide

        return load_guide(self.settings.knowledge_dir)

    @property
    def searcher(self) -> "HybridSearcher":
        with self._lock:
            if "_searcher" not in self.__dict__:
                from coach.search.retrieval import HybridSearcher
                from coach.search.vectorstore import open_collection

                collection = open_collection(self.settings, self.embeddings)
                self.__dict__["_searcher"] = HybridSearcher(collection, self.embeddings, self.settings)
            return self.__dict__["_searcher"]

    def ingest(self, *, rebuild: bool = False, progress: bool = False, log=print) -> "IngestReport":
        """Bring the index up to date with the guide; later searches see the new chunks."""
        from ingest.pipeline import run_ingest

        report = run_ingest(self.settings, self.embeddings, rebuild=rebuild, progress=progress, log=log)
        with self._lock:
            self.__dict__.pop("_searcher", None)
            for name in ("guide", "bank", "grader"):
                self.__dict__.pop(name, None)
        return report

    def retrieve(self, query: str, k: int | None = None, topic: str | None = None) -> list["Hit"]:
        """Hybrid search over the guide; raises QueryError / IndexMissingError with a one-line reason."""
        from coach.search.retrieval import check_query

        query = check_query(query, topic, self.settings.retrieval.max_query_chars)  # before loading anything
        return self.searcher.search(query, k=k or self.settings.retrieval.k, topic=topic)

    def retriever(self, k: int | None = None, topic: str | None = None) -> "GuideRetriever":
        """The same search as a LangChain ``BaseRetriever``."""
        from coach.search.lc_retriever import GuideRetriever

        return GuideRetriever(searcher=self.searcher, k=k or self.settings.retrieval.k, topic=topic)

    # ------------------------------------------------------------------ grading
    @cached_property
    def bank(self) -> "QuestionBank":
        """Rubric and questions, with every section link checked against the guide."""
        from coach.content.cache import load_bank_cached

        return load_bank_cached(self.settings.knowledge_dir, set(self.guide.sections),
                                self.settings.data_dir / "cache")

    @cached_property
    def grader(self) -> "Grader":
        from coach.grading.grader import Grader

        grader = Grader(self.bank, self.embeddings, guide=self.guide, searcher=_LazySearcher(self),
                        max_answer_chars=self.settings.session.max_answer_chars)
        if self.settings.llm.mode in ("ollama", "openai"):  # only a capable model may draft a rubric
            grader.drafter = lambda text, section_ids: self.rubric_drafter.draft(text, section_ids)
        return grader

    @cached_property
    def rubric_drafter(self) -> "RubricDrafter":
        from coach.grading.drafted_rubric import RubricDrafter

        llm = self.settings.llm
        return RubricDrafter(self.chat_model, self.prompts, self.guide, self.store,
                             set(self.bank.rubric.dimension_ids), model_name=f"{llm.mode}:{llm.model or 'default'}")

    def grade(self, question: "str | Question", answer: str) -> "GradeResult":
        """Grade an answer against a bank question (object, id or free text)."""
        return self.grader.grade(question, answer)

    # ------------------------------------------------------------------ LLM phrasing
    @cached_property
    def chat_model(self) -> "BaseChatModel":
        """The configured backend (built once; the embedded model itself loads on first call)."""
        from coach.llm.factory import build_chat_model

        return build_chat_model(self.settings)

    @cached_property
    def prompts(self) -> "PromptLibrary":
        from coach.llm.prompts import PromptLibrary

        return PromptLibrary(self.settings.prompts_dir)

    def phraser(self) -> "Phraser":
        """A fresh guarded phraser per turn (it records that turn's fallback state)."""
        from coach.llm.phrasing import Phraser

        return Phraser(self.chat_model, self.prompts, self.settings.llm.timeout_s, gate=self._model_gate)

    def phraser_for(self, template: str) -> "Phraser | None":
        """A phraser when the model should phrase ``template`` (``llm.phrasing``), else None: template text."""
        if not self.settings.llm.phrases(self.prompts.get(template).embedded_model):
            return None
        return self.phraser()

    # ------------------------------------------------------------------ sessions, ask, progress
    @cached_property
    def store(self) -> "Store":
        from coach.store.sessions import Store

        return Store.from_settings(self.settings)

    @cached_property
    def engine(self) -> "PracticeEngine":
        from coach.practice.engine import PracticeEngine

        return PracticeEngine(self.bank, self.guide, self.grader, self.store, self.embeddings, self.settings.session,
                              phraser_factory=self.phraser_for)

    @cached_property
    def answerer(self) -> "GuideAnswerer":
        from coach.search.ask import GuideAnswerer

        cfg = self.settings.retrieval
        return GuideAnswerer(_LazySearcher(self), self.embeddings, cfg.min_dense_similarity,
                             lexical_floor=cfg.lexical_floor, min_term_coverage=cfg.min_term_coverage,
                             phraser_factory=self.phraser if self.settings.llm.writes_ask_prose else lambda: None)

    def ask(self, question: str, topic: str | None = None, previous: str | None = None) -> "AskResult":
        """Answer a question from the guide with numbered citations (or say it is not covered).

        ``previous`` is the learner's last question in the same conversation: a follow-up such as
        "and how do I alert on it?" is searched together with it.
        """
        from coach.search.retrieval import check_query

        question = check_query(question, topic, self.settings.retrieval.max_query_chars)
        return self.answerer.ask(question, topic=topic, previous=previous)

    def ask_in_session(self, session_id: str, question: str, topic: str | None = None) -> "AskResult":
        """``coach ask --session ID``: a follow-up is read with the conversation's previous question."""
        from coach.search.ask_history import AskHistory

        history = AskHistory(self.settings.data_dir / "ask")
        asked = history.questions(session_id)
        result = self.ask(question, topic=topic, previous=asked[-1] if asked else None)
        history.save(session_id, asked + [question])
        return result

    def assess(self, question_id: str, answer: str, ratings: dict[str, int], user: str = "local") -> "Assessment":
        """Self-assessment: grade the answer and compare it with the candidate's own ratings."""
        from coach.practice.assessment import self_assess

        return self_assess(self.grader, self.store, question_id, answer, ratings, user=user)

    def progress(self, user: str | None = None) -> "Mastery":
        return self.store.mastery(user=user)

    def report(self, session_id: str) -> str:
        """The session as Markdown: question, transcript, critique and citations."""
        from coach.practice.report import session_markdown

        return session_markdown(self.store, self.bank, self.guide, session_id)

    def progress_text(self, user: str | None = None) -> str:
        """Mastery, recent sessions and the next question, as plain text (``coach progress``)."""
        from coach.practice.progress import progress_text

        return progress_text(self.store, self.engine, self.bank.rubric, user)

    def recommend_next(self, user: str | None = None) -> dict[str, Any] | None:
        """The question "weakest area" would pose now, with the reason."""
        from coach.practice.progress import recommend_next

        return recommend_next(self.store, self.engine, self.bank.rubric, user)


class _LazySearcher:
    """Defers opening the index until a free-text question needs a rubric built from the guide."""

    def __init__(self, coach: Coach) -> None:
        self._coach = coach

    def search(self, query: str, k: int = 5, topic: str | None = None):
        return self._coach.searcher.search(query, k=k, topic=topic)

    def term_coverage(self, query: str, hits) -> float:
        return self._coach.searcher.term_coverage(query, hits)

    def term_weights(self, query: str) -> dict[str, float]:
        return self._coach.searcher.term_weights(query)

