"""Held-out grading eval: levels, misconceptions and rephrased questions on answers written fresh.

``evals/data/grading_heldout.yaml`` holds answers written by hand for this purpose, not derived
from the other labelled sets; every rubric point is labelled missed / mentioned / explained and
every misconception the answer states is listed. Items are split by question: ``dev`` may be
looked at while tuning the grader, ``test`` never is, and the gates in thresholds.yaml apply to
``test``. Reported per split:

- key-point precision and recall, counting mentioned or better as made;
- level agreement (missed / mentioned / explained, exact);
- misconceptions caught (labelled ones the grader reports), and the share of sentences of the
  answers that state none which the grader flags as a misconception (false alarms);
- rephrased questions: the grade of an answer asked in the interviewer's own words against its
  grade under the bank question (the gap must stay within 10 points).
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from coach.grading.results import LISTING_FLAG, MANIPULATION_FLAG
from coach.text import sentences
from evals.common import Check, gate, ratio

if TYPE_CHECKING:  # pragma: no cover
    from coach.grading.grader import Grader

HELDOUT_FILE = Path(__file__).resolve().parent / "data" / "grading_heldout.yaml"
REPHRASED_FILE = Path(__file__).resolve().parent / "data" / "rephrased_questions.yaml"
REDFLAG_FILE = Path(__file__).resolve().parent / "data" / "redflag_answers.yaml"
_EVERY_QUESTION_FLAGS = {MANIPULATION_FLAG, LISTING_FLAG}  # not the question's own red flags
LEVELS = ("missed", "mentioned", "explained")


def load_heldout(path: Path = HELDOUT_FILE) -> list[dict[str, Any]]:
    return list((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("items", []))


@dataclass
class SplitResult:
    split: str
    items: int = 0
    questions: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    level_agree: int = 0
    level_total: int = 0
    wrong_labelled: int = 0
    wrong_caught: int = 0
    clean_sentences: int = 0
    clean_flagged: int = 0
    rephrased: int = 0
    rephrased_matched: int = 0
    rephrased_within_10: int = 0
    rephrase_gaps: list[int] = field(default_factory=list)
    flags_labelled: int = 0          # evals/data/redflag_answers.yaml: red flags said in the candidate's own words
    flags_caught: int = 0
    clean_answers: int = 0           # ...and answers that commit none (many reject one)
    clean_answers_flagged: int = 0
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return ratio(self.tp, self.tp + self.fn)

    @property
    def level_agreement(self) -> float | None:
        return ratio(self.level_agree, self.level_total)

    @property
    def caught(self) -> float | None:
        return ratio(self.wrong_caught, self.wrong_labelled)

    @property
    def false_alarms(self) -> float | None:
        return ratio(self.clean_flagged, self.clean_sentences)

    @property
    def rephrase_within(self) -> float | None:
        return ratio(self.rephrased_within_10, self.rephrased)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(precision=self.precision, recall=self.recall, level_agreement=self.level_agreement,
                    misconceptions_caught=self.caught, false_alarm_sentences=self.false_alarms,
                    rephrased_within_10=self.rephrase_within)
        return data


@dataclass
class HeldoutResult:
    splits: dict[str, SplitResult] = field(default_factory=dict)
    tuning_matched: int = 0          # evals/data/rephrased_questions.yaml (tuned on): matched to the right question
    tuning_wrong: int = 0
    tuning_total: int = 0

    def as_json(self) -> dict[str, Any]:
        return {**{name: s.as_json() for name, s in self.splits.items()},
                "rephrased_tuning_set": {"right": self.tuning_matched, "wrong": self.tuning_wrong,
                                         "total": self.tuning_total}}

    def checks(self, thresholds: dict[str, Any]) -> list[Check]:
        t = thresholds.get("heldout", {})
        out = []
        for name, res in self.splits.items():
            gated = name == "test"
            split = f"{name} split" + ("" if gated else ", tuned on")

            def g(check: str, value: float | None, key: str, note: str = "", maximum: bool = False) -> None:
                limit = t.get(key) if gated else None
                out.append(gate(f"Held-out grading ({split}): {check}", "all", value, None if maximum else limit,
                                note=note, maximum=limit if maximum else None))

            g("key-point precision (mentioned or better)", res.precision, "precision", f"{res.tp}/{res.tp + res.fp}")
            g("key-point recall (mentioned or better)", res.recall, "recall", f"{res.tp}/{res.tp + res.fn}")
            g("level agreement (missed/mentioned/explained)", res.level_agreement, "level_agreement",
              f"{res.level_agree}/{res.level_total}")
            g("misconceptions caught", res.caught, "misconceptions_caught", f"{res.wrong_caught}/{res.wrong_labelled}")
            g("correct sentences flagged as misconceptions", res.false_alarms, "false_alarms_max",
              f"{res.clean_flagged}/{res.clean_sentences}", maximum=True)
            g("rephrased question graded within 10 points of the bank question", res.rephrase_within,
              "rephrased_within_10", f"{res.rephrased_within_10}/{res.rephrased}; matched {res.rephrased_matched}")
            if res.flags_labelled:
                g("red flags said in own words caught", ratio(res.flags_caught, res.flags_labelled), "red_flags_caught",
                  f"{res.flags_caught}/{res.flags_labelled}")
                g("answers with no red flag that get one", ratio(res.clean_answers_flagged, res.clean_answers),
                  "red_flag_false_alarms_max", f"{res.clean_answers_flagged}/{res.clean_answers}", maximum=True)
        if self.tuning_total:
            out.append(gate("Question matching (rephrased_questions.yaml, tuned on): matched to the right question",
                            "all", ratio(self.tuning_matched, self.tuning_total), None,
                            note=f"{self.tuning_matched}/{self.tuning_total}; {self.tuning_wrong} to a wrong one"))
        return out


def run_heldout_eval(grader: "Grader", items: list[dict[str, Any]] | None = None,
                     splits: tuple[str, ...] = ("dev", "test")) -> HeldoutResult:
    items = load_heldout() if items is None else items
    result = HeldoutResult()
    flag_items = yaml.safe_load(REDFLAG_FILE.read_text(encoding="utf-8"))["items"] if REDFLAG_FILE.is_file() else []
    for split in splits:
        res = result.splits.setdefault(split, SplitResult(split=split,
                                                          confusion={lv: dict.fromkeys(LEVELS, 0) for lv in LEVELS}))
        mine = [it for it in items if it["split"] == split]
        res.items = len(mine)
        res.questions = len({it["question_id"] for it in mine})
        for item in mine:
            grade = grader.grade(grader.bank.get(item["question_id"]), item["answer"])
            got = {p.id: p.level for p in grade.points}
            for point_id, want in item["labels"].items():
                have = got.get(point_id, "missed")
                made, said = want != "missed", have != "missed"
                res.tp += made and said
                res.fp += said and not made
                res.fn += made and not said
                res.level_total += 1
                res.level_agree += have == want
                res.confusion[want][have] += 1
                if have != want and len(res.misses) < 60:
                    res.misses.append(f"{item['id']} {point_id}: labelled {want}, graded {have}")
            labelled = set(item.get("misconceptions") or [])
            reported = {m.id for m in grade.misconceptions}
            res.wrong_labelled += len(labelled)
            res.wrong_caught += len(labelled & reported)
            if not labelled:
                res.clean_sentences += len(sentences(item["answer"]))
                res.clean_flagged += len({m.evidence for m in grade.misconceptions})
            if item.get("asked_as"):
                res.rephrased += 1
                free = grader.grade(item["asked_as"], item["answer"])
                res.rephrased_matched += free.question_id == item["question_id"]
                gap = abs(free.score - grade.score)
                res.rephrase_gaps.append(gap)
                res.rephrased_within_10 += gap <= 10
        for item in (it for it in flag_items if it["split"] == split):
            got = {f.id for f in grader.grade(grader.bank.get(item["question_id"]), item["answer"]).red_flags}
            got -= _EVERY_QUESTION_FLAGS
            res.flags_labelled += len(item["red_flags"])
            res.flags_caught += len(set(item["red_flags"]) & got)
            res.clean_answers += not item["red_flags"]
            res.clean_answers_flagged += not item["red_flags"] and bool(got)
    if REPHRASED_FILE.is_file():
        for item in yaml.safe_load(REPHRASED_FILE.read_text(encoding="utf-8"))["items"]:
            found, _ = grader.match_question(" ".join(item["asked_as"].split()))
            result.tuning_total += 1
            result.tuning_matched += found is not None and found.id == item["question_id"]
            result.tuning_wrong += found is not None and found.id != item["question_id"]
    return result


def summary(result: HeldoutResult) -> str:
    lines = []
    for name, r in result.splits.items():
        lines.append(f"{name}: P {r.precision:.3f} R {r.recall:.3f} levels {r.level_agreement:.3f} "
                     f"caught {r.caught} false-alarm {r.false_alarms:.3f} rephrased<=10 {r.rephrase_within} "
                     f"(matched {r.rephrased_matched}/{r.rephrased}, median gap "
                     f"{statistics.median(r.rephrase_gaps) if r.rephrase_gaps else 0}); red flags in own words "
                     f"caught {r.flags_caught}/{r.flags_labelled}, clean answers flagged "
                     f"{r.clean_answers_flagged}/{r.clean_answers}")
    return "\n".join(lines)
