"""Sentence vectors the grader has already computed, so a growing answer embeds only what is new.

A practice session grades the whole answer so far after every turn ("\\n\\n".join of the turns),
so without a cache the first turn's sentences are embedded again on every later turn. A vector
does not depend on the other texts in its batch (``tests/search/test_onnx_embeddings.py``), so a
cached vector is the one a fresh batch would give, bit for bit, and grades do not change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from coach.search.embeddings import LocalEmbeddings


class VectorCache:
    """``encode(texts)`` through a bounded least-recently-used map of text -> vector."""

    def __init__(self, embeddings: "LocalEmbeddings", size: int = 4096) -> None:
        self.embeddings = embeddings
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()

    def encode(self, texts: list[str]) -> np.ndarray:
        """One row per text, as ``embeddings.encode`` gives it; only unseen texts are embedded (once each)."""
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, self.embeddings.encode(missing)))
        with self._lock:
            for text in dict.fromkeys(texts):
                self._vectors[text] = known[text]
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return np.vstack([known[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)
