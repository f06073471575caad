"""Persistence: the SQLite schema and its migrations apart from the queries on sessions and turns."""
