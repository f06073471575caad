"""Semantic misconception matching: similarity plus lexical evidence, held to the claim's stance.

The sentences are written for these tests; none comes from the held-out answers.
"""

from __future__ import annotations

import numpy as np
import pytest

from coach.grading.claims import (
    best_statement, claim_overlap, content_stems, distinctive_stems, keeps_stance, statement_score,
)
from coach.grading.config import GradingConfig

CLAIM = "Running a model in shadow mode is free."
NEGATED_CLAIM = "Shadow is free because users are not affected."
CUES = ("shadow costs nothing", "no cost to shadow")
CORRECTION = "Shadow doubles inference compute and adds load on the feature store."
POINT = "Shadow mode mirrors live traffic to the new model without showing its outputs."


def test_content_stems_leave_out_negation_and_quantifiers():
    assert content_stems("We never score all pairs") == content_stems("We score pairs")
    assert "pair" in content_stems("We never score all pairs")


def test_overlap_is_the_share_of_the_claims_content_words():
    assert claim_overlap("We are running the new model in shadow mode, which is free.", CLAIM) == 1.0
    assert claim_overlap("The weather is nice today.", CLAIM) == 0.0
    assert 0.0 < claim_overlap("Shadow mode mirrors traffic.", CLAIM) < 0.5


def test_distinctive_words_are_the_ones_only_the_wrong_claim_uses():
    words = distinctive_stems(CLAIM, CUES, CORRECTION, POINT)
    assert {"free", "cost"} <= words          # what is wrong about it
    assert not {"shadow", "mode"} & words      # the topic, shared with the correction and the point


def test_lexical_evidence_lifts_the_score_and_is_capped():
    words = distinctive_stems(CLAIM, CUES, CORRECTION, POINT)
    said = statement_score(0.6, "Shadow mode is free and costs nothing.", CLAIM, words, 0.4, 0.06)
    topic = statement_score(0.6, "Shadow mode mirrors live traffic.", CLAIM, words, 0.4, 0.06)
    assert said > topic > 0.6
    many = statement_score(0.0, "free cost costs nothing affected", CLAIM, words, 0.0, 0.06)
    assert many == pytest.approx(0.12)          # at most two distinctive words count


@pytest.mark.parametrize(("unit", "claim", "keeps"), [
    ("Shadow is free since nobody sees it.", "Shadow mode is free.", True),
    ("Shadow is not free.", "Shadow mode is free.", False),
    ("Users are not affected, so shadow is free.", NEGATED_CLAIM, True),
    ("It is not true that users are not affected.", NEGATED_CLAIM, False),   # same parity, more negation
    ("It is not true that pairs not labelled are negatives.", "Pairs not labelled are negatives.", False),
])
def test_stance(unit, claim, keeps):
    assert keeps_stance(unit, claim) is keeps


def _words():
    return distinctive_stems(CLAIM, CUES, CORRECTION, POINT)


def test_best_statement_takes_the_best_scoring_unit_that_keeps_the_stance():
    cfg = GradingConfig()
    units = ["Shadow mode is not free at all.", "We run the model in shadow mode, which is free.",
             "Shadow mode mirrors traffic."]
    sims = np.array([0.95, 0.70, 0.72])
    # the negated unit is the closest by embedding, but says the opposite
    assert best_statement(units, units, sims, CLAIM, _words(), cfg) == 1


def test_a_close_unit_without_lexical_evidence_is_not_enough():
    cfg = GradingConfig()
    units = ["Dark launches mirror traffic."]
    assert best_statement(units, units, np.array([0.80]), CLAIM, _words(), cfg) is None
    assert best_statement(units, units, np.array([cfg.claim_score]), CLAIM, _words(), cfg) == 0


def test_a_clause_is_read_with_its_sentences_rejecting_words():
    cfg = GradingConfig()
    clause = "running a model in shadow mode is free"
    sentence = f"Some say {clause}, which is a myth."
    assert best_statement([clause], [clause], np.array([0.9]), CLAIM, _words(), cfg) == 0
    assert best_statement([clause], [sentence], np.array([0.9]), CLAIM, _words(), cfg) is None


def test_ruled_out_units_and_the_polarity_switch():
    cfg = GradingConfig()
    units = ["Running a model in shadow mode is not free."]
    assert best_statement(units, units, np.array([-1.0]), CLAIM, _words(), cfg) is None
    assert best_statement(units, units, np.array([0.9]), CLAIM, _words(), cfg) is None
    loose = GradingConfig(claim_polarity=False)
    assert best_statement(units, units, np.array([0.9]), CLAIM, _words(), loose) == 0


# ---------------------------------------------------------------- with the real model and bank
@pytest.fixture(scope="module")
def grader(real_coach):
    return real_coach.grader


