"""Grading eval: the deterministic grader against labelled candidate answers.

Measures tier ordering (strong > partial > weak per question), key-point detection F1, whether
buzzword and injection answers stay at or below the weak answer to the same question, and a
per-dimension confusion view. A baseline asks the embedded chat model for a 1-10 score (first
integer of its reply) and is measured for tier ordering and adversarial answers the same way.
"""

from __future__ import annotations

import re
import statistics
import time
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import yaml

from evals.common import TOPICS, Check, gate

if TYPE_CHECKING:  # pragma: no cover
    from langchain_core.language_models import BaseChatModel

    from coach.content.questions import QuestionBank

TIER_ORDER = {"strong": 3, "partial": 2, "weak": 1}
ADVERSARIAL = ("buzzword", "injection")


@dataclass
class TierStats:
    """Tier ordering and adversarial outcome over some questions (all, or one topic)."""

    ordering_pairs: int = 0
    ordering_correct: int = 0
    adversarial: int = 0
    adversarial_passed: int = 0

    @property
    def ordering_accuracy(self) -> float:
        return self.ordering_correct / self.ordering_pairs if self.ordering_pairs else 0.0

    @property
    def adversarial_rate(self) -> float:
        return self.adversarial_passed / self.adversarial if self.adversarial else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"ordering_pairs": self.ordering_pairs, "ordering_correct": self.ordering_correct,
                "ordering_accuracy": round(self.ordering_accuracy, 4), "adversarial": self.adversarial,
                "adversarial_passed": self.adversarial_passed, "adversarial_rate": round(self.adversarial_rate, 4)}


@dataclass
class GradingEvalResult(TierStats):
    """The grader over all labelled answers: tier stats plus key-point detection and timing."""

    answers: int = 0
    questions: int = 0
    topics: list[str] = field(default_factory=list)
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    grade_ms_p50: float = 0.0
    failures: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    by_topic: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "answers": self.answers, "questions": self.questions, "topics": self.topics, **super().as_json(),
            "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
            "grade_ms_p50": round(self.grade_ms_p50, 1), "failures": self.failures, "confusion": self.confusion,
            "by_topic": self.by_topic, "rows": self.rows,
        }


@dataclass
class LLMBaselineResult:
    """The embedded model asked for a 1-10 score per answer."""

    answers: int = 0
    parsed: int = 0
    stats: TierStats = field(default_factory=TierStats)
    by_topic: dict[str, TierStats] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"answers": self.answers, "parsed": self.parsed, "skipped": self.skipped,
                "seconds": round(self.seconds, 1), **self.stats.as_json(),
                "by_topic": {t: s.as_json() for t, s in self.by_topic.items()}, "failures": self.failures,
                "rows": self.rows}


