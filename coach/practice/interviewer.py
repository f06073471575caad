"""The interviewer's policy: which stage the interview is in and what the coach asks next.

Pure functions of the question, the latest grade and the stored session state, so the policy is
deterministic and tested without a store or a model. The policy, in order of precedence:

1. **challenge** — the latest answer states a bank red flag or misconception not yet challenged:
   its authored ``challenge`` (a real interviewer pushes back at once);
2. **twist** — in the deep dive, once per session, after the first deep-dive follow-up (or when
   only one follow-up is left): the question's ``twist.change``;
3. **depth** — the latest answer newly made a point that has an unused authored ``follow_ups``
   question, and the previous follow-up was not a depth one: go one level deeper on the candidate's
   own choice (heaviest point first);
4. **gap** — a point still missing, never probed: its ``probe`` (heaviest first, rubric order);
5. **depth** on any point already made with a follow-up left;
6. **wrap-up** — when the follow-ups are spent, nothing is left to ask, or the deep dive's time is
   up: one closing question on trade-offs and next steps; the answer to it ends the interview.

Stages move clarify -> design on the first answer; design -> deep-dive when the design stage has
had its share of the follow-ups (its minutes' share of design + deep-dive) or its time is spent;
deep-dive -> wrap-up as in 6. Past the whole plan's time, the next answer gets the critique.
Each follow-up is stored with its kind and the point it concerns (``meta``), and counts as asked
only once its turn is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coach.practice.whiteboard import DIAGRAM_SENTENCE
from coach.settings import STAGES

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.questions import Question
    from coach.grading.results import GradeResult

FOLLOW_UP_KINDS: tuple[str, ...] = ("gap", "depth", "challenge", "twist", "wrap-up")
STAGE_TITLES: dict[str, str] = {
    "clarify": "Clarify and requirements", "design": "High-level design", "deep-dive": "Deep dives",
    "wrap-up": "Wrap-up",
}
TRANSITIONS: dict[str, str] = {
    "design": "Let's move on to the high-level design.",
    "deep-dive": "Let's go deeper on a few parts of your design.",
    "wrap-up": "We're close to the end, so let's wrap up.",
}
WRAP_UP_QUESTION = ("Looking back at your design, what are the main trade-offs you made, and what would you build "
                    "or measure next if you had another month?")
TWIST_LEAD = "One requirement changes:"
TWIST_ASK = "How does your design change?"
QUOTE_WORDS = 12
SHORT_ANSWER_WORDS = 8
MOVE_ON = "Let's try another angle."


@dataclass(frozen=True)
class Move:
    """What the coach does next: a follow-up of ``kind`` on ``point`` (or the critique)."""

    kind: str               # gap | depth | challenge | twist | wrap-up | critique
    point: str | None       # rubric point, red flag or misconception id; None for twist / wrap-up
    ask: str = ""           # the authored question
    ack: str = ""           # one sentence naming what the candidate just said
    stage: str = "design"   # the stage after this move
    transition: str = ""    # said when the stage changes

    @property
    def lead(self) -> str:
        """What the coach says before the question: the stage change, then the acknowledgement."""
        return " ".join(part for part in (self.transition, self.ack) if part)


@dataclass(frozen=True)
class StageClock:
    """Where a session stands in its time plan: what the stage line needs, read without the transcript."""

    status: str
    stage: str
    stage_ends_at: float

    @property
    def stage_title(self) -> str:
        return STAGE_TITLES[self.stage]

    @property
    def stage_number(self) -> int:
        return STAGES.index(self.stage) + 1


def new_state(now: float) -> dict[str, Any]:
    return {"answers": [], "probed": [], "asked": [], "clarifications": 0, "covered": [],
            "stage": STAGES[0], "stage_at": now, "started_at": now}


def quote(sentence: str, n_words: int = QUOTE_WORDS) -> str:
    """The candidate's own words, cut to ``n_words`` at a word boundary: always true to what they said."""
    flat = " ".join(sentence.replace('"', "'").split()).rstrip(" .;:,!")
    parts = flat.split(" ")
    return flat if len(parts) <= n_words else " ".join(parts[:n_words]).rstrip(" .;:,") + "…"


