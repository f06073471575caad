"""The question bank and the shared rubric, validated on load.

``knowledge/rubric.yaml`` defines the grading dimensions, levels and score bands;
``knowledge/questions/<topic>.yaml`` holds the questions. Every error names the file, the line
of the question and the field, so an author can fix it without reading code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from coach.content.yaml_io import LOADER
from coach.content.facts import check_facts
from coach.errors import KnowledgeError
from coach.settings import LEVELS, TOPICS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dimension(_Strict):
    id: str
    name: str
    weak: str
    ok: str
    strong: str
    staff: str


class Band(_Strict):
    min: int = Field(ge=0, le=100)
    band: str
    says: str


class Rubric(_Strict):
    sources: list[str] = Field(min_length=1)
    levels: dict[str, str]
    bands: list[Band] = Field(min_length=1)
    dimensions: list[Dimension] = Field(min_length=1)

    @field_validator("levels")
    @classmethod
    def _all_levels(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [lvl for lvl in LEVELS if lvl not in value]
        if missing:
            raise ValueError(f"missing level(s) {', '.join(missing)}")
        return value

    @property
    def dimension_ids(self) -> list[str]:
        return [d.id for d in self.dimensions]

    def dimension(self, dim_id: str) -> Dimension:
        return next(d for d in self.dimensions if d.id == dim_id)

    def band_for(self, score: float) -> Band:
        chosen = self.bands[0]
        for band in sorted(self.bands, key=lambda b: b.min):
            if score >= band.min:
                chosen = band
        return chosen


class _Point(_Strict):
    """What every gradable point has: rubric points and the points a twist should trigger."""

    id: str = Field(min_length=1)
    text: str = Field(min_length=5)
    dimension: str
    weight: int = Field(ge=1, le=3)
    cues: list[str]
    sections: list[str] = Field(min_length=1)

    @field_validator("cues")
    @classmethod
    def _cues_present(cls, value: list[str]) -> list[str]:
        cleaned = [str(c).strip() for c in value if str(c).strip()]
        if not cleaned:
            raise ValueError("cues must list at least one phrase")
        return cleaned


class RubricPoint(_Point):
    probe: str = Field(min_length=5)
    # Sentences a candidate might write that make the point in their own words (a brief mention, the
    # point with its reason, another angle): matching references only, never shown.
    says: list[str] = Field(default_factory=list)
    # One level deeper on a point the candidate did make (asked as a depth follow-up).
    follow_ups: list[str] = Field(default_factory=list)


class RedFlag(_Strict):
    id: str
    text: str
    cues: list[str] = Field(min_length=1)
    # Sentences a candidate might write that commit the flag in their own words (as for misconceptions).
    says: list[str] = Field(default_factory=list)
    # Asked when the answer shows the flag: makes the candidate reconsider, never gives the answer.
    challenge: str = ""


class Misconception(_Strict):
    """A wrong claim candidates really make about one key point, with its correction."""

    id: str = Field(min_length=1)
    point: str = Field(min_length=1)  # the rubric point the claim contradicts
    claim: str = Field(min_length=10)  # the claim as a candidate would state it
    cues: list[str] = Field(min_length=1)  # phrases that state the claim
    # Sentences a candidate might write that state the claim in their own words: the grader
    # matches an answer against these as well as the claim (candidates rarely use its words).
    says: list[str] = Field(default_factory=list)
    correction: str = Field(min_length=10)  # one line: what is true instead
    section: str = Field(min_length=2)  # the guide section that teaches it
    challenge: str = Field(min_length=10)  # makes the candidate reconsider, without the answer


class TwistPoint(_Point):
    """A key point the twist's changed requirement should make a good answer add."""


class Twist(_Strict):
    """One requirement change posed in the deep dive, graded as its own item."""

    change: str = Field(min_length=10)
    points: list[TwistPoint] = Field(min_length=1)


FACT_NAME = r"^[a-z][a-z0-9_]*$"


class Fact(_Strict):
    """A figure of the question context; ``formula`` derives it from facts listed before it."""

    name: str = Field(pattern=FACT_NAME)
    value: float
    unit: str = Field(min_length=1)
    formula: str | None = None


class Question(_Strict):
    id: str = Field(min_length=2)
    topic: str
    level: str
    prompt: str = Field(min_length=10)
    context: str = ""
    rubric: list[RubricPoint] = Field(min_length=1)
    red_flags: list[RedFlag] = Field(default_factory=list)
    misconceptions: list[Misconception] = Field(default_factory=list)
    twist: Twist | None = None
    facts: list[Fact] = Field(default_factory=list)
    model_answer: str = ""

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        if value not in TOPICS:
            raise ValueError(f"unknown topic {value!r}; expected one of {', '.join(TOPICS)}")
        return value

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value not in LEVELS:
            raise ValueError(f"unknown level {value!r}; expected one of {', '.join(LEVELS)}")
        return value

    @property
    def total_weight(self) -> int:
        return sum(p.weight for p in self.rubric)

    def point(self, point_id: str) -> RubricPoint:
        return next(p for p in self.rubric if p.id == point_id)


@dataclass
class QuestionBank:
    rubric: Rubric
    questions: dict[str, Question] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # question id -> "file:line"

    def by_topic(self, topic: str) -> list[Question]:
        return [q for q in self.questions.values() if q.topic == topic]

    def get(self, question_id: str) -> Question:
        try:
            return self.questions[question_id]
        except KeyError:
            raise KnowledgeError(f"unknown question id {question_id!r}") from None

    def __iter__(self) -> Iterable[Question]:
        return iter(self.questions.values())

    def __len__(self) -> int:
        return len(self.questions)


