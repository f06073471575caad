"""coach.store on a SQLite file and on a real PostgreSQL database: migrations, lifecycle, crash safety, threads, mastery."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from coach.store import schema as store_module
from coach.errors import CoachError, QueryError, SessionError, StoreError
from coach.store.sessions import Mastery, SessionRow, Store, TurnRow
from tests.pg_support import PASSWORD


class Clock:
    """A clock that moves one second per reading, so order in time is exact and repeatable."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


@pytest.fixture
def store(target):
    with Store(target, clock=Clock()) as s:
        yield s


def grade(score: int, band: str, dims: dict[str, int]) -> dict:
    return {
        "score": score, "band": band,
        "dimensions": {d: {"score": s, "covered": 1, "points": 2, "name": d.title()} for d, s in dims.items()},
        "points": [{"id": "p1", "covered": True}], "red_flags": [], "feedback": {"summary": f"{score}/100"},
    }


# -- migrations -------------------------------------------------------------------------------


def test_open_creates_folders_applies_migrations_once_and_records_them(backend, target):
    if backend.name == "sqlite":
        assert not target.parent.exists()
    with Store(target) as s:
        assert s.dialect == backend.name
        if backend.name == "sqlite":
            assert target.is_file()
            assert s._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert s._conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        else:  # named by server and database, never by the password
            assert s.path is None
            assert s.where == target.replace(f":{PASSWORD}@", "@") and PASSWORD not in repr(s)
    rows = backend.raw("SELECT number, name, applied_at FROM migrations ORDER BY number")
    assert [(n, name) for n, name, _ in rows] == [(i, f.__name__.lstrip("_"))
                                                 for i, f in enumerate(store_module.MIGRATIONS, 1)]
    assert all(isinstance(at, float) and at > 0 for _, _, at in rows)
    assert {"migrations", "sessions", "turns", "grades", "self_ratings"} <= backend.tables()


def test_reopening_does_not_reapply_and_new_migrations_apply_once(backend, target, monkeypatch):
    calls: list[int] = []

    def counted(number, fn):
        def run(db):
            calls.append(number)
            fn(db)
        run.__name__ = fn.__name__
        return run

    def m002_add_notes(db):
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")

    first = [counted(1, store_module._m001_initial)]
    monkeypatch.setattr(store_module, "MIGRATIONS", first)
    Store(target).close()
    applied_at = backend.raw("SELECT applied_at FROM migrations WHERE number = 1")
    Store(target).close()
    assert calls == [1]
    assert backend.raw("SELECT applied_at FROM migrations WHERE number = 1") == applied_at

    monkeypatch.setattr(store_module, "MIGRATIONS", first + [counted(2, m002_add_notes)])
    with Store(target) as s:
        sid = s.create_session("practice", "q1", "lifecycle", "senior")
    Store(target).close()
    assert calls == [1, 2]
    assert [r[0] for r in backend.raw("SELECT number FROM migrations ORDER BY number")] == [1, 2]
    assert backend.raw("SELECT name FROM migrations WHERE number = 2") == [("m002_add_notes",)]
    assert backend.raw("SELECT id FROM sessions") == [(sid,)]


def test_a_failing_migration_rolls_back_entirely(backend, target, monkeypatch):
    monkeypatch.setattr(store_module, "MIGRATIONS", [store_module._m001_initial])
    Store(target).close()

    def m002_broken(db):
        db.execute("CREATE TABLE half_done (x INTEGER)")
        db.execute("THIS IS NOT SQL")

    monkeypatch.setattr(store_module, "MIGRATIONS", [store_module._m001_initial, m002_broken])
    with pytest.raises(StoreError, match="migrating the schema"):
        Store(target)
    assert [r[0] for r in backend.raw("SELECT number FROM migrations")] == [1]
    assert "half_done" not in backend.tables()


def test_database_newer_than_the_code_is_refused(backend, target):
    with Store(target) as s:
        where = s.where
    newer = len(store_module.MIGRATIONS) + 1
    backend.raw("INSERT INTO migrations (number, name, applied_at) VALUES (?, 'm_future', 1.0)", (newer,))
    with pytest.raises(StoreError) as err:
        Store(target)
    message = str(err.value)
    assert message.startswith(f"{where}: ") and PASSWORD not in message
    assert f"schema version {newer}" in message and "upgrade" in message
    assert isinstance(err.value, CoachError)