def acknowledgement(kind: str, said: str | None, earlier: bool = False) -> str:
    """One neutral sentence that quotes the candidate (no praise, no rubric words).

    ``earlier``: the quote comes from a previous answer. A short reply that made no point ("not
    sure") is met before a gap probe with a neutral turn, not a quote of it; otherwise nothing.
    """
    if not said or not said.strip():
        return MOVE_ON if kind == "gap" else ""
    if said.startswith(DIAGRAM_SENTENCE):  # a whiteboard arrow, in our words: say where it came from
        return 'Your diagram shows "{q}".'.format(q=quote(said.removeprefix(DIAGRAM_SENTENCE)))
    if earlier:
        return 'Earlier you said "{q}".'.format(q=quote(said))
    form = {"challenge": 'You said "{q}".', "depth": 'You mentioned "{q}".'}.get(kind, 'Noted: "{q}".')
    return form.format(q=quote(said))


def stage_share(plan: dict[str, int], max_follow_ups: int) -> int:
    """How many follow-ups the design stage gets before the deep dive: its share of the minutes."""
    design, deep = plan.get("design", 0), plan.get("deep-dive", 0)
    if design + deep <= 0:
        return 0
    return max(1, round(max_follow_ups * design / (design + deep))) if design else 0


def stage_deadline(state: dict[str, Any], plan: dict[str, int]) -> float:
    return float(state.get("stage_at", 0.0)) + 60.0 * plan.get(state.get("stage", STAGES[0]), 0)


def session_deadline(state: dict[str, Any], plan: dict[str, int]) -> float:
    return float(state.get("started_at", 0.0)) + 60.0 * sum(plan.values())


def _in(sentence: str | None, latest: str) -> bool:
    """The evidence sentence comes from the latest answer (not an earlier turn)."""
    return bool(sentence) and " ".join(sentence.split()) in " ".join(latest.split())


def _asked(state: dict[str, Any], kind: str) -> list[str | None]:
    return [a.get("point") for a in state.get("asked", []) if a.get("kind") == kind]


def _depth_left(question: "Question", point_id: str, state: dict[str, Any]) -> str | None:
    used = _asked(state, "depth").count(point_id)
    follow_ups = question.point(point_id).follow_ups
    return follow_ups[used] if used < len(follow_ups) else None


def _next_stage(state: dict[str, Any], plan: dict[str, int], max_follow_ups: int, now: float) -> str:
    """The stage this answer moves the interview into (before the wrap-up check)."""
    stage = state.get("stage", STAGES[0])
    if stage == "clarify":
        stage = "design"
    if stage == "design":
        in_design = sum(1 for a in state.get("asked", []) if a.get("stage") == "design")
        timed_out = state.get("stage") == "design" and now >= stage_deadline(state, plan)
        if in_design >= stage_share(plan, max_follow_ups) or timed_out:
            stage = "deep-dive"
    return stage