def _read_yaml(path: Path, label: str) -> tuple[object, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=LOADER)
        loader = LOADER("")
        try:  # build the data from the node already parsed (one parse, not two)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
        return data, node
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{label}:{mark.line + 1}" if mark is not None else label
        raise KnowledgeError(f"{where}: broken YAML: {getattr(exc, 'problem', None) or exc}") from None
    except OSError as exc:
        raise KnowledgeError(f"{label}: cannot read ({exc.strerror})") from None


def _problems(err: ValidationError) -> str:
    parts = []
    for item in err.errors():
        key = ".".join(str(p) for p in item["loc"]) or "question"
        msg = {"extra_forbidden": "unknown field", "missing": "missing required field"}.get(item["type"], item["msg"])
        parts.append(f"field '{key}': {msg}")
    return "; ".join(parts)


def load_rubric(path: Path) -> Rubric:
    label = path.as_posix()
    if not path.is_file():
        raise KnowledgeError(f"{label}: the rubric file is missing")
    data, _ = _read_yaml(path, label)
    try:
        return Rubric.model_validate(data)
    except ValidationError as err:
        raise KnowledgeError(f"{label}: {_problems(err)}") from None


def _item_lines(node: yaml.Node | None) -> list[int]:
    """1-based line of each item of the top-level ``questions`` list (for error messages)."""
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if getattr(key, "value", None) == "questions" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def load_question_bank(knowledge_dir: Path, section_ids: set[str] | None = None) -> QuestionBank:
    """Load rubric and questions; ``section_ids`` (the guide's ids) checks every ``sections`` link."""
    rubric = load_rubric(knowledge_dir / "rubric.yaml")
    dims = set(rubric.dimension_ids)
    bank = QuestionBank(rubric=rubric)
    folder = knowledge_dir / "questions"
    files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not files:
        raise KnowledgeError(f"{folder}: no question files (<topic>.yaml) found")
    errors: list[str] = []
    for path in files:
        label = path.relative_to(knowledge_dir.parent).as_posix() if knowledge_dir.parent in path.parents else path.as_posix()
        data, node = _read_yaml(path, label)
        if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
            errors.append(f"{label}: expected a top-level 'questions:' list")
            continue
        lines = _item_lines(node)
        for index, raw in enumerate(data["questions"]):
            line = lines[index] if index < len(lines) else 0
            where = f"{label}:{line}" if line else label
            qid = raw.get("id", f"#{index + 1}") if isinstance(raw, dict) else f"#{index + 1}"
            try:
                question = Question.model_validate(raw)
            except ValidationError as err:
                errors.append(f"{where}: question {qid}: {_problems(err)}")
                continue
            errors.extend(_check_question(question, where, dims, section_ids))
            if question.id in bank.questions:
                errors.append(f"{where}: duplicate question id {question.id!r} (also at {bank.origin[question.id]})")
                continue
            bank.questions[question.id] = question
            bank.origin[question.id] = where
    if len(errors) == 1:
        raise KnowledgeError(errors[0])
    if errors:
        raise KnowledgeError(f"{len(errors)} problem(s) in the question bank:\n  " + "\n  ".join(errors))
    return bank


def _check_question(q: Question, where: str, dims: set[str], section_ids: set[str] | None) -> list[str]:
    errors = []
    seen: set[str] = set()
    for point in q.rubric:
        if point.id in seen:
            errors.append(f"{where}: question {q.id}: duplicate rubric point id {point.id!r}")
        seen.add(point.id)
        if point.dimension not in dims:
            errors.append(
                f"{where}: question {q.id}: point {point.id!r}: unknown dimension {point.dimension!r} "
                f"(rubric.yaml has {', '.join(sorted(dims))})"
            )
        if section_ids is not None:
            for sid in point.sections:
                if sid not in section_ids:
                    errors.append(f"{where}: question {q.id}: point {point.id!r}: section {sid!r} does not exist in the guide")
    point_ids = {p.id for p in q.rubric}
    for wrong in q.misconceptions:
        if wrong.point not in point_ids:
            errors.append(f"{where}: question {q.id}: misconception {wrong.id!r}: unknown point {wrong.point!r}")
        if section_ids is not None and wrong.section not in section_ids:
            errors.append(f"{where}: question {q.id}: misconception {wrong.id!r}: section {wrong.section!r} does not exist in the guide")
    wrong_ids = [m.id for m in q.misconceptions]
    for dup in {m for m in wrong_ids if wrong_ids.count(m) > 1}:
        errors.append(f"{where}: question {q.id}: duplicate misconception id {dup!r}")
    if q.twist is not None:
        for tp in q.twist.points:
            if tp.id in point_ids:
                errors.append(f"{where}: question {q.id}: twist point {tp.id!r} repeats a rubric point id")
            if tp.dimension not in dims:
                errors.append(f"{where}: question {q.id}: twist point {tp.id!r}: unknown dimension {tp.dimension!r}")
            if section_ids is not None:
                errors.extend(
                    f"{where}: question {q.id}: twist point {tp.id!r}: section {sid!r} does not exist in the guide"
                    for sid in tp.sections
                    if sid not in section_ids
                )
    formula_errors, _ = check_facts(q.facts)
    errors.extend(f"{where}: question {q.id}: {e}" for e in formula_errors)
    fact_names = [f.name for f in q.facts]
    for dup in {n for n in fact_names if fact_names.count(n) > 1}:
        errors.append(f"{where}: question {q.id}: duplicate fact name {dup!r}")
    flag_ids = [f.id for f in q.red_flags]
    for dup in {f for f in flag_ids if flag_ids.count(f) > 1}:
        errors.append(f"{where}: question {q.id}: duplicate red flag id {dup!r}")
    return errors
