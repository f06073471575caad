"""Speed figures, reported and never gated: no-change re-ingest, retrieval and grading latency, and
the embedded model's first token and whole critique.

Retrieval and grading times come from the retrieval and grading evals (every labelled query and
answer); this module adds the ingest and embedded-model timings.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evals.common import Check, percentile

if TYPE_CHECKING:  # pragma: no cover
    from coach.core import Coach

PARTIAL = ("I'd use a gradient boosted tree over velocity features such as how many cards one device used in the "
           "last ten minutes. Since fraud is rare I'd compare models on PR-AUC rather than accuracy.")


@dataclass
class SpeedResult:
    figures: dict[str, float | None] = field(default_factory=dict)   # name -> milliseconds
    notes: dict[str, str] = field(default_factory=dict)

    def checks(self) -> list[Check]:
        return [Check(f"Speed: {name}", "all", value, "", None, self.notes.get(name, "ms") if value is not None
                      else self.notes.get(name, "skipped")) for name, value in self.figures.items()]

    def as_json(self) -> dict[str, Any]:
        return {"figures_ms": {k: (round(v, 1) if v is not None else None) for k, v in self.figures.items()},
                "notes": self.notes}


def time_reingest(coach: "Coach", repeat: int = 3) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        report = coach.ingest(progress=False, log=lambda m: None)
        out.append((time.perf_counter() - start) * 1000)
        if report.changed:  # the first call may still have had work to do; only no-change runs count
            out.pop()
    return out


def time_embedded_model(llm_coach: "Coach", repeat: int = 3) -> dict[str, list[float]]:
    """First checked probe sentence, first released model sentence of the critique summary, and the whole
    critique. The guard releases model text a sentence at a time, so that is the first text a user sees."""
    llm_coach.chat_model.invoke("Say hello.")  # load the weights once; loading is not what we time
    probe_first, critique_first, critique_total = [], [], []
    for _ in range(repeat):
        view = llm_coach.engine.start(question_id="arch-q01")
        start = time.perf_counter()
        reply = llm_coach.engine.respond(view.session_id, PARTIAL)
        chunks = iter(reply.chunks)
        next(chunks, None)
        probe_first.append((time.perf_counter() - start) * 1000)
        for _chunk in chunks:
            pass
        start = time.perf_counter()
        final = llm_coach.engine.finish(view.session_id)
        chunks = iter(final.chunks)
        next(chunks, None)  # the deterministic card
        first = None
        for chunk in chunks:
            if first is None and chunk.strip() and "Coach's summary" not in chunk:
                first = (time.perf_counter() - start) * 1000
        critique_first.append(first if first is not None else (time.perf_counter() - start) * 1000)
        critique_total.append((time.perf_counter() - start) * 1000)
    return {"probe": probe_first, "critique_first": critique_first, "critique_total": critique_total}


def run_speed(coach: "Coach", *, retrieval_ms: list[float], grade_ms_p50: float | None,
              llm_coach: "Coach | None" = None, first_ingest_ms: float | None = None, repeat: int = 3) -> SpeedResult:
    res = SpeedResult()
    res.figures["first ingest of this run"] = first_ingest_ms
    res.notes["first ingest of this run"] = "ms (incremental: near a no-change run when the index exists)"
    reingest = time_reingest(coach, repeat)
    res.figures["no-change re-ingest p50"] = statistics.median(reingest) if reingest else None
    res.figures["retrieve p50"] = percentile(retrieval_ms, 0.5) if retrieval_ms else None
    res.figures["retrieve p95"] = percentile(retrieval_ms, 0.95) if retrieval_ms else None
    res.figures["grade p50"] = grade_ms_p50
    names = ("probe: first checked sentence p50", "critique: first model sentence p50", "critique: whole reply p50")
    if llm_coach is None:
        for name in names:
            res.figures[name] = None
            res.notes[name] = "skipped (--skip-llm)"
    else:
        timings = time_embedded_model(llm_coach, repeat)
        for name, key in zip(names, ("probe", "critique_first", "critique_total")):
            res.figures[name] = statistics.median(timings[key])
    return res