def test_a_file_that_is_not_a_database_raises_store_error(tmp_path):
    bad = tmp_path / "coach.sqlite3"
    bad.write_bytes(b"this is definitely not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable session database"):
        Store(bad)


def test_from_settings_uses_store_path(settings):
    with Store.from_settings(settings) as s:
        assert s.path == settings.store_path
    assert settings.store_path.is_file()


# -- lifecycle ----------------------------------------------------------------------------------


def test_full_lifecycle_reads_back_exactly(backend, store):
    state = {"phase": "pose", "probes": [], "nested": {"ünïcode": "✓", "n": 1.5}}
    sid = store.create_session("practice", "lc-fraud-01", "lifecycle", "senior", state=state)
    assert len(sid) == 32 and int(sid, 16) >= 0

    row = store.get_session(sid)
    assert row == SessionRow(id=sid, kind="practice", question_id="lc-fraud-01", topic="lifecycle",
                             level="senior", status="active", started_at=row.started_at, ended_at=None,
                             score=None, band=None, state=state, user="local")
    assert store.active_sessions() == [row]

    t0 = store.add_turn(sid, "coach", "question", "Design a fraud detector.", meta={"question_id": "lc-fraud-01"})
    t1 = store.add_turn(sid, "candidate", "answer", "First I would clarify the label delay...")
    store.save_grade(sid, grade(40, "ok", {"framing": 50, "data": 30}))
    t2 = store.add_turn(sid, "coach", "probe", "How do you handle delayed labels?", meta={"point": "p3"})
    t3 = store.add_turn(sid, "candidate", "answer", "Use proxy labels and backfill.")
    final = grade(72, "strong", {"framing": 75, "data": 70})
    store.save_grade(sid, final)
    t4 = store.add_turn(sid, "coach", "critique", "Strong on framing; say more about monitoring.")
    store.update_state(sid, {"phase": "critique", "probes": ["p3"]})
    store.save_self_ratings(sid, {"framing": 3, "data": 2})
    store.save_self_ratings(sid, {"data": 4, "monitoring": 1})
    store.finish(sid, 72, "strong")

    assert [t.index for t in (t0, t1, t2, t3, t4)] == [0, 1, 2, 3, 4]
    assert store.turns(sid) == [t0, t1, t2, t3, t4]
    assert t0 == TurnRow(session_id=sid, index=0, role="coach", kind="question",
                         content="Design a fraud detector.", created_at=t0.created_at,
                         meta={"question_id": "lc-fraud-01"})
    assert t1.meta == {}
    assert store.latest_grade(sid) == final
    assert store.self_ratings(sid) == {"framing": 3, "data": 4, "monitoring": 1}

    done = store.get_session(sid)
    assert (done.status, done.score, done.band) == ("done", 72, "strong")
    assert done.ended_at is not None and done.ended_at > done.started_at
    assert done.state == {"phase": "critique", "probes": ["p3"]}
    assert store.active_sessions() == []

    # every grade is kept, each tied to the turn it followed
    kept = backend.raw("SELECT turn_index, score, band FROM grades WHERE session_id = ? ORDER BY id", (sid,))
    assert kept == [(1, 40, "ok"), (3, 72, "strong")]


def test_session_without_turns_grades_or_ratings(store):
    sid = store.create_session("self-assess", "q9", "monitoring", "mid", user="alice")
    assert store.turns(sid) == []
    assert store.latest_grade(sid) is None
    assert store.self_ratings(sid) == {}
    assert store.get_session(sid).user == "alice"
    assert store.get_session(sid).state == {}


def test_turn_indexes_increase_per_session(store):
    a = store.create_session("practice", "qa", "lifecycle", "senior")
    b = store.create_session("practice", "qb", "monitoring", "senior")
    got_a = [store.add_turn(a, "coach", "note", f"a{i}").index for i in range(4)]
    got_b = [store.add_turn(b, "coach", "note", f"b{i}").index for i in range(2)]
    got_a.append(store.add_turn(a, "candidate", "answer", "a4").index)
    assert got_a == [0, 1, 2, 3, 4]
    assert got_b == [0, 1]
    assert [t.content for t in store.turns(a)] == ["a0", "a1", "a2", "a3", "a4"]


def test_finish_only_once_and_abandon(store):
    sid = store.create_session("practice", "q1", "lifecycle", "junior")
    store.finish(sid, 0, "weak", status="abandoned")
    assert store.get_session(sid).status == "abandoned"
    with pytest.raises(SessionError, match=f"session {sid} is already abandoned"):
        store.finish(sid, 50, "ok")


