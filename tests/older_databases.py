"""Databases as an older release left them, for the upgrade tests."""

from __future__ import annotations

from pathlib import Path


def database_at_migration(db: Path, last: int):
    """A new database as release `last` of the migrations left it; an open connection."""
    import duckdb

    from store.db import migrations

    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ)"
    )
    for version, name, sql in (m for m in migrations() if m[0] <= last):
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
    return con
