"""A question the candidate typed, kept with the session it starts.

A typed question lends a close bank question's rubric, or gets one composed from the guide's key
points (or drafted by a capable model): ``Grader.resolve``. The session stores the words it was
asked in and, for a rubric not in the bank, the rubric itself, so a resumed session, its critique
and ``coach report`` grade against the same points even after the guide or the model changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from coach.content.questions import Question
from coach.errors import SessionError
from coach.grading.guide_rubric import graded_against_note

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.questions import QuestionBank
    from coach.grading.grader import ResolvedQuestion

ASKED_AS = "asked_as"        # the question in the candidate's words
SOURCE = "rubric_source"     # "bank" | "guide" | "model"
RUBRIC = "rubric"            # a rubric that is not in the bank (Question as JSON)


def typed_state(resolved: "ResolvedQuestion") -> dict[str, Any]:
    """What a session keeps of a typed question (merged into its state when it starts); nothing for
    a bank question asked as written (its id, or its prompt word for word)."""
    if resolved.source == "bank" and resolved.asked_as == resolved.question.prompt:
        return {}
    state: dict[str, Any] = {ASKED_AS: resolved.asked_as, SOURCE: resolved.source}
    if resolved.source != "bank":
        state[RUBRIC] = resolved.question.model_dump(mode="json")
    return state


def session_question(bank: "QuestionBank", session_id: str, question_id: str, state: dict[str, Any]) -> Question:
    """The question a session is graded against: its stored rubric, else the bank's."""
    stored = state.get(RUBRIC)
    if stored is None:
        return bank.get(question_id)
    try:
        return Question.model_validate(stored)
    except ValidationError as exc:
        raise SessionError(f"session {session_id}: its stored rubric is not valid "
                           f"({exc.errors()[0]['loc']}: {exc.errors()[0]['msg']})") from None


def asked_prompt(question: Question, state: dict[str, Any]) -> str:
    """The question as the interviewer posed it: the candidate's words when they typed it."""
    return state.get(ASKED_AS) or question.prompt


def in_own_words(state: dict[str, Any]) -> bool:
    """The session poses a question the candidate typed, not a bank question as written."""
    return bool(state.get(ASKED_AS))


def graded_against(question: Question, state: dict[str, Any]) -> str:
    """One line on what the answers are graded against ('' when that is the question as posed)."""
    return graded_against_note(state.get(SOURCE, "bank"), question.id, question.prompt, in_own_words(state))
