"""The interviewer's policy on the real bank, with grades built by hand (no model, no store)."""

from __future__ import annotations

import pytest

from coach.content.guide import load_guide
from coach.content.questions import load_question_bank
from coach.grading.results import FlagResult, GradeResult, MisconceptionResult, PointResult
from coach.practice.interviewer import (
    MOVE_ON, TRANSITIONS, WRAP_UP_QUESTION, acknowledgement, after_move, leaked_cues, new_state, next_move, quote,
    stage_share,
)
from coach.settings import DEFAULT_STAGE_MINUTES
from tests.conftest import ROOT

PLAN = dict(DEFAULT_STAGE_MINUTES)
T0 = 1_000_000.0


@pytest.fixture(scope="module")
def bank():
    return load_question_bank(ROOT / "knowledge", set(load_guide(ROOT / "knowledge").sections))


@pytest.fixture(scope="module")
def fraud(bank):
    return bank.get("arch-q01")


def grade(question, said: dict[str, str], flags=(), wrong=()) -> GradeResult:
    points = [PointResult(id=p.id, text=p.text, dimension=p.dimension, weight=p.weight, covered=p.id in said,
                          evidence=said.get(p.id), strength=0.8 if p.id in said else 0.1, sections=list(p.sections),
                          level="explained" if p.id in said else "missed") for p in question.rubric]
    return GradeResult(question_id=question.id, matched_question=question.prompt, match_score=1.0, rubric_source="bank",
                       score=0, band="weak", dimensions={}, points=points, red_flags=list(flags), feedback={},
                       misconceptions=list(wrong))


def answered(state, text):
    return {**state, "answers": [*state["answers"], text]}


def move_after(question, state, text, said=None, now=T0 + 60, max_follow_ups=8, **kw):
    state = answered(state, text)
    g = grade(question, said or {}, **kw)
    return next_move(question, g, state, text, plan=PLAN, max_follow_ups=max_follow_ups, now=now), state, g


def heavy_with_follow_up(question):
    return next(p for p in question.rubric if p.weight == 3 and p.follow_ups)


def test_a_stated_red_flag_is_challenged_first(fraud):
    flag = next(f for f in fraud.red_flags if f.challenge)
    said = "Accuracy is what we report to leadership."
    heavy = heavy_with_follow_up(fraud)
    move, _, _ = move_after(fraud, new_state(T0), f"{said} Also some design.", {heavy.id: "Also some design."},
                            flags=[FlagResult(flag.id, flag.text, said)])
    assert (move.kind, move.point, move.ask) == ("challenge", flag.id, flag.challenge)
    assert move.ack == 'You said "Accuracy is what we report to leadership".'
    assert move.transition == TRANSITIONS["design"] and move.stage == "design"


def test_a_misconception_is_challenged_once(fraud):
    wrong = fraud.misconceptions[0]
    said = "This sentence states the wrong claim."
    found = MisconceptionResult(wrong.id, wrong.point, wrong.claim, wrong.correction, wrong.section, said)
    move, state, _ = move_after(fraud, new_state(T0), said, wrong=[found])
    assert (move.kind, move.point, move.ask) == ("challenge", wrong.id, wrong.challenge)
    state = after_move(state, move, T0 + 61)
    again, _, _ = move_after(fraud, state, said, wrong=[found])
    assert again.kind != "challenge", "a claim is challenged once"


def test_a_challenge_needs_the_claim_in_the_latest_answer(fraud):
    flag = next(f for f in fraud.red_flags if f.challenge)
    move, _, _ = move_after(fraud, new_state(T0), "Something else entirely.",
                            flags=[FlagResult(flag.id, flag.text, "An earlier sentence.")])
    assert move.kind == "gap"


def test_a_heavy_point_made_gets_a_depth_follow_up_on_it(fraud):
    heavy = heavy_with_follow_up(fraud)
    sentence = "I would compute the counts per card in a stream processor over short windows."
    move, state, _ = move_after(fraud, new_state(T0), sentence, {heavy.id: sentence})
    assert (move.kind, move.point, move.ask) == ("depth", heavy.id, heavy.follow_ups[0])
    assert move.ack == f'You mentioned "{quote(sentence)}".'
    # next turn: no depth twice in a row, a gap instead, heaviest first
    state = after_move(state, move, T0 + 61) | {"covered": [heavy.id]}
    nxt, _, _ = move_after(fraud, state, "Another new sentence that makes the second point.",
                           {heavy.id: sentence, fraud.rubric[1].id: "Another new sentence that makes the second point."})
    assert nxt.kind == "gap"
    order = sorted((p for p in fraud.rubric if p.id not in {heavy.id, fraud.rubric[1].id}),
                   key=lambda p: (-p.weight, fraud.rubric.index(p)))
    assert nxt.point == order[0].id and nxt.ask == order[0].probe


