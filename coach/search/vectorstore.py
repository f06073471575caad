"""Opening the Chroma index: an on-disk ``PersistentClient`` or a ``chroma run`` server.

Reading never creates anything: a missing folder or collection is an ``IndexMissingError`` that
says to run ``coach ingest``. Writing creates the collection with our embedding model's name in
its metadata, so a later change of model is caught instead of mixing vectors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coach.errors import IndexMissingError, StoreUnavailableError

if TYPE_CHECKING:  # pragma: no cover
    from langchain_chroma import Chroma

    from coach.search.embeddings import LocalEmbeddings
    from coach.settings import Settings

MODEL_KEY = "embedding_model"


def _describe(settings: "Settings") -> str:
    vs = settings.vector_store
    return f"Chroma server {vs.host}:{vs.port}" if vs.is_server else f"index folder {settings.chroma_path}"


def open_client(settings: "Settings", *, create: bool) -> Any:
    """A chromadb client; ``create`` allows making the on-disk folder."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    vs = settings.vector_store
    if vs.is_server:
        try:
            return chromadb.HttpClient(host=vs.host, port=vs.port, settings=chroma_settings)
        except Exception as exc:  # chromadb raises ValueError/ConnectionError variants
            raise StoreUnavailableError(
                f"cannot reach the Chroma server at {vs.host}:{vs.port} ({type(exc).__name__}); "
                "start it with `chroma run --host HOST --port PORT --path DIR` or fix vector_store.host/port"
            ) from None
    path = settings.chroma_path
    if not create and not (path / "chroma.sqlite3").is_file():
        raise IndexMissingError(f"no index at {path}: run `coach ingest` first")
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise IndexMissingError(
            f"the index at {path} is unreadable ({type(exc).__name__}: {str(exc)[:120]}); "
            "run `coach ingest --rebuild` to build it again"
        ) from None


def open_store(settings: "Settings", embeddings: "LocalEmbeddings", *, create: bool = False) -> "Chroma":
    """The LangChain Chroma wrapper over our collection (always with our embedding function)."""
    from langchain_chroma import Chroma

    client = open_client(settings, create=create)
    name = settings.vector_store.collection
    try:
        if not create:
            existing = {c if isinstance(c, str) else c.name for c in client.list_collections()}
            if name not in existing:
                raise IndexMissingError(f"{_describe(settings)} has no collection {name!r}: run `coach ingest` first")
        store = Chroma(
            client=client,
            collection_name=name,
            embedding_function=embeddings,
            collection_metadata={"hnsw:space": "cosine", MODEL_KEY: embeddings.name},
            create_collection_if_not_exists=create,
        )
        stored_model = (store._collection.metadata or {}).get(MODEL_KEY)
    except IndexMissingError:
        raise
    except Exception as exc:
        if settings.vector_store.is_server:
            raise StoreUnavailableError(
                f"{_describe(settings)} failed: {type(exc).__name__}: {str(exc)[:160]}"
            ) from None
        raise IndexMissingError(
            f"the {_describe(settings)} is unreadable ({type(exc).__name__}: {str(exc)[:120]}); "
            "run `coach ingest --rebuild`"
        ) from None
    if stored_model and stored_model != embeddings.name:
        raise IndexMissingError(
            f"the index was built with embedding model {stored_model!r} but settings use {embeddings.name!r}: "
            "run `coach ingest --rebuild`"
        )
    return store


def drop_collection(settings: "Settings") -> bool:
    """Delete our collection (for ``--rebuild``); True when there was one."""
    client = open_client(settings, create=True)
    name = settings.vector_store.collection
    try:
        client.delete_collection(name)
        return True
    except Exception:
        return False
