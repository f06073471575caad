"""Dev-split figures and misses of the held-out grading eval, for tuning the grader (never the test split).

``python -m evals.heldout_dev [--misses] [--sweep] [--data-dir DIR]`` prints precision, recall,
levels, misconceptions caught and false alarms on the dev split; ``--misses`` adds every uncaught
labelled misconception with the answer's sentences, and every false alarm with its sentence;
``--sweep`` prints misconceptions caught against correct sentences flagged as the matcher's
``claim_score`` moves (with and without the stance check): the trade-off the grader sits on.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from evals.common import DEFAULT_DATA_DIR, eval_coach
from evals.heldout_eval import load_heldout, run_heldout_eval, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.heldout_dev")
    parser.add_argument("--misses", action="store_true", help="print uncaught misconceptions and false alarms")
    parser.add_argument("--sweep", action="store_true", help="misconceptions caught vs correct sentences flagged, by claim_score")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    coach = eval_coach(args.data_dir)
    grader = coach.grader
    dev = [it for it in load_heldout() if it["split"] == "dev"]  # only the dev split is ever read here
    result = run_heldout_eval(grader, dev, splits=("dev",))
    print(summary(result))
    print(f"rephrased_questions.yaml (tuning set): {result.tuning_matched}/{result.tuning_total} matched right, "
          f"{result.tuning_wrong} wrong")
    if args.sweep:
        sweep(grader, dev)
    if args.misses:
        for item in dev:
            question = grader.bank.get(item["question_id"])
            grade = grader.grade(question, item["answer"])
            reported = {m.id: m.evidence for m in grade.misconceptions}
            labelled = set(item.get("misconceptions") or [])
            for wrong_id in sorted(labelled - set(reported)):
                wrong = next(m for m in question.misconceptions if m.id == wrong_id)
                print(f"\n--- MISSED {item['id']} {question.id} {wrong_id}: {wrong.claim}")
                print("    " + item["answer"].strip().replace("\n", "\n    "))
            for wrong_id, evidence in sorted(reported.items()):
                if wrong_id not in labelled:
                    claim = next(m.claim for m in question.misconceptions if m.id == wrong_id)
                    print(f"\n+++ FALSE ALARM {item['id']} {question.id} {wrong_id}: {claim}\n    sentence: {evidence}")
    return 0


def sweep(grader, dev: list[dict]) -> None:
    """Caught and flagged on dev as ``claim_score`` moves; the grader's own setting is restored."""
    shipped = grader.config
    print(f"claim_score  stance check  caught  correct sentences flagged   (shipped: {shipped.claim_score})")
    try:
        for polarity in (True, False):
            for score in (0.9, 0.8, 0.7, 0.6, 0.5):
                grader.config = replace(shipped, claim_score=score, claim_polarity=polarity)
                r = run_heldout_eval(grader, dev, splits=("dev",)).splits["dev"]
                print(f"{score:>11.2f}  {'on' if polarity else 'off':>12}  {r.wrong_caught:>2}/{r.wrong_labelled} "
                      f"{r.wrong_caught / r.wrong_labelled:.2f}  {r.clean_flagged:>3}/{r.clean_sentences} "
                      f"{r.clean_flagged / r.clean_sentences:.3f}")
    finally:
        grader.config = shipped


if __name__ == "__main__":
    sys.exit(main())
