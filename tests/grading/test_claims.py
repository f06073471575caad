"""Stance-aware claim matching: a sentence that rejects a bad idea never counts as stating it."""

from __future__ import annotations

import pytest

from coach.content.guide import load_guide
from coach.content.questions import load_question_bank
from coach.grading.claims import states_cue
from tests.conftest import ROOT

STATES = [
    ("Accuracy is fine too.", "accuracy is fine"),
    ("We key windows on processing time.", "processing time"),
    ("I shuffle the data and split 80/20.", "shuffle the data"),
    ("PSI gives the probability of drift.", "probability of drift"),
    ("There is no need for batch at all.", "no need for batch"),
    ("We don't need to worry about that, accuracy is fine here.", "accuracy is fine"),
]
REJECTS = [
    ("So accuracy is useless here, because 99.9% are legit.", "accuracy is fine"),
    ("I'd use event time, not processing time.", "processing time"),
    ("We should not shuffle the data before splitting.", "shuffle the data"),
    ("Average latency hides the tail.", "average latency"),
    ("Scoring all pairs is impossible at this scale.", "score all pairs"),
    ("PSI is not a probability of drift.", "probability of drift"),
    ("It's wrong that only the ranking matters.", "only the ranking matters"),
    ("We would not show random items broadly.", "show random items"),
    ("We still need batch for backfills.", "no need for batch"),
    ("Harmful or not is too coarse a label.", "harmful or not"),
    ("Rather than optimize accuracy, we optimize expected cost.", "optimize accuracy"),
]


@pytest.mark.parametrize(("sentence", "cue"), STATES)
def test_a_plain_statement_states_the_cue(sentence, cue):
    assert states_cue(sentence, cue)


@pytest.mark.parametrize(("sentence", "cue"), REJECTS)
def test_a_rejection_does_not_state_the_cue(sentence, cue):
    assert not states_cue(sentence, cue)


# The rejecting frames every red-flag and misconception cue of the bank is tried in (issue: fair red flags).
REJECTING_FRAMES = [
    "{cue} is useless here.",
    "We use something better, not {cue}.",
    "We would not {cue}.",
    "{cue} is wrong because it ignores the costs.",
    "I'd never say {cue}.",
]


@pytest.fixture(scope="module")
def bank():
    guide = load_guide(ROOT / "knowledge")
    return load_question_bank(ROOT / "knowledge", set(guide.sections))


def _claim_cues(bank):
    for q in bank:
        for flag in q.red_flags:
            yield from ((q.id, f"red flag {flag.id}", cue) for cue in flag.cues)
        for wrong in q.misconceptions:
            yield from ((q.id, f"misconception {wrong.id}", cue) for cue in wrong.cues)


def test_no_bank_cue_fires_on_a_sentence_that_rejects_it(bank):
    fired = [(qid, what, frame.format(cue=cue)) for qid, what, cue in _claim_cues(bank)
             for frame in REJECTING_FRAMES if states_cue(frame.format(cue=cue), cue)]
    assert not fired, fired[:10]


def test_every_bank_cue_fires_on_its_own_statement(bank):
    """The other half: a cue that never fires would make the negation test pass trivially."""
    dead = [(qid, what, cue) for qid, what, cue in _claim_cues(bank) if not states_cue(f"I think {cue}.", cue)]
    assert not dead, dead[:10]