def next_move(question: "Question", grade: "GradeResult", state: dict[str, Any], latest: str, *,
              plan: dict[str, int], max_follow_ups: int, now: float) -> Move:
    """The coach's next move after the answer ``latest`` (already in ``state['answers']``)."""
    stage_before = state.get("stage", STAGES[0])
    if stage_before == "wrap-up" or now >= session_deadline(state, plan):
        return Move("critique", None, stage="wrap-up")
    asked = state.get("asked", [])
    stage = _next_stage(state, plan, max_follow_ups, now)
    deep_timed_out = stage_before == "deep-dive" and now >= stage_deadline(state, plan)
    newly = [p for p in grade.points if p.covered and p.id not in state.get("covered", []) and _in(p.evidence, latest)]
    newly.sort(key=lambda p: (-p.weight, -p.strength))
    said = newly[0].evidence if newly else (latest if len(latest.split()) >= SHORT_ANSWER_WORDS else None)

    def move(kind: str, point: str | None, ask: str, evidence: str | None) -> Move:
        ack = acknowledgement(kind, evidence, earlier=evidence is not None and not _in(evidence, latest))
        return Move(kind, point, ask, ack, stage,
                    TRANSITIONS.get(stage, "") if stage != stage_before else "")

    if len(asked) < max_follow_ups and not deep_timed_out:
        challenged = set(_asked(state, "challenge"))
        flags = {f.id: f for f in question.red_flags if f.challenge}
        for found in grade.red_flags:
            if found.id in flags and found.id not in challenged and _in(found.evidence, latest):
                return move("challenge", found.id, flags[found.id].challenge, found.evidence)
        for wrong in grade.misconceptions:
            if wrong.id not in challenged and _in(wrong.evidence, latest):
                authored = next(m for m in question.misconceptions if m.id == wrong.id)
                return move("challenge", wrong.id, authored.challenge, wrong.evidence)
        in_deep = sum(1 for a in asked if a.get("stage") == "deep-dive")
        if (stage == "deep-dive" and question.twist is not None and not _asked(state, "twist")
                and (in_deep >= 1 or len(asked) >= max_follow_ups - 1)):
            return move("twist", None, f"{TWIST_LEAD} {question.twist.change} {TWIST_ASK}", said)
        last_kind = asked[-1].get("kind") if asked else None
        if last_kind != "depth":  # dig into the candidate's own choices, newest first, every other turn
            earlier = sorted((p for p in grade.points if p.covered and p not in newly and p.id not in _asked(state, "depth")),
                             key=lambda p: (-p.weight, -p.strength))
            for point in [*newly, *earlier]:
                if (ask := _depth_left(question, point.id, state)) is not None:
                    return move("depth", point.id, ask, point.evidence)
        probed = set(state.get("probed", []))
        order = {p.id: i for i, p in enumerate(question.rubric)}
        missing = sorted((p for p in grade.points if not p.covered and p.id not in probed),
                         key=lambda p: (-p.weight, order[p.id]))
        if missing:
            return move("gap", missing[0].id, question.point(missing[0].id).probe, said)
        made = sorted((p for p in grade.points if p.covered), key=lambda p: (-p.weight, order[p.id]))
        for point in made:
            if (ask := _depth_left(question, point.id, state)) is not None:
                return move("depth", point.id, ask, point.evidence)
    return Move("wrap-up", None, WRAP_UP_QUESTION, acknowledgement("wrap-up", said), "wrap-up",
                TRANSITIONS["wrap-up"] if stage_before != "wrap-up" else "")


def after_move(state: dict[str, Any], move: Move, now: float) -> dict[str, Any]:
    """The state once ``move``'s turn is stored: the follow-up counts as asked, the stage may change."""
    new = dict(state)
    if move.kind in FOLLOW_UP_KINDS and move.kind != "wrap-up":
        new["asked"] = [*state.get("asked", []), {"kind": move.kind, "point": move.point, "stage": move.stage}]
    if move.kind == "gap":
        new["probed"] = [*state.get("probed", []), move.point]
    if move.kind == "twist":
        new["twist_from"] = len(state.get("answers", []))
    if move.stage != state.get("stage"):
        new["stage"], new["stage_at"] = move.stage, now
    return new


def follow_ups_left(state: dict[str, Any], max_follow_ups: int) -> int:
    return max(0, max_follow_ups - len(state.get("asked", [])))


_CUE_SPACE = re.compile(r"\s+")


def leaked_cues(text: str, question: "Question", said: str, own: str | None = None) -> list[str]:
    """Rubric texts and cue phrases in ``text`` that the candidate never said.

    Checked: every multi-word cue of the question's rubric and twist points, and every cue longer
    than three letters of ``own`` (the point the turn is about; "twist" for the twist's points).
    The coach may repeat the candidate's own words (acknowledgements quote them); it must never be
    the first to name a point's key phrase.
    """
    low = f" {_CUE_SPACE.sub(' ', text.lower())} "
    heard = f" {_CUE_SPACE.sub(' ', said.lower())} "
    twist = list(question.twist.points) if question.twist else []
    points = [*question.rubric, *twist]
    found = [f"text of {p.id}" for p in points if " ".join(p.text.lower().split()) in low]
    own_points = {p.id for p in (twist if own == "twist" else [p for p in question.rubric if p.id == own])}

    def says(haystack: str, phrase: str) -> bool:
        return re.search(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", haystack) is not None

    for p in points:
        for cue in p.cues:
            c = " ".join(cue.lower().split())
            checked = len(c.split()) >= 2 or (p.id in own_points and len(c) > 3)
            if checked and says(low, c) and not says(heard, c):
                found.append(f"cue '{cue}' of {p.id}")
    return found
