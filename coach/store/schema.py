"""The session database's schema as numbered migrations, and the code that applies them.

The schema is a list of numbered migrations (:data:`MIGRATIONS`; number = position + 1). Pending
ones are applied, all in one transaction, when a store opens, and each is recorded in the
``migrations`` table with its number and ``applied_at``. A database recorded at a higher number
than this code knows is refused with :class:`~coach.errors.StoreError` rather than misread.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from coach.errors import StoreError

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

DIMENSION_ID = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")

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




def connect(path: Path, *, reader: bool = False) -> sqlite3.Connection:
    """A connection to the session database in WAL mode.

    WAL lets readers go on while another connection or process writes; a ``reader`` connection
    is query-only and serves every SELECT, so no read ever waits behind a write transaction.
    """
    try:
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the session database: {exc}") from None
    try:
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        if reader:
            conn.execute("PRAGMA query_only = ON")
        else:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"{path}: not a usable session database ({exc}); "
                         "move it aside or set store.path to another file") from None
    return conn


def is_current(db: sqlite3.Connection) -> bool:
    """True when every migration is already applied: opening then needs no write lock."""
    try:
        newest = db.execute("SELECT MAX(number) FROM migrations").fetchone()[0]
    except sqlite3.OperationalError:  # a new file: no migrations table yet
        return False
    return newest == len(MIGRATIONS)


def migrate(db: sqlite3.Connection, path: Path, now: float) -> None:
    """Apply the pending migrations inside the caller's write transaction."""
    known = len(MIGRATIONS)
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
            f"{path}: the session database is at schema version {newest} but this coach "
            f"knows only up to {known}; upgrade the coach (pip install -U ai-interview-coach) "
            "or set store.path to another file"
        )
    for number, migration in enumerate(MIGRATIONS, start=1):
        if number in applied:
            continue
        migration(db)
        db.execute("INSERT INTO migrations (number, name, applied_at) VALUES (?, ?, ?)",
                   (number, migration.__name__.lstrip("_"), now))
