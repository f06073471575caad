"""A model answer's outline bullets as references for its key points: how strong candidates say them."""

import dataclasses

import numpy as np

from coach.grading.matching import assign_to_points, max_into_points, outline_sentences

OUTLINE = """```mermaid
flowchart LR
  a[Card authorization] --> b[Fraud gateway]
```

- Metrics: PR-AUC and recall at a fixed decline rate; accuracy says nothing at 0.1% fraud.
- Labels: chargebacks arrive after 30-90 days. Wait out a maturity window.
- Ok.
"""


def test_outline_sentences_skip_the_diagram_and_bullet_marks():
    assert outline_sentences(OUTLINE) == [
        "Metrics: PR-AUC and recall at a fixed decline rate; accuracy says nothing at 0.1% fraud.",
        "Labels: chargebacks arrive after 30-90 days.", "Wait out a maturity window."]
    assert outline_sentences("") == []


def test_each_reference_goes_to_its_closest_point_when_close_enough():
    sims = np.array([[0.8, 0.3], [0.2, 0.55], [0.45, 0.1]])
    rows, owner = assign_to_points(sims, floor=0.5)
    assert rows.tolist() == [0, 1] and owner.tolist() == [0, 1]
    rows, owner = assign_to_points(np.zeros((0, 2)), floor=0.5)
    assert rows.size == 0 and owner.size == 0


def test_a_sentence_close_to_a_reference_is_raised_for_that_point_only():
    semantic = np.array([[0.30, 0.20], [0.10, 0.60]])
    ref_sims = np.array([[0.90, 0.10, 0.70], [0.20, 0.30, 0.10]])   # 2 sentences x 3 references
    out = max_into_points(semantic.copy(), ref_sims, np.array([0, 0, 1]))
    assert out.tolist() == [[0.90, 0.70], [0.30, 0.60]]
    assert max_into_points(semantic.copy(), np.zeros((2, 0)), np.zeros(0, dtype=int)).tolist() == semantic.tolist()


def test_paraphrase_of_an_outline_bullet_earns_its_point_more_clearly(real_coach):
    grader = real_coach.grader
    sentence = ("The grey zone gets a 3DS challenge, the riskier ones go to analysts up to what the team can handle, "
                "and the cut-offs come from expected cost per segment.")

    def strength(weight: float) -> tuple[float, bool]:
        grader.config = dataclasses.replace(original, outline_weight=weight)
        grader._prepared.clear()
        point = next(p for p in grader.grade("arch-q01", sentence).points if p.id == "thresholds-actions")
        return point.strength, point.covered

    original = grader.config
    try:
        without, _ = strength(0.0)
        with_outline, covered = strength(original.outline_weight)
    finally:
        grader.config = original
        grader._prepared.clear()
    assert covered and with_outline >= without + 0.2


def test_a_point_made_in_a_candidates_words_is_credited_through_its_says(real_coach):
    """The words of the bank's `says`, not of the point's text: credited with them, missed without."""
    grader = real_coach.grader
    said = {"covariate": "When Brazil comes online and lots of the mail is suddenly Portuguese, the kind of messages "
                         "moves, but a scam in Portuguese is still a scam.",
            "concept": "Spammers copying real retailer newsletters means the same-looking mail now deserves a "
                       "different label, which is the worst of the three."}
    original = grader.config
    try:
        for weight, expected in ((0.95, True), (0.0, False)):  # off by default (see GradingConfig.says_weight)
            grader.config = dataclasses.replace(original, says_weight=weight)
            grader._prepared.clear()
            for point_id, sentence in said.items():
                covered = {p.id for p in grader.grade("mon-q01", sentence).points if p.covered}
                assert (point_id in covered) is expected, (weight, point_id, covered)
    finally:
        grader.config = original
        grader._prepared.clear()