@pytest.mark.parametrize("score, band, status", [(101, "ok", "done"), (-1, "ok", "done"), (True, "ok", "done"),
                                                 (50.5, "ok", "done"), (50, "", "done"), (50, "ok", "active")])
def test_finish_validates(store, score, band, status):
    sid = store.create_session("practice", "q1", "lifecycle", "junior")
    with pytest.raises(StoreError):
        store.finish(sid, score, band, status=status)
    assert store.get_session(sid).status == "active"


def test_invalid_values_are_refused(store):
    with pytest.raises(StoreError, match="session kind"):
        store.create_session("exam", "q1", "lifecycle", "senior")
    with pytest.raises(StoreError, match="question_id"):
        store.create_session("practice", "", "lifecycle", "senior")
    with pytest.raises(StoreError, match="JSON"):
        store.create_session("practice", "q1", "lifecycle", "senior", state={"when": object()})
    sid = store.create_session("practice", "q1", "lifecycle", "senior")
    with pytest.raises(StoreError, match="turn role"):
        store.add_turn(sid, "interviewer", "question", "hi")
    with pytest.raises(StoreError, match="turn kind"):
        store.add_turn(sid, "coach", "monologue", "hi")
    with pytest.raises(StoreError, match="JSON"):
        store.add_turn(sid, "coach", "note", "hi", meta={"x": float("nan")})
    with pytest.raises(StoreError, match="grade score"):
        store.save_grade(sid, {"score": 140, "band": "staff"})
    assert store.turns(sid) == []
    assert store.latest_grade(sid) is None
    assert len(store.list_sessions()) == 1


# -- self-ratings -------------------------------------------------------------------------------


@pytest.mark.parametrize("ratings", [
    {"framing": 0}, {"framing": 5}, {"framing": -1}, {"framing": "3"}, {"framing": 2.5}, {"framing": True},
    {"framing": None}, {3: 2}, {None: 2}, {("framing",): 2}, {"": 2}, {"Problem framing": 2}, {},
    {"framing": 3, "data": 9},
])
def test_invalid_self_ratings_raise_and_store_nothing(store, ratings):
    sid = store.create_session("self-assess", "q1", "lifecycle", "senior")
    with pytest.raises(QueryError, match="self-ratings"):
        store.save_self_ratings(sid, ratings)
    assert store.self_ratings(sid) == {}


def test_self_ratings_accept_every_level(store):
    sid = store.create_session("self-assess", "q1", "lifecycle", "senior")
    store.save_self_ratings(sid, {"framing": 1, "metrics": 2, "data": 3, "serving": 4})
    assert store.self_ratings(sid) == {"framing": 1, "metrics": 2, "data": 3, "serving": 4}


# -- unknown ids --------------------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda s, i: s.get_session(i),
    lambda s, i: s.turns(i),
    lambda s, i: s.latest_grade(i),
    lambda s, i: s.self_ratings(i),
    lambda s, i: s.update_state(i, {}),
    lambda s, i: s.add_turn(i, "coach", "note", "x"),
    lambda s, i: s.save_grade(i, grade(10, "weak", {})),
    lambda s, i: s.save_self_ratings(i, {"framing": 2}),
    lambda s, i: s.finish(i, 10, "weak"),
])
def test_unknown_session_id_raises_session_error_naming_it(backend, store, call):
    missing = "0123456789abcdef0123456789abcdef"
    with pytest.raises(SessionError) as err:
        call(store, missing)
    assert str(err.value) == f"no session {missing}: see `coach progress` for ids"
    assert backend.raw("SELECT COUNT(*) FROM turns")[0][0] == 0


# -- durability and concurrency -----------------------------------------------------------------


