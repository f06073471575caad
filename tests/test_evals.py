"""The fast subset of the eval suite (evals/), asserted against evals/thresholds.yaml.

Coverage, retrieval (ours, the BM25-only and the dense-only baselines), grading, and sessions with
planted gaps on the fake model. The embedded-model parts, Ask and speed run only in the full suite
(`python -m evals`, `coach eval`, `make eval`).
"""

from __future__ import annotations

import json

import pytest

from evals.common import DATA_DIR, TOPICS, Check, load_queries, load_thresholds
from evals.coverage import run_coverage
from evals.grading_eval import grading_checks, load_labelled_answers, parse_score, run_grading_eval
from evals.retrieval_eval import distinct_sections, run_retrieval_eval
from evals.sessions_eval import ScriptError, build_scenarios, choose_planted, load_scripted, run_sessions_eval
from tests.conftest import run_cli


def failed(checks: list[Check]) -> list[str]:
    return [f"{c.check} [{c.scope}] = {c.value} (target {c.target}) {c.note}" for c in checks if c.passed is False]


@pytest.fixture(scope="module")
def thresholds():
    return load_thresholds()


@pytest.fixture(scope="module")
def answers():
    return load_labelled_answers(DATA_DIR)


@pytest.fixture(scope="module")
def coverage(real_coach, thresholds):
    return run_coverage(real_coach.settings.knowledge_dir, thresholds)


@pytest.fixture(scope="module")
def retrieval(real_coach, thresholds):
    queries, _ = load_queries()
    return run_retrieval_eval(real_coach, queries, thresholds, baselines=("dense", "bm25"))


@pytest.fixture(scope="module")
def grading(real_coach, answers):
    return run_grading_eval(real_coach.grader, answers)


@pytest.fixture(scope="module")
def sessions(real_coach, answers, thresholds):
    return run_sessions_eval(real_coach, answers, thresholds, llm=False)


def test_coverage_meets_minimums_and_links(coverage):
    assert set(coverage.topics) == set(TOPICS)
    assert not failed(coverage.checks()), coverage.problems
    for topic in TOPICS:
        assert coverage.topic_passed(topic), (topic, coverage.problems)


def test_retrieval_meets_recall_targets_and_beats_baselines(retrieval):
    assert {"ours", "dense", "bm25"} <= set(retrieval.systems)
    assert retrieval.ours.scores()["n"] == len(load_queries()[0]) >= 173
    problems = failed(retrieval.checks())
    assert not problems, (problems, [(f.id, f.query, f.expected, f.got[:5]) for f in retrieval.ours.failures])


def test_grading_meets_targets(grading, thresholds):
    assert grading.questions >= 15 and set(grading.topics) == set(TOPICS)
    problems = failed(grading_checks(grading, None, thresholds))
    assert not problems, (problems, grading.failures)
    assert set(grading.confusion) >= {"metrics", "data", "serving"}


def test_sessions_with_planted_gaps(sessions, thresholds):
    fake = [o for o in sessions.outcomes if o.mode == "fake"]
    assert len(fake) >= 40
    for topic in TOPICS:
        assert sum(o.topic == topic for o in fake) >= thresholds["sessions"]["min_scenarios_per_topic"]
        assert sum(o.topic == topic and o.source == "scripted" and o.split == "test" for o in fake) >= 2, topic
    assert all(2 <= len(o.planted) <= 3 for o in fake)
    assert not [o.error for o in fake if o.error]
    assert any(o.passed for o in fake), "no scenario where the grader sees exactly the plant: nothing was tested end to end"
    assert sum(len(o.probed) for o in fake) >= len(fake), "the sessions hardly probed"
    problems = failed(sessions.checks())
    assert not problems, (problems, [(o.scenario, o.problems()) for o in fake if not o.engine_ok])


