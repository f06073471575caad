"""All speed figures in one run: `make bench` or `python -m benchmarks.run_all [--skip-llm]`.

Every figure is a median over repeated runs, printed next to a baseline measured in the same
process (e.g. retrieval against the bare query embedding it contains).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from benchmarks.common import ROOT, bench_coach, row, timed


def startup(data_dir, repeat: int) -> list[str]:
    """Import-to-ready of the CLI, as whole processes (the bench index, already ingested)."""
    import os

    env = {**os.environ, "COACH_DATA_DIR": str(data_dir)}

    def run(*args: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, capture_output=True, cwd=ROOT, env=env)
        return (time.perf_counter() - start) * 1000

    def peak_rss(*args: str) -> float:
        """MiB at the peak of one process running ``python ARGS`` (the CLI in-process, then getrusage)."""
        # VmHWM, not getrusage: ru_maxrss survives exec and would report the forking parent's peak.
        probe = ("import runpy, sys\n"
                 "sys.argv = sys.argv[1:]\n"
                 "try:\n    runpy.run_module(sys.argv[0], run_name='__main__') if sys.argv[0] != '-c' else None\n"
                 "except SystemExit:\n    pass\n"
                 "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
                 "print('RSS', hwm, file=sys.stderr)\n")
        out = subprocess.run([sys.executable, "-c", probe, *args], check=True, capture_output=True, text=True,
                             cwd=ROOT, env=env).stderr
        return int(out.rsplit("RSS", 1)[1].split()[0]) / 1024

    base = [run("-c", "pass") for _ in range(repeat)]
    helps = [run("-m", "coach.cli", "--help") for _ in range(repeat)]
    retrieve = ("-m", "coach.cli", "retrieve", "how do I detect drift", "--json")
    retrieves = [run(*retrieve) for _ in range(repeat)]
    torch_env = {**env, "COACH_EMBEDDINGS__BACKEND": "torch"}
    retrieves_torch = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, *retrieve], check=True, capture_output=True, cwd=ROOT, env=torch_env)
        retrieves_torch.append((time.perf_counter() - start) * 1000)
    rss_base = [peak_rss("-c") for _ in range(3)]
    rss = [peak_rss("coach.cli", *retrieve[2:]) for _ in range(3)]
    return [
        row("python -c pass (baseline)", base),
        row("coach --help", helps, base),
        row("coach retrieve QUERY, torch backend (before)", retrieves_torch, base),
        row("coach retrieve QUERY (process, cold)", retrieves, base),
        row("peak RSS: python -c pass (baseline)", rss_base, unit="MiB"),
        row("peak RSS: coach retrieve QUERY", rss, rss_base, unit="MiB"),
    ]


def web_first_page(data_dir, repeat: int) -> list[str]:
    """Seconds from launching a server process to its first page: `coach serve` vs a bare Gradio app.

    Both with Gradio's telemetry off (the coach never phones home; its start-up threads cost ~0.2 s).
    """
    import os
    import socket
    import urllib.request

    env = {**os.environ, "COACH_DATA_DIR": str(data_dir), "COACH_LLM_MODE": "smollm2"}

    def first_page(cmd: list[str]) -> float:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        start = time.perf_counter()
        proc = subprocess.Popen([*cmd, str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            while time.perf_counter() - start < 120:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                        if page.status == 200:
                            return (time.perf_counter() - start) * 1000
                except OSError:
                    time.sleep(0.05)
            raise RuntimeError(f"{cmd} served no page within 120 s")
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    bare = [sys.executable, "-c", "import sys, gradio as gr\nwith gr.Blocks(analytics_enabled=False) as app:\n    gr.Markdown('hi')\n"
            "app.launch(server_name='127.0.0.1', server_port=int(sys.argv[1]))"]
    ours = [sys.executable, "-m", "coach.cli", "serve", "--host", "127.0.0.1", "--port"]
    base = [first_page(bare) for _ in range(repeat)]
    served = [first_page(ours) for _ in range(repeat)]
    return ["== web app", row("bare Gradio app, first page (baseline)", base),
            row("coach serve, first page (smollm2 mode)", served, base)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-llm", action="store_true", help="skip the embedded-model figures")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--team-load", action="store_true",
                        help="also the two-process team load (PostgreSQL, chroma run, 50 sessions; about a minute)")
    args = parser.parse_args()
    data_dir = ROOT / ".coach" / "bench"
    coach = bench_coach(data_dir)
    lines = ["== ingest"]
    start = time.perf_counter()
    first = coach.ingest(progress=False, log=lambda m: None)
    lines.append(f"{'ingest at start (embeds only what changed)':<44} {1000 * (time.perf_counter() - start):9.1f} ms   "
                 f"({first.embedded} chunks embedded)")
    loads = timed(lambda: __import__("coach.content.guide", fromlist=["load_guide"]).load_guide(coach.settings.knowledge_dir),
                  args.repeat)
    reingest = timed(lambda: coach.ingest(progress=False, log=lambda m: None), args.repeat)
    lines += [row("load + validate guide (baseline)", loads), row("no-change re-ingest", reingest, loads)]

    import yaml

    queries = [q["query"] for q in yaml.safe_load((ROOT / "evals" / "data" / "retrieval_queries.yaml").read_text())["queries"]]
    coach.retrieve("warm up")
    emb = [timed(lambda q=q: coach.embeddings.encode([q]), 1)[0] for q in queries]
    from coach.search.embeddings import LocalEmbeddings

    reference = LocalEmbeddings(backend="torch")
    reference.encode(["warm up"])
    emb_torch = [timed(lambda q=q: reference.encode([q]), 1)[0] for q in queries]
    dense = []
    searcher = coach.searcher
    for q in queries:
        vec = coach.embeddings.encode([q])[0]
        dense.append(timed(lambda v=vec: searcher._dense(v, 30, None), 1)[0])
    hybrid = [timed(lambda q=q: coach.retrieve(q, k=5), 1)[0] for q in queries]
    lines += ["== retrieval (over the labelled queries)", row("query embedding, torch backend (before)", emb_torch),
              row("query embedding, onnx backend", emb, emb_torch), row("query embedding only (baseline)", emb),
              row("chroma dense query, embedding excluded", dense), row("hybrid retrieve incl. embedding", hybrid, emb)]

    from evals.grading_eval import load_labelled_answers

    answers = load_labelled_answers(ROOT / "evals" / "data")
    grader = coach.grader
    grader.grade(answers[0]["question_id"], answers[0]["answer"])
    for qid in {a["question_id"] for a in answers}:
        grader.prepare(grader.bank.get(qid))
    from coach.grading.answer_checks import is_reasoned
    from coach.text import sentences

    enc = [timed(lambda a=a: coach.embeddings.encode([s for s in sentences(a["answer"]) if is_reasoned(s)] or ["x"]), 1)[0]
           for a in answers]

    def graded(qid: str, answer: str, *, warm: str | None = None) -> float:
        """One grade with no sentence vector kept from before (or only those of ``warm``, graded first)."""
        grader.sentence_vectors.clear()
        if warm is not None:
            grader.grade(qid, warm)
        return timed(lambda: grader.grade(qid, answer), 1)[0]

    grades = [graded(a["question_id"], a["answer"]) for a in answers]
    turns = [(a["question_id"], sentences(a["answer"])) for a in answers]
    turns = [(qid, " ".join(said[: len(said) // 2]), " ".join(said[len(said) // 2:])) for qid, said in turns
             if len(said) >= 2]
    regrades = [graded(qid, f"{first}\n\n{second}", warm=first) for qid, first, second in turns]
    full = [graded(qid, f"{first}\n\n{second}") for qid, first, second in turns]
    lines += ["== grading (labelled answers)", row("embed the answer's sentences (baseline)", enc),
              row("grade one answer", grades, enc),
              row("grade answer in two turns, from scratch", full),
              row("...re-graded after its 2nd turn (practice)", regrades, full)]

    from benchmarks.encoder_bound import encoder_bound

    lines += encoder_bound(coach, answers)
    starts = timed(lambda: coach.engine.start(question_id="arch-q01"), args.repeat * 4)
    lines += ["== practice", row("first question shown (engine.start)", starts)]

    if not args.skip_llm:
        lines += llm_figures(data_dir, args.repeat)
        lines += thread_figures(data_dir, args.repeat)
    lines += ["== startup"] + startup(data_dir, args.repeat)
    lines += web_first_page(data_dir, args.repeat)
    if args.team_load:
        import tempfile
        from pathlib import Path

        from benchmarks.team_load import report, run_team_load

        with tempfile.TemporaryDirectory(prefix="coach-team-load-") as folder:
            lines += report(run_team_load(Path(folder), log=lambda line: None))
    print("\n".join(lines))
    return 0


def thread_figures(data_dir, repeat: int) -> list[str]:
    """First token of the embedded model with 1 thread vs all cores, idle and with one core kept busy."""
    import os

    def first_token(threads: int | None) -> list[float]:
        coach = bench_coach(data_dir, llm_mode="smollm2", llm__n_threads=threads)
        model = coach.chat_model
        model.invoke("Say hello.")  # load once
        out = []
        subjects = ["fraud detection", "feed ranking", "drift alerts", "feature stores", "A/B tests", "caching",
                    "label delay", "canary releases"]
        for i in range(repeat):  # a new prompt each time: llama.cpp would reuse a repeated prompt's cache
            start = time.perf_counter()
            for chunk in model.stream(f"Ask one short interview question about {subjects[i % len(subjects)]}."):
                if getattr(chunk, "content", ""):
                    out.append((time.perf_counter() - start) * 1000)
                    break
        return out

    cores = os.cpu_count() or 2
    lines = [f"== embedded model threads ({cores} cores)"]
    idle_all = first_token(None)
    lines += [row("first token, all cores, idle (baseline)", idle_all),
              row("first token, 1 thread, idle", first_token(1), idle_all)]
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        lines += [row("first token, all cores, one core busy", first_token(None), idle_all),
                  row("first token, 1 thread, one core busy", first_token(1), idle_all)]
    finally:
        busy.kill()
        busy.wait()
    return lines


def llm_figures(data_dir, repeat: int) -> list[str]:
    """First token and whole critique with the embedded SmolLM2 (after one warm-up load)."""
    coach = bench_coach(data_dir, llm_mode="smollm2")
    partial = ("I'd use a gradient boosted tree over velocity features such as how many cards one device used in the "
               "last ten minutes. Since fraud is rare I'd compare models on PR-AUC rather than accuracy.")
    coach.chat_model.invoke("Say hello.")  # load the weights once
    raw_first, probe_first, critique_first, critique_total = [], [], [], []
    for _ in range(repeat):
        start = time.perf_counter()
        for _chunk in coach.chat_model.stream("Ask one short question about fraud detection."):
            raw_first.append((time.perf_counter() - start) * 1000)
            break
        view = coach.engine.start(question_id="arch-q01")
        reply = coach.engine.respond(view.session_id, partial)
        start = time.perf_counter()
        chunks = iter(reply.chunks)
        next(chunks)
        probe_first.append((time.perf_counter() - start) * 1000)
        for _chunk in chunks:
            pass
        final = coach.engine.finish(view.session_id)
        start = time.perf_counter()
        chunks = iter(final.chunks)
        next(chunks)  # the deterministic card
        first_model = None
        for chunk in chunks:
            if first_model is None and chunk.strip() and "Coach's summary" not in chunk:
                first_model = (time.perf_counter() - start) * 1000
        critique_first.append(first_model or 0.0)
        critique_total.append((time.perf_counter() - start) * 1000)
    return ["== embedded model (SmolLM2-135M, llama.cpp)",
            row("raw model first token (baseline)", raw_first),
            row("probe first token (checked sentence)", probe_first, raw_first),
            row("critique: first model token after card", critique_first, raw_first),
            row("critique: whole reply", critique_total, raw_first)]


if __name__ == "__main__":
    sys.exit(main())
