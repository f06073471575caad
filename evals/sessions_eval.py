"""Sessions with planted gaps: scripted candidates that leave out known key points on purpose.

Each scenario answers a bank question while deliberately leaving out 2-3 rubric points (one per
weight level where possible, so the probe order is tested). The answer is either

- ``labelled-partial``: the labelled partial answer (evals/data) whose ``covers`` labels say which
  points it makes, plus one sentence for every other point except the planted ones; or
- ``composed``: one sentence per kept point, its text rephrased in the first person and opened with
  its first cue ("On chargeback, I would handle late labels: chargebacks take weeks ..., and I
  think that is one of the things that matters most here.").

After each probe the candidate replies with a sentence that adds nothing, so the engine moves on
to the next gap and then to the critique. A scenario passes when

1. probes: the probed points are exactly the planted ones, highest weight first;
2. critique: every planted point is in the critique's "missed" list, with at least one citation,
   and its text and ``knowledge/<file>`` link appear in the critique card;
3. no leak: no coach turn before the critique (probes, notes) contains a rubric point's text or a
   multi-word cue of a planted (really missing) point; the posed question itself is not checked.

Checks 1 and 2 need the grader to see the plant: when it credits a planted point or misses a kept
one, the engine rightly probes what the grader reports, and the scenario fails end to end for a
reason the grading eval already measures (key-point F1). So 1 and 2 are gated on the scenarios
where the first grade's missing points are exactly the planted ones ("grader agrees"); the end-to-end
pass rate over all scenarios is reported next to them with the cause of every failure. Check 3 is
gated on all scenarios.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from evals.common import TOPICS, Check, gate, ratio, sibling

if TYPE_CHECKING:  # pragma: no cover
    from coach.core import Coach
    from coach.questions import Question, QuestionBank, RubricPoint

NOTHING_NEW = ("I have not thought about that part in any depth yet, so I would rather move on and come back "
               "to it later if there is time left at the end.")
_IRREGULAR = {"does": "do", "caches": "cache", "goes": "go", "has": "have", "is": "be"}


@dataclass
class Scenario:
    id: str
    question_id: str
    topic: str
    source: str                 # labelled-partial | composed
    answer: str
    planted: list[str]          # point ids left out on purpose, highest weight first
    kept: list[str]


@dataclass
class ScenarioOutcome:
    scenario: str
    question_id: str
    topic: str
    source: str
    mode: str                   # fake | smollm2
    planted: list[str]
    expected_probes: list[str]
    probed: list[str] = field(default_factory=list)
    probe_texts: list[str] = field(default_factory=list)
    missed_in_critique: list[str] = field(default_factory=list)
    unplanted_missed: list[str] = field(default_factory=list)   # kept points the grader did not credit
    planted_uncited: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    grader_agrees: bool = False     # the first grade's missing points are exactly the planted ones
    grader_credited_planted: list[str] = field(default_factory=list)
    grader_missed_kept: list[str] = field(default_factory=list)
    probes_ok: bool = False
    critique_ok: bool = False
    leak_free: bool = False
    score: int | None = None
    seconds: float = 0.0
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.probes_ok and self.critique_ok and self.leak_free

    def problems(self) -> list[str]:
        out = []
        if self.error:
            out.append(f"error: {self.error}")
        if self.grader_credited_planted:
            out.append(f"grader credited planted gap(s) {self.grader_credited_planted}")
        if self.grader_missed_kept:
            out.append(f"grader did not credit kept point(s) {self.grader_missed_kept}")
        if not self.probes_ok:
            out.append(f"probes {self.probed} != planted in weight order {self.expected_probes}")
        if not self.critique_ok:
            missing = [p for p in self.planted if p not in self.missed_in_critique]
            if missing:
                out.append(f"critique does not name planted gap(s) {missing} (the grader credited them)")
            if self.planted_uncited:
                out.append(f"planted gap(s) without a citation in the card: {self.planted_uncited}")
        if not self.leak_free:
            out.append("rubric text in a coach turn before the critique: " + "; ".join(self.leaks))
        return out


@dataclass
class SessionsResult:
    outcomes: list[ScenarioOutcome]
    thresholds: dict[str, Any]
    skipped_llm: str | None = None
    probe_cue_overlaps: list[str] = field(default_factory=list)  # bank probes quoting another point's cue

    def _rows(self, mode: str, topic: str | None = None, agreeing: bool = False) -> list[ScenarioOutcome]:
        return [o for o in self.outcomes if o.mode == mode and (topic is None or o.topic == topic)
                and (o.grader_agrees or not agreeing)]

    def rates(self, mode: str, topic: str | None = None) -> dict[str, Any]:
        rows = self._rows(mode, topic)
        agree = self._rows(mode, topic, agreeing=True)
        return {"n": len(rows), "grader_agrees": len(agree),
                "probes_on_target": ratio(sum(o.probes_ok for o in agree), len(agree)),
                "critique_names_gaps": ratio(sum(o.critique_ok for o in agree), len(agree)),
                "no_rubric_leak": ratio(sum(o.leak_free for o in rows), len(rows)),
                "end_to_end": ratio(sum(o.passed for o in rows), len(rows))}

    def checks(self) -> list[Check]:
        cfg = self.thresholds
        out: list[Check] = []
        for mode in ("fake", "smollm2"):
            tag = "fake model" if mode == "fake" else "smollm2"
            if mode == "smollm2" and self.skipped_llm:
                out.append(Check(f"Sessions ({tag}): all checks", "all", None, "", None, "skipped"))
                continue
            scopes = ("all", *TOPICS)
            for scope in scopes:
                r = self.rates(mode, None if scope == "all" else scope)
                if not r["n"]:
                    continue
                agree = r["grader_agrees"]
                for key, label in (("probes_on_target", "probes = planted gaps, by weight"),
                                   ("critique_names_gaps", "critique cites every planted gap")):
                    hits = round((r[key] or 0) * agree)
                    out.append(gate(f"Sessions ({tag}): {label} [grader agrees]", scope, r[key], cfg.get(key),
                                    note=f"{hits}/{agree}" if agree else "none agree"))
                hits = round((r["no_rubric_leak"] or 0) * r["n"])
                out.append(gate(f"Sessions ({tag}): no rubric leak before critique", scope, r["no_rubric_leak"],
                                cfg.get("no_rubric_leak"), note=f"{hits}/{r['n']}"))
                hits = round((r["end_to_end"] or 0) * r["n"])
                out.append(gate(f"Sessions ({tag}): end to end, grader included", scope, r["end_to_end"], None,
                                note=f"{hits}/{r['n']}"))
        n_min = cfg.get("min_scenarios_per_topic")
        for topic in TOPICS:
            out.append(gate("Sessions: scenarios per topic", topic, self.rates("fake", topic)["n"], n_min))
        return out

    def as_json(self) -> dict[str, Any]:
        return {"thresholds": self.thresholds, "skipped_llm": self.skipped_llm,
                "probe_cue_overlaps": self.probe_cue_overlaps,
                "rates": {m: {"all": self.rates(m), **{t: self.rates(m, t) for t in TOPICS}} for m in ("fake", "smollm2")},
                "outcomes": [{**asdict(o), "passed": o.passed, "problems": o.problems()} for o in self.outcomes]}


# ------------------------------------------------------------------ building scenarios
def _base_verb(word: str) -> str:
    low = word.lower()
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if low.endswith("ies") and len(low) > 4:
        return low[:-3] + "y"
    if low.endswith(("sses", "shes", "ches", "xes")):
        return low[:-2]
    if low.endswith("s") and not low.endswith("ss"):
        return low[:-1]
    return low


def compose_sentence(point: "RubricPoint") -> str:
    """The point rephrased as the candidate's own sentence, opened with one of its cues.

    The closing clause carries no content; it only makes a sentence that enumerates (many commas)
    read as reasoning, as a spoken answer would, so the grader's list filter does not drop it.
    """
    first, _, rest = " ".join(point.text.split()).partition(" ")
    body = f"I would {_base_verb(first)} {rest}".rstrip().rstrip(".")
    return f"On {point.cues[0]}, {body}, and I think that is one of the things that matters most here."


def choose_planted(question: "Question", candidates: list[str]) -> list[str]:
    """2-3 points to leave out: one per weight level, highest first (rubric order breaks ties)."""
    order = {p.id: i for i, p in enumerate(question.rubric)}
    pool = sorted((question.point(c) for c in candidates), key=lambda p: (-p.weight, order[p.id]))
    chosen, weights = [], set()
    for p in pool:
        if p.weight not in weights and len(chosen) < 3:
            chosen.append(p)
            weights.add(p.weight)
    for p in pool:
        if len(chosen) >= 2:
            break
        if p not in chosen:
            chosen.append(p)
    return [p.id for p in sorted(chosen, key=lambda p: (-p.weight, order[p.id]))]


def build_scenarios(bank: "QuestionBank", labelled: list[dict[str, Any]], composed_per_topic: int = 2,
                    max_per_topic: int | None = None) -> list[Scenario]:
    """Scenarios from every labelled partial answer, plus ``composed_per_topic`` other questions per topic."""
    scenarios: list[Scenario] = []
    partials = {a["question_id"]: a for a in labelled if a.get("tier") == "partial"}
    for topic in TOPICS:
        mine: list[Scenario] = []
        for qid in sorted(partials):
            question = bank.get(qid)
            if question.topic != topic:
                continue
            item = partials[qid]
            covers = [c for c in item.get("covers") or [] if any(p.id == c for p in question.rubric)]
            missing = [p.id for p in question.rubric if p.id not in covers]
            if len(missing) < 2:
                continue
            planted = choose_planted(question, missing)
            fill = [question.point(pid) for pid in missing if pid not in planted]
            answer = item["answer"].strip()
            if fill:
                answer += "\n\n" + " ".join(compose_sentence(p) for p in fill)
            mine.append(Scenario(id=f"{qid}-partial", question_id=qid, topic=topic, source="labelled-partial",
                                 answer=answer, planted=planted,
                                 kept=[p.id for p in question.rubric if p.id not in planted]))
        others = [q for q in sorted(bank.by_topic(topic), key=lambda q: q.id) if q.id not in partials]
        for question in others[:composed_per_topic]:
            planted = choose_planted(question, [p.id for p in question.rubric])
            kept = [p for p in question.rubric if p.id not in planted]
            mine.append(Scenario(id=f"{question.id}-composed", question_id=question.id, topic=topic, source="composed",
                                 answer=" ".join(compose_sentence(p) for p in kept), planted=planted,
                                 kept=[p.id for p in kept]))
        scenarios.extend(mine[:max_per_topic] if max_per_topic else mine)
    return scenarios


# ------------------------------------------------------------------ running them
def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def leaks_in(text: str, question: "Question", missing: set[str]) -> list[str]:
    """Rubric point texts (any point) and multi-word cues of the ``missing`` points found in ``text``."""
    low = _normal(text)
    found = [f"text of {p.id}" for p in question.rubric if _normal(p.text) in low]
    for p in question.rubric:
        if p.id not in missing:
            continue
        for cue in p.cues:
            if len(cue.split()) >= 2 and re.search(r"(?<!\w)" + re.escape(_normal(cue)) + r"(?!\w)", low):
                found.append(f"cue '{cue}' of {p.id}")
    return found


def run_scenario(coach: "Coach", scenario: Scenario, mode: str) -> ScenarioOutcome:
    engine, bank = coach.engine, coach.bank
    question = bank.get(scenario.question_id)
    order = {p.id: i for i, p in enumerate(question.rubric)}
    expected = sorted(scenario.planted, key=lambda pid: (-question.point(pid).weight, order[pid]))
    expected = expected[: coach.settings.session.max_probes]
    out = ScenarioOutcome(scenario=scenario.id, question_id=question.id, topic=question.topic, source=scenario.source,
                          mode=mode, planted=list(scenario.planted), expected_probes=expected)
    start = time.perf_counter()
    try:
        view = engine.start(question_id=question.id)
        reply = engine.respond(view.session_id, scenario.answer)
        first = {p.id: p.covered for p in reply.grade.points} if reply.grade is not None else {}
        out.grader_credited_planted = [pid for pid in scenario.planted if first.get(pid)]
        out.grader_missed_kept = [pid for pid in scenario.kept if not first.get(pid, False)]
        out.grader_agrees = not out.grader_credited_planted and not out.grader_missed_kept
        turns = 0
        while not reply.done and turns < 12:
            reply.text()  # drain: the turn is stored when its stream ends
            reply = engine.respond(view.session_id, NOTHING_NEW)
            turns += 1
        if not reply.done:
            reply = engine.finish(view.session_id)
        card = reply.text()
        critique = reply.critique
        transcript = coach.store.turns(view.session_id)
    except Exception as exc:  # noqa: BLE001 - a crash is a failed scenario, reported with its reason
        out.error = f"{type(exc).__name__}: {exc}"
        out.seconds = time.perf_counter() - start
        return out
    out.seconds = time.perf_counter() - start
    out.probed = [t.meta.get("point") for t in transcript if t.role == "coach" and t.kind == "probe"]
    out.probe_texts = [t.content for t in transcript if t.role == "coach" and t.kind == "probe"]
    out.probes_ok = out.probed == expected
    missed = {p.id: p for p in critique.missed}
    out.missed_in_critique = [p.id for p in critique.missed]
    out.unplanted_missed = [pid for pid in out.missed_in_critique if pid not in scenario.planted]
    out.score = critique.score
    flat = _normal(card)
    for pid in scenario.planted:
        note = missed.get(pid)
        if note is None:
            continue
        cited = bool(note.citations) and _normal(note.text) in flat and any(
            f"knowledge/{c.source}" in card for c in note.citations)
        if not cited:
            out.planted_uncited.append(pid)
    out.critique_ok = all(pid in missed for pid in scenario.planted) and not out.planted_uncited
    for turn in transcript:
        if turn.role != "coach" or turn.kind in ("question", "critique"):
            continue
        out.leaks += [f"{turn.kind}: {hit}" for hit in leaks_in(turn.content, question, set(scenario.planted))]
    out.leak_free = not out.leaks
    return out


def run_sessions_eval(coach: "Coach", labelled: list[dict[str, Any]], thresholds: dict[str, Any], *,
                      llm: bool = False, llm_scenarios: int = 5, log: Callable[[str], None] = lambda m: None,
                      store_dir: Path | None = None) -> SessionsResult:
    """Every scenario with the fake model; with ``llm``, one scenario per topic (up to ``llm_scenarios``) with smollm2."""
    cfg = thresholds.get("sessions", {})
    scenarios = build_scenarios(coach.bank, labelled)
    outcomes: list[ScenarioOutcome] = []
    with tempfile.TemporaryDirectory(prefix="coach-eval-sessions-", dir=store_dir) as tmp:
        fake = sibling(coach, llm_mode="fake", store_path=Path(tmp) / "fake.sqlite3")
        for scenario in scenarios:
            outcomes.append(run_scenario(fake, scenario, "fake"))
        passed = sum(o.passed for o in outcomes)
        log(f"sessions: {passed}/{len(outcomes)} fake-model scenarios pass")
        skipped = "--skip-llm" if not llm else None
        if llm:
            real = sibling(coach, llm_mode="smollm2", store_path=Path(tmp) / "smollm2.sqlite3")
            agreeing = {o.scenario for o in outcomes if o.grader_agrees}
            subset: list[Scenario] = []
            for topic in TOPICS:  # one per topic, preferring a scenario whose plant the grader sees
                mine = sorted((s for s in scenarios if s.topic == topic), key=lambda s: s.id not in agreeing)
                subset += mine[:1]
            for scenario in subset[:llm_scenarios]:
                outcome = run_scenario(real, scenario, "smollm2")
                outcomes.append(outcome)
                log(f"sessions: smollm2 {scenario.id}: {'pass' if outcome.passed else 'FAIL'} ({outcome.seconds:.0f} s)")
    return SessionsResult(outcomes=outcomes, thresholds=cfg, skipped_llm=skipped,
                          probe_cue_overlaps=probe_cue_overlaps(coach.bank))


def probe_cue_overlaps(bank: "QuestionBank") -> list[str]:
    """Bank probes that quote a multi-word cue of another point of the same question (a hint when
    that other point is missing too); listed for authors, not gated."""
    found = []
    for q in bank:
        for p in q.rubric:
            others = {o.id for o in q.rubric if o.id != p.id}
            for hit in leaks_in(p.probe, q, others):
                found.append(f"{q.id}/{p.id} probe quotes {hit}")
    return found
