"""How many of a composed rubric's points fit the question (evals/data/composed_rubrics.yaml).

``python -m evals.composed_rubric_eval [--data-dir DIR]`` composes the rubric for each labelled
question with the grader's own settings and prints, per split, the share of chosen points labelled
relevant (precision), the share of relevant points chosen (recall, out of at most MAX_POINTS) and the
rubric size. Only the dev split may steer a choice; the test split is read, never tuned on.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from evals.common import DEFAULT_DATA_DIR, eval_coach

if TYPE_CHECKING:  # pragma: no cover
    from coach.grading.grader import Grader

DATA = Path(__file__).parent / "data" / "composed_rubrics.yaml"


@dataclass
class ComposedResult:
    questions: int
    precision: float
    recall: float
    mean_points: float


def run_composed_eval(grader: "Grader", items: list[dict[str, Any]]) -> ComposedResult:
    from coach.grading.guide_rubric import MAX_POINTS

    chosen_total = right = 0
    recall = 0.0
    for item in items:
        rubric = grader.rubric_from_guide(item["question"]).rubric
        chosen = {p.id for p in rubric}
        relevant = set(item["relevant"])
        chosen_total += len(chosen)
        right += len(chosen & relevant)
        recall += len(chosen & relevant) / max(1, min(MAX_POINTS, len(relevant)))
    n = len(items)
    return ComposedResult(n, right / chosen_total if chosen_total else 0.0, recall / n if n else 0.0,
                          chosen_total / n if n else 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    coach = eval_coach(args.data_dir)
    coach.ingest(progress=False, log=lambda *_: None)
    items = yaml.safe_load(DATA.read_text(encoding="utf-8"))["items"]
    for split in ("dev", "test"):
        r = run_composed_eval(coach.grader, [i for i in items if i["split"] == split])
        print(f"{split}: {r.questions} questions, precision {r.precision:.3f}, recall {r.recall:.3f}, "
              f"{r.mean_points:.1f} points per rubric")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