def test_every_write_is_visible_to_a_second_store_at_once(target):
    first = Store(target)
    second = Store(target)  # opened before the first is closed: nothing waits for close()
    try:
        sid = first.create_session("practice", "q1", "lifecycle", "senior", state={"phase": "pose"})
        assert second.get_session(sid).state == {"phase": "pose"}
        first.update_state(sid, {"phase": "probe"})
        assert second.get_session(sid).state == {"phase": "probe"}
        first.add_turn(sid, "coach", "question", "Q?")
        assert [t.content for t in second.turns(sid)] == ["Q?"]
        first.save_grade(sid, grade(55, "strong", {"framing": 60}))
        assert second.latest_grade(sid)["score"] == 55
        first.save_self_ratings(sid, {"framing": 3})
        assert second.self_ratings(sid) == {"framing": 3}
        first.finish(sid, 55, "strong")
        assert second.get_session(sid).status == "done"
        assert second.mastery().by_topic == {"lifecycle": 55.0}
        # and the other way round: the second store's turn continues the numbering
        assert second.add_turn(sid, "coach", "note", "later").index == 1
        assert [t.index for t in first.turns(sid)] == [0, 1]
    finally:
        first.close()
        second.close()


def test_a_crashed_process_loses_nothing_it_wrote(target):
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from coach.store.sessions import Store
        s = Store({str(target)!r})
        sid = s.create_session("practice", "q1", "lifecycle", "senior")
        s.add_turn(sid, "coach", "question", "Q?")
        s.add_turn(sid, "candidate", "answer", "A.")
        s.save_grade(sid, {{"score": 33, "band": "ok", "dimensions": {{}}}})
        print(sid, flush=True)
        os._exit(3)  # no close(), no commit at exit, no atexit handlers
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 3, proc.stderr
    sid = proc.stdout.strip()
    with Store(target) as s:
        assert [t.content for t in s.turns(sid)] == ["Q?", "A."]
        assert s.latest_grade(sid)["score"] == 33


def test_concurrent_add_turn_from_eight_threads_loses_nothing(store):
    sid = store.create_session("practice", "q1", "lifecycle", "senior")
    per_thread, threads = 25, 8
    start = threading.Barrier(threads)
    returned: list[TurnRow] = []
    errors: list[BaseException] = []
    guard = threading.Lock()

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                row = store.add_turn(sid, "candidate", "note", f"t{n}-{i}", meta={"thread": n, "i": i})
                with guard:
                    returned.append(row)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=60)
    assert errors == []
    stored = store.turns(sid)
    total = per_thread * threads
    assert [t.index for t in stored] == list(range(total))
    assert sorted(t.index for t in returned) == list(range(total))
    assert {t.content for t in stored} == {f"t{n}-{i}" for n in range(threads) for i in range(per_thread)}
    # each thread saw its own turns in the order it wrote them
    for n in range(threads):
        mine = [t for t in stored if t.meta["thread"] == n]
        assert [t.meta["i"] for t in mine] == list(range(per_thread))


def test_concurrent_writes_through_two_stores_on_one_file(target):
    stores = [Store(target), Store(target)]
    try:
        sid = stores[0].create_session("practice", "q1", "lifecycle", "senior")
        errors: list[BaseException] = []

        def worker(n: int) -> None:
            try:
                for i in range(20):
                    stores[n % 2].add_turn(sid, "coach", "note", f"{n}-{i}")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        pool = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(timeout=60)
        assert errors == []
        assert [t.index for t in stores[1].turns(sid)] == list(range(160))
    finally:
        for s in stores:
            s.close()


# -- listing, recent questions, mastery ---------------------------------------------------------


def test_list_and_active_sessions_newest_first_with_user_filter(store):
    ids = [store.create_session("practice", f"q{i}", "lifecycle", "mid", user=u)
           for i, u in enumerate(["local", "alice", "local", "alice", "local"])]
    store.finish(ids[2], 50, "ok")
    assert [r.id for r in store.list_sessions()] == ids[::-1]
    assert [r.id for r in store.list_sessions(limit=2)] == [ids[4], ids[3]]
    assert store.list_sessions(limit=0) == []
    assert [r.id for r in store.list_sessions(user="alice")] == [ids[3], ids[1]]
    assert [r.id for r in store.active_sessions()] == [ids[4], ids[3], ids[1], ids[0]]
    assert [r.id for r in store.active_sessions(user="local")] == [ids[4], ids[0]]
    assert store.list_sessions(user="nobody") == []


def test_recent_question_ids_newest_first(store):
    for qid, user in [("q1", "local"), ("q2", "local"), ("q3", "alice"), ("q2", "local"), ("q4", "local")]:
        store.create_session("practice", qid, "lifecycle", "senior", user=user)
    assert store.recent_question_ids(3) == ["q4", "q2", "q3"]
    assert store.recent_question_ids(5) == ["q4", "q2", "q3", "q1"]  # each id once
    assert store.recent_question_ids(2, user="local") == ["q4", "q2"]
    assert store.recent_question_ids(10, user="alice") == ["q3"]
    assert store.recent_question_ids(0) == []


