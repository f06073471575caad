"""A team deployment under load: `python -m benchmarks.team_load [--sessions 50]`.

On 127.0.0.1 only: one PostgreSQL (started from the installed binaries), one `chroma run` server
holding the guide, and two `coach serve` processes (fake chat model) sharing that store.url and
Chroma server. Concurrent candidates each run one practice session through the web API
(gradio_client), half on each process. Once every session has started and a third of the turns
are answered, one process is killed with SIGKILL; its candidates resume their sessions on the
other process (`practice_resume`) and retry the call that was cut off, unless the resumed
transcript shows it was already stored. Then the database is read back: every candidate turn
stored exactly once, in order, and no session holding another candidate's words.

Every loop is bounded (a fixed number of turns, a timeout on each call) and stops by itself.
The tests run the same code (`tests/test_team_load.py`) and assert on the figures it returns.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml

from benchmarks.common import ROOT, row
from evals.common import percentile

GUIDE = ROOT / "tests" / "fixtures" / "knowledge"  # small: ingest takes seconds, the store is what is measured
MODELS_DIR = Path(tempfile.gettempdir()) / "coach-test-models"  # the ONNX export the tests share
CALL_TIMEOUT_S = 90.0
# Answers that name none of the fixture question's rubric cues, so each one is followed by a probe.
ANSWERS = [
    "I would start from the business goal, agree on a simple baseline, and ship it behind a flag.",
    "The pipeline joins transactions with customer history and writes features to an offline table.",
    "Serving runs a small model next to the payment service and logs every decision it makes.",
]
TAG = re.compile(r"\[candidate-(\d+)\]")


# -------------------------------------------------------------------------------------------- servers

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(proc: subprocess.Popen, port: int, log: Path, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early ({proc.returncode}): {log.read_text(errors='replace')[-1500:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers HTTP: listening
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer on 127.0.0.1:{port} within {seconds:.0f} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Process:
    name: str
    proc: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)


def _spawn(name: str, cmd: list[str], folder: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, Path]:
    log = folder / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
                                env={**os.environ, **(env or {})})
    return proc, log


@contextmanager
def chroma_server(folder: Path) -> Iterator[Process]:
    exe = Path(sys.executable).with_name("chroma")
    port = _free_port()
    proc, log = _spawn("chroma", [str(exe), "run", "--host", "127.0.0.1", "--port", str(port),
                                  "--path", str(folder / "chroma-data")], folder)
    server = Process("chroma", proc, port)
    try:
        _wait_listening(proc, port, log, "chroma run")
        yield server
    finally:
        server.stop()


@contextmanager
def postgres_server() -> Iterator[Any]:
    from tests.pg_support import PostgresServer, pg_bindir

    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl, postgres) not found: apt-get install postgresql")
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.stop()


def app_config(folder: Path, name: str, chroma: Process) -> Path:
    """The settings file of one app process: its own data folder, the shared Chroma server, the fake model."""
    data = {
        "paths": {"knowledge_dir": str(GUIDE), "prompts_dir": str(ROOT / "prompts"), "data_dir": str(folder / name)},
        "embeddings": {"onnx_dir": str(MODELS_DIR)},
        "vector_store": {"host": "127.0.0.1", "port": chroma.port},
        "llm": {"mode": "fake"},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def coach_serve(folder: Path, name: str, config: Path, store_url: str) -> Process:
    """`coach serve` as its own process; the database URL (with its password) comes from the environment."""
    port = _free_port()
    cmd = [sys.executable, "-m", "coach.cli", "--config", str(config), "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc, log = _spawn(name, cmd, folder, env={"COACH_STORE__URL": store_url})
    _wait_listening(proc, port, log, f"coach serve ({name})")
    return Process(name, proc, port)


# -------------------------------------------------------------------------------------------- the web API

@dataclass
class Outcome:
    chat: list[Any]
    info: str
    card: str
    session_id: str | None

    def texts(self, role: str | None = None) -> list[str]:
        out = []
        for message in self.chat or []:
            if role is not None and message.get("role") != role:
                continue
            content = message.get("content")
            if isinstance(content, list):
                content = "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
            out.append(str(content))
        return out

    @property
    def ended(self) -> bool:
        return str(self.card or "").startswith("### Critique")


def practice_call(client: Any, step: str, value: str | None = None) -> Outcome:
    """The one place that knows the practice endpoints' inputs and outputs (chat, info, card, download,
    session id, ... in that order). ``step``: start (``value`` = topic), send (the answer), done, resume (id)."""
    calls = {
        "start": lambda: client.submit(value or "any", "any", False, api_name="/practice_start"),
        "send": lambda: client.submit(value, api_name="/practice_send"),
        "done": lambda: client.submit(api_name="/practice_done"),
        "resume": lambda: client.submit(value, api_name="/practice_resume"),
    }
    out = calls[step]().result(timeout=CALL_TIMEOUT_S)
    return Outcome(chat=out[0], info=str(out[1] or ""), card=out[2] if isinstance(out[2], str) else "",
                   session_id=out[4])


def new_client(process: Process) -> Any:
    from gradio_client import Client

    return Client(process.url, verbose=False, download_files=False)


# -------------------------------------------------------------------------------------------- the load

@dataclass
class Candidate:
    number: int
    answers: list[str]
    session_id: str | None = None
    acknowledged: list[str] = field(default_factory=list)  # answers the web app confirmed (reply or transcript)
    finished: bool = False
    moved: bool = False

    @property
    def tag(self) -> str:
        return f"[candidate-{self.number:02d}]"


@dataclass
class Figures:
    sessions: int
    turns_planned: int
    turn_ms: list[float] = field(default_factory=list)     # send and done calls that got their reply
    alone_ms: list[float] = field(default_factory=list)    # the same calls from one candidate alone (baseline)
    start_ms: list[float] = field(default_factory=list)
    resume_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    interrupted: int = 0            # calls cut off by the kill (in flight, or sent to the dead process)
    moved_sessions: int = 0         # sessions resumed on the surviving process
    leaks: list[str] = field(default_factory=list)
    stored_wrong: list[str] = field(default_factory=list)
    candidate_turns_stored: int = 0
    killed_after_turns: int | None = None
    served: dict[str, int] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds of each app process and of this driver
    wall_s: float = 0.0
    load_average: float = 0.0  # of the machine over the last minute, at the end: other work shares the cores

    def p(self, q: float, values: list[float] | None = None) -> float:
        values = self.turn_ms if values is None else values
        return percentile(values, q) if values else float("nan")


class Load:
    """``sessions`` candidates over two app processes; ``victim`` is killed once ``kill_fraction`` of the turns are done."""

    def __init__(self, processes: list[Process], sessions: int, answers: int, kill_fraction: float) -> None:
        self.processes = processes
        self.victim, self.survivor = processes
        self.kill_fraction = kill_fraction
        self.candidates = [Candidate(i, [f"[candidate-{i:02d}] {ANSWERS[k % len(ANSWERS)]} (answer {k + 1})"
                                         for k in range(answers)]) for i in range(sessions)]
        self.figures = Figures(sessions, sessions * (answers + 1), served={p.name: 0 for p in processes})
        self.killed = threading.Event()
        self.started = 0
        self.turns_done = 0
        self._lock = threading.Lock()

    # -- one candidate ------------------------------------------------------------------------

    def _call(self, who: Candidate, where: list[Any], step: str, value: str | None) -> Outcome | None:
        """``step`` on the candidate's process; moved to the survivor (and resumed) if the victim was killed."""
        while True:
            server = where[0]
            try:
                if where[1] is None:
                    where[1] = new_client(server)
                begun = time.perf_counter()
                out = practice_call(where[1], step, value)
                elapsed = (time.perf_counter() - begun) * 1000
            except Exception as exc:  # noqa: BLE001 - classified below
                if not (server is self.victim and self.killed.is_set()):
                    self._error(f"{who.tag} {step} on {server.name}: {type(exc).__name__}: {str(exc)[:300]}")
                    return None
                with self._lock:
                    self.figures.interrupted += 1
                where[:] = [self.survivor, None]
                if step == "start":
                    continue  # its id never reached us: start over on the survivor
                resumed = self._resume(who, where)
                if resumed is None:
                    return None
                if step == "send" and len(resumed.texts("user")) > len(who.acknowledged):
                    return resumed  # stored before the kill; resuming asked the probe it was owed
                if step == "done" and (resumed.ended or "· finished" in resumed.info):
                    return resumed
                continue
            with self._lock:
                self.figures.served[server.name] += 1
                (self.figures.start_ms if step == "start" else self.figures.turn_ms).append(elapsed)
            return out

    def _resume(self, who: Candidate, where: list[Any]) -> Outcome | None:
        try:
            where[1] = new_client(where[0])
            begun = time.perf_counter()
            out = practice_call(where[1], "resume", who.session_id)
        except Exception as exc:  # noqa: BLE001
            self._error(f"{who.tag} resume on {where[0].name}: {type(exc).__name__}: {str(exc)[:300]}")
            return None
        with self._lock:
            self.figures.resume_ms.append((time.perf_counter() - begun) * 1000)
            if not who.moved:
                who.moved = True
                self.figures.moved_sessions += 1
        return out

    def _error(self, text: str) -> None:
        with self._lock:
            self.figures.errors.append(text)

    def run_candidate(self, who: Candidate) -> None:
        where: list[Any] = [self.processes[who.number % 2], None]
        out = self._call(who, where, "start", "any")
        if out is None:
            return
        who.session_id = out.session_id
        self._check(who, out)
        with self._lock:
            self.started += 1
        for step, value in [*(("send", a) for a in who.answers), ("done", None)]:
            out = self._call(who, where, step, value)
            if out is None:
                return
            self._check(who, out)
            with self._lock:
                self.turns_done += 1
            if step == "send":
                who.acknowledged.append(value)
            if out.ended or "· finished" in out.info:
                who.finished = True
                return

    def _check(self, who: Candidate, out: Outcome) -> None:
        """What the web app showed this candidate holds no other candidate's words."""
        for text in out.texts():
            foreign = {int(n) for n in TAG.findall(text)} - {who.number}
            if foreign:
                with self._lock:
                    self.figures.leaks.append(f"{who.tag} was shown the words of candidate(s) {sorted(foreign)}")

    # -- the run ------------------------------------------------------------------------------

    def _killer(self, stop: threading.Event) -> None:
        goal = self.kill_fraction * self.figures.turns_planned
        while not stop.wait(0.02):
            if self.started == len(self.candidates) and self.turns_done >= goal:
                self.figures.killed_after_turns = self.turns_done
                self.figures.cpu_s[self.victim.name] = cpu_seconds(self.victim.proc.pid) - self._cpu0[0]
                self.killed.set()
                os.kill(self.victim.proc.pid, signal.SIGKILL)
                self.victim.proc.wait(timeout=30)
                return

    def run(self, deadline_s: float) -> Figures:
        begun = time.perf_counter()
        self._cpu0 = [cpu_seconds(p.proc.pid) for p in self.processes]
        driver0 = time.process_time()
        stop = threading.Event()
        killer = threading.Thread(target=self._killer, args=(stop,), daemon=True)
        killer.start()
        threads = [threading.Thread(target=self.run_candidate, args=(c,), daemon=True) for c in self.candidates]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.0, deadline_s - (time.perf_counter() - begun)))
        stop.set()
        stuck = sum(t.is_alive() for t in threads)
        if stuck:
            self._error(f"{stuck} candidate(s) still running after {deadline_s:.0f} s")
        self.figures.wall_s = time.perf_counter() - begun
        if self.survivor.proc.poll() is None:
            self.figures.cpu_s[self.survivor.name] = cpu_seconds(self.survivor.proc.pid) - self._cpu0[1]
        self.figures.cpu_s["load driver (clients)"] = time.process_time() - driver0
        self.figures.load_average = os.getloadavg()[0]
        return self.figures

    def verify(self, store_url: str) -> None:
        """Read every session back from the database: its candidate turns are exactly its acknowledged answers."""
        from coach.store.sessions import Store

        with Store(store_url) as store:
            for who in self.candidates:
                if who.session_id is None:
                    self.figures.stored_wrong.append(f"{who.tag}: no session")
                    continue
                turns = store.turns(who.session_id)
                said = [t.content for t in turns if t.role == "candidate"]
                self.figures.candidate_turns_stored += len(said)
                if said != who.acknowledged or said != who.answers:
                    self.figures.stored_wrong.append(
                        f"{who.tag}: stored answers {[a[-10:] for a in said]}, sent {[a[-10:] for a in who.answers]}")
                if store.get_session(who.session_id).status != "done" or not who.finished:
                    self.figures.stored_wrong.append(f"{who.tag}: session not finished")
                for t in turns:
                    foreign = {int(n) for n in TAG.findall(t.content)} - {who.number}
                    if foreign:
                        self.figures.leaks.append(f"{who.tag}: turn {t.index} holds candidate(s) {sorted(foreign)}")


