"""DuckDB connection, ordered migrations, transactions and driver-error translation."""

from __future__ import annotations

import errno
import glob
import os
import re
import secrets
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from contacts.errors import (
    ContactsError,
    DatabaseBusy,
    DatabaseNotWritable,
    DiskFull,
    NotADatabase,
    StoreError,
)

if TYPE_CHECKING:  # polars is imported where frames are made: interactive commands skip it
    import polars as pl

LOCK_HELD = re.compile(r"Conflicting lock is held.*?\(PID (\d+)\)", re.S)
MIGRATION_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
# contacts.phone_key of an E.164 phone, as SQL with the phone for {} (migration 008)
PHONE_KEY = "CAST(substr({}, 2) AS BIGINT)"
# The key of text that may not be E.164 (NULL unless it is '+' and 1-15 digits, the first
# not 0): joining `contacts.phone_key` on it matches exactly the stored phones equal to
# the text, without reading the stored phones ('+0123' gets no key, never 123's).
MATCHING_KEY = (
    "CASE WHEN regexp_full_match({0}, '[+][1-9][0-9]{{0,14}}') "
    f"THEN {PHONE_KEY.format('{0}')} END"
)
E164 = re.compile(r"[+][1-9][0-9]{0,14}")


def phone_key(phone: str) -> int | None:
    """MATCHING_KEY in Python: the key of `phone` when it is E.164, else None (then no
    stored phone equals it)."""
    return int(phone[1:]) if E164.fullmatch(phone) else None


DISK_FULL = ("No space left on device", "Disk quota exceeded", "not enough space")
NOT_A_DATABASE = ("not a valid DuckDB database", "Unable to read", "Could not read enough bytes")

