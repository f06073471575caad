"""Self-assessment: the candidate rates themselves per dimension; the grader's view sits beside it.

Ratings use the rubric's four levels (1 weak, 2 ok, 3 strong, 4 staff). The coach's level per
dimension comes from the same bands as the overall score, and each gap is backed by the points
that were covered or missed in that dimension.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from coach.errors import QueryError
from coach.grading.guide_rubric import graded_against_note
from coach.practice.asked import asked_prompt, typed_state

if TYPE_CHECKING:  # pragma: no cover
    from coach.grading.grader import Grader
    from coach.grading.results import GradeResult
    from coach.content.questions import QuestionBank
    from coach.store.sessions import Store

LEVEL_NAMES = {1: "weak", 2: "ok", 3: "strong", 4: "staff"}


@dataclass
class DimensionComparison:
    dimension: str
    name: str
    self_level: int | None
    coach_level: int
    coach_score: int
    gap: int | None            # self minus coach: positive = you rated yourself higher
    evidence: list[str]        # covered points with your words, missed points


@dataclass
class Assessment:
    session_id: str
    question_id: str
    score: int
    band: str
    rows: list[DimensionComparison]
    grade: dict[str, Any]

    @property
    def mean_abs_gap(self) -> float:
        gaps = [abs(r.gap) for r in self.rows if r.gap is not None]
        return sum(gaps) / len(gaps) if gaps else 0.0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["mean_abs_gap"] = round(self.mean_abs_gap, 2)
        return data

    def markdown(self) -> str:
        out = [f"### Self vs coach — {self.score}/100 ({self.band})", ""]
        against = graded_against_note(self.grade.get("rubric_source", "bank"), self.question_id,
                                      self.grade.get("matched_question", ""), self.grade.get("match_score", 1.0) < 1.0)
        if against:
            out += [f"_{against}_", ""]
        out += ["| Dimension | You | Coach | Gap |", "|---|---|---|---:|"]
        for r in self.rows:
            you = LEVEL_NAMES.get(r.self_level, "—") if r.self_level else "—"
            gap = "" if r.gap is None else (f"+{r.gap}" if r.gap > 0 else str(r.gap))
            out.append(f"| {r.name} | {you} | {LEVEL_NAMES[r.coach_level]} ({r.coach_score}) | {gap} |")
        out += ["", f"Mean calibration gap: {self.mean_abs_gap:.2f} level(s).", ""]
        for r in self.rows:
            if r.gap:
                direction = "higher" if r.gap > 0 else "lower"
                out.append(f"**{r.name}** — you rated yourself {abs(r.gap)} level(s) {direction} than the coach:")
                out += [""] + [f"- {line}" for line in r.evidence] + [""]
        return "\n".join(out)


def level_for(score: int, bank: "QuestionBank") -> int:
    names = [b.band for b in sorted(bank.rubric.bands, key=lambda b: b.min)]
    band = bank.rubric.band_for(score).band
    return min(4, names.index(band) + 1)


def self_assess(grader: "Grader", store: "Store", question_id: str, answer: str, ratings: dict[str, int],
                user: str = "local") -> Assessment:
    """Grade the answer, store it with the self-ratings, and compare per dimension."""
    bank = grader.bank
    resolved = grader.resolve(question_id)  # a bank id, or a question in the candidate's own words
    question, state = resolved.question, typed_state(resolved)
    unknown = sorted(set(ratings) - set(bank.rubric.dimension_ids))
    if unknown:
        raise QueryError(f"unknown dimension(s) {', '.join(unknown)}; use {', '.join(bank.rubric.dimension_ids)}")
    for dim, value in ratings.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 4:
            raise QueryError(f"rating for {dim} must be 1 (weak) to 4 (staff), got {value!r}")
    grade: GradeResult = grader.grade(resolved, answer)  # says what it was graded against
    sid = store.create_session("self-assess", question.id, question.topic, question.level, state=state, user=user)
    store.add_turn(sid, "coach", "question", asked_prompt(question, state))
    store.add_turn(sid, "candidate", "answer", answer)
    store.save_grade(sid, grade.as_json())
    if ratings:
        store.save_self_ratings(sid, ratings)
    store.finish(sid, grade.score, grade.band)
    rows = []
    for dim, info in grade.dimensions.items():
        coach_level = level_for(info["score"], bank)
        mine = ratings.get(dim)
        evidence = [f"covered: {p.text} (you said: \"{' '.join((p.evidence or '').split())[:140]}\")"
                    for p in grade.points if p.dimension == dim and p.covered]
        evidence += [f"missed: {p.text} (study {', '.join(p.sections)})"
                     for p in grade.points if p.dimension == dim and not p.covered]
        rows.append(DimensionComparison(dimension=dim, name=info["name"], self_level=mine, coach_level=coach_level,
                                        coach_score=info["score"], gap=None if mine is None else mine - coach_level,
                                        evidence=evidence))
    return Assessment(session_id=sid, question_id=question.id, score=grade.score, band=grade.band, rows=rows,
                      grade=grade.as_json())
