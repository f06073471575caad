"""Run the eval suite: ``python -m evals``, ``coach eval`` or ``make eval``.

Writes ``evals/reports/latest.md`` (summary table first), ``latest.json`` (every figure) and two
PNG charts; exits 1 when a gated figure misses ``evals/thresholds.yaml``.

Parts: coverage, retrieval (ours vs dense-only and BM25-only baselines), grading (ours vs the
embedded model asked for a 1-10 score), sessions with planted gaps, groundedness of Ask, speed.
``--skip-llm`` leaves out everything that runs the embedded SmolLM2; ``--fast`` is the subset the
test suite asserts (coverage, retrieval with the BM25 baseline, grading, sessions with the fake
model) and implies ``--skip-llm``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

from evals.common import DATA_DIR, DEFAULT_DATA_DIR, REPORTS_DIR, eval_coach, load_queries, load_thresholds, sibling
from evals.report import SuiteResult, write_report


def run_suite(*, fast: bool = False, skip_llm: bool = False, config: str | Path | None = None,
              data_dir: Path = DEFAULT_DATA_DIR, log: Callable[[str], None] = print) -> SuiteResult:
    from evals.ask_eval import run_ask_eval
    from evals.ask_facts_eval import run_ask_facts
    from evals.coverage import run_coverage
    from evals.grading_eval import load_labelled_answers, run_grading_eval, run_llm_baseline
    from evals.heldout_eval import run_heldout_eval
    from evals.interviewer_eval import run_interviewer_eval
    from evals.retrieval_eval import run_retrieval_eval
    from evals.sessions_eval import run_sessions_eval
    from evals.speed import run_speed

    skip_llm = skip_llm or fast
    thresholds = load_thresholds()
    res = SuiteResult(started=time.strftime("%Y-%m-%d %H:%M:%S"), mode="fast" if fast else "skip-llm" if skip_llm else "full",
                      thresholds=thresholds)
    began = time.perf_counter()
    mark = time.perf_counter()

    def done(part: str) -> None:
        nonlocal mark
        res.part_seconds[part] = time.perf_counter() - mark
        mark = time.perf_counter()

    coach = eval_coach(data_dir, config)
    res.coverage = run_coverage(coach.settings.knowledge_dir, thresholds)
    done("coverage")

    log(f"index: {coach.settings.chroma_path}")
    start = time.perf_counter()
    ingest = coach.ingest(progress=False, log=log)
    first_ingest_ms = (time.perf_counter() - start) * 1000
    log(f"index: {ingest.embedded} chunk(s) embedded, {ingest.chunks_total} in the index")
    done("ingest")

    queries, out_of_scope = load_queries()
    baselines = ("bm25",) if fast else ("dense", "bm25")
    res.retrieval = run_retrieval_eval(coach, queries, thresholds, baselines=baselines, log=log)
    done("retrieval")

    answers = load_labelled_answers(DATA_DIR)
    res.grading = run_grading_eval(coach.grader, answers)
    log(f"grading: ordering {res.grading.ordering_accuracy:.3f}, F1 {res.grading.f1:.3f}, "
        f"adversarial {res.grading.adversarial_rate:.3f}")
    if not fast:
        res.heldout = run_heldout_eval(coach.grader)
        done("heldout")
    with tempfile.TemporaryDirectory(prefix="coach-eval-") as tmp:
        llm_coach = None if skip_llm else sibling(coach, llm_mode="smollm2", store_path=Path(tmp) / "llm.sqlite3")
        if llm_coach is not None:
            res.grading_baseline = run_llm_baseline(llm_coach.chat_model, coach.bank, answers, log=log)
            log(f"grading baseline: ordering {res.grading_baseline.stats.ordering_accuracy:.3f}, "
                f"adversarial {res.grading_baseline.stats.adversarial_rate:.3f}")
        done("grading")

        res.sessions = run_sessions_eval(coach, answers, thresholds, llm=not skip_llm, log=log, store_dir=Path(tmp))
        done("sessions")
        res.interviewer = run_interviewer_eval(coach, thresholds, llm=not skip_llm, log=log, store_dir=Path(tmp))
        done("interviewer")

        if not fast:
            res.ask = run_ask_eval(coach, queries, out_of_scope, thresholds, llm_coach=llm_coach, log=log)
            res.ask_facts = run_ask_facts(coach)
            done("ask")
            ours = res.retrieval.ours.outcomes
            res.speed = run_speed(coach, retrieval_ms=[o.ms for o in ours], grade_ms_p50=res.grading.grade_ms_p50,
                                  llm_coach=llm_coach, first_ingest_ms=first_ingest_ms)
            done("speed")
    res.seconds = time.perf_counter() - began
    return res


def run(*, fast: bool = False, skip_llm: bool = False, out: str | Path | None = None,
        config: str | Path | None = None) -> int:
    """Run, write the report, print the verdict; 0 when every gated figure passes, else 1."""
    logging.getLogger("coach.llm").setLevel(logging.ERROR)  # template fallbacks are expected with the fake model
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    res = run_suite(fast=fast, skip_llm=skip_llm, config=config, log=log)
    paths = write_report(res, Path(out) if out else REPORTS_DIR)
    failed = res.failed()
    gated = sum(1 for c in res.checks() if c.passed is not None)
    print(f"eval ({res.mode}, {res.seconds:.0f} s): {'PASS' if not failed else 'FAIL'}: "
          f"{gated - len(failed)}/{gated} gated figures meet evals/thresholds.yaml")
    for c in failed:
        print(f"  FAIL {c.check} [{c.scope}]: {c.value} (target {c.target})")
    print("report: " + ", ".join(str(p) for p in paths.values()))
    return 0 if not failed else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true",
                        help="coverage, retrieval (BM25 baseline only), grading and fake-model sessions; no LLM")
    parser.add_argument("--skip-llm", action="store_true", help="leave out every part that runs the embedded model")
    parser.add_argument("--out", metavar="DIR", help=f"report folder (default {REPORTS_DIR})")
    parser.add_argument("--config", help="settings YAML (default: $COACH_CONFIG or ./coach.yaml); paths are overridden")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run(fast=args.fast, skip_llm=args.skip_llm, out=args.out, config=args.config)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
