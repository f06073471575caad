"""What only the PostgreSQL store has to show: processes racing to migrate, atomic state under
concurrent writers from two processes, connection errors that name the server and never the
password, a dropped connection, the store.url setting, and psycopg never imported for SQLite."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from coach.errors import StoreError
from coach.store import schema
from coach.store.sessions import Store
from tests.pg_support import PASSWORD, USER

ROOT = Path(__file__).resolve().parents[2]


def _spawn(script: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _finish(procs: list[subprocess.Popen]) -> list[str]:
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        outs.append(out)
    return outs


def test_processes_opening_a_new_database_at_once_migrate_it_once(postgres):
    """Four processes open the same empty database at the same instant: each migration runs once,
    none fails (without the advisory lock they race to CREATE TABLE and all but one error out)."""
    url = postgres.database("mig")
    start_at = time.time() + 3.0  # every process has connected and found the schema missing by then
    script = f"""
        import time
        from coach.store.postgres import PostgreSQL
        from coach.store.sessions import Store
        found = PostgreSQL.is_current
        def is_current_then_wait(self, db, known):  # all four reach the migration at the same instant
            current = found(self, db, known)
            time.sleep(max(0.0, {start_at} - time.time()))
            return current
        PostgreSQL.is_current = is_current_then_wait
        with Store({url!r}) as s:
            print(s.create_session("practice", "q1", "lifecycle", "senior"))
    """
    procs = [_spawn(script) for _ in range(4)]
    ids = [out.strip() for out in _finish(procs)]
    assert len(set(ids)) == 4
    rows = postgres.query(url, "SELECT number, name FROM migrations ORDER BY number")
    assert rows == [(i, f.__name__.lstrip("_")) for i, f in enumerate(schema.MIGRATIONS, 1)]
    assert sorted(r[0] for r in postgres.query(url, "SELECT id FROM sessions")) == sorted(ids)


def test_state_read_modify_write_is_atomic_across_two_processes(backend):
    """Two processes x 4 threads increment one counter in the session state with add_turn(state=fn):
    every increment survives and every turn gets its own index (SELECT ... FOR UPDATE on PostgreSQL)."""
    target = backend.target
    with Store(target) as s:
        sid = s.create_session("practice", "q1", "lifecycle", "senior", state={"n": 0, "seen": []})
    per_thread, threads, processes = 15, 4, 2
    script = f"""
        import threading, time
        from coach.store.sessions import Store
        store = Store({str(target)!r})
        def bump(n):
            for i in range({per_thread}):
                tag = f"p{{PROC}}-t{{n}}-{{i}}"
                store.add_turn({sid!r}, "candidate", "note", tag, state=lambda st, tag=tag: slow_bump(st, tag))
        def slow_bump(st, tag):  # read, think, write: another process must not slip in between
            time.sleep(0.003)
            return {{**st, "n": st["n"] + 1, "seen": st["seen"] + [tag]}}
        pool = [threading.Thread(target=bump, args=(n,)) for n in range({threads})]
        [t.start() for t in pool]
        [t.join() for t in pool]
        store.close()
        print("ok")
    """
    procs = [_spawn(script.replace("{PROC}", str(p))) for p in range(processes)]
    assert [out.strip() for out in _finish(procs)] == ["ok"] * processes
    total = per_thread * threads * processes
    with Store(target) as s:
        state = s.get_session(sid).state
        turns = s.turns(sid)
    assert state["n"] == total
    assert sorted(state["seen"]) == sorted(t.content for t in turns)
    assert [t.index for t in turns] == list(range(total))
    # the state after each turn is the one that turn justified: the order of "seen" is the turns' order
    assert state["seen"] == [t.content for t in turns]


def test_connection_errors_name_the_server_and_database_never_the_password(postgres):
    from tests.conftest import free_port

    port = free_port()  # nothing listens here
    for url, expected in [
        (f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/coach", f"postgresql://{USER}@127.0.0.1:{port}/coach"),
        (postgres.url("no_such_db"), f"postgresql://{USER}@127.0.0.1:{postgres.port}/no_such_db"),
        (postgres.url("tests", password="wrong-" + PASSWORD), f"127.0.0.1:{postgres.port}/tests"),
    ]:
        with pytest.raises(StoreError) as err:
            Store(url)
        message = str(err.value)
        assert expected in message and "cannot connect to the PostgreSQL session database" in message
        assert PASSWORD not in message and "check store.url" in message


def test_dropped_connections_are_replaced_and_a_failed_transaction_is_not_half_written(postgres):
    url = postgres.database("drop")
    kill = ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'coach' AND pid <> pg_backend_pid()")
    with Store(url) as s:
        sid = s.create_session("practice", "q1", "lifecycle", "senior", state={"n": 0})
        postgres.query(url, kill)  # as a server restart would: both of the store's connections are gone
        s.add_turn(sid, "coach", "question", "Q?")  # a new connection, before anything was sent
        assert [t.content for t in s.turns(sid)] == ["Q?"]

        def dropped_midway(state):  # the connection dies inside the transaction: nothing of it is kept
            postgres.query(url, kill)
            return {"n": state["n"] + 1}

        with pytest.raises(StoreError) as err:
            s.add_turn(sid, "candidate", "answer", "A.", state=dropped_midway)
        assert "saving a turn failed" in str(err.value) and "is the PostgreSQL server running" in str(err.value)
        assert PASSWORD not in str(err.value)
        assert [t.content for t in s.turns(sid)] == ["Q?"] and s.get_session(sid).state == {"n": 0}
        s.add_turn(sid, "candidate", "answer", "A.", state=lambda st: {"n": st["n"] + 1})
        assert s.get_session(sid).state == {"n": 1}


def test_store_url_in_settings_selects_postgresql(postgres, tmp_path, knowledge):
    from coach.settings import load_settings
    from tests.conftest import write_config

    url = postgres.database("cfg")
    settings = load_settings(write_config(tmp_path, knowledge), env={"COACH_STORE__URL": url})
    with Store.from_settings(settings) as s:
        assert s.dialect == "postgresql" and s.path is None
        sid = s.create_session("practice", "q1", "lifecycle", "senior", user="alice")
    assert postgres.query(url, 'SELECT "user" FROM sessions WHERE id = ?', (sid,)) == [("alice",)]
    assert not settings.store_path.exists(), "a PostgreSQL store must not create the SQLite file"


def test_without_psycopg_a_postgresql_url_says_what_to_install(postgres, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    with pytest.raises(StoreError, match=r"psycopg is not installed: run pip install 'ai-interview-coach\[postgres\]'"):
        Store(postgres.url())


def test_sqlite_users_never_import_psycopg(tmp_path):
    script = f"""
        import sys
        from coach.core import Coach
        from coach.store.sessions import Store
        with Store({str(tmp_path / 'c.sqlite3')!r}) as s:
            s.create_session("practice", "q1", "lifecycle", "senior")
        print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg')))
    """
    out = _finish([_spawn("import json\n" + textwrap.dedent(script))])[0]
    assert json.loads(out) == []


def test_postgresql_timestamps_keep_sub_second_precision(postgres):
    """REAL is 4 bytes in PostgreSQL: a 2026 epoch would round to minutes; migration 001 uses DOUBLE PRECISION."""
    url = postgres.database("ts")
    with Store(url, clock=lambda: 1_764_504_000.123456) as s:
        sid = s.create_session("practice", "q1", "lifecycle", "senior")
        assert s.get_session(sid).started_at == 1_764_504_000.123456
        assert s.add_turn(sid, "coach", "note", "x").created_at == s.turns(sid)[0].created_at == 1_764_504_000.123456
