"""Practice sessions: pose -> (answer | clarify)* -> follow-up* -> wrap-up -> critique.

The interview moves through stages (clarify, design, deep dive, wrap-up) with a time plan; after
each answer :func:`coach.practice.interviewer.next_move` picks a gap, depth, challenge or twist
follow-up, acknowledging what the candidate just said. All state lives in the store, written with
the turn that justifies it, so a restart resumes where it stopped and several processes can serve
the same database. The bank, the grader and retrieval decide *what* the coach says; the chat model
only rephrases (``llm.phrasing``), and its output is checked (see ``coach.llm.phrasing``) or
replaced by the authored text.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

from coach.grading.critique import Critique, build_critique
from coach.errors import QueryError, SessionError
from coach.practice.turns import NOT_SPECIFIED, context_facts, is_clarifying_question, is_done
from coach.practice.asked import asked_prompt, graded_against, in_own_words, session_question, typed_state
from coach.practice.interviewer import (
    Move, StageClock, after_move, follow_ups_left, new_state, next_move, session_deadline, stage_deadline,
)
from coach.practice.twist import grade_twist
from coach.practice.whiteboard import read_diagram
from coach.settings import LEVELS, STAGES, TOPICS
from coach.text import clean_text

if TYPE_CHECKING:  # pragma: no cover
    from coach.search.embeddings import LocalEmbeddings
    from coach.grading.grader import Grader
    from coach.grading.results import GradeResult
    from coach.content.guide import Guide
    from coach.llm.phrasing import Phraser
    from coach.content.questions import Question, QuestionBank
    from coach.settings import SessionSettings
    from coach.store.sessions import Store



@dataclass
class SessionView:
    """What a UI needs to show a session: the question, the transcript and where it stands."""

    session_id: str
    question_id: str
    topic: str
    level: str
    question: str
    status: str
    follow_ups_left: int
    transcript: list[tuple[str, str, str]]  # (role, kind, content); coach follow-ups by their kind
    stage: str = STAGES[0]
    stage_ends_at: float = 0.0
    ends_at: float = 0.0
    points: list[str | None] = field(default_factory=list)  # per transcript turn: the point it concerns
    diagram: str = ""  # the candidate's latest diagram (Mermaid)
    graded_against: str = ""  # for a typed question: the bank question or composed rubric it is graded against

    @property
    def clock(self) -> StageClock:
        return StageClock(self.status, self.stage, self.stage_ends_at)


@dataclass
class CoachReply:
    """One coach turn. ``chunks`` streams text; the turn is stored when the stream is drained."""

    kind: str  # gap | depth | challenge | twist | wrap-up | clarify-answer | critique | note
    chunks: Iterator[str]
    critique: Critique | None = None
    done: bool = False
    grade: "GradeResult | None" = None
    used_fallback: list[bool] = field(default_factory=list)

    def text(self) -> str:
        return "".join(self.chunks)


class PracticeEngine:
    """Runs practice sessions for one store; safe to share between threads (state is in SQLite)."""

    def __init__(self, bank: "QuestionBank", guide: "Guide", grader: "Grader", store: "Store",
                 embeddings: "LocalEmbeddings", config: "SessionSettings",
                 phraser_factory: Callable[[str], "Phraser | None"] = lambda template: None,
                 rng: random.Random | None = None, clock: Callable[[], float] = time.time) -> None:
        self.bank = bank
        self.guide = guide
        self.grader = grader
        self.store = store
        self.embeddings = embeddings
        self.config = config
        self._phraser_factory = phraser_factory
        self._rng = rng or random.Random()
        self._clock = clock
        # Embeds the posed question's references (key points, outline, wrong claims: ~0.3 s) while the
        # candidate reads and types, so the first grade does not wait for them.
        self._warm = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coach-warm-grader")

    # ------------------------------------------------------------------ choosing a question
    def choose_question(self, topic: str | None = None, level: str | None = None, weakest: bool = False,
                        user: str = "local") -> "Question":
        if topic is not None and topic not in TOPICS:
            raise QueryError(f"unknown topic {topic!r}; choose one of {', '.join(TOPICS)}")
        if level is not None and level not in LEVELS:
            raise QueryError(f"unknown level {level!r}; choose one of {', '.join(LEVELS)}")
        pool = [q for q in self.bank if (topic is None or q.topic == topic) and (level is None or q.level == level)]
        if not pool:
            raise QueryError(f"no question for topic={topic or 'any'} level={level or 'any'}")
        recent = set(self.store.recent_question_ids(self.config.recent_window, user=user))
        fresh = [q for q in pool if q.id not in recent] or pool
        if weakest:
            mastery = self.store.mastery(user=user)
            dim = mastery.weakest_dimension()
            if mastery.unpracticed_topics and topic is None:
                fresh = [q for q in fresh if q.topic in mastery.unpracticed_topics] or fresh
            if dim is not None:
                weight = lambda q: sum(p.weight for p in q.rubric if p.dimension == dim)  # noqa: E731
                top = max(weight(q) for q in fresh)
                fresh = [q for q in fresh if weight(q) == top]
        return self._rng.choice(sorted(fresh, key=lambda q: q.id))

    # ------------------------------------------------------------------ lifecycle
    def start(self, topic: str | None = None, level: str | None = None, weakest: bool = False,
              user: str = "local", question_id: str | None = None, question_text: str | None = None) -> SessionView:
        """Pose a question at once (no LLM involved) and open a stored session: a bank question
        (by id, or chosen by topic, level or weakest dimension), or ``question_text`` as the
        candidate typed it (a bank id there is that bank question)."""
        state = new_state(self._clock())
        if question_text is not None and question_id is not None:
            raise QueryError("give a bank question id or your own question, not both")
        if question_text is not None:
            resolved = self.grader.resolve(question_text)
            question = resolved.question
            state.update(typed_state(resolved))
        else:
            question = self.bank.get(question_id) if question_id else self.choose_question(topic, level, weakest, user)
        sid = self.store.create_session("practice", question.id, question.topic, question.level, state=state, user=user)
        self.store.add_turn(sid, "coach", "question", asked_prompt(question, state))
        self._warm.submit(self.grader.prepare, question)
        return self.view(sid)

    def question_of(self, row: Any) -> "Question":
        """The question a stored session is graded against (a typed one keeps its own rubric)."""
        return session_question(self.bank, row.id, row.question_id, row.state)

    def view(self, session_id: str) -> SessionView:
        row = self.store.get_session(session_id)
        question = self.question_of(row)
        state, plan = row.state, self.config.stage_minutes
        turns = self.store.turns(session_id)
        return SessionView(
            session_id=row.id, question_id=question.id, topic=question.topic, level=question.level,
            question=asked_prompt(question, state), status=row.status,
            follow_ups_left=follow_ups_left(state, self.config.max_follow_ups),
            transcript=[(t.role, turn_kind(t.kind, t.meta), t.content) for t in turns],
            points=[t.meta.get("point") for t in turns],
            stage=state.get("stage", STAGES[0]), stage_ends_at=stage_deadline(state, plan),
            ends_at=session_deadline(state, plan), diagram=state.get("diagram", ""),
            graded_against=graded_against(question, state),
        )

    def clock(self, session_id: str) -> StageClock:
        """The session's stage and its deadline from the session row alone (the countdown asks every second)."""
        row = self.store.get_session(session_id)
        return StageClock(row.status, row.state.get("stage", STAGES[0]),
                          stage_deadline(row.state, self.config.stage_minutes))

    def respond(self, session_id: str, text: str, diagram: str | None = None) -> CoachReply:
        """Take the candidate's turn: an answer (with an optional diagram), a clarifying question, or "done"."""
        row = self.store.get_session(session_id)
        if row.status != "active":
            raise SessionError(f"session {session_id} has ended; start a new one")
        drawn = read_diagram(clean_text(diagram)) if isinstance(diagram, str) else None
        if (not isinstance(text, str) or not text.strip()) and drawn is None:
            raise QueryError("say something: an answer, a clarifying question, or 'done' for the critique")
        text = clean_text(text or "")
        if len(text) > self.config.max_answer_chars:
            raise QueryError(f"that turn is {len(text):,} characters; the limit is {self.config.max_answer_chars:,}")
        question = self.question_of(row)
        state = dict(row.state)
        if drawn is None and is_done(text):
            if not state.get("answers"):
                return self._note(session_id, "Give at least one answer before asking for the critique.")
            return self.finish(session_id)
        if drawn is None and is_clarifying_question(text):
            state["clarifications"] = state.get("clarifications", 0) + 1
            self.store.add_turn(session_id, "candidate", "clarify-question", text, state=state)
            return self._clarify(session_id, question, text, own_words=in_own_words(state))
        graded = "\n\n".join(part for part in (text, drawn.as_answer_text() if drawn else "") if part)
        state["answers"] = [*state.get("answers", []), graded]
        meta = {}
        if drawn is not None:
            state["diagram"] = drawn.mermaid
            meta = {"diagram": drawn.source}
        grade = self.grader.grade(question, "\n\n".join(state["answers"]))
        # The answer, the state it changes and its grade land together or not at all.
        self.store.add_turn(session_id, "candidate", "answer", text or "(diagram)", meta=meta, state=state,
                            grade=grade.as_json())
        return self._after_answer(session_id, question, grade, state, graded)

    def unanswered(self, session_id: str) -> CoachReply | None:
        """The coach turn still owed for the candidate's last turn (a crash cut it off), else None.

        A probe counts as asked only once its turn is stored, so resuming re-asks it.
        """
        row = self.store.get_session(session_id)
        turns = self.store.turns(session_id)
        if row.status != "active" or not turns or turns[-1].role != "candidate":
            return None
        question = self.question_of(row)
        last = turns[-1]
        if last.kind == "clarify-question":
            return self._clarify(session_id, question, last.content, own_words=in_own_words(row.state))
        answers = row.state.get("answers", [])
        grade = self.grader.grade(question, "\n\n".join(answers))
        return self._after_answer(session_id, question, grade, row.state, answers[-1] if answers else last.content)

    def _after_answer(self, session_id: str, question: "Question", grade: "GradeResult", state: dict[str, Any],
                      last: str) -> CoachReply:
        move = next_move(question, grade, state, last, plan=self.config.stage_minutes,
                         max_follow_ups=self.config.max_follow_ups, now=self._clock())
        if move.kind == "critique":
            return self.finish(session_id, grade=grade)
        covered = [p.id for p in grade.points if p.covered]
        return self._follow_up(session_id, question, move, last, grade, covered, said="\n".join(state["answers"]))

    def finish(self, session_id: str, grade: "GradeResult | None" = None) -> CoachReply:
        """Grade everything said so far and stream the critique (deterministic card first)."""
        row = self.store.get_session(session_id)
        question = self.question_of(row)
        answers = row.state.get("answers", [])
        if grade is None:
            grade = self.grader.grade(question, "\n\n".join(answers))
            self.store.save_grade(session_id, grade.as_json())
        critique = build_critique(question, grade, self.guide, self.bank)
        critique.twist = grade_twist(self.grader, self.guide, question, row.state)
        critique.diagram = row.state.get("diagram", "")
        # The session closes in the transaction that stores the critique (a crash before leaves it resumable).
        closing = (grade.score, grade.band) if row.status == "active" else None
        card = critique.markdown()
        reply = CoachReply(kind="critique", chunks=iter(()), critique=critique, done=True, grade=grade)

        def chunks() -> Iterator[str]:
            yield card
            fallback = _critique_summary(critique)
            phraser = self._phraser_factory("critique_intro")
            if phraser is None:  # the authored summary: the model is off for this template
                yield "\n\n**Coach's summary:** " + fallback
                return
            strengths = "; ".join(p.text for p in critique.covered[:2]) or "none yet"
            gaps = "; ".join(p.text for p in critique.missed[:2]) or "none"
            intro = phraser.stream("critique_intro", fallback, question=question.prompt, score=str(grade.score),
                                   band=grade.band, strengths=strengths[:300], gaps=gaps[:300])
            yield "\n\n**Coach's summary:** "
            yield from intro
            reply.used_fallback.append(phraser.last_fallback)

        reply.chunks = self._recorded(session_id, "critique", chunks(), finish=closing)
        return reply

    # ------------------------------------------------------------------ turns
    def _note(self, session_id: str, text: str) -> CoachReply:
        return CoachReply(kind="note", chunks=self._recorded(session_id, "note", iter([text])))

    def _follow_up(self, session_id: str, question: "Question", move: Move, last: str, grade: "GradeResult",
                   covered: list[str], said: str) -> CoachReply:
        banned = _banned_phrases(question, said)
        reply = CoachReply(kind=move.kind, chunks=iter(()), grade=grade)
        lead = move.lead

        def chunks() -> Iterator[str]:
            if lead:
                yield lead + "\n\n"
            phraser = self._phraser_factory("probe")
            if phraser is None:
                yield move.ask
                return
            yield from phraser.stream("probe", move.ask, banned=banned, reference=question.prompt,
                                      question=question.prompt, probe=move.ask, candidate_excerpt=_excerpt(last))
            reply.used_fallback.append(phraser.last_fallback)

        now = self._clock()

        def asked(state: dict[str, Any]) -> dict[str, Any]:
            return {**after_move(state, move, now), "covered": covered}

        # The follow-up counts as asked (and the stage moves) in the same transaction that stores it.
        reply.chunks = self._recorded(session_id, "probe", chunks(), state=asked,
                                      meta={"point": move.point, "follow_up": move.kind, "stage": move.stage})
        return reply

    def _clarify(self, session_id: str, question: "Question", asked: str, own_words: bool = False) -> CoachReply:
        # A question the candidate typed has no authored context: the bank question that lends its
        # rubric may describe another product's numbers, so none are given.
        facts = [] if own_words else self.context_facts(question, asked)
        fallback = " ".join(facts) if facts else NOT_SPECIFIED
        banned = [p.text for p in question.rubric]
        reply = CoachReply(kind="clarify-answer", chunks=iter(()))

        def chunks() -> Iterator[str]:
            phraser = self._phraser_factory("clarify")
            if phraser is None or not facts:
                yield fallback
                return
            yield from phraser.stream("clarify", fallback, banned=banned, reference=" ".join(facts),
                                      question=question.prompt, context_facts=" ".join(facts),
                                      candidate_question=asked)
            reply.used_fallback.append(phraser.last_fallback)

        reply.chunks = self._recorded(session_id, "clarify-answer", chunks())
        return reply

    def context_facts(self, question: "Question", asked: str, limit: int = 2) -> list[str]:
        """The context sentences that answer a clarifying question (see ``coach.practice.turns``)."""
        return context_facts(self.embeddings, question, asked, limit)

    def _recorded(self, session_id: str, kind: str, chunks: Iterator[str], meta: dict[str, Any] | None = None,
                  state: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                  finish: tuple[int, str] | None = None) -> Iterator[str]:
        """Pass chunks through and store the whole coach turn once the stream ends (or is dropped)."""
        parts: list[str] = []
        try:
            for chunk in chunks:
                parts.append(chunk)
                yield chunk
        finally:
            if parts:
                self.store.add_turn(session_id, "coach", kind, "".join(parts), meta=meta, state=state, finish=finish)


def _excerpt(text: str, n: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[-n:]


def _banned_phrases(question: "Question", said: str) -> list[str]:
    """What a phrased follow-up must not say: rubric texts and the cue phrases the candidate has not said."""
    heard = " ".join(said.lower().split())
    points = [*question.rubric, *(question.twist.points if question.twist else [])]
    banned = [p.text for p in points]
    banned += [c for p in points for c in p.cues if len(c.split()) >= 2 and c.lower() not in heard]
    return banned


def turn_kind(kind: str, meta: dict[str, Any]) -> str:
    """A stored coach follow-up ("probe") by its interviewer kind; other turns as stored."""
    return meta.get("follow_up") or ("gap" if kind == "probe" else kind)


def _critique_summary(critique: Critique) -> str:
    strengths = critique.covered[0].text.rstrip(".") if critique.covered else None
    gap = critique.missed[0].text.rstrip(".") if critique.missed else None
    parts = [f"You scored {critique.score}/100, {critique.band}."]
    if strengths:
        parts.append(f"Your strongest point: {strengths[0].lower() + strengths[1:]}.")
    if gap:
        parts.append(f"The most valuable thing to add next time: {gap[0].lower() + gap[1:]}.")
    return " ".join(parts)
