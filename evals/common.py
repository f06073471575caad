"""What every eval module shares: paths, thresholds, the verdict type and the eval's own Coach.

The suite builds its own index under ``.coach/eval`` from the real guide (incremental ingest, so a
rerun with an unchanged guide costs a second) and never touches the developer's ``.coach`` index.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # pragma: no cover
    from coach.core import Coach

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
EVALS = ROOT / "evals"
DATA_DIR = EVALS / "data"
REPORTS_DIR = EVALS / "reports"
THRESHOLDS_FILE = EVALS / "thresholds.yaml"
DEFAULT_DATA_DIR = ROOT / ".coach" / "eval"
TOPICS: tuple[str, ...] = ("lifecycle", "infrastructure", "design-patterns", "monitoring", "architectures")


@dataclass
class Check:
    """One cell of the summary table: a figure, its target and whether it passed.

    ``passed`` is None for a figure that is reported but not gated, and for a skipped part.
    """

    check: str           # row label, e.g. "Retrieval recall@5"
    scope: str           # "all" or a topic
    value: float | None
    target: str          # e.g. ">= 0.95"; "" when reported only
    passed: bool | None
    note: str = ""       # short text shown instead of the value ("skipped", "3/3 scenarios")

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def gate(check: str, scope: str, value: float | None, minimum: float | None, note: str = "",
         maximum: float | None = None) -> Check:
    """A gated check: ``value >= minimum`` (or ``<= maximum``); no threshold means report only."""
    if value is None:
        return Check(check, scope, None, "", None, note or "n/a")
    if minimum is not None:
        return Check(check, scope, value, f">= {minimum:g}", value >= minimum - 1e-9, note)
    if maximum is not None:
        return Check(check, scope, value, f"<= {maximum:g}", value <= maximum + 1e-9, note)
    return Check(check, scope, value, "", None, note)


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def load_queries(path: Path = DATA_DIR / "retrieval_queries.yaml") -> tuple[list[dict], list[dict]]:
    """(labelled in-scope queries, out-of-scope questions)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return list(data.get("queries", [])), list(data.get("out_of_scope", []))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def latency(values: list[float], digits: int = 1) -> dict[str, float]:
    """p50 and p95 of a list of milliseconds, rounded for the report."""
    return {"p50": round(percentile(values, 0.5), digits), "p95": round(percentile(values, 0.95), digits)}


def ratio(num: float, den: float) -> float | None:
    return num / den if den else None


# ------------------------------------------------------------------ the eval's Coach
def eval_coach(data_dir: Path = DEFAULT_DATA_DIR, config: str | Path | None = None, llm_mode: str = "fake") -> "Coach":
    """A Coach over the repository's guide with its own data folder (index and database)."""
    from coach.core import Coach
    from coach.settings import load_settings

    overrides = {
        "paths.knowledge_dir": str(ROOT / "knowledge"), "paths.prompts_dir": str(ROOT / "prompts"),
        "paths.data_dir": str(Path(data_dir).resolve()), "llm.mode": llm_mode,
        # the eval's index and database always live in its own folder, never on a shared server
        "vector_store.path": None, "vector_store.host": None, "vector_store.port": None, "store.path": None,
    }
    return Coach(load_settings(config, overrides=overrides))


def sibling(coach: "Coach", *, llm_mode: str | None = None, store_path: Path | None = None) -> "Coach":
    """A Coach sharing ``coach``'s loaded services (embeddings, guide, bank, grader, index) but with
    its own chat model and, optionally, its own SQLite store."""
    from coach.core import Coach

    settings = coach.settings.model_copy(deep=True)
    if llm_mode is not None:
        settings.llm.mode = llm_mode
    if store_path is not None:
        settings.store.path = Path(store_path)
    twin = Coach(settings)
    for name in ("embeddings", "guide", "bank", "grader"):
        twin.__dict__[name] = getattr(coach, name)
    twin.__dict__["_searcher"] = coach.searcher
    return twin