def load_labelled_answers(data_dir: Path) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    for path in sorted(data_dir.glob("graded_answers*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("answers", []):
            item = dict(item)
            item["_file"] = path.name
            answers.append(item)
    return answers


def tier_stats(scores: dict[tuple[str, str], list[float | None]], question_ids: list[str],
               failures: list[str] | None = None) -> TierStats:
    """Ordering and adversarial outcome of per-(question, tier) scores; a missing score (None) counts as a miss."""
    stats = TierStats()
    for qid in question_ids:
        tiers: dict[str, float | None] = {}
        for (q, t), values in scores.items():
            if q == qid:
                tiers[t] = None if any(v is None for v in values) else statistics.mean(values)  # type: ignore[arg-type]
        ranked = [t for t in TIER_ORDER if t in tiers]
        for hi, lo in combinations(ranked, 2):
            stats.ordering_pairs += 1
            a, b = tiers[hi], tiers[lo]
            if a is not None and b is not None and a > b:
                stats.ordering_correct += 1
            elif failures is not None:
                failures.append(f"{qid}: {hi} ({_fmt(a)}) not above {lo} ({_fmt(b)})")
        weak = tiers.get("weak")
        for adv in ADVERSARIAL:
            for value in scores.get((qid, adv), []):
                stats.adversarial += 1
                if weak is not None and value is not None and value <= weak:
                    stats.adversarial_passed += 1
                elif failures is not None:
                    failures.append(f"{qid}: {adv} scored {_fmt(value)} above weak ({_fmt(weak)})")
    return stats


def _fmt(value: float | None) -> str:
    return "no score" if value is None else f"{value:.0f}"


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def run_grading_eval(grader, answers: list[dict[str, Any]]) -> GradingEvalResult:
    res = GradingEvalResult()
    scores: dict[tuple[str, str], list[float | None]] = {}
    counts = {"all": [0, 0, 0]}  # tp, fp, fn per topic and overall
    timings = []
    topic_of: dict[str, str] = {}
    for item in answers:
        question = grader.bank.get(item["question_id"])
        topic_of[question.id] = question.topic
        start = time.perf_counter()
        result = grader.grade(question, item["answer"])
        timings.append((time.perf_counter() - start) * 1000)
        predicted = set(result.covered_ids)
        truth = set(item.get("covers") or [])
        for key in ("all", question.topic):
            c = counts.setdefault(key, [0, 0, 0])
            c[0] += len(predicted & truth)
            c[1] += len(predicted - truth)
            c[2] += len(truth - predicted)
        for p in result.points:
            cell = res.confusion.setdefault(p.dimension, {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
            key = ("t" if (p.covered == (p.id in truth)) else "f") + ("p" if p.covered else "n")
            cell[key] += 1
        scores.setdefault((item["question_id"], item["tier"]), []).append(result.score)
        res.rows.append({"id": item["id"], "question_id": item["question_id"], "topic": question.topic,
                         "tier": item["tier"], "score": result.score,
                         "false_positives": sorted(predicted - truth), "missed": sorted(truth - predicted)})
    res.answers = len(answers)
    qids = sorted(topic_of)
    res.questions = len(qids)
    res.topics = sorted(set(topic_of.values()))
    res.precision, res.recall, res.f1 = _f1(*counts["all"])
    res.grade_ms_p50 = statistics.median(timings) if timings else 0.0
    stats = tier_stats(scores, qids, res.failures)
    res.ordering_pairs, res.ordering_correct = stats.ordering_pairs, stats.ordering_correct
    res.adversarial, res.adversarial_passed = stats.adversarial, stats.adversarial_passed
    for topic in res.topics:
        t_stats = tier_stats(scores, [q for q in qids if topic_of[q] == topic])
        p, r, f1 = _f1(*counts[topic])
        res.by_topic[topic] = {**t_stats.as_json(), "precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4),
                               "questions": sum(1 for q in qids if topic_of[q] == topic)}
    return res


# ------------------------------------------------------------------ LLM baseline
BASELINE_SYSTEM = ("You are an interviewer grading a candidate's answer to a machine learning system design "
                   "interview question.")
BASELINE_USER = ("Question: {question}\n\nCandidate's answer:\n{answer}\n\n"
                 "Rate the answer from 1 (poor) to 10 (excellent). Reply with the number only.")
_INT = re.compile(r"\d+")


def parse_score(text: str) -> int | None:
    """The first integer of the reply, if it is a 1-10 score."""
    match = _INT.search(text or "")
    if not match:
        return None
    value = int(match.group())
    return value if 1 <= value <= 10 else None


def run_llm_baseline(chat_model: "BaseChatModel", bank: "QuestionBank", answers: list[dict[str, Any]],
                     max_answer_words: int = 700, log: Callable[[str], None] = lambda m: None) -> LLMBaselineResult:
    """Ask the chat model for a score per answer (temperature 0, a few tokens), then compare tiers as for ours."""
    from langchain_core.messages import HumanMessage, SystemMessage

    res = LLMBaselineResult(answers=len(answers))
    scores: dict[tuple[str, str], list[float | None]] = {}
    topic_of: dict[str, str] = {}
    start = time.perf_counter()
    for i, item in enumerate(answers, start=1):
        question = bank.get(item["question_id"])
        topic_of[question.id] = question.topic
        answer = " ".join(item["answer"].split()[:max_answer_words])  # keeps the prompt inside the context window
        messages = [SystemMessage(BASELINE_SYSTEM), HumanMessage(BASELINE_USER.format(question=question.prompt, answer=answer))]
        try:
            reply = str(chat_model.invoke(messages, temperature=0.0, max_tokens=8).text)
        except Exception as exc:  # noqa: BLE001 - a failed call is a missing score, reported
            reply = f"(error: {type(exc).__name__}: {exc})"
        score = parse_score(reply)
        res.parsed += score is not None
        scores.setdefault((question.id, item["tier"]), []).append(score)
        res.rows.append({"id": item["id"], "question_id": question.id, "topic": question.topic, "tier": item["tier"],
                         "reply": reply.strip()[:80], "score": score})
        if i % 20 == 0:
            log(f"grading baseline: {i}/{len(answers)} answers scored")
    res.seconds = time.perf_counter() - start
    qids = sorted(topic_of)
    res.stats = tier_stats(scores, qids, res.failures)
    for topic in sorted(set(topic_of.values())):
        res.by_topic[topic] = tier_stats(scores, [q for q in qids if topic_of[q] == topic])
    return res


# ------------------------------------------------------------------ verdicts
def grading_checks(ours: GradingEvalResult, baseline: LLMBaselineResult | None, thresholds: dict[str, Any]) -> list[Check]:
    cfg = thresholds.get("grading", {})
    per = cfg.get("per_topic", {})
    out = [
        gate("Grading tier ordering", "all", ours.ordering_accuracy, cfg.get("ordering_accuracy"),
             note=f"{ours.ordering_correct}/{ours.ordering_pairs}"),
        gate("Grading key-point F1", "all", ours.f1, cfg.get("key_point_f1")),
        gate("Grading adversarial pass rate", "all", ours.adversarial_rate, cfg.get("adversarial_pass_rate"),
             note=f"{ours.adversarial_passed}/{ours.adversarial}"),
    ]
    for topic in TOPICS:
        t = ours.by_topic.get(topic)
        if t is None:
            continue
        out.append(gate("Grading tier ordering", topic, t["ordering_accuracy"], per.get("ordering_accuracy"),
                        note=f"{t['ordering_correct']}/{t['ordering_pairs']}"))
        out.append(gate("Grading key-point F1", topic, t["f1"], per.get("key_point_f1")))
        out.append(gate("Grading adversarial pass rate", topic, t["adversarial_rate"], per.get("adversarial_pass_rate"),
                        note=f"{t['adversarial_passed']}/{t['adversarial']}"))
    if baseline is None or baseline.skipped:
        out.append(Check("LLM 1-10 baseline: tier ordering", "all", None, "", None, "skipped"))
        out.append(Check("LLM 1-10 baseline: adversarial pass rate", "all", None, "", None, "skipped"))
    else:
        out.append(gate("LLM 1-10 baseline: tier ordering", "all", baseline.stats.ordering_accuracy, None,
                        note=f"{baseline.stats.ordering_correct}/{baseline.stats.ordering_pairs}"))
        out.append(gate("LLM 1-10 baseline: adversarial pass rate", "all", baseline.stats.adversarial_rate, None,
                        note=f"{baseline.stats.adversarial_passed}/{baseline.stats.adversarial}"))
        for topic, s in baseline.by_topic.items():
            out.append(gate("LLM 1-10 baseline: tier ordering", topic, s.ordering_accuracy, None,
                            note=f"{s.ordering_correct}/{s.ordering_pairs}"))
            out.append(gate("LLM 1-10 baseline: adversarial pass rate", topic, s.adversarial_rate, None,
                            note=f"{s.adversarial_passed}/{s.adversarial}"))
    return out
