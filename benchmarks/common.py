"""Timing helpers and a scratch Coach over the real guide for the benchmarks."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Callable

from evals.common import percentile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock milliseconds of ``repeat`` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out



def row(name: str, values: list[float], baseline: list[float] | None = None, unit: str = "ms") -> str:
    med = statistics.median(values)
    text = f"{name:<44} p50 {med:9.1f} {unit}   p95 {percentile(values, 0.95):9.1f} {unit}   n={len(values)}"
    if baseline:
        text += f"   x{med / statistics.median(baseline):.2f} vs baseline"
    return text


def bench_coach(data_dir: Path, llm_mode: str = "fake", **overrides):
    """A Coach over the real guide with its own data folder (ingested incrementally)."""
    from coach.core import Coach

    return Coach.from_settings(
        None, paths__knowledge_dir=str(ROOT / "knowledge"), paths__prompts_dir=str(ROOT / "prompts"),
        paths__data_dir=str(data_dir), llm__mode=llm_mode, **overrides,
    )
