"""Groundedness of Ask: are answer sentences supported by the passages they cite, and does Ask
decline what the guide does not cover?

For every labelled query the answer is split into sentences and each one is checked against the
cited passages with the same test Ask applies to model output (``GuideAnswerer._supported``: close
in meaning to one passage sentence, or most of its content words in one passage). Measured with
the fake model (the extractive path) on every query, and with the embedded model on a sample.
For the model path we also report how many sentences the model wrote and Ask dropped as
unsupported before the user saw the answer.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from evals.common import TOPICS, Check, gate, latency, ratio

if TYPE_CHECKING:  # pragma: no cover
    from coach.core import Coach


@dataclass
class AskOutcome:
    id: str
    topic: str
    query: str
    covered: bool
    supported: int = 0
    unsupported: list[str] = field(default_factory=list)
    dropped: int = 0            # model sentences Ask removed before answering
    used_model: bool = False
    cited_sections: list[str] = field(default_factory=list)
    ms: float = 0.0


@dataclass
class AskModeResult:
    mode: str                   # fake | smollm2
    outcomes: list[AskOutcome] = field(default_factory=list)
    declined_oos: list[str] = field(default_factory=list)      # ids of out-of-scope questions declined
    answered_oos: list[str] = field(default_factory=list)
    oos_answered_detail: list[dict[str, Any]] = field(default_factory=list)  # query, cited sections, top similarity
    skipped: str | None = None

    def grounded_share(self, topic: str | None = None) -> float | None:
        rows = [o for o in self.outcomes if o.covered and (topic is None or o.topic == topic)]
        total = sum(o.supported + len(o.unsupported) for o in rows)
        return ratio(sum(o.supported for o in rows), total)

    def wrongly_declined(self, topic: str | None = None) -> float | None:
        rows = [o for o in self.outcomes if topic is None or o.topic == topic]
        return ratio(sum(1 for o in rows if not o.covered), len(rows))

    @property
    def oos_declined_share(self) -> float | None:
        return ratio(len(self.declined_oos), len(self.declined_oos) + len(self.answered_oos))

    def as_json(self) -> dict[str, Any]:
        model_rows = [o for o in self.outcomes if o.covered]
        written = sum(o.supported + len(o.unsupported) + o.dropped for o in model_rows if o.used_model)
        return {
            "mode": self.mode, "skipped": self.skipped, "queries": len(self.outcomes),
            "grounded_share": self.grounded_share(),
            "grounded_by_topic": {t: self.grounded_share(t) for t in TOPICS},
            "in_scope_wrongly_declined": self.wrongly_declined(),
            "wrongly_declined_by_topic": {t: self.wrongly_declined(t) for t in TOPICS},
            "out_of_scope": len(self.declined_oos) + len(self.answered_oos),
            "out_of_scope_declined": self.oos_declined_share, "out_of_scope_answered": self.answered_oos,
            "out_of_scope_answered_detail": self.oos_answered_detail,
            "used_model": sum(o.used_model for o in self.outcomes),
            "model_sentences_dropped": sum(o.dropped for o in self.outcomes),
            "model_sentences_written": written,
            "latency_ms": latency([o.ms for o in self.outcomes], 1),
            "outcomes": [asdict(o) for o in self.outcomes],
        }


@dataclass
class AskResult:
    modes: dict[str, AskModeResult]
    thresholds: dict[str, Any]

    def checks(self) -> list[Check]:
        cfg = self.thresholds
        fake = self.modes["fake"]
        out = [gate("Ask grounded sentences (extractive)", "all", fake.grounded_share(), cfg.get("grounded_share_extractive"))]
        for topic in TOPICS:
            out.append(gate("Ask grounded sentences (extractive)", topic, fake.grounded_share(topic),
                            cfg.get("grounded_share_extractive")))
        n_oos = len(fake.declined_oos) + len(fake.answered_oos)
        out.append(gate("Ask out-of-scope declined", "all", fake.oos_declined_share, cfg.get("out_of_scope_declined"),
                        note=f"{len(fake.declined_oos)}/{n_oos}"))
        out.append(gate("Ask in-scope wrongly declined", "all", fake.wrongly_declined(), None,
                        maximum=cfg.get("in_scope_wrongly_declined_max")))
        for topic in TOPICS:
            out.append(gate("Ask in-scope wrongly declined", topic, fake.wrongly_declined(topic), None,
                            maximum=cfg.get("in_scope_wrongly_declined_max")))
        llm = self.modes.get("smollm2")
        label = "Ask grounded sentences (smollm2 sample)"
        if llm is None or llm.skipped:
            out.append(Check(label, "all", None, "", None, "skipped"))
        else:
            out.append(gate(label, "all", llm.grounded_share(), cfg.get("grounded_share_model"),
                            note=f"{sum(o.used_model for o in llm.outcomes)}/{len(llm.outcomes)} used the model"))
        return out

    def as_json(self) -> dict[str, Any]:
        return {"thresholds": self.thresholds, "modes": {m: r.as_json() for m, r in self.modes.items()}}


def support(coach: "Coach", answer: str, citations) -> tuple[int, list[str]]:
    """(supported sentences, unsupported sentences) of ``answer`` against its cited passages."""
    from coach.search.ask import passage_units

    units = passage_units(citations)
    if not units:
        return 0, [answer] if answer.strip() else []
    vecs = coach.embeddings.encode([u for _, u in units])
    kept, dropped = coach.answerer._supported(answer, units, vecs)
    return len(kept), dropped


def run_mode(coach: "Coach", mode: str, queries: list[dict[str, Any]], oos: list[dict[str, Any]],
             log: Callable[[str], None] = lambda m: None) -> AskModeResult:
    result = AskModeResult(mode=mode)
    for i, q in enumerate(queries, start=1):
        start = time.perf_counter()
        answer = coach.ask(q["query"])
        ms = (time.perf_counter() - start) * 1000
        outcome = AskOutcome(id=q["id"], topic=q["topic"], query=q["query"], covered=answer.covered,
                             dropped=len(answer.dropped), used_model=answer.used_model, ms=ms,
                             cited_sections=[c.section_id for c in answer.citations])
        if answer.covered:
            outcome.supported, outcome.unsupported = support(coach, answer.answer, answer.citations)
        result.outcomes.append(outcome)
        if mode != "fake" and i % 5 == 0:
            log(f"ask: {mode} {i}/{len(queries)} answered")
    for q in oos:
        answer = coach.ask(q["query"])
        if not answer.covered:
            result.declined_oos.append(q["id"])
            continue
        result.answered_oos.append(q["id"])
        top = coach.searcher.search(q["query"], k=1)
        result.oos_answered_detail.append({
            "id": q["id"], "query": q["query"], "cited": list(dict.fromkeys(c.section_id for c in answer.citations)),
            "top_similarity": round(top[0].similarity, 3) if top else None,
            "min_dense_similarity": coach.settings.retrieval.min_dense_similarity})
    return result


def sample(queries: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """``n`` queries spread evenly over the file (so every topic is in the sample)."""
    if n >= len(queries):
        return list(queries)
    return [queries[int(i * len(queries) / n)] for i in range(n)]


def run_ask_eval(coach: "Coach", queries: list[dict[str, Any]], oos: list[dict[str, Any]], thresholds: dict[str, Any],
                 *, llm_coach: "Coach | None" = None, log: Callable[[str], None] = lambda m: None) -> AskResult:
    cfg = thresholds.get("ask", {})
    modes = {"fake": run_mode(coach, "fake", queries, oos)}
    log(f"ask: extractive grounded share {modes['fake'].grounded_share() or 0:.3f}, "
        f"out-of-scope declined {modes['fake'].oos_declined_share or 0:.2f}")
    if llm_coach is None:
        modes["smollm2"] = AskModeResult(mode="smollm2", skipped="--skip-llm")
    else:
        modes["smollm2"] = run_mode(llm_coach, "smollm2", sample(queries, int(cfg.get("llm_sample", 15))), [], log=log)
    return AskResult(modes=modes, thresholds=cfg)