# (topic, final score, final-grade dimension scores or None for a session finished without a grade)
HISTORY = [
    ("lifecycle", 10, {"framing": 10, "metrics": 90}),
    ("lifecycle", 20, {"framing": 20}),
    ("infrastructure", 60, {"framing": 30, "metrics": 80}),
    ("lifecycle", 30, {"framing": 40}),
    ("infrastructure", 70, {"framing": 50, "metrics": 70}),
    ("lifecycle", 40, {"framing": 60}),
    ("monitoring", 40, None),
    ("infrastructure", 80, {"framing": 70, "metrics": 60}),
    ("lifecycle", 50, {"framing": 80}),
    ("infrastructure", 90, {"framing": 90, "metrics": 50, "serving": 60}),
    ("lifecycle", 60, {"framing": 100}),
    ("infrastructure", 100, {"framing": 100, "metrics": 40, "serving": 68}),
]


@pytest.fixture
def history_store(store):
    ids = []
    for i, (topic, score, dims) in enumerate(HISTORY):
        sid = store.create_session("practice", f"q{i}", topic, "senior")
        if dims is not None:
            store.save_grade(sid, grade(0, "weak", {d: 0 for d in dims}))  # an earlier, superseded grade
            store.save_grade(sid, grade(score, "final", dims))
        store.finish(sid, score, "final")
        ids.append(sid)
    # none of these count: abandoned, still active, or another user's
    gone = store.create_session("practice", "qx", "design-patterns", "senior")
    store.save_grade(gone, grade(0, "weak", {"framing": 0}))
    store.finish(gone, 0, "weak", status="abandoned")
    live = store.create_session("practice", "qy", "architectures", "senior")
    store.save_grade(live, grade(5, "weak", {"framing": 5}))
    other = store.create_session("practice", "qz", "architectures", "staff", user="alice")
    store.save_grade(other, grade(5, "weak", {"framing": 5, "data": 5}))
    store.finish(other, 5, "weak")
    return store, ids


def test_mastery_exact_means_on_a_hand_made_history(history_store):
    store, ids = history_store
    m = store.mastery(user="local")
    assert isinstance(m, Mastery)
    # latest 5 per topic: lifecycle 20..60, infrastructure 60..100, monitoring just one
    assert m.by_topic == {"lifecycle": 40.0, "infrastructure": 80.0, "monitoring": 40.0}
    assert m.topic_counts == {"lifecycle": 6, "infrastructure": 5, "monitoring": 1}
    # framing: 11 graded sessions, latest 10 are 20..100 and 100 -> 640 / 10
    assert m.by_dimension == {"framing": 64.0, "metrics": 65.0, "serving": 64.0}
    assert m.dimension_counts == {"framing": 11, "metrics": 6, "serving": 2}
    # ties: lifecycle and monitoring both 40 -> monitoring has fewer sessions;
    #       framing and serving both 64 -> serving has fewer sessions (names alone would pick the others)
    assert m.weakest_topic() == "monitoring"
    assert m.weakest_dimension() == "serving"
    assert m.unpracticed_topics == ["design-patterns", "architectures"]

    assert [h["session_id"] for h in m.history] == ids
    assert [h["score"] for h in m.history] == [score for _, score, _ in HISTORY]
    assert [h["topic"] for h in m.history] == [topic for topic, _, _ in HISTORY]
    assert [h["dimensions"] for h in m.history] == [dims or {} for _, _, dims in HISTORY]
    ended = [h["ended_at"] for h in m.history]
    assert ended == sorted(ended) and len(set(ended)) == len(ended)


def test_mastery_per_user_and_for_everyone(history_store):
    store, _ = history_store
    alice = store.mastery(user="alice")
    assert alice.by_topic == {"architectures": 5.0}
    assert alice.by_dimension == {"framing": 5.0, "data": 5.0}
    assert alice.unpracticed_topics == ["lifecycle", "infrastructure", "design-patterns", "monitoring"]
    everyone = store.mastery()
    assert everyone.by_topic["architectures"] == 5.0
    assert everyone.weakest_topic() == "architectures"
    # alice's session is the newest graded one, so framing's window of 10 now drops a 20 for her 5
    assert everyone.by_dimension["framing"] == pytest.approx((640 - 20 + 5) / 10)
    assert len(everyone.history) == len(HISTORY) + 1