def test_planted_gaps_span_weights(real_coach, answers):
    scenarios = build_scenarios(real_coach.bank, answers, load_scripted(real_coach.bank, DATA_DIR))
    assert {s.source for s in scenarios} == {"scripted", "labelled-partial"}
    for s in scenarios:
        q = real_coach.bank.get(s.question_id)
        weights = [q.point(p).weight for p in s.planted]
        assert weights == sorted(weights, reverse=True), s.id
        assert not set(s.planted) & set(s.kept), s.id
        assert set(s.planted) | set(s.kept) == {p.id for p in q.rubric}, s.id
    pairs = [(a, b) for a in scenarios for b in scenarios if a.question_id == b.question_id and a.id < b.id
             and a.source == b.source == "scripted"]
    assert pairs and all(not set(a.planted) & set(b.planted) for a, b in pairs)
    q = real_coach.bank.get("arch-q01")
    assert len(choose_planted(q, [p.id for p in q.rubric])) == len({p.weight for p in q.rubric})


def test_scripted_candidates_are_held_out_of_the_labelled_questions(real_coach, answers):
    scripts = load_scripted(real_coach.bank, DATA_DIR)
    labelled = {a["question_id"] for a in answers}
    assert not {s["question_id"] for s in scripts} & labelled
    assert {s["split"] for s in scripts} == {"dev", "test"}


@pytest.mark.parametrize("edit, message", [
    (lambda s: s["points"].pop(next(iter(s["points"]))), "points: expected exactly"),
    (lambda s: s.update(split="train"), "split: must be dev or test"),
    (lambda s: s.update(question_id="zz-q99"), "question_id"),
    (lambda s: s.update(opening=""), "opening: missing"),
])
def test_scripted_file_errors_name_file_script_and_field(real_coach, tmp_path, edit, message):
    import yaml

    data = yaml.safe_load((DATA_DIR / "scripted_lifecycle.yaml").read_text(encoding="utf-8"))
    edit(data["scripts"][1])
    (tmp_path / "scripted_x.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ScriptError, match=r"scripted_x\.yaml, script 2 .*" + message):
        load_scripted(real_coach.bank, tmp_path)


def test_report_files(tmp_path, coverage, retrieval, grading, sessions, thresholds):
    from evals.report import SuiteResult, write_report

    res = SuiteResult(started="test", mode="fast", coverage=coverage, retrieval=retrieval, grading=grading,
                      sessions=sessions, thresholds=thresholds)
    paths = write_report(res, tmp_path)
    md = paths["md"].read_text(encoding="utf-8")
    assert md.index("## Summary") < md.index("## 1. Coverage")
    assert "| Retrieval recall@5 |" in md and "Failing queries" in md
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["retrieval"]["systems"]["ours"]["overall"]["recall@5"] == retrieval.ours.scores()["recall@5"]
    for key in ("retrieval_png", "coverage_png"):
        assert paths[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_helpers():
    assert parse_score("Score: 7/10") == 7 and parse_score("I'd say 11") is None and parse_score("good") is None
    assert distinct_sections(["a", "a", "b", "a", "c"]) == ["a", "b", "c"]


def test_cli_eval_help():
    code, out, err = run_cli("eval", "--help")
    assert code == 0 and "--skip-llm" in out and "--fast" in out and "--out" in out


def test_ask_questions_are_answerable_from_their_sections():
    """Every key fact of the Ask eval is stated in a section the question lists (else no answer
    could hit it), ids are unique, and a follow-up follows an earlier question of its own split."""
    from evals.ask_facts_eval import load_ask_questions, normalise
    from coach.content.guide import load_guide
    from tests.conftest import ROOT

    sections = {k: normalise(s.body) for k, s in load_guide(ROOT / "knowledge").sections.items()}
    questions, out_of_scope = load_ask_questions()
    assert len(questions) >= 150 and len(out_of_scope) >= 20
    seen: dict[str, str] = {}
    problems = []
    for q in questions:
        assert q["id"] not in seen, f"duplicate id {q['id']}"
        if q.get("follow_up_of") and seen.get(q["follow_up_of"]) != q["split"]:
            problems.append(f"{q['id']}: follow_up_of {q['follow_up_of']} is not an earlier {q['split']} question")
        seen[q["id"]] = q["split"]
        unknown = [s for s in q["sections"] if s not in sections]
        text = " ".join(sections.get(s, "") for s in q["sections"])
        problems += [f"{q['id']}: unknown section {s}" for s in unknown]
        problems += [f"{q['id']}: key fact {f!r} is in none of its sections" for f in q["key_facts"]
                     if not any(normalise(alt) in text for alt in f.split("|") if alt.strip())]
    assert not problems, "\n".join(problems)
