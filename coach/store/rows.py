"""Rows read from the session database, the mastery summary, and the checks on values written."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from coach.errors import SessionError, StoreError
from coach.settings import TOPICS
from coach.store.schema import DEFAULT_USER, DIMENSION_WINDOW, TOPIC_WINDOW



@dataclass
class SessionRow:
    id: str
    kind: str            # "practice" | "self-assess"
    question_id: str
    topic: str
    level: str
    status: str          # "active" | "done" | "abandoned"
    started_at: float
    ended_at: float | None
    score: int | None
    band: str | None
    state: dict[str, Any]
    user: str = DEFAULT_USER


@dataclass
class TurnRow:
    session_id: str
    index: int
    role: str            # "coach" | "candidate"
    kind: str            # one of TURN_KINDS
    content: str
    created_at: float
    meta: dict[str, Any]


def _weakest(means: dict[str, float], counts: dict[str, int]) -> str | None:
    if not means:
        return None
    return min(means, key=lambda name: (round(means[name], 9), counts.get(name, 0), name))


@dataclass
class Mastery:
    """What finished sessions say about a candidate, from each session's final grade.

    ``by_topic``: mean final score (0-100) of the latest up-to-5 finished sessions per topic.
    ``by_dimension``: mean dimension score over the latest up-to-10 graded sessions having it.
    ``history``: one row per finished session, oldest first (for plotting progress).
    ``topic_counts`` / ``dimension_counts``: how many sessions each mean could draw on in total.
    ``unpracticed_topics``: topics of ``coach.settings.TOPICS`` with no finished session.
    """

    by_topic: dict[str, float] = field(default_factory=dict)
    by_dimension: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    topic_counts: dict[str, int] = field(default_factory=dict)
    dimension_counts: dict[str, int] = field(default_factory=dict)
    unpracticed_topics: list[str] = field(default_factory=list)

    def weakest_topic(self) -> str | None:
        """Lowest mean among practised topics; ties go to fewer sessions, then the name."""
        return _weakest(self.by_topic, self.topic_counts)

    def weakest_dimension(self) -> str | None:
        """Lowest mean among graded dimensions; ties go to fewer sessions, then the name."""
        return _weakest(self.by_dimension, self.dimension_counts)


# --------------------------------------------------------------------------------------------
# Helpers

def _dumps(value: Any, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what} cannot be stored as JSON: {exc}") from None


def _one_of(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise StoreError(f"{what} {value!r} is not one of: {', '.join(allowed)}")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise StoreError(f"{what} must be a non-empty string, got {value!r}")
    return value


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StoreError(f"{what} must be a dict, got {type(value).__name__}")
    return value


def _score(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise StoreError(f"{what} must be an integer from 0 to 100, got {value!r}")
    return value


def _dimension_score(value: Any) -> int | float | None:
    """The grader writes ``{dim: {"score": n, ...}}``; a bare number is accepted too."""
    if isinstance(value, dict):
        value = value.get("score")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _grade_values(session_id: str, result: Any) -> tuple[int | None, str | None, str]:
    """(score, band, JSON) of a grader result, checked before anything is written."""
    result = _mapping(result, "grade result")
    if not result:
        raise StoreError(f"grade for session {session_id} is empty")
    score = result.get("score")
    if score is not None:
        _score(score, f"grade score for session {session_id}")
    band = result.get("band")
    if band is not None and not isinstance(band, str):
        raise StoreError(f"grade band for session {session_id} must be a string, got {band!r}")
    dims = result.get("dimensions", {})
    if not isinstance(dims, dict):
        raise StoreError(f"grade dimensions for session {session_id} must be a dict, got {type(dims).__name__}")
    return score, band, _dumps(result, f"grade for session {session_id}")


def _session_row(row: Any) -> SessionRow:
    return SessionRow(
        id=row["id"], kind=row["kind"], question_id=row["question_id"], topic=row["topic"],
        level=row["level"], status=row["status"], started_at=row["started_at"], ended_at=row["ended_at"],
        score=row["score"], band=row["band"], state=json.loads(row["state"]), user=row["user"],
    )


def _turn_row(row: Any) -> TurnRow:
    return TurnRow(
        session_id=row["session_id"], index=row["idx"], role=row["role"], kind=row["kind"],
        content=row["content"], created_at=row["created_at"], meta=json.loads(row["meta"]),
    )


def _no_session(session_id: str) -> SessionError:
    return SessionError(f"no session {session_id}: see `coach progress` for ids")


# --------------------------------------------------------------------------------------------


def mastery_from_rows(rows: list[Any]) -> Mastery:
    """:class:`Mastery` from finished sessions (oldest first), each with its latest grade as ``grade``."""
    history: list[dict[str, Any]] = []
    topic_scores: dict[str, list[int]] = {}
    dim_scores: dict[str, list[float]] = {}
    for row in rows:
        grade = json.loads(row["grade"]) if row["grade"] is not None else None
        dims: dict[str, int | float] = {}
        raw_dims = (grade or {}).get("dimensions") or {}
        if isinstance(raw_dims, dict):
            for dim, value in raw_dims.items():
                got = _dimension_score(value)
                if got is not None:
                    dims[dim] = got
        history.append({
            "session_id": row["id"], "ended_at": row["ended_at"], "topic": row["topic"],
            "question_id": row["question_id"], "kind": row["kind"], "score": row["score"],
            "band": row["band"], "dimensions": dims,
        })
        topic_scores.setdefault(row["topic"], []).append(row["score"])
        for dim, got in dims.items():
            dim_scores.setdefault(dim, []).append(got)

    def window_mean(values: list[float], n: int) -> float:
        latest = values[-n:]
        return sum(latest) / len(latest)

    return Mastery(
        by_topic={t: window_mean(v, TOPIC_WINDOW) for t, v in topic_scores.items()},
        by_dimension={d: window_mean(v, DIMENSION_WINDOW) for d, v in dim_scores.items()},
        history=history,
        topic_counts={t: len(v) for t, v in topic_scores.items()},
        dimension_counts={d: len(v) for d, v in dim_scores.items()},
        unpracticed_topics=[t for t in TOPICS if t not in topic_scores],
    )
