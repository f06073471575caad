"""The team deployment under load (benchmarks/team_load.py): two `coach serve` processes on one
PostgreSQL and one `chroma run` server, 50 concurrent practice sessions through the web API, one
process killed with SIGKILL midway and its sessions resumed on the other. All on 127.0.0.1."""

from __future__ import annotations

import pytest

from benchmarks.team_load import report, run_team_load
from tests.pg_support import pg_bindir

pytestmark = [pytest.mark.load, pytest.mark.server]

SESSIONS, ANSWERS = 50, 2


def test_fifty_sessions_on_two_processes_survive_a_kill_without_errors_leaks_or_lost_turns(tmp_path, capsys):
    if pg_bindir() is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl, postgres) not found: apt-get install postgresql")
    figures = run_team_load(tmp_path, sessions=SESSIONS, answers=ANSWERS, kill_fraction=0.35, deadline_s=150,
                            log=lambda line: None)
    with capsys.disabled():
        print("\n" + "\n".join(report(figures)))
    assert figures.errors == []
    assert figures.leaks == []
    assert figures.stored_wrong == []  # each session: exactly its own answers, each once, in order; finished
    assert figures.candidate_turns_stored == SESSIONS * ANSWERS
    # the kill happened midway, and the sessions of the killed process went on on the other one
    assert figures.killed_after_turns is not None and 0 < figures.killed_after_turns < figures.turns_planned
    assert figures.interrupted >= 1 and figures.moved_sessions >= 1
    assert figures.served["app-a"] > 0 and figures.served["app-b"] > figures.served["app-a"]
    assert len(figures.turn_ms) >= SESSIONS * (ANSWERS + 1) - figures.interrupted