def test_a_short_empty_reply_gets_a_neutral_turn_not_a_quote(fraud):
    move, _, _ = move_after(fraud, new_state(T0), "Not sure.")
    assert move.kind == "gap" and move.ack == MOVE_ON
    assert acknowledgement("twist", None) == "" and acknowledgement("depth", "x", earlier=True).startswith("Earlier")
    assert acknowledgement("gap", "In my design the stream feeds the feature store.") == \
        'Your diagram shows "the stream feeds the feature store".'


def run(question, replies, max_follow_ups=8, said_first=None, clock_step=60.0):
    """Play a session of hand-made grades; return the moves."""
    state, moves, now = new_state(T0), [], T0
    covered = dict(said_first or {})
    for i, text in enumerate(replies):
        now += clock_step
        move, state, _ = move_after(question, state, text, covered if i == 0 else covered, now=now,
                                    max_follow_ups=max_follow_ups)
        moves.append(move)
        if move.kind == "critique":
            break
        state = after_move(state, move, now) | {"covered": list(covered)}
    return moves, state


def test_a_whole_session_moves_through_the_stages(fraud):
    heavy = heavy_with_follow_up(fraud)
    moves, state = run(fraud, ["I would compute counts per card in a stream."] + ["Not sure."] * 12,
                       said_first={heavy.id: "I would compute counts per card in a stream."})
    kinds = [m.kind for m in moves]
    assert kinds[-2:] == ["wrap-up", "critique"] and len(kinds) == 8 + 2
    assert kinds.count("twist") == 1
    twist = moves[kinds.index("twist")]
    assert twist.stage == "deep-dive" and fraud.twist.change in twist.ask
    stages = [m.stage for m in moves[:-1]]
    share = stage_share(PLAN, 8)
    assert stages[:share] == ["design"] * share and stages[share] == "deep-dive" and stages[-1] == "wrap-up"
    assert [m.transition for m in moves[:-1] if m.transition] == list(TRANSITIONS.values())
    assert moves[-2].ask == WRAP_UP_QUESTION
    assert state["twist_from"] >= 1 and len(state["asked"]) == 8


def test_time_moves_the_stages_and_ends_the_interview(fraud):
    plan_total = sum(PLAN.values()) * 60
    # ten minutes per answer: the design stage (8 min) is over after its first follow-up
    moves, _ = run(fraud, ["Not sure."] * 12, clock_step=600.0)
    assert moves[1].stage == "deep-dive"
    assert moves[-1].kind == "critique"
    assert len(moves) * 600 <= plan_total + 1200
    # past the whole plan, the next answer gets the critique at once
    late, _, _ = move_after(fraud, new_state(T0), "An answer.", now=T0 + plan_total + 1)
    assert late.kind == "critique"


def test_no_follow_ups_means_wrap_up_then_critique(fraud):
    moves, _ = run(fraud, ["An answer with several words in it, enough to quote."] * 3, max_follow_ups=0)
    assert [m.kind for m in moves] == ["wrap-up", "critique"]


def test_leak_check_allows_the_candidates_own_words(fraud):
    point = fraud.rubric[0]
    cue = next(c for c in point.cues if len(c.split()) >= 2)
    assert leaked_cues(f"What about {cue}?", fraud, said="nothing related") == [f"cue '{cue}' of {point.id}"]
    assert leaked_cues(f'You said "{cue}". What next?', fraud, said=f"I think {cue} matters") == []
    assert leaked_cues(point.text, fraud, said="")[0] == f"text of {point.id}"


def test_every_authored_interviewer_text_is_free_of_its_own_cues(bank):
    """Probes, follow-ups, challenges and twists never name their own point's key phrases (nor any
    multi-word cue of the question) before the candidate does."""
    leaks = []
    for q in bank:
        for p in q.rubric:
            leaks += [(q.id, p.id, "probe", hit) for hit in leaked_cues(p.probe, q, "", own=p.id)]
            for f in p.follow_ups:
                leaks += [(q.id, p.id, "follow-up", hit) for hit in leaked_cues(f, q, "", own=p.id)]
        for m in q.misconceptions:
            leaks += [(q.id, m.id, "challenge", hit) for hit in leaked_cues(m.challenge, q, "", own=m.point)]
        for f in q.red_flags:
            leaks += [(q.id, f.id, "challenge", hit) for hit in leaked_cues(f.challenge, q, "")]
        if q.twist is not None:
            leaks += [(q.id, "twist", "change", hit) for hit in leaked_cues(q.twist.change, q, "", own="twist")]
    assert WRAP_UP_QUESTION and not leaks, leaks[:8]
