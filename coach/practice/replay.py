"""Replay: play a candidate's turns from a file through a practice session, return the transcript.

Users practise from written answers this way (``coach practice --question ID --script FILE
--json``); the evals drive scripted candidates with it. A script is YAML or JSON: a list of turns,
or a mapping with ``turns`` (and optionally ``question``). Each turn is text (an answer, a
clarifying question, or "done") or a mapping with ``text`` and/or ``diagram``. The interview
ends with the critique: when the coach ends it, at "done", or after the last turn.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from coach.errors import QueryError

if TYPE_CHECKING:  # pragma: no cover
    from coach.practice.engine import PracticeEngine


def load_script(path: Path) -> tuple[str | None, list[dict[str, str | None]]]:
    """The script's question id (if it names one) and its turns; errors name the file and the turn."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))  # JSON is YAML too
    except OSError as exc:
        raise QueryError(f"{path}: cannot read the script: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise QueryError(f"{where}: not valid YAML or JSON: {getattr(exc, 'problem', exc)}") from None
    question = None
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"question", "turns"})
        if unknown:
            raise QueryError(f"{path}: unknown field(s) {', '.join(unknown)}; a script has 'turns' and 'question'")
        question, data = data.get("question"), data.get("turns")
        if question is not None and not isinstance(question, str):
            raise QueryError(f"{path}: 'question' must be a bank question id")
    if not isinstance(data, list) or not data:
        raise QueryError(f"{path}: a script is a non-empty list of turns (or a mapping with 'turns')")
    turns: list[dict[str, str | None]] = []
    for n, turn in enumerate(data, start=1):
        if isinstance(turn, str):
            turn = {"text": turn}
        if not isinstance(turn, dict) or set(turn) - {"text", "diagram"} or not (turn.get("text") or turn.get("diagram")):
            raise QueryError(f"{path}: turn {n}: write text, or a mapping with 'text' and/or 'diagram'")
        if not all(v is None or isinstance(v, str) for v in turn.values()):
            raise QueryError(f"{path}: turn {n}: 'text' and 'diagram' must be text")
        turns.append({"text": turn.get("text") or "", "diagram": turn.get("diagram")})
    return question, turns


def replay(engine: "PracticeEngine", question_id: str, turns: list[dict[str, str | None]],
           user: str = "local") -> str:
    """Play ``turns`` in a new session on ``question_id`` (or a typed question); the session id (finished with a critique)."""
    view = engine.start(question_text=question_id, user=user)
    for n, turn in enumerate(turns, start=1):
        try:
            reply = engine.respond(view.session_id, turn["text"] or "", turn.get("diagram"))
        except QueryError as exc:
            raise QueryError(f"turn {n}: {exc}") from None
        reply.text()  # drain: the coach's turn is stored when its stream ends
        if reply.done:
            return view.session_id
    if engine.view(view.session_id).status == "active":
        engine.finish(view.session_id).text()
    return view.session_id


def transcript(engine: "PracticeEngine", session_id: str) -> list[dict[str, Any]]:
    """The session as JSON-ready turns: role, kind, point (rubric point or challenge id, else null), text."""
    view = engine.view(session_id)
    turns = []
    for (role, kind, text), point in zip(view.transcript, view.points):
        turns.append({"role": role, "kind": kind, "point": point, "text": text})
    return turns
