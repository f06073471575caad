"""Sessions with planted gaps: scripted candidates that leave out known key points on purpose.

Each scenario answers a bank question while deliberately leaving out 2-3 rubric points (one per
weight level where possible, so the probe order is tested). The answer is either

- ``scripted``: hand-written candidates (evals/data/scripted_*.yaml), one passage per rubric point
  in the candidate's own words; the answer is the opening, the passages of the kept points and
  the closing. Two scenarios per question (two disjoint sets of planted gaps). These passages were
  never used to tune the grader; the questions are split into ``dev`` (looked at while changing the
  grader) and ``test`` (measured only), so the test split is a held-out check of the grader; or
- ``labelled-partial``: the labelled partial answer of the grading eval, whose ``covers`` labels
  say which points it makes, with the planted gaps chosen among the points it leaves out and one
  sentence composed from the rubric text (``compose_sentence``) for each other point it leaves out.

After each probe the candidate replies with a sentence that adds nothing, so the engine moves on
to the next gap and then to the critique.

Two kinds of checks. The engine's own, gated on every scenario because they do not depend on how
well the grader reads the answer:
1. gap probes follow the grade: the gap-probed points are the first grade's missing points,
   highest weight first, all of them unless ``session.max_follow_ups`` ran out (depth follow-ups,
   the twist and challenges share that budget);
2. the critique names every point the grade misses, each with a citation whose text and
   ``knowledge/<file>`` link appear in the critique card;
3. no leak: no coach turn before the critique (follow-ups, notes) contains a rubric point's text,
   a multi-word cue of any rubric or twist point, or a cue of the point it is about, unless the
   candidate said it first (acknowledgements quote the candidate); the posed question is not checked;
4. the twist is posed exactly once per session.

And the candidate's view, which includes the grader: the share of planted gaps the critique names,
the share of probes aimed at a planted gap, the share of kept points wrongly listed as missed,
the grader's key-point precision/recall on the scripted answers (dev and test split), and the
end-to-end rate: scenarios whose probes are exactly the planted gaps in weight order and whose
critique names exactly them. Every failing scenario is listed with its cause.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from evals.common import DATA_DIR, TOPICS, Check, gate, ratio, sibling

if TYPE_CHECKING:  # pragma: no cover
    from coach.core import Coach
    from coach.content.questions import Question, QuestionBank, RubricPoint

NOTHING_NEW = ("I have not thought about that part in any depth yet, so I would rather move on and come back "
               "to it later if there is time left at the end.")
_IRREGULAR = {"does": "do", "caches": "cache", "goes": "go", "has": "have", "is": "be"}


@dataclass
class Scenario:
    id: str
    question_id: str
    topic: str
    source: str                 # scripted | labelled-partial
    answer: str
    planted: list[str]          # point ids left out on purpose, highest weight first
    kept: list[str]
    split: str = "dev"          # scripted: dev | test (held out from grader tuning); labelled-partial: dev


@dataclass
class ScenarioOutcome:
    scenario: str
    question_id: str
    topic: str
    source: str
    split: str
    mode: str                   # fake | smollm2
    planted: list[str]
    expected_probes: list[str]  # the planted gaps in weight order
    kept: list[str] = field(default_factory=list)
    graded_missing: list[str] = field(default_factory=list)   # the first grade's missing points
    planted_evidence: dict[str, str] = field(default_factory=dict)  # sentence the grader credited a planted gap for
    engine_probes: list[str] = field(default_factory=list)    # those in weight order, as many as gaps asked
    probed: list[str] = field(default_factory=list)
    probe_texts: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)            # every follow-up's kind, in order
    missed_in_critique: list[str] = field(default_factory=list)
    uncited: list[str] = field(default_factory=list)          # missed points without a citation in the card
    leaks: list[str] = field(default_factory=list)
    follows_grade: bool = False     # engine check 1
    critique_complete: bool = False  # engine check 2
    leak_free: bool = False          # engine check 3
    score: int | None = None
    seconds: float = 0.0
    error: str | None = None

    @property
    def grader_credited_planted(self) -> list[str]:
        return [p for p in self.planted if p not in self.graded_missing]

    @property
    def grader_missed_kept(self) -> list[str]:
        return [p for p in self.kept if p in self.graded_missing]

    @property
    def grader_agrees(self) -> bool:
        return not self.error and set(self.graded_missing) == set(self.planted)

    @property
    def twist_once(self) -> bool:
        return self.kinds.count("twist") == 1

    @property
    def engine_ok(self) -> bool:
        return self.follows_grade and self.critique_complete and self.leak_free and self.twist_once

    @property
    def planted_named(self) -> list[str]:
        return [p for p in self.planted if p in self.missed_in_critique and p not in self.uncited]

    @property
    def passed(self) -> bool:
        """End to end: probes are exactly the planted gaps by weight, the critique names exactly them."""
        return (self.engine_ok and self.probed == self.expected_probes[:len(self.probed)]
                and len(self.probed) == len(self.expected_probes)
                and set(self.missed_in_critique) == set(self.planted) and len(self.planted_named) == len(self.planted))

    def problems(self) -> list[str]:
        out = []
        if self.error:
            out.append(f"error: {self.error}")
        for pid in self.grader_credited_planted:
            said = self.planted_evidence.get(pid)
            out.append(f"grader credited planted gap '{pid}'" + (f" for “{said}”" if said else ""))
        if self.grader_missed_kept:
            out.append(f"grader did not credit kept point(s) {self.grader_missed_kept}")
        if not self.follows_grade:
            out.append(f"ENGINE: probes {self.probed} != the grade's missing points by weight {self.engine_probes}")
        if not self.critique_complete:
            lost = [p for p in self.graded_missing if p not in self.missed_in_critique]
            out.append(f"ENGINE: critique misses graded gap(s) {lost} or has no citation for {self.uncited}")
        if not self.leak_free:
            out.append("ENGINE: rubric text in a coach turn before the critique: " + "; ".join(self.leaks))
        if not self.twist_once:
            out.append(f"ENGINE: the twist was posed {self.kinds.count('twist')} times (follow-ups: {self.kinds})")
        return out


@dataclass
class SessionsResult:
    outcomes: list[ScenarioOutcome]
    thresholds: dict[str, Any]
    skipped_llm: str | None = None
    probe_cue_overlaps: list[str] = field(default_factory=list)  # bank probes quoting another point's cue

    def rows(self, mode: str, topic: str | None = None, source: str | None = None,
             split: str | None = None) -> list[ScenarioOutcome]:
        return [o for o in self.outcomes if o.mode == mode and (topic is None or o.topic == topic)
                and (source is None or o.source == source) and (split is None or o.split == split)]

    def rates(self, mode: str, topic: str | None = None, source: str | None = None,
              split: str | None = None) -> dict[str, Any]:
        rows = self.rows(mode, topic, source, split)
        planted = sum(len(o.planted) for o in rows)
        kept = sum(len(o.kept) for o in rows)
        probes = sum(len(o.probed) for o in rows)
        tp = sum(len(o.kept) - len(o.grader_missed_kept) for o in rows)
        fp = sum(len(o.grader_credited_planted) for o in rows)
        fn = sum(len(o.grader_missed_kept) for o in rows)
        precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
        f1 = (2 * precision * recall / (precision + recall)) if precision and recall else None
        return {"n": len(rows), "grader_agrees": sum(o.grader_agrees for o in rows),
                "follows_grade": ratio(sum(o.follows_grade for o in rows), len(rows)),
                "critique_complete": ratio(sum(o.critique_complete for o in rows), len(rows)),
                "no_rubric_leak": ratio(sum(o.leak_free for o in rows), len(rows)),
                "twist_once": ratio(sum(o.twist_once for o in rows), len(rows)),
                "planted_gaps_named": ratio(sum(len(o.planted_named) for o in rows), planted),
                "probes_on_planted": ratio(sum(sum(p in o.planted for p in o.probed) for o in rows), probes),
                "kept_wrongly_missed": ratio(fn, kept),
                "key_point_precision": precision, "key_point_recall": recall, "key_point_f1": f1,
                "end_to_end": ratio(sum(o.passed for o in rows), len(rows)),
                "counts": {"planted": planted, "kept": kept, "probes": probes}}

    def checks(self) -> list[Check]:
        cfg = self.thresholds
        out: list[Check] = []
        for mode in ("fake", "smollm2"):
            tag = "fake model" if mode == "fake" else "smollm2"
            if mode == "smollm2" and self.skipped_llm:
                out.append(Check(f"Sessions ({tag}): all checks", "all", None, "", None, "skipped"))
                continue
            for scope in ("all", *TOPICS):
                r = self.rates(mode, None if scope == "all" else scope)
                if not r["n"]:
                    continue
                n, c = r["n"], r["counts"]
                floor = (lambda key: cfg.get(key)) if scope == "all" else (lambda key: None)  # topics: reported
                for key, label in (("follows_grade", "engine: gap probes = graded gaps, by weight"),
                                   ("critique_complete", "engine: critique cites every graded gap"),
                                   ("no_rubric_leak", "engine: no rubric text or unsaid cue before critique"),
                                   ("twist_once", "engine: the twist posed exactly once")):
                    out.append(gate(f"Sessions ({tag}): {label}", scope, r[key], cfg.get(key),
                                    note=f"{round((r[key] or 0) * n)}/{n}"))
                out.append(gate(f"Sessions ({tag}): planted gaps named in critique", scope, r["planted_gaps_named"],
                                floor("planted_gaps_named"),
                                note=f"{round((r['planted_gaps_named'] or 0) * c['planted'])}/{c['planted']}"))
                out.append(gate(f"Sessions ({tag}): probes aimed at a planted gap", scope, r["probes_on_planted"],
                                floor("probes_on_planted"),
                                note=f"{round((r['probes_on_planted'] or 0) * c['probes'])}/{c['probes']}"))
                out.append(gate(f"Sessions ({tag}): kept points wrongly listed as missed", scope,
                                r["kept_wrongly_missed"], None, maximum=floor("kept_wrongly_missed_max"),
                                note=f"{round((r['kept_wrongly_missed'] or 0) * c['kept'])}/{c['kept']}"))
                out.append(gate(f"Sessions ({tag}): end to end (exactly the planted gaps)", scope, r["end_to_end"],
                                None, note=f"{round((r['end_to_end'] or 0) * n)}/{n}"))
        for split in ("dev", "test"):
            r = self.rates("fake", source="scripted", split=split)
            if r["n"]:
                key = "held_out_key_point_f1" if split == "test" else None
                out.append(gate(f"Grader on scripted candidates ({split} split): key-point F1", "all", r["key_point_f1"],
                                cfg.get(key) if key else None,
                                note=f"P {r['key_point_precision']:.3f}, R {r['key_point_recall']:.3f}"))
        n_min = cfg.get("min_scenarios_per_topic")
        for topic in TOPICS:
            out.append(gate("Sessions: scenarios per topic", topic, self.rates("fake", topic)["n"], n_min))
        return out

    def as_json(self) -> dict[str, Any]:
        def rate_set(mode: str) -> dict[str, Any]:
            return {"all": self.rates(mode), **{t: self.rates(mode, t) for t in TOPICS},
                    **{f"scripted-{sp}": self.rates(mode, source="scripted", split=sp) for sp in ("dev", "test")},
                    "labelled-partial": self.rates(mode, source="labelled-partial")}

        return {"thresholds": self.thresholds, "skipped_llm": self.skipped_llm,
                "probe_cue_overlaps": self.probe_cue_overlaps,
                "rates": {m: rate_set(m) for m in ("fake", "smollm2")},
                "outcomes": [{**asdict(o), "grader_agrees": o.grader_agrees, "passed": o.passed,
                              "problems": o.problems()} for o in self.outcomes]}


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


def _weight_order(question: "Question", ids: list[str]) -> list[str]:
    """Point ids highest weight first, rubric order breaking ties (the order probes take)."""
    order = {p.id: i for i, p in enumerate(question.rubric)}
    return sorted(ids, key=lambda pid: (-question.point(pid).weight, order[pid]))


def choose_planted(question: "Question", candidates: list[str]) -> list[str]:
    """2-3 points to leave out: one per weight level, highest first (rubric order breaks ties)."""
    pool = [question.point(c) for c in _weight_order(question, candidates)]
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
    return _weight_order(question, [p.id for p in chosen])


class ScriptError(ValueError):
    """A scripted-candidate file that does not fit the question bank (names file, question, field)."""


def load_scripted(bank: "QuestionBank", data_dir: Path) -> list[dict[str, Any]]:
    """The hand-written candidates of evals/data/scripted_*.yaml, checked against the bank."""
    import yaml

    scripts: list[dict[str, Any]] = []
    for path in sorted(data_dir.glob("scripted_*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for n, item in enumerate(data.get("scripts") or [], start=1):
            where = f"{path.name}, script {n} ({item.get('question_id', '?')})"
            try:
                question = bank.get(item["question_id"])
            except Exception as exc:  # noqa: BLE001 - unknown id or missing field, reported with its place
                raise ScriptError(f"{where}: question_id: {exc}") from exc
            ids = [p.id for p in question.rubric]
            points = item.get("points") or {}
            if sorted(points) != sorted(ids):
                raise ScriptError(f"{where}: points: expected exactly {ids}, got {list(points)}")
            if item.get("split") not in ("dev", "test"):
                raise ScriptError(f"{where}: split: must be dev or test, got {item.get('split')!r}")
            for key in ("opening", "closing"):
                if not str(item.get(key) or "").strip():
                    raise ScriptError(f"{where}: {key}: missing")
            scripts.append({**item, "_file": path.name})
    return scripts


def _flat(text: str) -> str:
    return " ".join(str(text).split())


def build_scenarios(bank: "QuestionBank", labelled: list[dict[str, Any]], scripted: list[dict[str, Any]] | None = None,
                    max_per_topic: int | None = None) -> list[Scenario]:
    """Two scenarios per scripted question (disjoint planted sets) and one per labelled partial answer."""
    scenarios: list[Scenario] = []
    partials = {a["question_id"]: a for a in labelled if a.get("tier") == "partial"}
    for topic in TOPICS:
        mine: list[Scenario] = []
        for item in scripted or []:
            question = bank.get(item["question_id"])
            if question.topic != topic:
                continue
            ids = [p.id for p in question.rubric]
            first = choose_planted(question, ids)
            second = choose_planted(question, [i for i in ids if i not in first])
            for k, planted in enumerate((first, second), start=1):
                kept = [i for i in ids if i not in planted]
                answer = " ".join(_flat(x) for x in [item["opening"], *(item["points"][i] for i in kept), item["closing"]])
                mine.append(Scenario(id=f"{question.id}-scripted-{k}", question_id=question.id, topic=topic,
                                     source="scripted", answer=answer, planted=planted, kept=kept, split=item["split"]))
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
        scenarios.extend(mine[:max_per_topic] if max_per_topic else mine)
    return scenarios


# ------------------------------------------------------------------ running them
def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def run_scenario(coach: "Coach", scenario: Scenario, mode: str) -> ScenarioOutcome:
    from coach.practice.interviewer import leaked_cues

    engine, bank = coach.engine, coach.bank
    question = bank.get(scenario.question_id)
    budget = coach.settings.session.max_follow_ups
    out = ScenarioOutcome(scenario=scenario.id, question_id=question.id, topic=question.topic, source=scenario.source,
                          split=scenario.split, mode=mode, planted=list(scenario.planted), kept=list(scenario.kept),
                          expected_probes=_weight_order(question, scenario.planted))
    start = time.perf_counter()
    try:
        view = engine.start(question_id=question.id)
        reply = engine.respond(view.session_id, scenario.answer)
        if reply.grade is not None:
            out.graded_missing = [p.id for p in reply.grade.points if not p.covered]
            out.planted_evidence = {p.id: _flat(p.evidence or "")[:160] for p in reply.grade.points
                                    if p.covered and p.id in scenario.planted}
        turns = 0
        while not reply.done and turns < budget + 4:
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
    follow_ups = [t for t in transcript if t.role == "coach" and t.kind == "probe"]
    gaps = [t for t in follow_ups if t.meta.get("follow_up", "gap") == "gap"]
    out.kinds = [t.meta.get("follow_up", "gap") for t in follow_ups]
    out.probed = [t.meta.get("point") for t in gaps]
    out.probe_texts = [t.content for t in gaps]
    # Gap probes go to the first grade's missing points, heaviest first; all of them unless the budget ran out.
    out.engine_probes = _weight_order(question, out.graded_missing)[:len(out.probed)]
    spent = sum(k != "wrap-up" for k in out.kinds) >= budget
    out.follows_grade = out.probed == out.engine_probes and (spent or len(out.probed) == len(out.graded_missing))
    out.missed_in_critique = [p.id for p in critique.missed]
    out.score = critique.score
    flat = _normal(card)
    for note in critique.missed:
        cited = bool(note.citations) and _normal(note.text) in flat and any(
            f"knowledge/{c.source}" in card for c in note.citations)
        if not cited:
            out.uncited.append(note.id)
    out.critique_complete = set(out.graded_missing) <= set(out.missed_in_critique) and not out.uncited
    said = ""
    for turn in transcript:
        if turn.role == "candidate":
            said += "\n" + turn.content
            continue
        if turn.kind in ("question", "critique"):
            continue
        own = "twist" if turn.meta.get("follow_up") == "twist" else turn.meta.get("point")
        out.leaks += [f"{turn.kind}: {hit}" for hit in leaked_cues(turn.content, question, said, own=own)]
    out.leak_free = not out.leaks
    return out


def run_sessions_eval(coach: "Coach", labelled: list[dict[str, Any]], thresholds: dict[str, Any], *,
                      llm: bool = False, llm_scenarios: int = 5, log: Callable[[str], None] = lambda m: None,
                      store_dir: Path | None = None, data_dir: Path | None = None) -> SessionsResult:
    """Every scenario with the fake model; with ``llm``, one scenario per topic (up to ``llm_scenarios``) with smollm2.

    The smollm2 scenarios are the first scripted test-split scenario of each topic, whatever the grader
    makes of it: they check that the engine's checks hold when the embedded model phrases the turns.
    """
    cfg = thresholds.get("sessions", {})
    scenarios = build_scenarios(coach.bank, labelled, load_scripted(coach.bank, data_dir or DATA_DIR))
    outcomes: list[ScenarioOutcome] = []
    with tempfile.TemporaryDirectory(prefix="coach-eval-sessions-", dir=store_dir) as tmp:
        fake = sibling(coach, llm_mode="fake", store_path=Path(tmp) / "fake.sqlite3")
        for scenario in scenarios:
            outcomes.append(run_scenario(fake, scenario, "fake"))
        engine_ok = sum(o.engine_ok for o in outcomes)
        log(f"sessions: engine checks hold in {engine_ok}/{len(outcomes)} fake-model scenarios, "
            f"{sum(o.passed for o in outcomes)} exactly right end to end")
        skipped = "--skip-llm" if not llm else None
        if llm:
            real = sibling(coach, llm_mode="smollm2", store_path=Path(tmp) / "smollm2.sqlite3")
            subset: list[Scenario] = []
            for topic in TOPICS:
                mine = [s for s in scenarios if s.topic == topic]
                subset += sorted(mine, key=lambda s: (s.source != "scripted", s.split != "test"))[:1]
            for scenario in subset[:llm_scenarios]:
                outcome = run_scenario(real, scenario, "smollm2")
                outcomes.append(outcome)
                log(f"sessions: smollm2 {scenario.id}: engine {'ok' if outcome.engine_ok else 'FAIL'}, "
                    f"end to end {'pass' if outcome.passed else 'fail'} ({outcome.seconds:.0f} s)")
    return SessionsResult(outcomes=outcomes, thresholds=cfg, skipped_llm=skipped,
                          probe_cue_overlaps=probe_cue_overlaps(coach.bank))


def probe_cue_overlaps(bank: "QuestionBank") -> list[str]:
    """Bank probes that quote a rubric text or a cue before the candidate said it, by the
    interviewer's own check (``leaked_cues``: any point's multi-word cues, the probe's own point's
    cues); listed for authors, not gated (tests/practice/test_interviewer.py gates the bank)."""
    from coach.practice.interviewer import leaked_cues

    return [f"{q.id}/{p.id} probe quotes {hit}" for q in bank for p in q.rubric
            for hit in leaked_cues(p.probe, q, "", own=p.id)]