def alone(process: Process, rounds: int) -> list[float]:
    """Turn latency of one candidate with the process to itself (the baseline); the first round also
    warms the process up (grader, guide) and is not counted."""
    times: list[float] = []
    for round_ in range(rounds + 1):
        client = new_client(process)
        practice_call(client, "start", "any")
        for step, value in (("send", ANSWERS[0]), ("send", ANSWERS[1]), ("done", None)):
            begun = time.perf_counter()
            practice_call(client, step, value)
            if round_:
                times.append((time.perf_counter() - begun) * 1000)
    return times


def run_team_load(folder: Path, sessions: int = 50, answers: int = 2, kill_fraction: float = 0.35,
                  deadline_s: float = 150.0, log=print) -> Figures:
    """Start PostgreSQL, Chroma and two app processes in ``folder``, run the load, stop everything."""
    with ExitStack() as stack:
        pg = stack.enter_context(postgres_server())
        store_url = pg.url("postgres")
        chroma = stack.enter_context(chroma_server(folder))
        config_a = app_config(folder, "app-a", chroma)
        ingest = subprocess.run([sys.executable, "-m", "coach.cli", "--config", str(config_a), "ingest"], cwd=ROOT,
                                capture_output=True, text=True, timeout=300)
        if ingest.returncode != 0:
            raise RuntimeError(f"coach ingest into the Chroma server failed: {ingest.stderr[-1500:]}")
        log(f"postgres on 127.0.0.1:{pg.port}, chroma run on 127.0.0.1:{chroma.port}, guide ingested")
        processes = []
        for name in ("app-a", "app-b"):
            process = coach_serve(folder, name, app_config(folder, name, chroma), store_url)
            stack.callback(process.stop)
            processes.append(process)
        baseline = [ms for process in processes for ms in alone(process, rounds=2)]
        log(f"coach serve on {', '.join(p.url for p in processes)}: {sessions} sessions, kill -9 {processes[0].name} "
            f"after {kill_fraction:.0%} of the turns")
        load = Load(processes, sessions, answers, kill_fraction)
        figures = load.run(deadline_s)
        figures.alone_ms = baseline
        load.verify(store_url)
        return figures


