"""What a sentence claims, not only its topic: misconceptions, levels, and questions in one's own words."""

from __future__ import annotations

import pytest

from coach.grading.critique import build_critique
from coach.grading.depth import DepthRule, level_of


@pytest.fixture(scope="module")
def grader(real_coach):
    return real_coach.grader


def test_a_stated_misconception_earns_nothing_and_is_corrected(grader, real_coach):
    question = grader.bank.get("arch-q01")
    answer = ("I would measure precision and recall on a held out set. Accuracy is fine too. Chargebacks arrive "
              "30 to 90 days later, so I would only call a transaction legitimate after a maturity window.")
    r = grader.grade(question, answer)
    wrong = {m.id: m for m in r.misconceptions}
    assert "accuracy-fine" in wrong and wrong["accuracy-fine"].evidence == "Accuracy is fine too."
    metrics = next(p for p in r.points if p.id == "imbalance-metrics")
    assert metrics.evidence != "Accuracy is fine too."
    card = build_critique(question, r, real_coach.guide, real_coach.bank).markdown()
    assert "**Misconceptions**" in card and "You said: “Accuracy is fine too.”" in card and "In fact:" in card


def test_rejecting_the_misconception_is_not_stating_it(grader):
    answer = ("Accuracy is useless here because 99.9% of transactions are legitimate, so a model that approves "
              "everything is 99.9% accurate. I would compare models on PR-AUC and on recall at the false positive "
              "rate our review team can absorb.")
    r = grader.grade("arch-q01", answer)
    assert not r.misconceptions
    assert not [f for f in r.red_flags if f.id == "accuracy-on-imbalance"]
    assert next(p for p in r.points if p.id == "imbalance-metrics").covered


def test_a_sentence_both_red_flag_and_misconception_costs_once(grader):
    base = "Chargebacks arrive 30 to 90 days later, so I would only call a transaction legitimate after a maturity window."
    plain = grader.grade("arch-q01", base)
    both = grader.grade("arch-q01", base + " Accuracy is fine too.")
    assert {f.id for f in both.red_flags} >= {"accuracy-on-imbalance"} and both.misconceptions
    assert plain.score - both.score <= grader.config.red_flag_penalty


@pytest.mark.parametrize(("evidence", "following", "level"), [
    (None, None, "missed"),
    ("I would use PR-AUC.", None, "mentioned"),
    ("I would use PR-AUC because only 0.1% of transactions are fraud.", None, "explained"),
    ("I would use PR-AUC.", "That is because fraud is rare, so accuracy says nothing.", "explained"),
    ("I would use PR-AUC.", "Then I would look at latency.", "mentioned"),
])
def test_levels(evidence, following, level):
    assert level_of(evidence, following) == level


@pytest.mark.parametrize(("evidence", "following", "closeness", "level"), [
    ("I would use PR-AUC because it is modern.", None, (0.30, 0.0), "mentioned"),       # a reason, not about the point
    ("I would use PR-AUC because only 0.1% are fraud.", None, (0.45, 0.0), "explained"),
    ("I would use PR-AUC.", "That is because fraud is rare.", (0.50, 0.20), "mentioned"),  # the next one is off the point
    ("I would use PR-AUC.", "That is because fraud is rare.", (0.50, 0.45), "explained"),
    (" ".join(["word"] * 21), None, (0.60, 0.0), "explained"),                          # long and close: the mechanism
    (" ".join(["word"] * 20), None, (0.60, 0.0), "mentioned"),
])
def test_a_reason_counts_when_it_is_about_the_point(evidence, following, closeness, level):
    assert level_of(evidence, following, closeness, DepthRule(specific=0.40, long_words=21, long_similarity=0.55)) == level


def test_a_generic_reason_leaves_a_point_mentioned(grader):
    """Fluent filler ("since it is what modern teams use") is not a reason for this point."""
    generic = grader.grade("arch-q01", "I would compare the models on PR-AUC, since it is what modern teams use these days.")
    point = next(p for p in generic.points if p.id == "imbalance-metrics")
    assert point.covered and point.level == "mentioned"


def test_mentioned_earns_half_the_weight(grader):
    named = grader.grade("arch-q01", "I would compare the models on PR-AUC and on recall at a fixed false-positive rate.")
    reasoned = grader.grade("arch-q01", "I would compare the models on PR-AUC and on recall at a fixed false-positive "
                                        "rate, because with 0.1% fraud accuracy would be 99.9% for a model that "
                                        "approves everything.")
    p_named = next(p for p in named.points if p.id == "imbalance-metrics")
    p_reasoned = next(p for p in reasoned.points if p.id == "imbalance-metrics")
    assert (p_named.level, p_reasoned.level) == ("mentioned", "explained")
    assert reasoned.score > named.score > 0
    assert "Now say why" in " ".join(named.feedback["deepen"])


def test_a_question_in_the_interviewers_own_words_is_graded_against_the_bank(grader):
    asked = ("a row on the phone's home screen that guesses which app the user opens next; before you touch a model, "
             "how do you set this up?")
    answer = ("First I would pin down the goal: the row should save people time, so success is the share of unlocks "
              "where the app they open is in the row, compared against a baseline of the four most recently used "
              "apps. I would frame it as ranking the installed apps for this unlock, because the set of apps "
              "changes per user and a fixed softmax over all apps would not scale. The latency budget on the phone "
              "is tight, so the model must be small enough to run on the device, which also keeps usage private.")
    r = grader.grade(asked, answer)
    assert r.question_id == "lc-q01" and r.rubric_source == "bank" and r.match_score < 1.0
    assert r.score > 0
    assert any(n.startswith("Graded against the bank question lc-q01") for n in r.feedback["notes"])


def test_an_unmatched_question_gets_a_rubric_from_authored_key_points(grader):
    r = grader.grade("Which statistical distance would you pick for comparing feature histograms between two weeks?",
                     "I would bin each feature and compare distributions with the population stability index, "
                     "alerting above 0.25, because small bins make the statistic noisy.")
    assert r.rubric_source == "guide"
    headings = {"The map", "How much to draw in the interview", "What interviewers probe", "Common mistakes"}
    assert not any(p.text.split(":")[0] in headings for p in r.points)
    assert all(":" in p.id and len(p.text) > 20 for p in r.points)
    # Only the sections close to the question lend points: no "late delivery costs more" from the ETA case.
    assert {s for p in r.points for s in p.sections} == {"mon-drift-statistics"} and len(r.points) >= 3
    assert any(p.covered and p.id.endswith(":psi") for p in r.points)
