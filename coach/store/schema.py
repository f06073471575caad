"""The session database's schema as numbered migrations, and the code that applies them.

The schema is a list of numbered migrations (:data:`MIGRATIONS`; number = position + 1). Pending
ones are applied, all in one transaction, when a store opens, and each is recorded in the
``migrations`` table with its number and ``applied_at``. A database recorded at a higher number
than this code knows is refused with :class:`~coach.errors.StoreError` rather than misread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from coach.errors import StoreError
from coach.store.dialect import ddl_words

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
# (``executescript`` would commit half-way). The same list runs on SQLite and PostgreSQL: where a
# word differs, take it from ``ddl_words(db)`` (what SQLite gets must stay as it shipped).

Migration = Callable[[Any], None]  # a sqlite3.Connection or coach.store.postgres.Connection


def _m001_initial(db: Any) -> None:
    w = ddl_words(db)
    kinds = ", ".join(f"'{k}'" for k in SESSION_KINDS)
    statuses = ", ".join(f"'{s}'" for s in SESSION_STATUSES)
    roles = ", ".join(f"'{r}'" for r in ROLES)
    turn_kinds = ", ".join(f"'{k}'" for k in TURN_KINDS)
    db.execute(f"""
        CREATE TABLE sessions (
            id          TEXT PRIMARY KEY,
            {w["user"]:<11} TEXT NOT NULL DEFAULT '{DEFAULT_USER}',
            kind        TEXT NOT NULL CHECK (kind IN ({kinds})),
            question_id TEXT NOT NULL,
            topic       TEXT NOT NULL,
            level       TEXT NOT NULL,
            status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ({statuses})),
            started_at  {w["real"]} NOT NULL,
            ended_at    {w["real"]},
            score       INTEGER CHECK (score IS NULL OR score BETWEEN 0 AND 100),
            band        TEXT,
            state       TEXT NOT NULL DEFAULT '{{}}'{w["rowid"]}
        )""")
    db.execute(f"CREATE INDEX sessions_by_user_started ON sessions ({w['user']}, started_at)")
    db.execute("CREATE INDEX sessions_by_status_ended ON sessions (status, ended_at)")
    db.execute(f"""
        CREATE TABLE turns (
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            idx        INTEGER NOT NULL CHECK (idx >= 0),
            role       TEXT NOT NULL CHECK (role IN ({roles})),
            kind       TEXT NOT NULL CHECK (kind IN ({turn_kinds})),
            content    TEXT NOT NULL,
            created_at {w["real"]} NOT NULL,
            meta       TEXT NOT NULL DEFAULT '{{}}',
            PRIMARY KEY (session_id, idx)
        )""")
    db.execute(f"""
        CREATE TABLE grades (
            id         {w["serial_pk"]},
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            turn_index INTEGER,
            score      INTEGER,
            band       TEXT,
            result     TEXT NOT NULL,
            created_at {w["real"]} NOT NULL
        )""")
    db.execute("CREATE INDEX grades_by_session ON grades (session_id, id)")
    db.execute(f"""
        CREATE TABLE self_ratings (
            session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            dimension  TEXT NOT NULL,
            rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
            rated_at   {w["real"]} NOT NULL,
            PRIMARY KEY (session_id, dimension){w["rowid"]}
        )""")


def _m002_drafted_rubrics(db: Any) -> None:
    """Rubrics a capable model drafted for questions no bank question matches, kept so a question
    is graded against the same rubric every time (key: the model and the normalised question)."""
    w = ddl_words(db)
    db.execute(f"""
        CREATE TABLE drafted_rubrics (
            key        TEXT PRIMARY KEY,
            question   TEXT NOT NULL,
            model      TEXT NOT NULL,
            rubric     TEXT NOT NULL,
            created_at {w["real"]} NOT NULL
        )""")


MIGRATIONS: list[Migration] = [_m001_initial, _m002_drafted_rubrics]




def migrate(db: Any, where: str, now: float) -> None:
    """Apply the pending migrations inside the caller's write transaction (``where`` names the database)."""
    known = len(MIGRATIONS)
    db.execute(f"""
        CREATE TABLE IF NOT EXISTS migrations (
            number     INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at {ddl_words(db)["real"]} NOT NULL
        )""")
    applied = {row[0] for row in db.execute("SELECT number FROM migrations")}
    newest = max(applied, default=0)
    if newest > known:
        raise StoreError(
            f"{where}: the session database is at schema version {newest} but this coach "
            f"knows only up to {known}; upgrade the coach (pip install -U ai-interview-coach) "
            "or point store.path / store.url at another database"
        )
    for number, migration in enumerate(MIGRATIONS, start=1):
        if number in applied:
            continue
        migration(db)
        db.execute("INSERT INTO migrations (number, name, applied_at) VALUES (?, ?, ?)",
                   (number, migration.__name__.lstrip("_"), now))
