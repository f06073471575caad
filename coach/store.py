"""SQLite persistence for practice sessions, their turns, grades and self-ratings.

One file (``settings.store_path``), opened in WAL mode with foreign keys on. Every write is its
own committed transaction, so a crash loses nothing that was already said. One connection is
shared by every thread (the Gradio app calls in from many) and a lock serialises its use; writes
take SQLite's write lock up front (``BEGIN IMMEDIATE``), so two processes on one file stay
consistent too.

The schema is a list of numbered migrations (:data:`MIGRATIONS`; number = position + 1). Pending
ones are applied, all in one transaction, when a :class:`Store` opens, and each is recorded in the
``migrations`` table with its number and ``applied_at``. A database recorded at a higher number
than this code knows is refused with :class:`~coach.errors.StoreError` rather than misread.

JSON values (engine state, turn meta, grader results) are stored as TEXT via ``json.dumps``.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.errors import QueryError, SessionError, StoreError
from coach.settings import TOPICS

if TYPE_CHECKING:  # pragma: no cover
    from coach.settings import Settings

SESSION_KINDS: tuple[str, ...] = ("practice", "self-assess")
SESSION_STATUSES: tuple[str, ...] = ("active", "done", "abandoned")
ROLES: tuple[str, ...] = ("coach", "candidate")
TURN_KINDS: tuple[str, ...] = (
    "question", "answer", "probe", "clarify-question", "clarify-answer", "critique", "note",
)
RATING_LEVELS: tuple[str, ...] = ("weak", "ok", "strong", "staff")  # self-rating 1..4, in this order
TOPIC_WINDOW = 5        # by_topic: mean of the latest this-many finished sessions per topic
DIMENSION_WINDOW = 10   # by_dimension: mean over the latest this-many graded sessions with the dimension
DEFAULT_USER = "local"

_DIMENSION_ID = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


# --------------------------------------------------------------------------------------------
# Migrations: append new functions to MIGRATIONS; never edit or reorder one that has shipped.
# They run inside the opening transaction, so each statement must be a plain ``execute``
# (``executescript`` would commit half-way).

Migration = Callable[[sqlite3.Connection], None]


def _m001_initial(db: sqlite3.Connection) -> None:
    kinds = ", ".join(f"'{k}'" for k in SESSION_KINDS)
    statuses = ", ".join(f"'{s}'" for s in SESSION_STATUSES)
    roles = ", ".join(f"'{r}'" for r in ROLES)
    turn_kinds = ", ".join(f"'{k}'" for k in TURN_KINDS)
    db.execute(f"""
        CREATE TABLE sessions (
            id          TEXT PRIMARY KEY,
            user        TEXT NOT NULL DEFAULT '{DEFAULT_USER}',
            kind        TEXT NOT NULL CHECK (kind IN ({kinds})),
            question_id TEXT NOT NULL,
            topic       TEXT NOT NULL,
            level       TEXT NOT NULL,
            status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ({statuses})),
            started_at  REAL NOT NULL,
            ended_at    REAL,
            score       INTEGER CHECK (score IS NULL OR score BETWEEN 0 AND 100),
            band        TEXT,
            state       TEXT NOT NULL DEFAULT '{{}}'
        )""")
    db.execute("CREATE INDEX sessions_by_user_started ON sessions (user, started_at)")
    db.execute("CREATE INDEX sessions_by_status_ended ON sessions (status, ended_at)")
    db.execute(f"""
        CREATE TABLE turns (
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            idx        INTEGER NOT NULL CHECK (idx >= 0),
            role       TEXT NOT NULL CHECK (role IN ({roles})),
            kind       TEXT NOT NULL CHECK (kind IN ({turn_kinds})),
            content    TEXT NOT NULL,
            created_at REAL NOT NULL,
            meta       TEXT NOT NULL DEFAULT '{{}}',
            PRIMARY KEY (session_id, idx)
        )""")
    db.execute("""
        CREATE TABLE grades (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            turn_index INTEGER,
            score      INTEGER,
            band       TEXT,
            result     TEXT NOT NULL,
            created_at REAL NOT NULL
        )""")
    db.execute("CREATE INDEX grades_by_session ON grades (session_id, id)")
    db.execute("""
        CREATE TABLE self_ratings (
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            dimension  TEXT NOT NULL,
            rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
            rated_at   REAL NOT NULL,
            PRIMARY KEY (session_id, dimension)
        )""")


MIGRATIONS: list[Migration] = [_m001_initial]


# --------------------------------------------------------------------------------------------
# Rows


@dataclass
class SessionRow:
    id: str
    kind: str            # "practice" | "self-assess"
    question_id: str
    topic: str
    level: str
    status: str          # "active" | "done" | "abandoned"
    started_at: float
    ended_at: float | None
    score: int | None
    band: str | None
    state: dict[str, Any]
    user: str = DEFAULT_USER


@dataclass
class TurnRow:
    session_id: str
    index: int
    role: str            # "coach" | "candidate"
    kind: str            # one of TURN_KINDS
    content: str
    created_at: float
    meta: dict[str, Any]


def _weakest(means: dict[str, float], counts: dict[str, int]) -> str | None:
    if not means:
        return None
    return min(means, key=lambda name: (round(means[name], 9), counts.get(name, 0), name))


@dataclass
class Mastery:
    """What finished sessions say about a candidate, from each session's final grade.

    ``by_topic``: mean final score (0-100) of the latest up-to-5 finished sessions per topic.
    ``by_dimension``: mean dimension score over the latest up-to-10 graded sessions having it.
    ``history``: one row per finished session, oldest first (for plotting progress).
    ``topic_counts`` / ``dimension_counts``: how many sessions each mean could draw on in total.
    ``unpracticed_topics``: topics of ``coach.settings.TOPICS`` with no finished session.
    """

    by_topic: dict[str, float] = field(default_factory=dict)
    by_dimension: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    topic_counts: dict[str, int] = field(default_factory=dict)
    dimension_counts: dict[str, int] = field(default_factory=dict)
    unpracticed_topics: list[str] = field(default_factory=list)

    def weakest_topic(self) -> str | None:
        """Lowest mean among practised topics; ties go to fewer sessions, then the name."""
        return _weakest(self.by_topic, self.topic_counts)

    def weakest_dimension(self) -> str | None:
        """Lowest mean among graded dimensions; ties go to fewer sessions, then the name."""
        return _weakest(self.by_dimension, self.dimension_counts)


# --------------------------------------------------------------------------------------------
# Helpers


def _dumps(value: Any, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{what} cannot be stored as JSON: {exc}") from None


def _one_of(value: Any, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise StoreError(f"{what} {value!r} is not one of: {', '.join(allowed)}")
    return value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise StoreError(f"{what} must be a non-empty string, got {value!r}")
    return value


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise StoreError(f"{what} must be a dict, got {type(value).__name__}")
    return value


def _score(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise StoreError(f"{what} must be an integer from 0 to 100, got {value!r}")
    return value


def _dimension_score(value: Any) -> int | float | None:
    """The grader writes ``{dim: {"score": n, ...}}``; a bare number is accepted too."""
    if isinstance(value, dict):
        value = value.get("score")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _session_row(row: sqlite3.Row) -> SessionRow:
    return SessionRow(
        id=row["id"], kind=row["kind"], question_id=row["question_id"], topic=row["topic"],
        level=row["level"], status=row["status"], started_at=row["started_at"], ended_at=row["ended_at"],
        score=row["score"], band=row["band"], state=json.loads(row["state"]), user=row["user"],
    )


def _turn_row(row: sqlite3.Row) -> TurnRow:
    return TurnRow(
        session_id=row["session_id"], index=row["idx"], role=row["role"], kind=row["kind"],
        content=row["content"], created_at=row["created_at"], meta=json.loads(row["meta"]),
    )


def _no_session(session_id: str) -> SessionError:
    return SessionError(f"no session {session_id}: see `coach progress` for ids")


# --------------------------------------------------------------------------------------------
# The store


class Store:
    """Sessions, turns, grades and self-ratings in one SQLite file; safe to share across threads."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path.parent}: cannot create the folder for the session database: "
                             f"{exc.strerror or exc}") from None
        self._conn: sqlite3.Connection | None = self._connect()
        try:
            self._migrate()
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Store":
        return cls(settings.store_path)

    # -- connection ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot open the session database: {exc}") from None
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"{self.path}: not a usable session database ({exc}); "
                             "move it aside or set store.path to another file") from None
        return conn

    def _migrate(self) -> None:
        known = len(MIGRATIONS)
        with self._write("migrating the schema") as db:
            db.execute("""
                CREATE TABLE IF NOT EXISTS migrations (
                    number     INTEGER PRIMARY KEY,
                    name       TEXT NOT NULL,
                    applied_at REAL NOT NULL
                )""")
            applied = {row[0] for row in db.execute("SELECT number FROM migrations")}
            newest = max(applied, default=0)
            if newest > known:
                raise StoreError(
                    f"{self.path}: the session database is at schema version {newest} but this coach "
                    f"knows only up to {known}; upgrade the coach (pip install -U ai-interview-coach) "
                    "or set store.path to another file"
                )
            for number, migration in enumerate(MIGRATIONS, start=1):
                if number in applied:
                    continue
                migration(db)
                db.execute("INSERT INTO migrations (number, name, applied_at) VALUES (?, ?, ?)",
                           (number, migration.__name__.lstrip("_"), self._clock()))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"{self.path}: the session store is closed")
        return self._conn

    def _fail(self, what: str, exc: sqlite3.Error) -> StoreError:
        hint = ""
        if "locked" in str(exc) or "busy" in str(exc):
            hint = "; another coach process is holding the database, try again"
        return StoreError(f"{self.path}: {what} failed: {exc}{hint}")

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        """One committed transaction holding SQLite's write lock from the start."""
        with self._lock:
            db = self._db()
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._fail(what, exc) from None
            try:
                yield db
            except BaseException as exc:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.Error):
                    raise self._fail(what, exc) from exc
                raise
            try:
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise self._fail(what, exc) from None

    @contextmanager
    def _read(self, what: str) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several SELECTs."""
        with self._lock:
            db = self._db()
            try:
                db.execute("BEGIN")
                yield db
            except sqlite3.Error as exc:
                raise self._fail(what, exc) from exc
            finally:
                if db.in_transaction:
                    db.execute("COMMIT")

    @staticmethod
    def _require(db: sqlite3.Connection, session_id: str) -> sqlite3.Row:
        row = db.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
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
                "INSERT INTO sessions (id, user, kind, question_id, topic, level, status, started_at, state)"
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
                 meta: dict[str, Any] | None = None) -> TurnRow:
        _one_of(role, ROLES, "turn role")
        _one_of(kind, TURN_KINDS, "turn kind")
        if not isinstance(content, str):
            raise StoreError(f"turn content must be a string, got {type(content).__name__}")
        meta_json = _dumps(_mapping(meta, "turn meta"), f"meta of a turn in session {session_id}")
        with self._write("saving a turn") as db:
            self._require(db, session_id)
            index = db.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM turns WHERE session_id = ?",
                               (session_id,)).fetchone()[0]
            created_at = self._clock()
            db.execute(
                "INSERT INTO turns (session_id, idx, role, kind, content, created_at, meta)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, index, role, kind, content, created_at, meta_json),
            )
        return TurnRow(session_id=session_id, index=index, role=role, kind=kind, content=content,
                       created_at=created_at, meta=json.loads(meta_json))

    def save_grade(self, session_id: str, result: dict[str, Any]) -> None:
        """Keep this grade (every one is kept); the latest saved is the session's current grade."""
        result = _mapping(result, "grade result")
        if not result:
            raise StoreError(f"grade for session {session_id} is empty")
        score = result.get("score")
        if score is not None:
            _score(score, f"grade score for session {session_id}")
        band = result.get("band")
        if band is not None and not isinstance(band, str):
            raise StoreError(f"grade band for session {session_id} must be a string, got {band!r}")
        dims = result.get("dimensions", {})
        if not isinstance(dims, dict):
            raise StoreError(f"grade dimensions for session {session_id} must be a dict, got {type(dims).__name__}")
        result_json = _dumps(result, f"grade for session {session_id}")
        with self._write("saving a grade") as db:
            self._require(db, session_id)
            turn_index = db.execute("SELECT MAX(idx) FROM turns WHERE session_id = ?", (session_id,)).fetchone()[0]
            db.execute(
                "INSERT INTO grades (session_id, turn_index, score, band, result, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, turn_index, score, band, result_json, self._clock()),
            )

    def save_self_ratings(self, session_id: str, ratings: dict[str, int]) -> None:
        """Record the candidate's own rating per dimension: 1 weak, 2 ok, 3 strong, 4 staff.

        Dimensions already rated in this session are overwritten; others are kept.
        """
        if not isinstance(ratings, dict) or not ratings:
            raise QueryError("self-ratings: give at least one dimension with a rating from 1 (weak) to 4 (staff)")
        for dimension, rating in ratings.items():
            if not isinstance(dimension, str) or not _DIMENSION_ID.match(dimension):
                raise QueryError(f"self-ratings: {dimension!r} is not a dimension id "
                                 "(lower-case letters, digits, '-' or '_', e.g. 'framing')")
            if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 4:
                raise QueryError(f"self-ratings: dimension {dimension!r}: rating {rating!r} must be an integer "
                                 f"from 1 to 4 ({', '.join(f'{i} {n}' for i, n in enumerate(RATING_LEVELS, 1))})")
        with self._write("saving self-ratings") as db:
            self._require(db, session_id)
            now = self._clock()
            db.executemany(
                "INSERT INTO self_ratings (session_id, dimension, rating, rated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (session_id, dimension) DO UPDATE SET rating = excluded.rating,"
                " rated_at = excluded.rated_at",
                [(session_id, d, r, now) for d, r in ratings.items()],
            )

    def finish(self, session_id: str, score: int, band: str, status: str = "done") -> None:
        """Close an active session with its final score; a session can be finished only once."""
        _score(score, f"final score for session {session_id}")
        _text(band, "band")
        if status not in ("done", "abandoned"):
            raise StoreError(f"finish status {status!r} is not one of: done, abandoned")
        with self._write("finishing a session") as db:
            row = self._require(db, session_id)
            if row["status"] != "active":
                raise SessionError(f"session {session_id} is already {row['status']}; start a new one")
            db.execute("UPDATE sessions SET status = ?, ended_at = ?, score = ?, band = ? WHERE id = ?",
                       (status, self._clock(), score, band, session_id))

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
            clauses.append("user = ?")
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
            sql += " WHERE user = ?"
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
            sql += " AND s.user = ?"
            params = (user,)
        sql += " ORDER BY s.ended_at, s.rowid"
        with self._read("computing mastery") as db:
            rows = db.execute(sql, params).fetchall()

        history: list[dict[str, Any]] = []
        topic_scores: dict[str, list[int]] = {}
        dim_scores: dict[str, list[float]] = {}
        for row in rows:
            grade = json.loads(row["grade"]) if row["grade"] is not None else None
            dims: dict[str, int | float] = {}
            raw_dims = (grade or {}).get("dimensions") or {}
            if isinstance(raw_dims, dict):
                for dim, value in raw_dims.items():
                    got = _dimension_score(value)
                    if got is not None:
                        dims[dim] = got
            history.append({
                "session_id": row["id"], "ended_at": row["ended_at"], "topic": row["topic"],
                "question_id": row["question_id"], "kind": row["kind"], "score": row["score"],
                "band": row["band"], "dimensions": dims,
            })
            topic_scores.setdefault(row["topic"], []).append(row["score"])
            for dim, got in dims.items():
                dim_scores.setdefault(dim, []).append(got)

        def window_mean(values: list[float], n: int) -> float:
            latest = values[-n:]
            return sum(latest) / len(latest)

        return Mastery(
            by_topic={t: window_mean(v, TOPIC_WINDOW) for t, v in topic_scores.items()},
            by_dimension={d: window_mean(v, DIMENSION_WINDOW) for d, v in dim_scores.items()},
            history=history,
            topic_counts={t: len(v) for t, v in topic_scores.items()},
            dimension_counts={d: len(v) for d, v in dim_scores.items()},
            unpracticed_topics=[t for t in TOPICS if t not in topic_scores],
        )