# Real database files this process has open, by path: see Store._count_open.
_OPEN_HERE: Counter[str] = Counter()
_OPEN_GUARD = threading.Lock()


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
        self._key: str | None = None  # set while counted in _OPEN_HERE

    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = False, wait_seconds: float = 0) -> Store:
        """Open (creating and migrating when writable) the database at `path`.

        DuckDB lets one process at a time open a file; while another holds it, retry with
        a short backoff for up to `wait_seconds`, then raise `DatabaseBusy` saying how
        long we waited and who holds it. A read-only open of a missing file gives an
        empty in-memory database, so previews and exports work before the first import.
        """
        deadline = time.monotonic() + wait_seconds
        pause = 0.05
        while True:
            try:
                return cls._open_once(str(path), read_only)
            except DatabaseBusy as busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    if wait_seconds <= 0:
                        raise
                    raise DatabaseBusy(busy.path, busy.holder, wait_seconds) from None
                time.sleep(min(pause, left))
                pause = min(pause * 2, 0.5)

    @classmethod
    def _open_once(cls, target: str, read_only: bool) -> Store:
        if target == ":memory:":
            store = cls(duckdb.connect(target), target)
            store.migrate()
            return store
        if read_only and not Path(target).exists():
            store = cls(duckdb.connect(":memory:"), target)
            store.migrate()
            return store
        if not read_only and not Path(target).exists():
            _create(target)
        try:
            con = duckdb.connect(target, read_only=read_only)
        except duckdb.Error as err:
            raise translate(err, target) from err
        store = cls(con, target)
        first_here = store._count_open()
        try:
            store.run("SET enable_progress_bar = false")  # it prints to stdout
            if read_only and store._behind():
                store.close()
                return cls._migrated_then_read(target)
            if read_only:
                store.check_current()
            else:
                store.migrate()
                if first_here:
                    store.fail_interrupted_batches()
                    store.remove_stale_staged_files()
        except BaseException:
            with suppress(ContactsError):  # keep the error that stopped the open
                store.close()
            raise
        return store

    @classmethod
    def _migrated_then_read(cls, target: str) -> Store:
        """A read-only open of a database an older release wrote: migrate it as a writer
        would (scheduled exports and searches keep working after an upgrade), then open
        it read-only. If it cannot be opened for writing, say so as check_current does."""
        try:
            cls._open_once(target, read_only=False).close()
        except DatabaseBusy:
            raise  # Store.open waits and tries again
        except (ContactsError, duckdb.Error) as err:
            raise StoreError(
                f"{target} is a contacts database of an older release and could not be "
                f"migrated ({err}); run an import, which migrates it, where it is writable"
            ) from err
        return cls._open_once(target, read_only=True)

    def _behind(self) -> bool:
        """Whether this is a contacts database of an older release (migrations to apply)."""
        try:
            version = self.run("SELECT max(version) FROM schema_migrations")[0][0]
        except duckdb.CatalogException:
            return False  # not a contacts database at all: check_current says so
        return version is not None and version < migrations()[-1][0]

    def _count_open(self) -> bool:
        """Count this connection; True if no other Store in this process has the file.

        DuckDB's lock is per process: a second connection from this process shares the
        first one's database, and any batch it is writing is not interrupted.
        """
        self._key = os.path.realpath(self.path)
        with _OPEN_GUARD:
            _OPEN_HERE[self._key] += 1
            return _OPEN_HERE[self._key] == 1

    def cursor(self) -> Store:
        """Another connection to this open database, for use from one other thread: its
        own transactions, the same process lock. Close it before this Store."""
        try:
            return Store(self.con.cursor(), self.path)
        except duckdb.Error as err:
            raise translate(err, self.path) from err

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if kind is None:
            self.close()
            return
        with suppress(ContactsError):  # keep the error already on its way out
            self.close()

    def close(self) -> None:
        """Close (DuckDB checkpoints here, so a full disk can surface now) and let go of the
        connection: a failed flow run's frames, kept by Prefect, can hold this Store."""
        con = self.__dict__.pop("con", None)
        if con is None:  # closed already
            return
        try:
            con.close()
        except duckdb.Error as err:
            raise translate(err, self.path) from err
        finally:
            if self._key is not None:
                with _OPEN_GUARD:
                    _OPEN_HERE[self._key] -= 1
                self._key = None

    @contextmanager
    def closing_meanwhile(self) -> Iterator[None]:
        """Close in a thread while the block runs, then wait for it. DuckDB checkpoints
        on close (0.5 s after a million-row batch), and what follows a committed batch,
        its report, needs no database. A failed close raises after the block, unless the
        block raised first."""
        failures: list[BaseException] = []

        def close() -> None:
            try:
                self.close()
            except BaseException as err:  # re-raised below, in the caller's thread
                failures.append(err)

        closer = threading.Thread(target=close, name="contacts-store-close")
        closer.start()
        try:
            yield
        finally:
            closer.join()
        if failures:
            raise failures[0]

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
        """A writer holds the only lock, so any run still 'running' now was interrupted:
        contact imports, DNC loads and call imports alike."""
        for table in ("import_batches", "dnc_loads", "call_imports"):
            self.run(
                f"UPDATE {table} SET status = 'failed', finished_at = ?, "
                "error = 'interrupted: the process ended before it finished' "
                "WHERE status = 'running'",
                [now()],
            )

    def _staged_prefix(self) -> tuple[Path, str]:
        if self.path == ":memory:":
            return Path(tempfile.gettempdir()), ".memory.staged-"
        path = Path(self.path)
        return path.parent, f".{path.name}.staged-"

    def remove_stale_staged_files(self) -> None:
        """Parquet files of `staged` left by a process killed mid-write: this writer holds
        the database's only lock, so no other process is using them."""
        folder, prefix = self._staged_prefix()
        for leftover in folder.glob(glob.escape(prefix) + "*.parquet"):
            with suppress(OSError):
                leftover.unlink()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All or nothing: commit on success, roll back on any exception."""
        self.run("BEGIN TRANSACTION")
        try:
            yield self
        except BaseException:
            with suppress(duckdb.Error, ContactsError):  # keep the error that caused it
                self.con.execute("ROLLBACK")
            raise
        self.run("COMMIT")  # a failed commit rolls back by itself

    def run(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Execute a statement and consume its result (DuckDB 2.0 requires that before
        the next query on the connection)."""
        try:
            return self.con.execute(sql, params or []).fetchall()
        except duckdb.Error as err:
            ours = environment_error(err, self.path)
            if ours is None:
                raise
            raise ours from err

    def frame(self, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
        """Run a query and return a polars frame."""
        import polars as pl

        try:
            table = self.con.sql(sql, params=params or None).to_arrow_table()
        except duckdb.Error as err:
            ours = environment_error(err, self.path)
            if ours is None:
                raise
            raise ours from err
        return pl.from_arrow(table)  # type: ignore[return-value]

    def frames(
        self, sql: str, params: list[Any] | None = None, *, rows: int = 200_000
    ) -> Iterator[pl.DataFrame]:
        """Run a query and yield its result as polars frames, in order: first an empty
        frame with the result's columns (a header even when no row comes), then frames
        of at most `rows` rows as DuckDB produces them. The result is never held whole
        here (DuckDB still holds what an ORDER BY sorts)."""
        import polars as pl

        try:
            reader = self.con.sql(sql, params=params or None).to_arrow_reader(rows)
            yield pl.from_arrow(reader.schema.empty_table())  # type: ignore[misc]
            for batch in reader:
                yield pl.from_arrow(batch)  # type: ignore[misc]
        except duckdb.Error as err:
            ours = environment_error(err, self.path)
            if ours is None:
                raise
            raise ours from err

    @contextmanager
    def registered(self, name: str, frame: pl.DataFrame) -> Iterator[None]:
        """Expose a polars frame to SQL as `name` for the duration of the block.

        Arrow's string views share polars' buffers; plain Arrow strings would copy every
        cell (~300 MB per million contacts).
        """
        import polars as pl

        self.con.register(name, frame.to_arrow(compat_level=pl.CompatLevel.newest()))
        try:
            yield
        finally:
            with suppress(duckdb.Error):  # an aborted transaction refuses; keep the real error
                self.con.unregister(name)

    @contextmanager
    def source(self, name: str, frame: pl.DataFrame, *, on_disk: bool) -> Iterator[str]:
        """`frame` as a table expression for a statement's FROM: registered as `name`,
        or when `on_disk` through a Parquet file (`staged`)."""
        if on_disk:
            with self.staged(frame) as expression:
                yield expression
        else:
            with self.registered(name, frame):
                yield name

    @contextmanager
    def staged(self, frame: pl.DataFrame) -> Iterator[str]:
        """`frame` as a table expression for one statement's FROM, via a Parquet file.

        For the large inserts of a transaction: DuckDB holds the rows a transaction
        inserts from a registered frame in memory until it commits, but writes those
        it reads from Parquet to the database file as it goes. The file sits next to
        the database (same disk, same permissions) and is removed after the block.
        Writing it costs ~0.2 s per 500k contacts.
        """
        folder, prefix = self._staged_prefix()
        name = None
        try:
            handle, name = tempfile.mkstemp(prefix=prefix, suffix=".parquet", dir=folder)
            os.close(handle)
            frame.write_parquet(name, compression="uncompressed", statistics=False)
        except Exception as err:  # polars reports a full disk as its own error type
            if name is not None:
                with suppress(OSError):
                    os.remove(name)
            ours = environment_error(err, self.path)
            if ours is None:
                raise
            raise ours from err
        try:
            yield "read_parquet('" + name.replace("'", "''") + "')"
        finally:
            with suppress(OSError):
                os.remove(name)


def now() -> datetime:
    return datetime.now(UTC)


def _create(target: str) -> None:
    """Create and migrate a new database under a temporary name, then link it into place.

    A kill while DuckDB writes a new file's headers would leave a file it refuses to
    open; this way the database either does not exist or is complete. `os.link` fails if
    another process created the file meanwhile: then we use theirs.
    """
    folder = Path(target).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise translate(err, target) from err
    for stale in folder.glob(f".{glob.escape(Path(target).name)}.creating-*"):
        if not _alive(stale.name.rsplit("-", 2)[-2]):  # left by a killed creation
            with suppress(OSError):
                stale.unlink()
    partial = folder / f".{Path(target).name}.creating-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        try:
            con = duckdb.connect(str(partial))
        except duckdb.Error as err:
            raise translate(err, target) from err
        store = Store(con, target)  # errors name the database the user asked for
        try:
            store.migrate()
        finally:
            store.close()
        with suppress(FileExistsError):
            os.link(partial, target)
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise translate(err, target) from err
        # No hard links on this file system: the caller's connect creates the file.
    finally:
        for leftover in (partial, partial.with_name(partial.name + ".wal")):
            with suppress(OSError):
                leftover.unlink()


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (ValueError, OSError):  # not a pid, or another user's process
        return True
    return True


def translate(err: BaseException, path: str) -> ContactsError:
    """Driver and OS errors to ours, with what to do next (the busy lock is retryable)."""
    return environment_error(err, path) or StoreError(f"database {path}: {_first_line(err)}")


def is_disk_full(err: BaseException) -> bool:
    """A full disk or quota, as an OSError or in the text of DuckDB's or polars' errors."""
    code = getattr(err, "errno", None)
    return code in (errno.ENOSPC, errno.EDQUOT) or any(s in str(err) for s in DISK_FULL)


def environment_error(err: BaseException, path: str) -> ContactsError | None:
    """Ours for a lock, disk, permission or file problem; None for anything else (a bug,
    or bad data), which the caller re-raises unchanged."""
    text = str(err)
    code = getattr(err, "errno", None)
    lock = LOCK_HELD.search(text)
    if lock:
        return DatabaseBusy(path, f"another process (PID {lock[1]})")
    if "Could not set lock on file" in text:
        return DatabaseBusy(path)
    if "different configuration than existing connections" in text:
        return DatabaseBusy(path, "another connection in this process")
    if is_disk_full(err):
        return DiskFull(
            f"cannot write database {path}: the disk is full; free some space and retry"
        )
    if code == errno.EROFS or "Read-only file system" in text:
        return DatabaseNotWritable(
            f"cannot write database {path}: the file system is read-only; "
            "pass a --db on a writable disk"
        )
    if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        return DatabaseNotWritable(
            f"cannot write database {path}: permission denied; make the file and its "
            "folder writable for this user, or pass another --db"
        )
    if any(s in text for s in NOT_A_DATABASE):
        return NotADatabase(f"{path} is not a DuckDB database; pass another --db")
    if "database has been invalidated" in text:
        return StoreError(
            f"database {path} was closed by an earlier error in this process; run the command again"
        )
    if isinstance(err, OSError):
        return StoreError(f"database {path}: {err.strerror or _first_line(err)}")
    return None


def _first_line(err: BaseException) -> str:
    lines = str(err).splitlines()
    return lines[0] if lines else type(err).__name__
