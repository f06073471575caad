"""Opening the Chroma index: an on-disk ``PersistentClient`` or a ``chroma run`` server.

Reading never creates anything: a missing folder or collection is an ``IndexMissingError`` that
says to run ``coach ingest``. Writing creates the collection with our embedding model's name in
its metadata, so a later change of model is caught instead of mixing vectors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import CoachError, IndexMissingError, StoreUnavailableError

if TYPE_CHECKING:  # pragma: no cover
    from langchain_chroma import Chroma

    from coach.search.embeddings import LocalEmbeddings
    from coach.settings import Settings

MODEL_KEY = "embedding_model"


def _describe(settings: "Settings") -> str:
    vs = settings.vector_store
    return f"Chroma server {vs.host}:{vs.port}" if vs.is_server else f"index folder {settings.chroma_path}"


def _unreadable(settings: "Settings", exc: BaseException) -> CoachError:
    """The one-line error for a failed Chroma call: unreachable server, or a broken index folder."""
    vs = settings.vector_store
    if vs.is_server:
        return StoreUnavailableError(
            f"cannot reach the Chroma server at {vs.host}:{vs.port} ({type(exc).__name__}); "
            "start it with `chroma run --host HOST --port PORT --path DIR` or fix vector_store.host/port"
        )
    return IndexMissingError(
        f"the index at {settings.chroma_path} is unreadable ({type(exc).__name__}: {str(exc)[:120]}); "
        "run `coach ingest --rebuild` to set it aside and build it again"
    )


def _forget_clients() -> None:
    """chromadb caches one started system per path; a failed one must not be reused."""
    try:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:  # noqa: BLE001 - best effort
        pass


@contextmanager
def chroma_errors(settings: "Settings") -> Iterator[None]:
    """Turn anything chromadb raises into our errors.

    chromadb's Rust core panics on a malformed ``chroma.sqlite3`` (``PanicException`` derives
    from ``BaseException``, not ``Exception``), so only interrupts pass through unchanged.
    """
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit, CoachError):
        raise
    except BaseException as exc:  # noqa: BLE001 - see the docstring
        if not settings.vector_store.is_server:
            _forget_clients()
        raise _unreadable(settings, exc) from None


def index_is_intact(path: Path) -> bool:
    """SQLite's own ``quick_check`` of ``chroma.sqlite3`` (read-only); False when it is damaged."""
    db = path / "chroma.sqlite3"
    if not db.is_file():
        return True
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
        try:
            return con.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            con.close()
    except sqlite3.Error:
        return False


def open_client(settings: "Settings", *, create: bool) -> Any:
    """A chromadb client; ``create`` allows making the on-disk folder."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    vs = settings.vector_store
    if vs.is_server:
        from coach.search.chroma_http import http_client

        with chroma_errors(settings):
            return http_client(vs.host, vs.port, chroma_settings, vs.timeout_s)
    path = settings.chroma_path
    if not create and not (path / "chroma.sqlite3").is_file():
        raise IndexMissingError(f"no index at {path}: run `coach ingest` first")
    # Checked before chromadb opens it: its Rust core panics on a malformed file and prints the
    # panic to stderr before we could turn it into one line.
    if not index_is_intact(path):
        raise IndexMissingError(f"the index at {path} is damaged (SQLite's integrity check fails); "
                                "run `coach ingest --rebuild` to set it aside and build it again")
    with chroma_errors(settings):
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _opened(settings: "Settings", embeddings: "LocalEmbeddings", open_fn: Callable[[], tuple[Any, Any]]) -> Any:
    """Run ``open_fn`` (-> opened object, collection metadata) with our errors and the model check."""
    try:
        opened, metadata = open_fn()
    except CoachError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - chromadb's Rust panics are BaseExceptions
        if not settings.vector_store.is_server:
            _forget_clients()
        raise _unreadable(settings, exc) from None
    stored_model = (metadata or {}).get(MODEL_KEY)
    if stored_model and stored_model != embeddings.name:
        raise IndexMissingError(
            f"the index was built with embedding model {stored_model!r} but settings use {embeddings.name!r}: "
            "run `coach ingest --rebuild`"
        )
    return opened


def _require_collection(settings: "Settings", client: Any) -> None:
    name = settings.vector_store.collection
    existing = {c if isinstance(c, str) else c.name for c in client.list_collections()}
    if name not in existing:
        raise IndexMissingError(f"{_describe(settings)} has no collection {name!r}: run `coach ingest` first")


def open_store(settings: "Settings", embeddings: "LocalEmbeddings", *, create: bool = False) -> "Chroma":
    """The LangChain Chroma wrapper over our collection (always with our embedding function)."""
    from langchain_chroma import Chroma

    from coach.search.lc_embeddings import LangChainEmbeddings

    client = open_client(settings, create=create)

    def open_fn() -> tuple[Any, Any]:
        if not create:
            _require_collection(settings, client)
        store = Chroma(
            client=client,
            collection_name=settings.vector_store.collection,
            embedding_function=LangChainEmbeddings(embeddings),
            collection_metadata={"hnsw:space": "cosine", MODEL_KEY: embeddings.name},
            create_collection_if_not_exists=create,
        )
        return store, store._collection.metadata

    return _opened(settings, embeddings, open_fn)


class _ChromaEmbedding:
    """Our embeddings in chromadb's own protocol, so a collection never falls back to its default
    (downloading) embedding function, without importing the LangChain wrapper (~0.8 s cold)."""

    def __init__(self, embeddings: "LocalEmbeddings") -> None:
        self._embeddings = embeddings

    def __call__(self, input: list[str]) -> list[Any]:  # noqa: A002 - chromadb's parameter name
        return list(self._embeddings.encode(list(input)))

    @staticmethod
    def name() -> str:
        return "coach-local"

    def is_legacy(self) -> bool:
        return True


def open_collection(settings: "Settings", embeddings: "LocalEmbeddings") -> Any:
    """The collection itself for the query path (read-only); same checks and errors as :func:`open_store`."""
    client = open_client(settings, create=False)

    def open_fn() -> tuple[Any, Any]:
        _require_collection(settings, client)
        collection = client.get_collection(settings.vector_store.collection,
                                           embedding_function=_ChromaEmbedding(embeddings))
        return collection, collection.metadata

    return _opened(settings, embeddings, open_fn)


def drop_collection(settings: "Settings") -> bool:
    """Delete our collection (for ``--rebuild``); True when there was one."""
    client = open_client(settings, create=True)
    name = settings.vector_store.collection
    with chroma_errors(settings):
        names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        if name not in names:
            return False
        client.delete_collection(name)
        return True
