"""The PostgreSQL dialect of the session store (``store.url``), on psycopg 3.

psycopg is imported only here, and only when a ``postgresql://`` URL is configured, so SQLite
users never need it (``pip install 'ai-interview-coach[postgres]'`` brings it).

Connections run in autocommit mode and the store issues ``BEGIN``/``COMMIT`` itself, exactly as
it does on SQLite. Writes are READ COMMITTED transactions that lock the session's row first
(``SELECT ... FOR UPDATE``), so two app processes writing to one session take turns and a state
computed from the stored one is read and written atomically. Reads run in a REPEATABLE READ,
READ ONLY transaction on their own connection: one consistent snapshot, never behind a writer.
Migrations hold a transaction-scoped advisory lock, so two processes opening a new database at
once apply each migration once. Messages name the server and database, never the password.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable, Sequence

from coach.errors import StoreError
from coach.settings import redact_url_safe
from coach.store.dialect import POSTGRESQL

# pg_advisory_xact_lock key of the schema migrations (the bytes of "coach").
MIGRATION_LOCK = int.from_bytes(b"coach", "big")
CONNECT_TIMEOUT_S = 10


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise StoreError("store.url names a PostgreSQL database but psycopg is not installed: run "
                         "pip install 'ai-interview-coach[postgres]' (or pip install 'psycopg[binary]')") from None
    return psycopg


@lru_cache(maxsize=256)
def _translate(sql: str) -> str:
    """Our queries use SQLite's ``?`` placeholders; psycopg wants ``%s`` (no query has a literal ``?`` or ``%``)."""
    return sql.replace("?", "%s")


class Row(tuple):
    """A result row read by column name or by position, like ``sqlite3.Row``."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> "Row":
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._index)


def _row_factory(cursor: Any) -> Any:
    if cursor.description is None:
        return tuple
    index = {column.name: i for i, column in enumerate(cursor.description)}
    return lambda values: Row(values, index)


class Connection:
    """A psycopg connection answering the calls the store makes of a ``sqlite3.Connection``."""

    dialect = POSTGRESQL

    def __init__(self, raw: Any, transaction_status: Any) -> None:
        self.raw = raw
        self._idle = (transaction_status.IDLE, transaction_status.UNKNOWN)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(_translate(sql), tuple(params) if params else None)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        cursor = self.raw.cursor()
        cursor.executemany(_translate(sql), [tuple(r) for r in rows])
        return cursor

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status not in self._idle

    def close(self) -> None:
        self.raw.close()


class PostgreSQL:
    """A PostgreSQL database named by a ``postgresql://user:password@host:port/db`` URL."""

    name = POSTGRESQL
    for_update = " FOR UPDATE"
    begin_write = "BEGIN"
    begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    path = None

    def __init__(self, url: str) -> None:
        self.url = url
        self.label = redact_url_safe(url)
        self._psycopg = _psycopg()
        self.errors: tuple[type[BaseException], ...] = (self._psycopg.Error,)

    def _scrub(self, exc: BaseException) -> str:
        """The error's text with the URL's password blanked, should a driver message ever echo it."""
        text = " ".join(str(exc).split())  # libpq's messages span lines and tabs
        try:
            from urllib.parse import unquote, urlsplit

            password = urlsplit(self.url).password
        except ValueError:
            password = None
        for secret in {password, unquote(password)} if password else ():
            text = text.replace(secret, "***")
        return text

    def connect(self, *, reader: bool = False) -> Connection:
        psycopg = self._psycopg
        try:
            raw = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                  row_factory=_row_factory, application_name="coach")
        except psycopg.Error as exc:
            raise StoreError(f"{self.label}: cannot connect to the PostgreSQL session database: "
                             f"{self._scrub(exc)}; check store.url and that the server is running") from None
        return Connection(raw, psycopg.pq.TransactionStatus)

    def usable(self, conn: Connection) -> bool:
        """False once the server went away: the store then opens a new connection for the next call."""
        return not (conn.raw.closed or conn.raw.broken)

    def lock_schema(self, db: Connection) -> None:
        """Wait for any other process migrating this database; released at COMMIT or ROLLBACK."""
        db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))

    def is_current(self, db: Connection, known: int) -> bool:
        if db.execute("SELECT to_regclass('migrations') IS NOT NULL").fetchone()[0] is False:
            return False
        return db.execute("SELECT MAX(number) FROM migrations").fetchone()[0] == known

    def hint(self, exc: BaseException) -> str:
        if isinstance(exc, self._psycopg.OperationalError):
            return "; is the PostgreSQL server running? the next call reconnects"
        return ""

    def describe(self, exc: BaseException) -> str:
        return self._scrub(exc)
