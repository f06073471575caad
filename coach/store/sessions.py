"""The session store: practice sessions, their turns, grades and self-ratings.

One SQLite file (``settings.store_path``, the default) or one PostgreSQL database
(``store.url``), with the same queries, rows and migrations; what differs lives in
:mod:`coach.store.dialect` and :mod:`coach.store.postgres`. Every write is its own short
committed transaction, so a crash loses nothing that was already said. Writes share one
connection (a lock serialises it across the Gradio app's threads) and lock up front: SQLite's
write lock (``BEGIN IMMEDIATE``), or on PostgreSQL the session's row (``SELECT ... FOR UPDATE``),
so two processes on one database stay consistent. Reads use a second connection with its own
lock and never wait for a writer (WAL readers; PostgreSQL snapshots); opening a store whose
schema is current takes no write lock.

The schema and its migrations live in :mod:`coach.store.schema`; row types and value checks in
:mod:`coach.store.rows`. JSON values (engine state, turn meta, grader results) are stored as TEXT via ``json.dumps``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import QueryError, SessionError, StoreError
from coach.store.dialect import SQLite
from coach.store.rows import (
    Mastery, SessionRow, TurnRow, _dumps, _grade_values, _mapping, _no_session, _one_of, _score, _session_row,
    _text, _turn_row, mastery_from_rows,
)
from coach.store import schema
from coach.store.schema import (
    DIMENSION_ID, DEFAULT_USER, DIMENSION_WINDOW, RATING_LEVELS, ROLES, SESSION_KINDS, TOPIC_WINDOW, TURN_KINDS,
    migrate,
)

if TYPE_CHECKING:  # pragma: no cover
    from coach.settings import Settings

__all__ = ["DIMENSION_WINDOW", "Mastery", "SessionRow", "Store", "TOPIC_WINDOW", "TurnRow"]

# The store


def open_dialect(target: Path | str) -> Any:
    """The dialect for a ``postgresql://`` URL (psycopg imported only then), else the SQLite file ``target``."""
    if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
        from coach.store.postgres import PostgreSQL

        return PostgreSQL(target)
    return SQLite(Path(target))


