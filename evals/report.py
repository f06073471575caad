"""The eval report: one-screen summary table, details with failing items, JSON with every figure,
and two bar charts (retrieval and coverage per topic)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evals.common import TOPICS, Check
from evals.coverage import CoverageResult
from evals.ask_facts_eval import AskFactsResult
from evals.heldout_eval import HeldoutResult
from evals.grading_eval import GradingEvalResult, LLMBaselineResult, grading_checks
from evals.retrieval_eval import SYSTEMS, RetrievalResult
from evals.interviewer_eval import InterviewerResult
from evals.sessions_eval import SessionsResult
from evals.ask_eval import AskResult
from evals.speed import SpeedResult

SCOPES = ("all", *TOPICS)
SHORT = {"all": "All", "lifecycle": "Lifecycle", "infrastructure": "Infra", "design-patterns": "Patterns",
         "monitoring": "Monitoring", "architectures": "Arch."}


@dataclass
class SuiteResult:
    started: str
    mode: str                                   # full | skip-llm | fast
    seconds: float = 0.0
    part_seconds: dict[str, float] = field(default_factory=dict)
    coverage: CoverageResult | None = None
    retrieval: RetrievalResult | None = None
    grading: GradingEvalResult | None = None
    grading_baseline: LLMBaselineResult | None = None
    heldout: HeldoutResult | None = None
    ask_facts: AskFactsResult | None = None
    sessions: SessionsResult | None = None
    interviewer: InterviewerResult | None = None
    ask: AskResult | None = None
    speed: SpeedResult | None = None
    thresholds: dict[str, Any] = field(default_factory=dict)

    def checks(self) -> list[Check]:
        out: list[Check] = []
        if self.coverage:
            out += self.coverage.checks()
        if self.retrieval:
            out += self.retrieval.checks()
        if self.grading:
            out += grading_checks(self.grading, self.grading_baseline, self.thresholds)
        if self.heldout:
            out += self.heldout.checks(self.thresholds)
        if self.sessions:
            out += self.sessions.checks()
        if self.interviewer:
            out += self.interviewer.checks()
        if self.ask:
            out += self.ask.checks()
        if self.ask_facts:
            out += self.ask_facts.checks(self.thresholds)
        return out

    def failed(self) -> list[Check]:
        return [c for c in self.checks() if c.passed is False]

    @property
    def passed(self) -> bool:
        return not self.failed()

    def as_json(self) -> dict[str, Any]:
        part = lambda x: x.as_json() if x is not None else None  # noqa: E731
        return {
            "started": self.started, "mode": self.mode, "seconds": round(self.seconds, 1),
            "part_seconds": {k: round(v, 1) for k, v in self.part_seconds.items()},
            "passed": self.passed, "checks": [c.as_json() for c in self.checks()],
            "coverage": part(self.coverage), "retrieval": part(self.retrieval), "grading": part(self.grading),
            "grading_llm_baseline": part(self.grading_baseline), "heldout": part(self.heldout),
            "sessions": part(self.sessions),
            "interviewer": part(self.interviewer),
            "ask": part(self.ask), "ask_facts": part(self.ask_facts), "speed": part(self.speed), "thresholds": self.thresholds,
        }


# ------------------------------------------------------------------ formatting
def _value(check: Check) -> str:
    v = check.value
    if v is None:
        return check.note or "—"
    if "margin" in check.check:
        text = f"{v:+.3f}"
    elif isinstance(v, int) or float(v).is_integer() and v > 1:
        text = f"{int(v)}"
    else:
        text = f"{v:.3f}" if v < 1 else f"{v:.2f}"
    if check.note and check.value is not None and "/" in check.note:
        text += f" ({check.note})"
    return text


def cell(check: Check | None) -> str:
    if check is None:
        return "·"
    mark = {True: "✅ ", False: "❌ ", None: ""}[check.passed]
    return mark + _value(check)


def _target(target: str) -> str:
    return "= 1 (all)" if target == ">= 1" else target


def summary_table(checks: list[Check]) -> list[str]:
    rows: dict[str, dict[str, Check]] = {}
    for c in checks:
        if c.check.startswith("Speed:"):
            continue
        rows.setdefault(c.check, {})[c.scope] = c
    out = ["| Check | Target | " + " | ".join(SHORT[s] for s in SCOPES) + " |",
           "|---|---|" + "---|" * len(SCOPES)]
    for label, by_scope in rows.items():
        targets = sorted({_target(c.target) for c in by_scope.values() if c.target})
        target = " / ".join(targets) if targets else "reported"
        overall = _target(by_scope["all"].target) if "all" in by_scope else ""
        if len(targets) == 2 and overall in targets:
            target = f"{overall} (topic {next(t for t in targets if t != overall)})"
        out.append(f"| {label} | {target} | " + " | ".join(cell(by_scope.get(s)) for s in SCOPES) + " |")
    return out


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


# ------------------------------------------------------------------ sections
def coverage_md(cov: CoverageResult) -> list[str]:
    out = ["## 1. Coverage", "",
           f"Minimums: {cov.min_sections} content sections and {cov.min_questions} questions per topic. "
           f"Syllabus subtopics from {cov.syllabus_source}; overview pages count as reference-only.", "",
           "| Topic | Sections (+overview) | Words | Questions (junior/mid/senior/staff) | Key points | Top dimensions "
           "| Subtopics | Untaught sections |",
           "|---|---:|---:|---|---:|---|---:|---|"]
    for topic in TOPICS:
        t = cov.topics[topic]
        levels = "/".join(str(t.questions_by_level.get(lvl, 0)) for lvl in ("junior", "mid", "senior", "staff"))
        dims = ", ".join(f"{d} {n}" for d, n in list(t.points_by_dimension.items())[:4])
        out.append(f"| {topic} | {t.sections} (+{t.overview_pages}) | {t.words:,} | {t.questions} ({levels}) | "
                   f"{t.key_points} | {dims} | {len(t.subtopics_covered)}/{len(t.subtopics_expected)} | "
                   f"{', '.join(t.untaught_sections) or 'none'} |")
    out += ["", "![coverage by topic](coverage_by_topic.png)", ""]
    if cov.cases:
        studied = sum(1 for c in cov.cases if c["sections"])
        out += [f"**The cases candidates practise** ({len(cov.cases)} from the public lists; {studied} with a case "
                "study, all with at least one bank question):", "",
                "| Case | Lists | Case study | Questions |", "|---|---:|---|---|"]
        out += [f"| {c['case']} | {c['sources']} | {', '.join(f'`{s}`' for s in c['sections']) or '—'} | "
                f"{', '.join(c['questions']) or '—'} |" for c in cov.cases]
        out.append("")
    out += ["**Failing items:** " + ("none" if not cov.problems else "")] + [f"- {p}" for p in cov.problems]
    if cov.warnings:
        out += ["", "**Warnings (not gated):**"] + [f"- {w}" for w in cov.warnings]
    return out + [""]


def retrieval_md(ret: RetrievalResult) -> list[str]:
    out = ["## 2. Retrieval", "",
           "A query is a hit at k when a labelled section is among the first k distinct sections of the results; "
           f"MRR over the first 10 distinct sections; {ret.thresholds.get('depth', 30)} chunks fetched per query. "
           "Baselines run in the same process over the same queries.", "",
           "| System | Chunks | Build s | " + " | ".join(f"R@5 {SHORT[t]}" for t in TOPICS) + " | R@1 | R@3 | R@5 | MRR | p50 ms |",
           "|---|---:|---:|" + "---:|" * (len(TOPICS) + 5)]
    for name, sys in ret.systems.items():
        o = sys.scores()
        p50 = sys.as_json()["latency_ms"]["p50"]
        out.append(f"| {SYSTEMS[name]} | {sys.chunks} | {sys.build_s:.1f} | "
                   + " | ".join(_pct(sys.scores(t)["recall@5"]) for t in TOPICS)
                   + f" | {_pct(o['recall@1'])} | {_pct(o['recall@3'])} | **{_pct(o['recall@5'])}** | {_pct(o['mrr'])} | {p50:.1f} |")
    ours = ret.ours
    styles = sorted({o.style for o in ours.outcomes})
    out += ["", "Ours by query style: " + "; ".join(
        f"{s} R@5 {_pct(ours.scores(style=s)['recall@5'])} (n={ours.scores(style=s)['n']})" for s in styles), "",
        "![retrieval recall@5 by topic](retrieval_by_topic.png)", ""]
    out.append(f"**Failing queries (ours, not in the top 5 sections): {len(ours.failures)}**")
    if ours.failures:
        out += ["", "| id | query | expected | got (top 5 distinct sections) |", "|---|---|---|---|"]
        for f in ours.failures:
            out.append(f"| {f.id} | {f.query} | {', '.join(f.expected)} | {', '.join(f.got[:5])} |")
    for name in ("dense", "bm25"):
        base = ret.systems.get(name)
        if base:
            ids = ", ".join(f.id for f in base.failures) or "none"
            out.append(f"\nMissed by {SYSTEMS[name]}: {len(base.failures)} ({ids}).")
    return out + [""]


def grading_md(g: GradingEvalResult, base: LLMBaselineResult | None) -> list[str]:
    out = ["## 3. Grading", "",
           f"{g.answers} labelled answers to {g.questions} questions. Tier ordering: per question, the mean score of "
           "strong > partial > weak (pairs in order). Adversarial: buzzword and injection answers score no higher "
           "than the weak answer to the same question.", "",
           "| Grader | Tier ordering | Key-point P / R / F1 | Adversarial pass | Answers scored |",
           "|---|---:|---:|---:|---:|",
           f"| ours (deterministic rubric grader) | {g.ordering_accuracy:.3f} ({g.ordering_correct}/{g.ordering_pairs}) | "
           f"{g.precision:.3f} / {g.recall:.3f} / **{g.f1:.3f}** | {g.adversarial_rate:.3f} ({g.adversarial_passed}/{g.adversarial}) "
           f"| {g.answers} |"]
    if base is None or base.skipped:
        out.append("| baseline: embedded SmolLM2 asked for 1-10 | skipped (--skip-llm) | — | — | — |")
    else:
        s = base.stats
        out.append(f"| baseline: embedded SmolLM2 asked for 1-10 | {s.ordering_accuracy:.3f} ({s.ordering_correct}/{s.ordering_pairs}) "
                   f"| n/a (a single number) | {s.adversarial_rate:.3f} ({s.adversarial_passed}/{s.adversarial}) "
                   f"| {base.parsed}/{base.answers} parsed |")
    out += ["", "Per topic (ours): " + "; ".join(
        f"{t} ordering {v['ordering_accuracy']:.2f}, F1 {v['f1']:.2f}, adversarial {v['adversarial_rate']:.2f}"
        for t, v in g.by_topic.items()), ""]
    out += ["**Per-dimension confusion (key points, ours)**", "",
            "| Dimension | TP | FP | FN | TN | Precision | Recall |", "|---|---:|---:|---:|---:|---:|---:|"]
    for dim, c in sorted(g.confusion.items()):
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        out.append(f"| {dim} | {c['tp']} | {c['fp']} | {c['fn']} | {c['tn']} | {p:.2f} | {r:.2f} |")
    out += ["", "**Failing items (ours):** " + ("none" if not g.failures else "")] + [f"- {f}" for f in g.failures]
    worst = sorted(g.rows, key=lambda r: -(len(r["false_positives"]) + len(r["missed"])))[:8]
    out += ["", "Answers with the most key-point disagreements (false positives / missed):"]
    out += [f"- {r['id']} ({r['tier']}, score {r['score']}): credited but not labelled {r['false_positives'] or '-'}; "
            f"labelled but not credited {r['missed'] or '-'}" for r in worst if r["false_positives"] or r["missed"]]
    if base is not None and not base.skipped:
        from collections import Counter

        dist = Counter(r["score"] for r in base.rows)
        out += ["", "Baseline score distribution: " + ", ".join(
            f"{k if k is not None else 'unparsed'}: {v}" for k, v in sorted(dist.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))),
                f"Baseline failures: {len(base.failures)} (first ten below)"] + [f"- {f}" for f in base.failures[:10]]
    return out + [""]


def heldout_md(h: HeldoutResult) -> list[str]:
    out = ["## 3b. Held-out grading (levels, misconceptions, rephrased questions)", "",
           "Answers written fresh by hand (`evals/data/grading_heldout.yaml`), every point labelled missed / "
           "mentioned / explained; red flags said in a candidate's own words and clean answers that reject one "
           "(`evals/data/redflag_answers.yaml`). The grader was tuned on the dev splits only; the test splits are "
           "measured, never tuned on (`evals/thresholds.yaml` lists every measurement of them).", "",
           "| Split | Items | Precision | Recall | Level agreement | Misconceptions caught | Correct sentences "
           "flagged | Rephrased within 10 points | Red flags (own words) caught | Clean answers flagged |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    for name, r in h.splits.items():
        out.append(f"| {name} | {r.items} | {fmt(r.precision)} | {fmt(r.recall)} | {fmt(r.level_agreement)} | "
                   f"{fmt(r.caught)} ({r.wrong_caught}/{r.wrong_labelled}) | {fmt(r.false_alarms)} | "
                   f"{fmt(r.rephrase_within)} ({r.rephrased_matched}/{r.rephrased} matched) | "
                   f"{r.flags_caught}/{r.flags_labelled} | {r.clean_answers_flagged}/{r.clean_answers} |")
    if h.tuning_total:
        out += ["", f"Question matching on `evals/data/rephrased_questions.yaml` (written to tune it, so it proves "
                    f"little): {h.tuning_matched}/{h.tuning_total} matched to the right bank question, "
                    f"{h.tuning_wrong} to a wrong one."]
    return out + [""]


def interviewer_md(r: InterviewerResult) -> list[str]:
    """Follow-up kinds: per kind, end to end and engine-only; the failing cases with what happened."""
    out = ["## Interviewer: follow-ups that react to the answer", "",
           "One scripted candidate per question and kind (fake model): states a red flag, states a misconception, "
           "or makes the heaviest point that has authored follow-ups. Pass = the first follow-up is a challenge "
           "on the claim / a depth follow-up on the point. *Engine* counts only cases where the grader noticed.", "",
           "| Kind | End to end | Engine only |", "|---|---:|---:|"]
    for kind in ("red-flag", "misconception", "depth"):
        (e2e, n), (eng, m) = r.rate(kind), r.rate(kind, engine_only=True)
        out.append(f"| {kind} | {_pct(e2e)} ({round((e2e or 0) * n)}/{n}) | {_pct(eng)} ({round((eng or 0) * m)}/{m}) |")
    if r.phrasing:
        out += ["", "Embedded model (smollm2) phrasing shown after passing its checks: "
                + ", ".join(f"{k} {v['shown']}/{v['tried']}" for k, v in sorted(r.phrasing.items()))]
    failing = [o for o in r.outcomes if not o.passed][:20]
    if failing:
        out += ["", "Failing cases (first 20):", ""]
        out += [f"- {o.question_id} {o.kind} `{o.target}` ({o.source}): grader {'noticed' if o.noticed else 'missed'}; "
                f"first follow-up {o.first_kind} on {o.first_point}" + (f"; error {o.error}" if o.error else "")
                for o in failing]
    return out + [""]


def sessions_md(s: SessionsResult) -> list[str]:
    fake = s.rates("fake")
    pct = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    out = ["## 4. Sessions with planted gaps", "",
           f"{fake['n']} scripted candidates (fake model) each leave out 2-3 known key points (one per weight level "
           "where possible): two per hand-written script (evals/data/scripted_*.yaml, questions split into dev and a "
           "held-out test set never used to tune the grader) and one per labelled partial answer. The engine checks "
           "(probes follow the grade, the critique cites every graded gap, no rubric leak) hold in "
           f"{sum(o.engine_ok for o in s.rows('fake'))}/{fake['n']}. Including the grader, the critique names "
           f"{pct(fake['planted_gaps_named'])} of the planted gaps, {pct(fake['probes_on_planted'])} of the probes aim "
           f"at a planted gap, and {fake['grader_agrees']}/{fake['n']} scenarios are exactly right end to end.", "",
           "| Scenario set | n | Planted gaps named | Probes on a planted gap | Kept points listed as missed | "
           "Grader key-point P / R / F1 | Exactly right |", "|---|--:|--:|--:|--:|--:|--:|"]
    sets = [("scripted, dev split", dict(source="scripted", split="dev")),
            ("scripted, test split (held out)", dict(source="scripted", split="test")),
            ("labelled partial answers", dict(source="labelled-partial")), ("all", {})]
    for label, kw in sets:
        r = s.rates("fake", **kw)
        if r["n"]:
            out.append(f"| {label} | {r['n']} | {pct(r['planted_gaps_named'])} | {pct(r['probes_on_planted'])} | "
                       f"{pct(r['kept_wrongly_missed'])} | {pct(r['key_point_precision'])} / {pct(r['key_point_recall'])} / "
                       f"{pct(r['key_point_f1'])} | {round((r['end_to_end'] or 0) * r['n'])}/{r['n']} |")
    out += ["", "| Scenario | Model | Source | Planted (weight order) | Probed | Engine | Planted named | Exactly right |",
            "|---|---|---|---|---|:-:|:-:|:-:|"]
    yes = lambda b: "✅" if b else "❌"  # noqa: E731
    for o in s.outcomes:
        src = f"{o.source} ({o.split})" if o.source == "scripted" else o.source
        out.append(f"| {o.scenario} | {o.mode} | {src} | {', '.join(o.expected_probes)} | {', '.join(o.probed)} | "
                   f"{yes(o.engine_ok)} | {len(o.planted_named)}/{len(o.planted)} | {yes(o.passed)} |")
    engine = [o for o in s.outcomes if not o.engine_ok]
    out += ["", f"**Engine failures: {len(engine)}**"] + [f"- {o.scenario} ({o.mode}): " + "; ".join(o.problems())
                                                         for o in engine]
    failing = [o for o in s.outcomes if o.engine_ok and not o.passed]
    out += ["", f"**Not exactly right because of the grader: {len(failing)}** (the engine followed the grade; "
            "the grading eval measures these misreadings)"]
    out += [f"- {o.scenario} ({o.mode}): " + "; ".join(o.problems()) for o in failing]
    llm = [o for o in s.outcomes if o.mode == "smollm2"]
    if llm:
        out += ["", "Probes the embedded model wrote (smollm2 sessions):"]
        out += [f"- {o.scenario}: " + " | ".join(f"“{t}”" for t in o.probe_texts) for o in llm]
    elif s.skipped_llm:
        out += ["", "Embedded-model sessions skipped (--skip-llm)."]
    if s.probe_cue_overlaps:
        out += ["", "Bank probes that quote a multi-word cue of another point of the same question (a hint when both "
                "are missing; not gated, for authors):"] + [f"- {x}" for x in s.probe_cue_overlaps]
    return out + [""]


def ask_md(a: AskResult) -> list[str]:
    fake = a.modes["fake"].as_json()
    out = ["## 5. Groundedness of Ask", "",
           "Each answer sentence is checked against the passages the answer cites, with Ask's own support test. "
           "The fake model takes the extractive path; the embedded model writes the answer, and Ask drops "
           "unsupported sentences before the user sees it.", "",
           "| Mode | Queries | Grounded share | In-scope wrongly declined | Out-of-scope declined | Model used | Model sentences dropped |",
           "|---|---:|---:|---:|---:|---:|---:|",
           f"| fake (extractive) | {fake['queries']} | {_pct(fake['grounded_share'])} | {_pct(fake['in_scope_wrongly_declined'])} | "
           f"{_pct(fake['out_of_scope_declined'])} ({fake['out_of_scope'] - len(fake['out_of_scope_answered'])}/{fake['out_of_scope']}) | — | — |"]
    llm = a.modes.get("smollm2")
    if llm is None or llm.skipped:
        out.append("| smollm2 (sample) | skipped (--skip-llm) | | | | | |")
    else:
        j = llm.as_json()
        out.append(f"| smollm2 (sample) | {j['queries']} | {_pct(j['grounded_share'])} | {_pct(j['in_scope_wrongly_declined'])} | "
                   f"(decided before the model) | {j['used_model']}/{j['queries']} | {j['model_sentences_dropped']} of "
                   f"{j['model_sentences_written']} |")
    detail = fake["out_of_scope_answered_detail"]
    out += ["", f"**Out-of-scope questions answered (should have been declined): {len(detail)}**"]
    out += [f"- {d['id']}: “{d['query']}” — top dense similarity {d['top_similarity']} "
            f"(retrieval.min_dense_similarity {d['min_dense_similarity']}); cited {', '.join(d['cited'])}" for d in detail]
    declined = [o for o in a.modes["fake"].outcomes if not o.covered]
    out += ["", f"**In-scope queries declined: {len(declined)}**"] + [f"- {o.id}: {o.query}" for o in declined]
    for mode, r in a.modes.items():
        bad = [o for o in r.outcomes if o.unsupported]
        if bad:
            out += ["", f"Unsupported sentences ({mode}):"] + [f"- {o.id}: {u}" for o in bad for u in o.unsupported][:20]
    return out + [""]


def ask_facts_md(a: AskFactsResult) -> list[str]:
    out = ["## 5b. Ask: do answers state the key facts?", "",
           "Learner questions with the facts an answer must state (`evals/data/ask_questions.yaml`), checked in "
           "the answer text, not the sources. Ask was tuned on the dev split; the test split was measured, not "
           "tuned on.", "",
           "| Split | Questions | Key facts stated | Answers with every fact | Sentences not in the cited passages "
           "| In-scope declined | p50 ms |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in a.splits.items():
        j = r.as_json()
        out.append(f"| {name} | {r.questions} | {r.hit_rate or 0:.3f} ({r.facts_hit}/{r.facts}) | "
                   f"{r.answers_all_hit}/{r.questions} | {len(r.unsupported)}/{r.sentences} | "
                   f"{len(r.declined)}/{r.questions} | {j['latency_ms'].get('p50', 0):.0f} |")
    out += ["", f"Out-of-scope questions declined: {a.oos_declined}/{a.oos_total}.", ""]
    return out


def speed_md(sp: SpeedResult) -> list[str]:
    out = ["## 6. Speed (reported, not gated)", "",
           "Wall-clock medians in this process, after warm-up; on a shared machine they move with its load "
           "(benchmarks/ has repeated, baseline-relative figures).", "", "| Figure | Value |", "|---|---:|"]
    for name, v in sp.figures.items():
        out.append(f"| {name} | {('%.1f ms' % v) if v is not None else sp.notes.get(name, 'skipped')} |")
    return out + [""]


def markdown(res: SuiteResult) -> str:
    checks = res.checks()
    failed = [c for c in checks if c.passed is False]
    gated = [c for c in checks if c.passed is not None]
    verdict = (f"**PASS**: all {len(gated)} gated figures meet evals/thresholds.yaml." if not failed else
               f"**FAIL**: {len(failed)} of {len(gated)} gated figures miss evals/thresholds.yaml: "
               + "; ".join(f"{c.check} [{c.scope}] = {_value(c)} (target {c.target})" for c in failed))
    out = ["# Eval report", "",
           f"Run {res.started}, mode `{res.mode}`, {res.seconds:.0f} s "
           f"({', '.join(f'{k} {v:.0f} s' for k, v in res.part_seconds.items())}).", "",
           verdict, "", "## Summary", "",
           "✅ / ❌ = gated against evals/thresholds.yaml; a bare number is reported only; · = not measured per topic.", ""]
    out += summary_table(checks) + [""]
    if res.coverage:
        out += coverage_md(res.coverage)
    if res.retrieval:
        out += retrieval_md(res.retrieval)
    if res.grading:
        out += grading_md(res.grading, res.grading_baseline)
    if res.heldout:
        out += heldout_md(res.heldout)
    if res.sessions:
        out += sessions_md(res.sessions)
    if res.interviewer:
        out += interviewer_md(res.interviewer)
    if res.ask:
        out += ask_md(res.ask)
    if res.ask_facts:
        out += ask_facts_md(res.ask_facts)
    if res.speed:
        out += speed_md(res.speed)
    return "\n".join(out).rstrip() + "\n"


# ------------------------------------------------------------------ charts
def retrieval_chart(ret: RetrievalResult, path: Path, thresholds: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scopes = [*TOPICS, "all"]
    names = [n for n in ("ours", "dense", "bm25") if n in ret.systems]
    colors = {"ours": "#1f6feb", "dense": "#9aa4b2", "bm25": "#e3a008"}
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(9, 4.6), dpi=120)
    for i, name in enumerate(names):
        sys = ret.systems[name]
        values = [sys.scores(None if s == "all" else s)["recall@5"] for s in scopes]
        xs = [x + (i - (len(names) - 1) / 2) * width for x in range(len(scopes))]
        bars = ax.bar(xs, values, width, label=SYSTEMS[name], color=colors[name])
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=7, padding=1)
    cfg = thresholds.get("retrieval", {})
    if cfg.get("recall_at_5_per_topic") is not None:
        ax.axhline(cfg["recall_at_5_per_topic"], color="#d1242f", lw=0.8, ls="--", label="per-topic target")
    if cfg.get("recall_at_5") is not None:
        ax.axhline(cfg["recall_at_5"], color="#d1242f", lw=0.8, ls=":", label="overall target")
    ax.set_xticks(range(len(scopes)), [SHORT.get(s, s) if s != "all" else "All" for s in scopes])
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("recall@5 (distinct sections)")
    ax.set_title("Retrieval recall@5 by topic: ours vs baselines")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=5, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def coverage_chart(cov: CoverageResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.4), dpi=120)
    labels = [SHORT[t] for t in TOPICS]
    sections = [cov.topics[t].sections for t in TOPICS]
    overview = [cov.topics[t].overview_pages for t in TOPICS]
    left.bar(labels, sections, color="#1f6feb", label="content sections")
    left.bar(labels, overview, bottom=sections, color="#9aa4b2", label="overview")
    left.axhline(cov.min_sections, color="#d1242f", ls="--", lw=0.8, label=f"minimum {cov.min_sections}")
    left.set_title("Guide sections per topic")
    left.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, frameon=False)
    bottom = [0] * len(TOPICS)
    shades = {"junior": "#c6dbef", "mid": "#6baed6", "senior": "#2171b5", "staff": "#08306b"}
    for level, color in shades.items():
        values = [cov.topics[t].questions_by_level.get(level, 0) for t in TOPICS]
        right.bar(labels, values, bottom=bottom, color=color, label=level)
        bottom = [b + v for b, v in zip(bottom, values)]
    right.axhline(cov.min_questions, color="#d1242f", ls="--", lw=0.8, label=f"minimum {cov.min_questions}")
    right.set_title("Questions per topic, by level")
    right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=5, frameon=False)
    for ax in (left, right):
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(res: SuiteResult, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"md": out_dir / "latest.md", "json": out_dir / "latest.json"}
    if res.retrieval:
        paths["retrieval_png"] = out_dir / "retrieval_by_topic.png"
        retrieval_chart(res.retrieval, paths["retrieval_png"], res.thresholds)
    if res.coverage:
        paths["coverage_png"] = out_dir / "coverage_by_topic.png"
        coverage_chart(res.coverage, paths["coverage_png"])
    paths["md"].write_text(markdown(res), encoding="utf-8")
    paths["json"].write_text(json.dumps(res.as_json(), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return paths
