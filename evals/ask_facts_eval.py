"""Does the Ask answer itself state what a learner asked for? Key facts in the answer text.

``evals/data/ask_questions.yaml`` lists learner questions (definitions, comparisons, how-to,
when/why, numbers, mistakes, and follow-up pairs) with the key facts an answer must state, each
a few words with alternatives ("0.25 | 0.2"), checked in the answer text only, not in the
sources. ``dev`` questions may be looked at while tuning Ask; ``test`` questions never are, and
the gates apply to ``test``. Also reported: answer sentences not supported by the cited
passages, in-scope questions wrongly declined, out-of-scope questions declined, p50 latency.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from coach.search.ask import passage_units
from coach.text import sentences
from evals.common import Check, gate, latency, ratio

if TYPE_CHECKING:  # pragma: no cover
    from coach.core import Coach

QUESTIONS_FILE = Path(__file__).resolve().parent / "data" / "ask_questions.yaml"
_MARKUP = re.compile(r"\[\d+\]|\*\*|[|`*_#>]")


def load_ask_questions(path: Path = QUESTIONS_FILE) -> tuple[list[dict[str, Any]], list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return list(data.get("questions", [])), [str(q) for q in data.get("out_of_scope", [])]


def normalise(text: str) -> str:
    return " ".join(_MARKUP.sub(" ", text).lower().replace("\u2011", "-").replace("\u2013", "-").split())


def fact_stated(answer: str, fact: str) -> bool:
    """One of the fact's " | " alternatives occurs in the answer text."""
    text = normalise(answer)
    return any(normalise(alt) in text for alt in fact.split("|") if alt.strip())


@dataclass
class FactSplit:
    split: str
    questions: int = 0
    facts: int = 0
    facts_hit: int = 0
    answers_all_hit: int = 0
    declined: list[str] = field(default_factory=list)
    sentences: int = 0
    unsupported: list[str] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    by_shape: dict[str, list[int]] = field(default_factory=dict)  # shape -> [facts hit, facts]
    misses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def hit_rate(self) -> float | None:
        return ratio(self.facts_hit, self.facts)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(key_fact_hit=self.hit_rate, wrongly_declined=ratio(len(self.declined), self.questions),
                    unsupported_share=ratio(len(self.unsupported), self.sentences), latency_ms=latency(self.ms))
        data.pop("ms")
        return data


@dataclass
class AskFactsResult:
    splits: dict[str, FactSplit] = field(default_factory=dict)
    oos_total: int = 0
    oos_declined: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"splits": {k: v.as_json() for k, v in self.splits.items()}, "oos_total": self.oos_total,
                "oos_declined": self.oos_declined, "oos_declined_share": ratio(self.oos_declined, self.oos_total)}

    def checks(self, thresholds: dict[str, Any]) -> list[Check]:
        t = thresholds.get("ask_facts", {})
        out = []
        for name, r in self.splits.items():
            gated = name == "test"
            split = f"{name} split" + ("" if gated else ", tuned on")
            lim = (lambda key: t.get(key)) if gated else (lambda key: None)
            out.append(gate(f"Ask ({split}): key facts stated in the answer text", "all", r.hit_rate,
                            lim("key_fact_hit"), note=f"{r.facts_hit}/{r.facts}"))
            out.append(gate(f"Ask ({split}): answer sentences not in the cited passages", "all",
                            ratio(len(r.unsupported), r.sentences), None, note=f"{len(r.unsupported)}/{r.sentences}",
                            maximum=lim("unsupported_max")))
            out.append(gate(f"Ask ({split}): in-scope questions wrongly declined", "all",
                            ratio(len(r.declined), r.questions), None, note=f"{len(r.declined)}/{r.questions}",
                            maximum=lim("wrongly_declined_max")))
            lat = latency(r.ms)
            out.append(gate(f"Ask ({split}): answer latency p50 (ms)", "all", lat.get("p50"), None,
                            maximum=lim("p50_ms_max")))
        out.append(gate("Ask: out-of-scope questions declined", "all", ratio(self.oos_declined, self.oos_total),
                        t.get("oos_declined"), note=f"{self.oos_declined}/{self.oos_total}"))
        return out


def run_ask_facts(coach: "Coach", questions: list[dict[str, Any]] | None = None, out_of_scope: list[str] | None = None,
                  splits: tuple[str, ...] = ("dev", "test")) -> AskFactsResult:
    if questions is None:
        questions, out_of_scope = load_ask_questions()
    by_id = {q["id"]: q for q in questions}
    result = AskFactsResult()
    for split in splits:
        r = result.splits.setdefault(split, FactSplit(split=split))
        for q in (q for q in questions if q["split"] == split):
            previous = by_id[q["follow_up_of"]]["question"] if q.get("follow_up_of") in by_id else None
            start = time.perf_counter()
            answer = coach.ask(q["question"], previous=previous)
            r.ms.append((time.perf_counter() - start) * 1000)
            r.questions += 1
            if not answer.covered:
                r.declined.append(q["id"])
            hits = [fact_stated(answer.answer, f) for f in q["key_facts"]]
            r.facts += len(hits)
            r.facts_hit += sum(hits)
            r.answers_all_hit += all(hits)
            shape = r.by_shape.setdefault(q.get("shape", "general"), [0, 0])
            shape[0] += sum(hits)
            shape[1] += len(hits)
            if not all(hits) and len(r.misses) < 80:
                r.misses.append({"id": q["id"], "question": q["question"],
                                 "missing": [f for f, h in zip(q["key_facts"], hits) if not h]})
            if answer.covered and answer.citations:
                cited = " ".join(normalise(unit) for _, unit in passage_units(answer.citations))
                for sentence in answer_sentences(answer.answer):
                    r.sentences += 1
                    body = normalise(sentence)
                    if body and body not in cited and not _mostly_in(body, cited):
                        r.unsupported.append(sentence)
    for text in out_of_scope or []:
        result.oos_total += 1
        result.oos_declined += not coach.ask(text).covered
    return result


def answer_sentences(answer: str) -> list[str]:
    """The sentences an answer shows: table cells, bullets and prose, without labels and citations."""
    out = []
    for line in answer.splitlines():
        line = line.strip()
        if not line or set(line) <= set("|-: "):
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if cells[-1].lower() == "what the guide says":
                continue
            line = cells[-1]
        line = re.sub(r"^([-*]|\d+\.)\s+", "", line).replace("&#124;", "|")
        line = re.sub(r"\*\*[^*]{1,80}:\*\*\s*", "", line)  # "**covariate shift:**" side labels
        out += [re.sub(r"\[\d+\]", "", s).strip() for s in sentences(line)]
    return [s for s in out if s]


def _mostly_in(sentence: str, passages: str) -> bool:
    """Every 3-word run of the sentence appears in the passages (the sentence is the guide's, re-punctuated)."""
    words = sentence.split()
    runs = [" ".join(words[i:i + 3]) for i in range(max(1, len(words) - 2))]
    return sum(run in passages for run in runs) >= 0.9 * len(runs)