def test_mastery_of_an_empty_store(store):
    m = store.mastery()
    assert (m.by_topic, m.by_dimension, m.history) == ({}, {}, [])
    assert m.weakest_topic() is None and m.weakest_dimension() is None
    assert m.unpracticed_topics == ["lifecycle", "infrastructure", "design-patterns", "monitoring", "architectures"]


def test_closed_store_raises_store_error(target):
    s = Store(target)
    s.close()
    s.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        s.list_sessions()


def test_a_turn_its_state_and_its_grade_are_one_transaction(store):
    sid = store.create_session("practice", "arch-q01", "architectures", "senior", state={"answers": []})
    store.add_turn(sid, "candidate", "answer", "my answer", state={"answers": ["my answer"]},
                   grade={"score": 40, "band": "ok", "dimensions": {}})
    assert store.get_session(sid).state == {"answers": ["my answer"]}
    assert store.latest_grade(sid)["score"] == 40
    with pytest.raises(StoreError):  # the new state cannot be stored: the turn is not stored either
        store.add_turn(sid, "coach", "probe", "why?", state=lambda st: {**st, "probed": [object()]})
    assert [t.kind for t in store.turns(sid)] == ["answer"]
    store.add_turn(sid, "coach", "probe", "why?", state=lambda st: {**st, "probed": ["p1"]})
    assert store.get_session(sid).state == {"answers": ["my answer"], "probed": ["p1"]}


def test_reads_are_never_blocked_by_a_writer(backend, target):
    """Another process holds the write lock for seconds: opening the store and every read stay instant,
    also while a write of this very process is waiting for that lock."""
    import time

    with Store(target, clock=Clock()) as first:
        sid = first.create_session("practice", "q1", "lifecycle", "senior")
        first.add_turn(sid, "coach", "question", "Q?")
    if backend.name == "sqlite":  # the file's write lock
        begin = f"import sqlite3; db = sqlite3.connect({str(target)!r}, isolation_level=None); db.execute('BEGIN IMMEDIATE')"
    else:  # the session rows' locks
        begin = f"import psycopg; db = psycopg.connect({target!r}, autocommit=True); db.execute('BEGIN')"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            {begin}
            db.execute("UPDATE sessions SET band = 'x'")
            print("locked", flush=True)
            time.sleep(6)
            db.execute("ROLLBACK")
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        store = Store(target)  # a read-only view (the Progress tab, `coach progress`) opens the store
        writer = threading.Thread(target=lambda: _try(lambda: store.add_turn(sid, "candidate", "answer", "A.")))
        writer.start()
        time.sleep(0.3)  # this process's write is now waiting for the other process's lock
        assert [t.content for t in store.turns(sid)] == ["Q?"]
        assert store.get_session(sid).status == "active"
        store.mastery()
        store.list_sessions()
        assert time.monotonic() - started < 2.0, "reads waited for a writer"
    finally:
        holder.wait(timeout=30)
    writer.join(30)
    assert [t.content for t in store.turns(sid)] == ["Q?", "A."]
    store.close()


def _try(call) -> None:
    try:
        call()
    except CoachError:
        pass


def test_drafted_rubrics_are_kept_once_per_key(backend, target):
    points = [{"id": "p1", "text": "Frames the goal.", "dimension": "framing", "weight": 3, "cues": ["goal"],
               "sections": ["lc-problem-framing"], "probe": "What is the goal?"}]
    with Store(target) as s:
        assert s.cached_rubric("k1") is None
        s.save_rubric("k1", "How would you set it up?", "openai:scripted", points)
        s.save_rubric("k1", "How would you set it up?", "openai:scripted", [])  # the first one stays
        assert s.cached_rubric("k1") == points and s.cached_rubric("k2") is None


def test_a_session_closes_with_its_critique_turn(backend, target):
    with Store(target) as s:
        sid = s.create_session("practice", "q1", "lifecycle", "senior")
        s.add_turn(sid, "coach", "critique", "### Critique", finish=(55, "ok"))
        row = s.get_session(sid)
        assert (row.status, row.score, row.band) == ("done", 55, "ok")
        with pytest.raises(SessionError, match="already done"):
            s.add_turn(sid, "coach", "critique", "again", finish=(60, "ok"))
        assert [t.content for t in s.turns(sid)] == ["### Critique"], "the refused turn was rolled back"
