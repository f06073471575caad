"""The store tests' backends: every test that takes ``backend``/``target`` runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pg_support import PostgresServer


@dataclass
class Backend:
    """Where a test's store lives, and a way to read it behind the store's back, as another process would."""

    name: str                       # "sqlite" | "postgresql"
    target: Path | str              # the SQLite file, or the database URL (with its password)
    server: PostgresServer | None = None

    def raw(self, sql: str, params: tuple = ()) -> list[tuple]:
        """One statement on a separate plain connection (``?`` placeholders), committed."""
        if self.server is not None:
            return self.server.query(self.target, sql, params)
        conn = sqlite3.connect(str(self.target))
        try:
            with conn:
                return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def tables(self) -> set[str]:
        if self.server is not None:
            return {r[0] for r in self.raw("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
        return {r[0] for r in self.raw("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path) -> Backend:
    """Every store test runs on a SQLite file and on a fresh schema (see PostgresServer.database) of a real PostgreSQL."""
    if request.param == "sqlite":
        return Backend("sqlite", tmp_path / "nested" / "folder" / "coach.sqlite3")
    server = request.getfixturevalue("postgres")
    return Backend("postgresql", server.database(), server)


@pytest.fixture
def target(backend) -> Path | str:
    return backend.target