def report(f: Figures) -> list[str]:
    lines = [
        f"== team load: {f.sessions} concurrent practice sessions, 2 coach serve processes, PostgreSQL, chroma run",
        row("turn latency, one candidate alone (baseline)", f.alone_ms),
        row(f"turn latency (send / done), {f.sessions} at once", f.turn_ms, f.alone_ms),
        row("session start latency", f.start_ms),
        row("resume on the surviving process", f.resume_ms),
        f"{'wall time':<44} {f.wall_s:9.1f} s   (machine load average {f.load_average:.1f})",
        f"{'CPU seconds (2 cores)':<44} " + ", ".join(f"{k} {v:.1f}" for k, v in f.cpu_s.items()),
        f"{'turns served per process':<44} " + ", ".join(f"{k} {v}" for k, v in f.served.items()),
        f"{'killed app-a after turns':<44} {f.killed_after_turns} of {f.turns_planned}",
        f"{'calls cut off by the kill, retried':<44} {f.interrupted}   sessions moved: {f.moved_sessions}",
        f"{'errors':<44} {len(f.errors)}",
        f"{'cross-session leaks':<44} {len(f.leaks)}",
        f"{'candidate turns stored (exactly once each)':<44} {f.candidate_turns_stored}   wrong: {len(f.stored_wrong)}",
    ]
    lines += [f"  error: {e}" for e in f.errors[:10]] + [f"  leak: {e}" for e in f.leaks[:10]]
    lines += [f"  stored wrong: {e}" for e in f.stored_wrong[:10]]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--answers", type=int, default=2, help="answers per session before 'done'")
    parser.add_argument("--kill-at", type=float, default=0.35, help="share of the turns done when app-a is killed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coach-team-load-") as folder:
        figures = run_team_load(Path(folder), args.sessions, args.answers, args.kill_at)
    print("\n".join(report(figures)))
    return 0 if not (figures.errors or figures.leaks or figures.stored_wrong) else 1


if __name__ == "__main__":
    raise SystemExit(main())
