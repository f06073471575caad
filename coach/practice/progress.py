"""Progress summaries shared by the CLI and the web app: mastery, history, the next question."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.questions import Rubric
    from coach.practice.engine import PracticeEngine
    from coach.store.sessions import Store


def recommend_next(store: "Store", engine: "PracticeEngine", rubric: "Rubric", user: str | None = None) -> dict[str, Any] | None:
    """The question "weakest area" would pose now, with the reason."""
    mastery = store.mastery(user=user)
    question = engine.choose_question(weakest=True, user=user or "local")
    dim = mastery.weakest_dimension()
    if mastery.unpracticed_topics:
        reason = f"you have not practised {', '.join(mastery.unpracticed_topics)} yet"
    elif dim:
        reason = f"your weakest dimension is {rubric.dimension(dim).name}"
    else:
        reason = "start anywhere"
    return {"question_id": question.id, "topic": question.topic, "level": question.level, "prompt": question.prompt,
            "reason": reason}


def progress_text(store: "Store", engine: "PracticeEngine", rubric: "Rubric", user: str | None = None) -> str:
    mastery = store.mastery(user=user)
    lines = ["Mastery by topic (mean of recent final scores):"]
    for topic, value in sorted(mastery.by_topic.items()):
        lines.append(f"  {topic:<16} {value:5.1f}")
    if mastery.unpracticed_topics:
        lines.append(f"  not practised yet: {', '.join(mastery.unpracticed_topics)}")
    if mastery.by_dimension:
        lines.append("Mastery by dimension:")
        for dim, value in sorted(mastery.by_dimension.items(), key=lambda kv: kv[1]):
            lines.append(f"  {rubric.dimension(dim).name:<46} {value:5.1f}")
    sessions = store.list_sessions(limit=10, user=user)
    if sessions:
        lines.append("Recent sessions:")
        for s in sessions:
            when = dt.datetime.fromtimestamp(s.started_at).strftime("%Y-%m-%d %H:%M")
            score = "—" if s.score is None else f"{s.score:>3}"
            lines.append(f"  {s.id}  {when}  {s.kind:<11} {s.question_id:<10} {s.status:<9} {score}")
    rec = recommend_next(store, engine, rubric, user)
    if rec:
        lines.append(f"Next: {rec['question_id']} ({rec['topic']}, {rec['level']}) because {rec['reason']}:")
        lines.append(f"  {rec['prompt']}")
    return "\n".join(lines)


def mastery_over_time(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for plotting mastery after each finished session (``Mastery.history``, oldest first).

    One row per (session, topic) and per (session, dimension) that the session touched:
    ``{"session": n, "ended_at": ts, "group": "topic" | "dimension", "name": ..., "score": this
    session's score, "mastery": the running mean over the same window ``Store.mastery`` uses}``.
    """
    from coach.store.schema import DIMENSION_WINDOW, TOPIC_WINDOW

    seen: dict[tuple[str, str], list[float]] = {}
    rows: list[dict[str, Any]] = []

    def add(n: int, entry: dict[str, Any], group: str, name: str, score: float, window: int) -> None:
        values = seen.setdefault((group, name), [])
        values.append(float(score))
        latest = values[-window:]
        rows.append({"session": n, "ended_at": entry.get("ended_at"), "group": group, "name": name,
                     "score": float(score), "mastery": sum(latest) / len(latest)})

    for n, entry in enumerate(history, start=1):
        if entry.get("score") is not None:
            add(n, entry, "topic", entry["topic"], entry["score"], TOPIC_WINDOW)
        for dim, score in sorted((entry.get("dimensions") or {}).items()):
            add(n, entry, "dimension", dim, score, DIMENSION_WINDOW)
    return rows