def test_a_paraphrase_with_no_cue_is_caught_and_its_rejection_is_not(grader):
    question = grader.bank.get("dp-q02")
    wrong = next(m for m in question.misconceptions if m.id == "batch-not-personal")
    stated = "Precomputed batch lists cannot be personalized for each member."
    rejected = "Batch predictions are personalized: the nightly job already writes a separate top 100 for each user."
    assert not any(c in stated.lower() for c in wrong.cues)
    said = grader.grade(question, stated + " The session row needs fresher inputs than that.")
    assert "batch-not-personal" in {m.id for m in said.misconceptions}
    fine = grader.grade(question, rejected + " The session row needs fresher inputs than that.")
    assert "batch-not-personal" not in {m.id for m in fine.misconceptions}


def test_a_clause_of_a_long_sentence_states_the_claim(grader):
    """The whole sentence carries a "not" the claim lacks; its second clause states the claim outright."""
    question = grader.bank.get("dp-q02")
    sentence = ("We will not precompute the session row at all; with streaming features like these the model has to "
                "be trained online in real time.")
    said = grader.grade(question, sentence)
    found = {m.id: m.evidence for m in said.misconceptions}
    assert found.get("fresh-features-online-training") == sentence
    negated = ("We will not precompute the session row at all; with streaming features like these the model does not "
               "have to be trained online in real time.")
    assert "fresh-features-online-training" not in {m.id for m in grader.grade(question, negated).misconceptions}


REJECTING = ["It is a myth that {c}.", "It is not true that {c}."]  # a rejecting word; added negation


def test_no_bank_claim_is_read_as_stated_when_rejected_and_every_one_when_stated(grader):
    """Every misconception of the bank, through the semantic path only (cues are tested in test_claims)."""
    cases = []  # (question, misconception index, sentence, stated?)
    for question in grader.bank:
        for k, m in enumerate(question.misconceptions):
            c = m.claim.rstrip(".")
            c = c if c[:2].isupper() else c[0].lower() + c[1:]
            cases += [(question, k, f"I think {c}.", True)] + [(question, k, f.format(c=c), False) for f in REJECTING]
    vecs = grader.embeddings.encode([text for _, _, text, _ in cases])  # one batch
    fired, missed = [], []
    for (question, k, text, stated), vec in zip(cases, vecs):
        m, prep = question.misconceptions[k], grader.prepare(question)
        point = next((p.text for p in question.rubric if p.id == m.point), "")
        words = distinctive_stems(m.claim, tuple(m.cues), m.correction, point)
        row = int(np.flatnonzero(prep.claims.owner == k)[0])  # the claim's own text comes first, then its `says`
        got = best_statement([text], [text], np.array([float(vec @ prep.claims.vecs[row])]), m.claim, words, grader.config)
        if stated and got is None:
            missed.append(text)
        elif not stated and got is not None:
            fired.append(text)
    assert len(cases) > 1000
    assert not fired, fired[:10]
    assert not missed, missed[:10]


def test_a_misconception_is_matched_through_how_candidates_say_it(grader):
    """A sentence far from the claim's words is caught through one of the misconception's `says`;
    the same misconception without `says` does not catch it, and the sentence's rejection is not caught."""
    question = grader.bank.get("dp-q10")
    wrong = next(m for m in question.misconceptions if m.id == "shadow-free")
    sentence = "Running the challenger on copied requests is something we get for nothing, so I'd leave it on all week."
    says = [sentence.replace("copied requests", "duplicated requests").replace("all week", "for the whole week")]
    with_says = question.model_copy(update={
        "id": "test-says", "misconceptions": [wrong.model_copy(update={"says": says})]})
    without = question.model_copy(update={
        "id": "test-no-says", "misconceptions": [wrong.model_copy(update={"says": [], "cues": ["shadow costs nothing"]})]})
    assert {m.id for m in grader.grade(with_says, sentence).misconceptions} == {"shadow-free"}
    assert not grader.grade(without, sentence).misconceptions
    rejected = ("Running the challenger on copied requests is not something we get for nothing: it doubles the "
                "scoring load, so I'd leave it on for two days only.")
    assert not grader.grade(with_says, rejected).misconceptions


def test_the_stance_matrix_agrees_with_keeps_stance():
    from coach.grading.claims import stance
    from coach.grading.stated import stance_matrix

    texts = [CLAIM, NEGATED_CLAIM, "It is not true that shadow isn't free.", "Shadow is never free, it is useless.",
             "We run the challenger on mirrored traffic.", "Nothing is shown to users, so there is no cost."]
    matrix = stance_matrix(texts, np.array([stance(t) for t in texts]))
    assert matrix.tolist() == [[keeps_stance(u, t) for t in texts] for u in texts]
