"""Dev-split figures and misses of the Ask key-fact eval, for tuning Ask (never the test split).

``python -m evals.ask_dev [--misses] [--data-dir DIR]`` prints the dev key-fact hit, by shape,
unsupported sentences, wrongly declined, out-of-scope declined and p50; ``--misses`` adds each
missed question with its expected key facts and the answer text.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evals.ask_facts_eval import fact_stated, load_ask_questions, run_ask_facts
from evals.common import DEFAULT_DATA_DIR, eval_coach, latency


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.ask_dev")
    parser.add_argument("--misses", action="store_true", help="print every dev miss with its answer")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    coach = eval_coach(args.data_dir)
    coach.ingest(progress=False, log=lambda *_: None)
    questions, out_of_scope = load_ask_questions()
    dev = [q for q in questions if q["split"] == "dev"]  # only the dev split is ever read here
    res = run_ask_facts(coach, dev, out_of_scope, splits=("dev",))
    r = res.splits["dev"]
    print(f"dev key-fact hit {r.hit_rate:.3f} ({r.facts_hit}/{r.facts}); answers all hit {r.answers_all_hit}/{r.questions}")
    print("by shape: " + ", ".join(f"{s} {h}/{n}" for s, (h, n) in sorted(r.by_shape.items())))
    print(f"unsupported {len(r.unsupported)}/{r.sentences}; wrongly declined {len(r.declined)}/{r.questions} {r.declined}; "
          f"out-of-scope declined {res.oos_declined}/{res.oos_total}; latency {latency(r.ms)}")
    for s in r.unsupported:
        print("  UNSUPPORTED:", s)
    if args.misses:
        by_id = {q["id"]: q for q in questions}
        for q in dev:
            previous = by_id[q["follow_up_of"]]["question"] if q.get("follow_up_of") in by_id else None
            answer = coach.ask(q["question"], previous=previous)
            missing = [f for f in q["key_facts"] if not fact_stated(answer.answer, f)]
            if missing:
                print(f"\n=== {q['id']} [{q.get('shape')}] {q['question']}" + (f"  (after: {previous})" if previous else ""))
                print(f"    sections {q.get('sections')}; missing {missing}")
                print("    cited " + ", ".join(f"[{c.n}] {c.section_id}:{c.heading.split(' > ')[-1]}" for c in answer.citations))
                print("    " + answer.answer.replace("\n", "\n    "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
