"""The benchmark that puts a grade's embedding next to its own matrix products (benchmarks/encoder_bound.py)."""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks.encoder_bound import encoder_bound, grade_batches
from evals.grading_eval import load_labelled_answers

ROOT = Path(__file__).resolve().parents[1]


def test_it_times_the_texts_the_grader_embeds_against_their_matrix_products(real_coach):
    answers = load_labelled_answers(ROOT / "evals" / "data")[:3]
    batches = grade_batches(real_coach, answers)
    assert len(batches) == 3 and all(texts and shapes for texts, shapes in batches)
    # what the grader embeds: the answer's sentences, and more (clauses) for a long one
    assert all(any(t in a["answer"] for t in texts) for a, (texts, _) in zip(answers, batches))
    # the runs that embedded them: every text in one row, padded to its run's longest
    assert all(sum(rows for rows, _ in shapes) == len(texts) for texts, shapes in batches)
    encoder = real_coach.embeddings._load()
    assert "encode" not in vars(encoder) and type(encoder.session).__name__ == "InferenceSession"  # the spies are gone
    title, base, full = encoder_bound(real_coach, answers)
    assert re.search(r"fp32 \d+ GFLOP/s here; median \d+ padded tokens", title)
    assert "(baseline)" in base and "n=3" in base
    assert re.search(r"x\d+\.\d\d vs baseline", full)
