"""Grading eval: the deterministic grader against labelled candidate answers.

Measures tier ordering (strong > partial > weak per question), key-point detection F1, and
whether buzzword and injection answers stay at or below the weak answer to the same question.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

TIER_ORDER = {"strong": 3, "partial": 2, "weak": 1}
ADVERSARIAL = ("buzzword", "injection")


@dataclass
class GradingEvalResult:
    answers: int = 0
    questions: int = 0
    topics: list[str] = field(default_factory=list)
    ordering_pairs: int = 0
    ordering_correct: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    adversarial: int = 0
    adversarial_passed: int = 0
    grade_ms_p50: float = 0.0
    failures: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ordering_accuracy(self) -> float:
        return self.ordering_correct / self.ordering_pairs if self.ordering_pairs else 0.0

    @property
    def adversarial_rate(self) -> float:
        return self.adversarial_passed / self.adversarial if self.adversarial else 0.0


def load_labelled_answers(data_dir: Path) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    for path in sorted(data_dir.glob("graded_answers*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("answers", []):
            item = dict(item)
            item["_file"] = path.name
            answers.append(item)
    return answers


def run_grading_eval(grader, answers: list[dict[str, Any]]) -> GradingEvalResult:
    res = GradingEvalResult()
    scores: dict[tuple[str, str], list[int]] = {}
    tp = fp = fn = 0
    timings = []
    topics = set()
    for item in answers:
        question = grader.bank.get(item["question_id"])
        topics.add(question.topic)
        start = time.perf_counter()
        result = grader.grade(question, item["answer"])
        timings.append((time.perf_counter() - start) * 1000)
        predicted = set(result.covered_ids)
        truth = set(item.get("covers") or [])
        tp += len(predicted & truth)
        fp += len(predicted - truth)
        fn += len(truth - predicted)
        for p in result.points:
            cell = res.confusion.setdefault(p.dimension, {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
            key = ("t" if (p.covered == (p.id in truth)) else "f") + ("p" if p.covered else "n")
            cell[key] += 1
        scores.setdefault((item["question_id"], item["tier"]), []).append(result.score)
        res.rows.append({"id": item["id"], "question_id": item["question_id"], "tier": item["tier"], "score": result.score,
                         "false_positives": sorted(predicted - truth), "missed": sorted(truth - predicted)})
    res.answers = len(answers)
    res.questions = len({a["question_id"] for a in answers})
    res.topics = sorted(topics)
    res.precision = tp / (tp + fp) if tp + fp else 0.0
    res.recall = tp / (tp + fn) if tp + fn else 0.0
    res.f1 = 2 * res.precision * res.recall / (res.precision + res.recall) if res.precision + res.recall else 0.0
    res.grade_ms_p50 = statistics.median(timings) if timings else 0.0
    for qid in sorted({a["question_id"] for a in answers}):
        tiers = {t: statistics.mean(v) for (q, t), v in scores.items() if q == qid}
        ranked = [t for t in TIER_ORDER if t in tiers]
        for hi, lo in combinations(ranked, 2):
            res.ordering_pairs += 1
            if tiers[hi] > tiers[lo]:
                res.ordering_correct += 1
            else:
                res.failures.append(f"{qid}: {hi} ({tiers[hi]:.0f}) not above {lo} ({tiers[lo]:.0f})")
        weak = tiers.get("weak")
        for adv in ADVERSARIAL:
            for value in scores.get((qid, adv), []):
                res.adversarial += 1
                if weak is not None and value <= weak:
                    res.adversarial_passed += 1
                else:
                    res.failures.append(f"{qid}: {adv} scored {value} above weak ({weak})")
    return res
