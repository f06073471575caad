"""Sentence embeddings from the packaged all-MiniLM-L6-v2, loaded lazily and never from a hub.

The model loads on the first call, not at construction, so commands that find nothing to embed
(a no-change re-ingest, ``coach --help``) never pay for it. Two backends give the same vectors:
``onnx`` (default: onnxruntime + tokenizers, no torch on the query path; the model is exported
once and cached, see :mod:`coach.search.onnx_model`) and ``torch`` (sentence-transformers, the
reference implementation and the export's source).
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import SettingsError
from coach.search.model_files import offline_environment, packaged_model_path

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

    from coach.settings import Settings

PACKAGED_MODEL_NAME = "all-MiniLM-L6-v2"
BACKENDS = ("onnx", "torch")


class LocalEmbeddings:
    """A local sentence-transformers folder, normalised for cosine (LangChain's interface over it:
    :class:`coach.search.lc_embeddings.LangChainEmbeddings`)."""

    def __init__(self, model_path: Path | None = None, device: str = "cpu", batch_size: int = 32, *,
                 backend: str = "onnx", cache_dir: Path | None = None, threads: int | None = None) -> None:
        if backend not in BACKENDS:
            raise SettingsError(f"embeddings.backend {backend!r} is not one of: {', '.join(BACKENDS)}")
        self.model_path = Path(model_path) if model_path else None
        self.device = device
        self.batch_size = batch_size
        self.backend = backend
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """A stable label stored with the index so a model change forces a rebuild."""
        return self.model_path.name if self.model_path else PACKAGED_MODEL_NAME

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._load_onnx() if self.backend == "onnx" else self._load_torch()
            return self._model

    def _model_dir(self) -> Path:
        path = self.model_path or packaged_model_path()
        if not path.is_dir():
            raise SettingsError(f"embeddings.model_path {path} is not a folder")
        return path

    def _load_onnx(self) -> Any:
        from coach.search.onnx_model import OnnxEncoder, ensure_export

        model_dir = self._model_dir()
        cache = self.cache_dir or Path(tempfile.gettempdir()) / "coach-models"
        return OnnxEncoder(ensure_export(model_dir, cache), threads=self.threads)

    def _load_torch(self) -> "SentenceTransformer":
        offline_environment()
        path = self._model_dir()
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        return SentenceTransformer(str(path), device=self.device, local_files_only=True)

    def encode(self, texts: list[str]):
        """Normalised float32 matrix, one row per text (numpy)."""
        model = self._load()
        if self.backend == "onnx":
            return model.encode(list(texts), batch_size=self.batch_size)
        return model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )


def build_embeddings(settings: "Settings") -> LocalEmbeddings:
    cfg = settings.embeddings
    path = settings.resolve(cfg.model_path) if cfg.model_path else None
    cache = settings.resolve(cfg.onnx_dir) if cfg.onnx_dir else settings.data_dir / "models"
    return LocalEmbeddings(model_path=path, device=cfg.device, batch_size=cfg.batch_size, backend=cfg.backend,
                           cache_dir=cache, threads=cfg.threads)
