"""Grading the twist: the requirement change is its own item, judged on the answers given after it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coach.content.questions import RubricPoint
from coach.grading.critique import PointNote, TwistNote, cite

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.guide import Guide
    from coach.content.questions import Question
    from coach.grading.grader import Grader


def twist_question(question: "Question") -> "Question":
    """The question as the twist leaves it: the change is the prompt, the twist's points the rubric."""
    assert question.twist is not None
    rubric = [RubricPoint(**point.model_dump(), probe=question.twist.change) for point in question.twist.points]
    return question.model_copy(update={
        "id": f"{question.id}:twist", "prompt": question.twist.change, "rubric": rubric,
        "red_flags": [], "misconceptions": [],
    })


def grade_twist(grader: "Grader", guide: "Guide", question: "Question", state: dict[str, Any]) -> TwistNote | None:
    """None when the twist was never posed; else its points made or missed after it was posed."""
    start = state.get("twist_from")
    if question.twist is None or start is None:
        return None
    after = state.get("answers", [])[start:]
    if after:
        grade = grader.grade(twist_question(question), "\n\n".join(after))
        results = {p.id: p for p in grade.points}
    else:
        results = {}
    covered, missed = [], []
    for point in question.twist.points:
        found = results.get(point.id)
        note = PointNote(id=point.id, text=point.text, dimension=point.dimension, weight=point.weight,
                         evidence=found.evidence if found else None, citations=cite(guide, point.sections),
                         level=(found.level or "explained") if found and found.covered else "missed")
        (covered if found and found.covered else missed).append(note)
    return TwistNote(change=question.twist.change, covered=covered, missed=missed, answered=bool(after))
