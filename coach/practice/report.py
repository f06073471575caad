"""A practice or self-assessment session written out as Markdown (``coach report SESSION_ID``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from coach.grading.critique import build_critique, cite
from coach.grading.results import GradeResult
from coach.practice.asked import asked_prompt, graded_against, session_question

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.guide import Guide
    from coach.content.questions import QuestionBank
    from coach.store.sessions import Store

_SPEAKER = {"coach": "Interviewer", "candidate": "You"}
_KIND = {"question": "question", "answer": "answer", "probe": "follow-up", "clarify-question": "clarifying question",
         "clarify-answer": "clarification", "critique": "critique", "note": "note"}


def session_markdown(store: "Store", bank: "QuestionBank", guide: "Guide", session_id: str) -> str:
    row = store.get_session(session_id)
    question = session_question(bank, row.id, row.question_id, row.state)
    started = dt.datetime.fromtimestamp(row.started_at).strftime("%Y-%m-%d %H:%M")
    out = [f"# Practice report — {question.id}", "",
           f"- Session: `{row.id}` ({row.kind}, {row.status})", f"- Started: {started}",
           f"- Topic: {question.topic}; level: {question.level}"]
    if row.score is not None:
        out.append(f"- Score: **{row.score}/100** ({row.band})")
    out += ["", "## Question", "", asked_prompt(question, row.state), ""]
    against = graded_against(question, row.state)
    if against:
        out += [f"_{against}_", ""]
    out += ["## Transcript", ""]
    turns = store.turns(session_id)
    for turn in turns:
        if turn.kind in ("question", "critique"):
            continue
        kind = _KIND.get(turn.kind, turn.kind)
        if turn.kind == "probe" and turn.meta.get("follow_up"):
            kind += f": {turn.meta['follow_up']}"
        out += [f"**{_SPEAKER.get(turn.role, turn.role)}** ({kind}):", "", turn.content.strip(), ""]
    grade_json = store.latest_grade(session_id)
    ratings = store.self_ratings(session_id)
    stored = next((t.content for t in reversed(turns) if t.kind == "critique"), None)
    if grade_json:
        critique = build_critique(question, GradeResult.from_json(grade_json), guide, bank)
        # The card as the candidate saw it (with the twist and their diagram), else rebuilt from the grade.
        card = stored if stored is not None else critique.markdown()
        out += ["## Critique", "", card.split("\n", 1)[1].strip(), ""]
        if ratings:
            out += ["## Self-ratings", "", "| Dimension | You rated |", "|---|---|"]
            out += [f"| {bank.rubric.dimension(d).name} | {v} |" for d, v in ratings.items()]
            out.append("")
        sections: list[str] = []
        for p in critique.missed + critique.covered:
            sections += [c.section_id for c in p.citations if c.section_id not in sections]
        out += ["## Citations", ""]
        out += [f"- [{c.title}](knowledge/{c.source}) — `{c.section_id}`, {c.topic}" for c in cite(guide, sections)]
    else:
        out += ["## Critique", "", "_No answer was graded in this session yet._"]
    return "\n".join(out).rstrip() + "\n"
