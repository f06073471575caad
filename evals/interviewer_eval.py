"""Scripted candidates for each kind of follow-up: does the interviewer react to what was said?

For every bank question, three one-answer candidates (fake model):

- ``red-flag``: a sentence that makes the question's point with the highest weight, then "I think
  <cue>." stating the first red flag that has a challenge. Passes when the first follow-up is a
  challenge quoting that sentence.
- ``misconception``: the same opening, then the first misconception's own ``claim``. Passes as above.
- ``depth``: the candidate makes only the heaviest point that has authored follow-ups (the
  hand-written passage of evals/data/scripted_*.yaml where one exists, with its dev/test split,
  else a sentence composed from the rubric text). Passes when the first follow-up is a depth
  follow-up on that point.

Each is measured end to end (the grader must notice the claim or credit the point) and, as an
engine check, on the scenarios where the grader did (``engine``). Gated end to end at >= 0.9.
The leak and twist checks run on the planted-gap sessions (``evals/sessions_eval.py``). With
``llm``, the same first follow-ups are phrased by the embedded model and the share that passed
the phrasing checks (and so was shown) is reported per template: the figure behind each
template's ``embedded_model`` flag in prompts/.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from evals.common import DATA_DIR, Check, gate, ratio, sibling
from evals.sessions_eval import compose_sentence, load_scripted

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.questions import Question
    from coach.core import Coach

KINDS = ("red-flag", "misconception", "depth")


@dataclass
class KindOutcome:
    question_id: str
    kind: str
    target: str           # red flag, misconception or point id
    source: str           # composed | scripted-dev | scripted-test
    noticed: bool = False  # the grader found the claim / credited the point
    first_kind: str | None = None
    first_point: str | None = None
    passed: bool = False
    text: str = ""
    error: str | None = None


@dataclass
class InterviewerResult:
    outcomes: list[KindOutcome]
    thresholds: dict[str, Any]
    phrasing: dict[str, dict[str, int]] = field(default_factory=dict)  # template -> shown / tried (smollm2)
    seconds: float = 0.0

    def rate(self, kind: str, engine_only: bool = False, source: str | None = None) -> tuple[float | None, int]:
        rows = [o for o in self.outcomes if o.kind == kind and (source is None or o.source == source)
                and (o.noticed or not engine_only)]
        return ratio(sum(o.passed for o in rows), len(rows)), len(rows)

    def checks(self) -> list[Check]:
        cfg = self.thresholds
        out = []
        for kind in KINDS:
            value, n = self.rate(kind)
            out.append(gate(f"Interviewer: {kind} candidates get the follow-up on it", "all", value,
                            cfg.get(f"{kind}_follow_up"), note=f"{round((value or 0) * n)}/{n}"))
            value, n = self.rate(kind, engine_only=True)
            out.append(gate(f"Interviewer (engine, where the grader noticed): {kind}", "all", value, cfg.get("engine"),
                            note=f"{round((value or 0) * n)}/{n}"))
        for split in ("dev", "test"):
            value, n = self.rate("depth", source=f"scripted-{split}")
            if n:
                out.append(gate(f"Interviewer: depth on hand-written passages ({split} split)", "all", value, None,
                                note=f"{round((value or 0) * n)}/{n}"))
        for name, counts in sorted(self.phrasing.items()):
            out.append(gate(f"Embedded model phrasing shown (template {name})", "smollm2",
                            ratio(counts["shown"], counts["tried"]), None, note=f"{counts['shown']}/{counts['tried']}"))
        return out

    def as_json(self) -> dict[str, Any]:
        return {"thresholds": self.thresholds, "phrasing": self.phrasing, "seconds": self.seconds,
                "outcomes": [asdict(o) for o in self.outcomes]}


def _heaviest(question: "Question", with_follow_ups: bool = False):
    order = {p.id: i for i, p in enumerate(question.rubric)}
    pool = [p for p in question.rubric if p.follow_ups or not with_follow_ups]
    return sorted(pool, key=lambda p: (-p.weight, order[p.id]))[0] if pool else None


def build_cases(coach: "Coach", data_dir: Path = DATA_DIR) -> list[tuple[KindOutcome, str]]:
    """(outcome to fill, the candidate's answer) for every question and kind."""
    passages = {s["question_id"]: s for s in load_scripted(coach.bank, data_dir)}
    cases = []
    for q in coach.bank:
        heavy = _heaviest(q)
        opening = compose_sentence(heavy)
        flag = next((f for f in q.red_flags if f.challenge), None)
        if flag is not None:
            cases.append((KindOutcome(q.id, "red-flag", flag.id, "composed"), f"{opening} I think {flag.cues[0]}."))
        if q.misconceptions:
            wrong = q.misconceptions[0]
            cases.append((KindOutcome(q.id, "misconception", wrong.id, "composed"),
                          f"{opening} {' '.join(wrong.claim.split())}"))
        deep = _heaviest(q, with_follow_ups=True)
        if deep is not None:
            script = passages.get(q.id)
            if script is not None:
                answer = " ".join(str(script["points"][deep.id]).split())
                source = f"scripted-{script['split']}"
            else:
                answer, source = compose_sentence(deep), "composed"
            cases.append((KindOutcome(q.id, "depth", deep.id, source), answer))
    return cases


def _first_follow_up(coach: "Coach", case: KindOutcome, answer: str) -> None:
    view = coach.engine.start(question_id=case.question_id)
    reply = coach.engine.respond(view.session_id, answer)
    grade = reply.grade
    if case.kind == "red-flag":
        found = [f for f in grade.red_flags if f.id == case.target]
    elif case.kind == "misconception":
        found = [m for m in grade.misconceptions if m.id == case.target]
    else:
        found = [p for p in grade.points if p.id == case.target and p.covered]
    case.noticed = bool(found)
    case.text = reply.text()
    last = coach.store.turns(view.session_id)[-1]
    case.first_kind = last.meta.get("follow_up") if last.role == "coach" else None
    case.first_point = last.meta.get("point") if last.role == "coach" else None
    if case.kind == "depth":
        case.passed = (case.first_kind, case.first_point) == ("depth", case.target)
    else:
        stated = answer.split(". ")[-1].rstrip(".")[:40]  # the claim sentence, quoted in the acknowledgement
        case.passed = case.first_kind == "challenge" and (case.first_point == case.target or stated[:25] in case.text)


def run_interviewer_eval(coach: "Coach", thresholds: dict[str, Any], *, llm: bool = False, llm_cases: int = 12,
                         log: Callable[[str], None] = lambda m: None, store_dir: Path | None = None) -> InterviewerResult:
    cfg = thresholds.get("interviewer", {})
    began = time.perf_counter()
    cases = build_cases(coach)
    phrasing: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="coach-eval-interviewer-", dir=store_dir) as tmp:
        fake = sibling(coach, llm_mode="fake", store_path=Path(tmp) / "fake.sqlite3")
        for case, answer in cases:
            try:
                _first_follow_up(fake, case, answer)
            except Exception as exc:  # noqa: BLE001 - a crash is a failed case, reported with its reason
                case.error = f"{type(exc).__name__}: {exc}"
        if llm:
            real = sibling(coach, llm_mode="smollm2", store_path=Path(tmp) / "smollm2.sqlite3")
            real.settings.llm.phrasing = "always"  # measure every template, whatever its default
            phrasing = measure_phrasing(real, cases[:llm_cases], log=log)
    result = InterviewerResult(outcomes=[c for c, _ in cases], thresholds=cfg, phrasing=phrasing,
                               seconds=time.perf_counter() - began)
    for kind in KINDS:
        value, n = result.rate(kind)
        log(f"interviewer: {kind}: {value:.3f} of {n}")
    return result


def measure_phrasing(coach: "Coach", cases: list[tuple[KindOutcome, str]],
                     log: Callable[[str], None] = lambda m: None) -> dict[str, dict[str, int]]:
    """How often the embedded model's phrasing passes its checks (and is shown), per template."""
    counts = {name: {"shown": 0, "tried": 0} for name in ("probe", "clarify", "critique_intro")}

    def tally(name: str, reply) -> None:
        for fell_back in reply.used_fallback:
            counts[name]["tried"] += 1
            counts[name]["shown"] += int(not fell_back)

    for case, answer in cases:
        view = coach.engine.start(question_id=case.question_id)
        reply = coach.engine.respond(view.session_id, answer)
        reply.text()
        tally("probe", reply)
        clarify = coach.engine.respond(view.session_id, "How much traffic do we expect at peak?")
        clarify.text()
        tally("clarify", clarify)
        final = coach.engine.finish(view.session_id)
        final.text()
        tally("critique_intro", final)
        log(f"interviewer: smollm2 phrasing after {case.question_id}: "
            + ", ".join(f"{k} {v['shown']}/{v['tried']}" for k, v in counts.items()))
    return counts
