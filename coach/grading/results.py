"""What a grade is: per-point results with evidence, red flags, and the stored JSON form."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from coach.grading.depth import LEVEL_CREDIT

MANIPULATION_FLAG = "grader-manipulation"
LISTING_FLAG = "terms-without-reasoning"


@dataclass
class PointResult:
    id: str
    text: str
    dimension: str
    weight: int
    covered: bool
    evidence: str | None
    strength: float
    sections: list[str]
    closest: str | None = None  # missed point: the sentence that came nearest to making it, if any did
    level: str | None = None    # missed | mentioned | explained (grades stored before levels: from covered)

    def __post_init__(self) -> None:
        if self.level is None:
            self.level = "explained" if self.covered else "missed"

    @property
    def credit(self) -> float:
        """Share of the weight earned: explained 1, mentioned 1/2, missed 0."""
        return LEVEL_CREDIT[self.level or "missed"]


@dataclass
class FlagResult:
    id: str
    text: str
    evidence: str


@dataclass
class MisconceptionResult:
    """A wrong claim the answer states, with its correction and where the guide teaches it."""

    id: str
    point: str
    claim: str
    correction: str
    section: str
    evidence: str


@dataclass
class GradeResult:
    question_id: str
    matched_question: str
    match_score: float
    rubric_source: str  # "bank", "guide" (composed from key points) or "model" (drafted by a capable backend)
    score: int
    band: str
    dimensions: dict[str, dict[str, Any]]
    points: list[PointResult]
    red_flags: list[FlagResult]
    feedback: dict[str, Any]
    misconceptions: list[MisconceptionResult] = field(default_factory=list)

    @property
    def covered_ids(self) -> list[str]:
        return [p.id for p in self.points if p.covered]

    @property
    def mentioned(self) -> list[PointResult]:
        return [p for p in self.points if p.level == "mentioned"]

    @property
    def missed(self) -> list[PointResult]:
        return [p for p in self.points if not p.covered]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "GradeResult":
        """Rebuild a stored grade (the store keeps ``as_json()``)."""
        fields = dict(data)
        fields["points"] = [PointResult(**p) for p in data["points"]]
        fields["red_flags"] = [FlagResult(**f) for f in data["red_flags"]]
        fields["misconceptions"] = [MisconceptionResult(**m) for m in data.get("misconceptions", [])]
        return cls(**fields)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for point in data["points"]:
            point["strength"] = round(point["strength"], 3)
        data["match_score"] = round(self.match_score, 3)
        return data


def clip(text: str | None, n: int = 140) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"