class Store:
    """Sessions, turns, grades and self-ratings in SQLite or PostgreSQL; safe to share across threads.

    ``target`` is the SQLite file, or a ``postgresql://user:password@host:port/db`` URL.
    """

    def __init__(self, target: Path | str, *, clock: Callable[[], float] = time.time) -> None:
        self._dialect = open_dialect(target)
        self.path: Path | None = self._dialect.path  # the SQLite file; None on PostgreSQL
        self.where: str = self._dialect.label        # the file, or the URL without its password
        self._errors = self._dialect.errors
        self._clock = clock
        self._lock = threading.RLock()
        self._read_lock = threading.Lock()
        self._conn: Any = None
        self._reader: Any = None
        try:
            self._conn = self._dialect.connect()
            self._reader = self._dialect.connect(reader=True)
            if not self._dialect.is_current(self._reader, len(schema.MIGRATIONS)):
                with self._write("migrating the schema") as db:
                    self._dialect.lock_schema(db)
                    migrate(db, self.where, self._clock())
        except self._errors as exc:
            self.close()
            raise self._fail("opening the session database", exc) from None
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Store":
        return cls(settings.store.url or settings.store_path)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._dialect.name

    # -- connection ---------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock, self._read_lock:
            for conn in (self._conn, self._reader):
                if conn is not None:
                    conn.close()
            self._conn = self._reader = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.where!r})"

    def _usable(self, conn: Any, *, reader: bool) -> Any:
        """``conn``, or a new connection when the server dropped it (a PostgreSQL restart)."""
        if conn is None:
            raise StoreError(f"{self.where}: the session store is closed")
        if self._dialect.usable(conn):
            return conn
        conn.close()
        fresh = self._dialect.connect(reader=reader)
        if reader:
            self._reader = fresh
        else:
            self._conn = fresh
        return fresh

    def _begin(self, conn: Any, begin: str, what: str, *, reader: bool) -> Any:
        """``conn`` in a new transaction; a connection the server dropped since its last use (a
        PostgreSQL restart) is replaced once, as nothing has been sent in this transaction yet."""
        db = self._usable(conn, reader=reader)
        for attempt in (1, 2):
            try:
                db.execute(begin)
                return db
            except self._errors as exc:
                if attempt == 2 or self._dialect.usable(db):
                    raise self._fail(what, exc) from None
                db = self._usable(db, reader=reader)
        raise AssertionError("unreachable")  # pragma: no cover

    def _fail(self, what: str, exc: BaseException) -> StoreError:
        return StoreError(f"{self.where}: {what} failed: {self._dialect.describe(exc)}{self._dialect.hint(exc)}")

    @contextmanager
    def _write(self, what: str) -> Iterator[Any]:
        """One committed transaction holding the write lock (SQLite) from the start."""
        with self._lock:
            db = self._begin(self._conn, self._dialect.begin_write, what, reader=False)
            try:
                yield db
            except BaseException as exc:
                try:
                    db.execute("ROLLBACK")
                except self._errors:
                    pass
                if isinstance(exc, self._errors):
                    raise self._fail(what, exc) from exc
                raise
            try:
                db.execute("COMMIT")
            except self._errors as exc:
                try:
                    db.execute("ROLLBACK")
                except self._errors:
                    pass
                raise self._fail(what, exc) from None

    @contextmanager
    def _read(self, what: str) -> Iterator[Any]:
        """A consistent snapshot for several SELECTs, on the reader connection (never behind a write)."""
        with self._read_lock:
            db = self._begin(self._reader, self._dialect.begin_read, what, reader=True)
            try:
                yield db
            except self._errors as exc:
                raise self._fail(what, exc) from exc
            finally:
                if db.in_transaction:
                    try:
                        db.execute("COMMIT")
                    except self._errors:
                        pass

    def _require(self, db: Any, session_id: str, *, lock: bool = False) -> Any:
        """The session's row; ``lock`` (in a write) also locks it until COMMIT on PostgreSQL."""
        sql = "SELECT * FROM sessions WHERE id = ?" + (self._dialect.for_update if lock else "")
        row = db.execute(sql, (session_id,)).fetchone()
        if row is None:
            raise _no_session(session_id)
        return row

    # -- writes -------------------------------------------------------------------------------

    def create_session(self, kind: str, question_id: str, topic: str, level: str,
                       state: dict[str, Any] | None = None, user: str = DEFAULT_USER) -> str:
        _one_of(kind, SESSION_KINDS, "session kind")
        for value, what in ((question_id, "question_id"), (topic, "topic"), (level, "level"), (user, "user")):
            _text(value, what)
        state_json = _dumps(_mapping(state, "session state"), "session state")
        session_id = uuid.uuid4().hex
        with self._write("creating a session") as db:
            db.execute(
                'INSERT INTO sessions (id, "user", kind, question_id, topic, level, status, started_at, state)'
                " VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)",
                (session_id, user, kind, question_id, topic, level, self._clock(), state_json),
            )
        return session_id

    def update_state(self, session_id: str, state: dict[str, Any]) -> None:
        state_json = _dumps(_mapping(state, "session state"), f"state of session {session_id}")
        with self._write("saving session state") as db:
            if db.execute("UPDATE sessions SET state = ? WHERE id = ?", (state_json, session_id)).rowcount == 0:
                raise _no_session(session_id)

    def add_turn(self, session_id: str, role: str, kind: str, content: str,
                 meta: dict[str, Any] | None = None, *,
                 state: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 grade: dict[str, Any] | None = None, finish: tuple[int, str] | None = None) -> TurnRow:
        """Store a turn, and with it (same transaction) the session state and grade it justifies.

        ``state`` is the new state, or a function from the stored state to the new one (applied
        under the write lock); ``grade`` is a grader result recorded against this turn; ``finish``
        (score, band) closes the session with this turn, so a session is never done without it.
        """
        _one_of(role, ROLES, "turn role")
        _one_of(kind, TURN_KINDS, "turn kind")
        if not isinstance(content, str):
            raise StoreError(f"turn content must be a string, got {type(content).__name__}")
        meta_json = _dumps(_mapping(meta, "turn meta"), f"meta of a turn in session {session_id}")
        graded = None if grade is None else _grade_values(session_id, grade)
        if isinstance(state, dict):
            state_json = _dumps(state, f"state of session {session_id}")
        with self._write("saving a turn") as db:
            row = self._require(db, session_id, lock=True)
            index = db.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM turns WHERE session_id = ?",
                               (session_id,)).fetchone()[0]
            created_at = self._clock()
            db.execute(
                "INSERT INTO turns (session_id, idx, role, kind, content, created_at, meta)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, index, role, kind, content, created_at, meta_json),
            )
            if callable(state):
                new_state = _mapping(state(json.loads(row["state"])), "session state")
                state_json = _dumps(new_state, f"state of session {session_id}")
            if state is not None:
                db.execute("UPDATE sessions SET state = ? WHERE id = ?", (state_json, session_id))
            if graded is not None:
                db.execute("INSERT INTO grades (session_id, turn_index, score, band, result, created_at)"
                           " VALUES (?, ?, ?, ?, ?, ?)", (session_id, index, *graded, created_at))
            if finish is not None:
                self._close(db, row, session_id, *finish)
        return TurnRow(session_id=session_id, index=index, role=role, kind=kind, content=content,
                       created_at=created_at, meta=json.loads(meta_json))

    def save_grade(self, session_id: str, result: dict[str, Any]) -> None:
        """Keep this grade (every one is kept); the latest saved is the session's current grade."""
        graded = _grade_values(session_id, result)
        with self._write("saving a grade") as db:
            self._require(db, session_id, lock=True)
            turn_index = db.execute("SELECT MAX(idx) FROM turns WHERE session_id = ?", (session_id,)).fetchone()[0]
            db.execute(
                "INSERT INTO grades (session_id, turn_index, score, band, result, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, turn_index, *graded, self._clock()),
            )

    def save_self_ratings(self, session_id: str, ratings: dict[str, int]) -> None:
        """Record the candidate's own rating per dimension: 1 weak, 2 ok, 3 strong, 4 staff.

        Dimensions already rated in this session are overwritten; others are kept.
        """
        if not isinstance(ratings, dict) or not ratings:
            raise QueryError("self-ratings: give at least one dimension with a rating from 1 (weak) to 4 (staff)")
        for dimension, rating in ratings.items():
            if not isinstance(dimension, str) or not DIMENSION_ID.match(dimension):
                raise QueryError(f"self-ratings: {dimension!r} is not a dimension id "
                                 "(lower-case letters, digits, '-' or '_', e.g. 'framing')")
            if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 4:
                raise QueryError(f"self-ratings: dimension {dimension!r}: rating {rating!r} must be an integer "
                                 f"from 1 to 4 ({', '.join(f'{i} {n}' for i, n in enumerate(RATING_LEVELS, 1))})")
        with self._write("saving self-ratings") as db:
            self._require(db, session_id, lock=True)
            now = self._clock()
            db.executemany(
                "INSERT INTO self_ratings (session_id, dimension, rating, rated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (session_id, dimension) DO UPDATE SET rating = excluded.rating,"
                " rated_at = excluded.rated_at",
                [(session_id, d, r, now) for d, r in ratings.items()],
            )

    def finish(self, session_id: str, score: int, band: str, status: str = "done") -> None:
        """Close an active session with its final score; a session can be finished only once."""
        if status not in ("done", "abandoned"):
            raise StoreError(f"finish status {status!r} is not one of: done, abandoned")
        with self._write("finishing a session") as db:
            self._close(db, self._require(db, session_id, lock=True), session_id, score, band, status)

    def _close(self, db: Any, row: Any, session_id: str, score: int, band: str, status: str = "done") -> None:
        _score(score, f"final score for session {session_id}")
        _text(band, "band")
        if row["status"] != "active":
            raise SessionError(f"session {session_id} is already {row['status']}; start a new one")
        db.execute("UPDATE sessions SET status = ?, ended_at = ?, score = ?, band = ? WHERE id = ?",
                   (status, self._clock(), score, band, session_id))

    def save_rubric(self, key: str, question: str, model: str, points: list[dict[str, Any]]) -> None:
        """Keep a model-drafted rubric (validated by the caller); the first one kept for a key stays."""
        rubric = _dumps(points, f"drafted rubric for {key}")
        with self._write("saving a drafted rubric") as db:
            db.execute("INSERT INTO drafted_rubrics (key, question, model, rubric, created_at) VALUES (?, ?, ?, ?, ?)"
                       " ON CONFLICT (key) DO NOTHING", (key, question, model, rubric, self._clock()))

    def cached_rubric(self, key: str) -> list[dict[str, Any]] | None:
        with self._read("reading a drafted rubric") as db:
            row = db.execute("SELECT rubric FROM drafted_rubrics WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    # -- reads --------------------------------------------------------------------------------

    def get_session(self, session_id: str) -> SessionRow:
        with self._read("reading a session") as db:
            return _session_row(self._require(db, session_id))

    def turns(self, session_id: str) -> list[TurnRow]:
        with self._read("reading turns") as db:
            self._require(db, session_id)
            rows = db.execute("SELECT * FROM turns WHERE session_id = ? ORDER BY idx", (session_id,)).fetchall()
        return [_turn_row(r) for r in rows]

    def latest_grade(self, session_id: str) -> dict[str, Any] | None:
        with self._read("reading a grade") as db:
            self._require(db, session_id)
            row = db.execute("SELECT result FROM grades WHERE session_id = ? ORDER BY id DESC LIMIT 1",
                             (session_id,)).fetchone()
        return None if row is None else json.loads(row["result"])

    def self_ratings(self, session_id: str) -> dict[str, int]:
        with self._read("reading self-ratings") as db:
            self._require(db, session_id)
            rows = db.execute("SELECT dimension, rating FROM self_ratings WHERE session_id = ? ORDER BY rowid",
                              (session_id,)).fetchall()
        return {r["dimension"]: r["rating"] for r in rows}

    def _sessions(self, where: str, params: tuple[Any, ...], user: str | None, limit: int | None,
                  what: str) -> list[SessionRow]:
        clauses = [where] if where else []
        if user is not None:
            clauses.append('"user" = ?')
            params = (*params, user)
        sql = "SELECT * FROM sessions"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY started_at DESC, rowid DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params = (*params, limit)
        with self._read(what) as db:
            rows = db.execute(sql, params).fetchall()
        return [_session_row(r) for r in rows]

    def list_sessions(self, limit: int = 50, user: str | None = None) -> list[SessionRow]:
        """Newest first."""
        if limit <= 0:
            return []
        return self._sessions("", (), user, limit, "listing sessions")

    def active_sessions(self, user: str | None = None) -> list[SessionRow]:
        """Sessions still in progress, newest first."""
        return self._sessions("status = 'active'", (), user, None, "listing active sessions")

    def recent_question_ids(self, n: int, user: str | None = None) -> list[str]:
        """Question ids of the ``n`` most recently started sessions (any status), newest first, once each."""
        if n <= 0:
            return []
        sql = "SELECT question_id FROM sessions"
        params: tuple[Any, ...] = ()
        if user is not None:
            sql += ' WHERE "user" = ?'
            params = (user,)
        sql += " ORDER BY started_at DESC, rowid DESC LIMIT ?"
        with self._read("reading recent questions") as db:
            rows = db.execute(sql, (*params, n)).fetchall()
        return list(dict.fromkeys(r["question_id"] for r in rows))

    def mastery(self, user: str | None = None) -> Mastery:
        """Per-topic and per-dimension mastery from finished (status ``done``) sessions."""
        sql = ("SELECT s.*, (SELECT g.result FROM grades g WHERE g.session_id = s.id ORDER BY g.id DESC LIMIT 1)"
               " AS grade FROM sessions s WHERE s.status = 'done'")
        params: tuple[Any, ...] = ()
        if user is not None:
            sql += ' AND s."user" = ?'
            params = (user,)
        sql += " ORDER BY s.ended_at, s.rowid"
        with self._read("computing mastery") as db:
            rows = db.execute(sql, params).fetchall()

        return mastery_from_rows(rows)
