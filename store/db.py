"""DuckDB connection, ordered migrations, transactions and driver-error translation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from contacts.errors import DatabaseBusy, StoreError

LOCK_HELD = re.compile(r"Conflicting lock is held.*?\(PID (\d+)\)", re.S)
MIGRATION_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every bundled migration, in order."""
    found = []
    for entry in (resources.files("store") / "migrations").iterdir():
        match = MIGRATION_FILE.match(entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found)


class Store:
    """One DuckDB database. Open it with `Store.open(path)`; use it as a context manager."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str) -> None:
        self.con = con
        self.path = path

    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = False) -> Store:
        """Open (creating and migrating when writable) the database at `path`.

        A read-only open of a missing file gives an empty in-memory database, so
        previews and exports work before the first import.
        """
        target = str(path)
        if read_only and target != ":memory:" and not Path(target).exists():
            store = cls(duckdb.connect(":memory:"), target)
            store.migrate()
            return store
        if target != ":memory:":
            try:
                Path(target).parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreError(f"cannot create the folder for {target}: {err.strerror}") from err
        try:
            con = duckdb.connect(target, read_only=read_only)
        except duckdb.Error as err:
            raise translate(err, target) from err
        con.execute("SET enable_progress_bar = false")  # it prints to stdout
        store = cls(con, target)
        if read_only:
            store.check_current()
        else:
            store.migrate()
            store.fail_interrupted_batches()
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def migrate(self) -> list[str]:
        """Apply pending migrations, each in its own transaction; return their names."""
        self.run(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ)"
        )
        done = {row[0] for row in self.run("SELECT version FROM schema_migrations")}
        applied = []
        for version, name, sql in migrations():
            if version in done:
                continue
            with self.transaction():
                self.run(sql)
                self.run("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, now()])
            applied.append(f"{version:03d}_{name}")
        return applied

    def check_current(self) -> None:
        latest = migrations()[-1][0]
        try:
            rows = self.run("SELECT max(version) FROM schema_migrations")
        except duckdb.CatalogException:
            rows = [(None,)]
        if rows[0][0] != latest:
            raise StoreError(
                f"{self.path} is not a contacts database at the current version; "
                "run an import (which migrates it) first"
            )

    def fail_interrupted_batches(self) -> None:
        """A writer holds the only lock, so a batch still 'running' now was interrupted."""
        self.run(
            "UPDATE import_batches SET status = 'failed', finished_at = ?, "
            "error = 'interrupted: the process ended before the batch finished' "
            "WHERE status = 'running'",
            [now()],
        )

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All or nothing: commit on success, roll back on any exception."""
        self.run("BEGIN TRANSACTION")
        try:
            yield self
        except BaseException:
            self.run("ROLLBACK")
            raise
        self.run("COMMIT")

    def run(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Execute a statement and consume its result (DuckDB 2.0 requires that before
        the next query on the connection)."""
        return self.con.execute(sql, params or []).fetchall()

    def frame(self, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
        """Run a query and return a polars frame."""
        table = self.con.sql(sql, params=params or None).to_arrow_table()
        return pl.from_arrow(table)  # type: ignore[return-value]

    @contextmanager
    def registered(self, name: str, frame: pl.DataFrame) -> Iterator[None]:
        """Expose a polars frame to SQL as `name` for the duration of the block."""
        self.con.register(name, frame.to_arrow())
        try:
            yield
        finally:
            with suppress(duckdb.Error):  # an aborted transaction refuses; keep the real error
                self.con.unregister(name)


def now() -> datetime:
    return datetime.now(UTC)


def translate(err: duckdb.Error, path: str) -> Exception:
    """Driver errors to ours, with what to do next."""
    text = str(err)
    lock = LOCK_HELD.search(text)
    if lock:
        return DatabaseBusy(
            f"database {path} is busy: another process (PID {lock[1]}) is using it; "
            "wait for it to finish and retry"
        )
    if "Read-only file system" in text or "Permission denied" in text:
        return StoreError(f"cannot write database {path}: permission denied or read-only")
    if "not a valid DuckDB database" in text or "Unable to read" in text:
        return StoreError(f"{path} is not a DuckDB database; pass another --db")
    return StoreError(f"database {path}: {text.splitlines()[0]}")
