"""Surviving faults: SIGKILL at any moment, two imports at once, a read-only or full
disk, and flow logs that never carry a contact's phone, name or email.

The kill and concurrency tests run real imports in subprocesses (a small driver over
`run_import`, no Prefect start-up); `bench/kill_import.py` runs the kill loop for longer.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import random
import re
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from contacts.errors import (
    BatchFailed,
    DatabaseBusy,
    DatabaseNotWritable,
    DiskFull,
    NotADatabase,
    StoreError,
)
from flows.import_contacts import import_contacts  # imported early: see the logs test
from store import imports as store_imports
from store.audit import ImportBooks, audit_imports
from store.db import Store, environment_error, now, translate

ROOT = Path(__file__).parent.parent
ROWS = 20_000

# Imports one file; prints "opening" before it opens the database and "begun" once its
# batch is committed as running.
DRIVER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import contacts.importer as importer

    real_open, real_begin = importer.Store.open, importer.begin_batch
    def open_store(*args, **kwargs):
        print("opening", time.monotonic(), flush=True)
        return real_open(*args, **kwargs)
    def begin_batch(*args, **kwargs):
        real_begin(*args, **kwargs)
        print("begun", time.monotonic(), flush=True)
    importer.Store.open, importer.begin_batch = open_store, begin_batch

    source, db, data_dir, lock_wait = sys.argv[1:5]
    print("ready", time.monotonic(), flush=True)
    stats = importer.run_import(importer.ImportOptions(
        path=Path(source), db=Path(db), data_dir=Path(data_dir), lock_wait=float(lock_wait)))
    print("done", stats.batch_id, time.monotonic(), flush=True)
""")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two messy files of 20k rows; the second shares 30% of its contacts with the first."""
    folder = tmp_path_factory.mktemp("generated")
    generate = [sys.executable, str(ROOT / "bench" / "generate.py"), "--rows", str(ROWS)]
    specs = {
        "a.csv": ["--seed", "1"],
        "b.csv": ["--seed", "2", "--overlap-with-seed", "1", "--overlap", "0.3"],
    }
    runs = [
        subprocess.Popen(
            [*generate, "--out", str(folder / name), *extra], stdout=subprocess.DEVNULL
        )
        for name, extra in specs.items()
    ]
    assert [run.wait() for run in runs] == [0, 0]
    return [folder / name for name in specs]


def start_import(source: Path, db: Path, data_dir: Path, lock_wait: float = 10) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(source), str(db), str(data_dir), str(lock_wait)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )


def wait_for_line(proc: subprocess.Popen, prefix: str, timeout: float) -> bool:
    """Read the driver's stdout until a line starts with `prefix`; False if it ended first."""
    deadline = time.monotonic() + timeout
    buffer = b""
    fd = proc.stdout.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], deadline - time.monotonic())
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            return False
        buffer += chunk
        if any(line.startswith(prefix.encode()) for line in buffer.split(b"\n")):
            return True
    raise AssertionError(f"no {prefix!r} from the import within {timeout} s")


def check_ledger(db: Path) -> ImportBooks:
    """Open as the next writer would (failing interrupted batches) and check the books."""
    with Store.open(db) as store:
        books = audit_imports(store)
    assert books.problems == []
    return books


EMPTY = ImportBooks()
FIXTURES = Path(__file__).parent / "fixtures"


def test_the_books_find_a_reject_recorded_twice_for_one_row(workspace):
    """import_rejects has no key (migration 009): the audit checks one per row."""
    workspace.run_import(FIXTURES / "invalid_phones.csv")
    with Store.open(workspace.db) as store:
        assert audit_imports(store).problems == []
        store.run(
            "INSERT INTO import_rejects SELECT * FROM import_rejects ORDER BY source_row LIMIT 1"
        )
        problems = audit_imports(store).problems
    assert any("1 reject records repeat a batch's row" in p for p in problems)


def test_sigkill_at_any_moment_leaves_the_database_before_or_after_the_batch(generated, tmp_path):
    db, data_dir = tmp_path / "contacts.duckdb", tmp_path / "data"
    rng = random.Random(20261124)
    # The first three are fixed so each outcome is seen: killed while creating the
    # database (before the batch), killed right after the batch began, not killed.
    plan = [("opening", 0.05), ("begun", 0.0), ("none", 0.0)]
    for _ in range(9):
        mode = rng.choice(["anywhere", "anywhere", "opening", "begun", "begun"])
        limit = {"anywhere": 2.2, "opening": 0.15, "begun": 0.5}[mode]
        plan.append((mode, rng.uniform(0.3 if mode == "anywhere" else 0, limit)))
    outcomes: Counter[str] = Counter()
    for index, (mode, delay) in enumerate(plan):
        before = check_ledger(db) if db.exists() else EMPTY
        proc = start_import(generated[index % 2], db, data_dir)
        if mode == "anywhere":
            time.sleep(delay)
        elif mode in ("opening", "begun"):
            wait_for_line(proc, mode, timeout=30)
            time.sleep(delay)
        if mode != "none":
            proc.send_signal(signal.SIGKILL)
        _, errors = proc.communicate(timeout=60)
        code = proc.returncode
        assert code in (0, -signal.SIGKILL), errors.decode()  # killed, or finished
        after = check_ledger(db)
        new = set(after.status) - set(before.status)
        assert len(new) <= 1 and set(before.status) <= set(after.status)
        assert all(after.status[b] == before.status[b] for b in before.status)
        if code == 0:
            outcome = "finished"
        elif not new:
            outcome = "killed before the batch"
        else:
            outcome = f"killed, batch {after.status[new.pop()]}"
        if outcome in ("killed before the batch", "killed, batch failed"):
            assert after.contacts == before.contacts
        else:
            (batch,) = set(after.imported) - set(before.imported)
            assert after.contacts == before.contacts + after.imported[batch]
        outcomes[outcome] += 1
    print(f"\n{len(plan)} kill iterations: {dict(outcomes)}")
    assert outcomes["killed before the batch"] and outcomes["killed, batch failed"]
    assert outcomes["finished"] + outcomes["killed, batch completed"]


def test_two_imports_at_once_both_complete(generated, tmp_path):
    db, data_dir = tmp_path / "contacts.duckdb", tmp_path / "data"
    first, second = (start_import(path, db, data_dir, lock_wait=60) for path in generated)
    results = [proc.communicate(timeout=90) for proc in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], results
    ledger = check_ledger(db)
    assert sorted(ledger.status.values()) == ["completed", "completed"]


def hold_lock(db: Path, seconds: float) -> subprocess.Popen:
    """Another process that holds the database for `seconds`."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, time
            con = duckdb.connect({str(db)!r})
            print("locked", flush=True)
            time.sleep({seconds})
        """)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_store_open_waits_for_the_lock(tmp_path):
    db = tmp_path / "contacts.duckdb"
    Store.open(db).close()
    holder = hold_lock(db, 1.0)
    started = time.monotonic()
    with Store.open(db, wait_seconds=30):
        waited = time.monotonic() - started
    holder.wait()
    assert 0.3 < waited < 10


def test_store_open_gives_up_saying_how_long_it_waited_and_who_holds_it(tmp_path):
    db = tmp_path / "contacts.duckdb"
    holder = hold_lock(db, 30)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseBusy) as caught:
            Store.open(db, wait_seconds=0.6)
        assert 0.6 <= time.monotonic() - started < 5
        assert str(caught.value) == (
            f"database {db} is busy: another process (PID {holder.pid}) still held it after "
            "0.6 s of waiting; wait for it to finish and retry"
        )
    finally:
        holder.kill()
        holder.wait()


def test_retries_are_only_for_the_lock(tmp_path):
    """A file that is not a database fails at once, whatever the wait."""
    db = tmp_path / "contacts.duckdb"
    db.write_bytes(b"not a database" * 1000)
    started = time.monotonic()
    with pytest.raises(NotADatabase):
        Store.open(db, wait_seconds=30)
    assert time.monotonic() - started < 2


def test_a_second_store_in_the_same_process_does_not_fail_a_live_batch(workspace):
    """DuckDB shares one database between a process's connections: a second open is not
    proof that a 'running' batch was interrupted."""
    batch = {"batch_id": "b1", "source": "x.csv", "sha256": "", "started_at": now(),
             "mapping": {}, "region": "US", "on_duplicate": "skip", "campaign": None,
             "encoding": "utf-8"}  # fmt: skip
    with Store.open(workspace.db) as writing:
        store_imports.begin_batch(writing, batch)
        with Store.open(workspace.db) as other:
            assert other.run("SELECT status FROM import_batches") == [("running",)]
    with Store.open(workspace.db) as store:
        assert store.run("SELECT status FROM import_batches") == [("failed",)]


def test_closing_meanwhile_closes_while_the_block_runs_and_raises_a_failed_close(
    workspace, monkeypatch
):
    """An import closes its store (DuckDB's checkpoint) while it writes the report."""
    store = Store.open(workspace.db)
    close, events = Store.close, []

    def slow_close(self: Store) -> None:
        events.append("close started")
        time.sleep(0.2)
        close(self)
        events.append("closed")

    monkeypatch.setattr(Store, "close", slow_close)
    with store.closing_meanwhile():
        time.sleep(0.05)
        events.append("block")
    assert events == ["close started", "block", "closed"]
    assert "con" not in store.__dict__
    with Store.open(workspace.db) as again:  # the file is free again
        assert again.run("SELECT 1") == [(1,)]

    def failing_close(self: Store) -> None:
        close(self)
        raise DiskFull(str(workspace.db), "the disk is full")

    monkeypatch.setattr(Store, "close", failing_close)
    with pytest.raises(DiskFull), Store.open(workspace.db).closing_meanwhile():  # after it
        events.append("second block")
    assert events[-1] == "second block"
    failing = pytest.raises(RuntimeError, match="the report failed")  # the block's error wins
    with failing, Store.open(workspace.db).closing_meanwhile():
        raise RuntimeError("the report failed")


def test_a_kill_while_creating_the_database_leaves_no_database(workspace):
    """Killed between DuckDB writing the new file and the migrations: no half-made file at
    the database path, only a hidden partial one beside it, which the next creation
    removes."""
    killed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(f"""
            import os, signal
            from store.db import Store
            Store.migrate = lambda self: os.kill(os.getpid(), signal.SIGKILL)
            Store.open({str(workspace.db)!r})
        """)],
        cwd=ROOT,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    assert not workspace.db.exists()
    assert [p.name.split("-")[0] for p in workspace.root.iterdir()] == [".contacts.duckdb.creating"]
    with Store.open(workspace.db) as store:
        assert store.run("SELECT count(*) FROM import_batches") == [(0,)]
    assert [p.name for p in workspace.root.iterdir()] == ["contacts.duckdb"]  # cleaned up


# Error texts DuckDB 2.0 and the OS gave here for each condition.
DRIVER_ERRORS = [
    (duckdb.IOException('IO Error: Could not set lock on file "/d/c.duckdb": Conflicting '
                        "lock is held in /usr/bin/python3.11 (PID 4242) by user root. See "
                        "also https://duckdb.org/docs/stable/connect/concurrency"),
     DatabaseBusy, "database /d/c.duckdb is busy: another process (PID 4242) is using it; "
                   "wait for it to finish and retry"),
    (duckdb.ConnectionException("Connection Error: Can't open a connection to same database "
                                "file with a different configuration than existing connections"),
     DatabaseBusy, "database /d/c.duckdb is busy: another connection in this process is using "
                   "it; wait for it to finish and retry"),
    (duckdb.IOException('IO Error: Cannot open file "/d/c.duckdb": Permission denied'),
     DatabaseNotWritable, "cannot write database /d/c.duckdb: permission denied; make the file "
                          "and its folder writable for this user, or pass another --db"),
    (duckdb.TransactionException('TransactionContext Error: Failed to commit: Cannot open file '
                                 '"/d/c.duckdb.wal": Permission denied'),
     DatabaseNotWritable, "cannot write database /d/c.duckdb: permission denied; make the file "
                          "and its folder writable for this user, or pass another --db"),
    (duckdb.IOException('IO Error: Cannot open file "/d/c.duckdb": Read-only file system'),
     DatabaseNotWritable, "cannot write database /d/c.duckdb: the file system is read-only; "
                          "pass a --db on a writable disk"),
    (duckdb.TransactionException('TransactionContext Error: Failed to commit: Could not write '
                                 'file "/d/c.duckdb.wal": No space left on device'),
     DiskFull, "cannot write database /d/c.duckdb: the disk is full; free some space and retry"),
    (OSError(errno.ENOSPC, "No space left on device"),
     DiskFull, "cannot write database /d/c.duckdb: the disk is full; free some space and retry"),
    (OSError(errno.EROFS, "Read-only file system"),
     DatabaseNotWritable, "cannot write database /d/c.duckdb: the file system is read-only; "
                          "pass a --db on a writable disk"),
    (duckdb.IOException('IO Error: The file "/d/c.duckdb" exists, but it is not a valid DuckDB '
                        "database file!"),
     NotADatabase, "/d/c.duckdb is not a DuckDB database; pass another --db"),
]  # fmt: skip


@pytest.mark.parametrize(("error", "kind", "message"), DRIVER_ERRORS)
def test_driver_and_os_errors_become_one_line_errors(error, kind, message):
    ours = translate(error, "/d/c.duckdb")
    assert (type(ours), str(ours)) == (kind, message)
    assert ours.retryable == (kind is DatabaseBusy)


def test_bad_data_errors_are_not_translated_or_retried():
    error = duckdb.ConstraintException(
        'Constraint Error: Duplicate key "phone: +16502530001" violates unique constraint.'
    )
    assert environment_error(error, "/d/c.duckdb") is None
    assert not BatchFailed("b1", error).retryable
    assert type(translate(error, "/d/c.duckdb")) is StoreError


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 2 MB tmpfs (root only: skipped where it cannot be mounted)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def one_error_line(result, pattern: str) -> None:
    assert result.exit_code == 1, result
    assert result.stdout == ""
    assert re.fullmatch(pattern + "\n", result.stderr), result.stderr


@pytest.mark.usefixtures("prefect_server")
@pytest.mark.parametrize("through_parquet", [False, True])
def test_a_full_disk_is_a_one_line_error_and_changes_nothing(
    cli, generated, small_disk, monkeypatch, through_parquet
):
    if through_parquet:  # large batches insert through Parquet files next to the database
        monkeypatch.setattr("store.imports.IN_MEMORY_INSERT_ROWS", 0)
    db = small_disk / "contacts.duckdb"
    result = cli("--db", str(db), "import", str(generated[0]))
    one_error_line(
        result,
        rf"Error: batch \S+ failed and changed nothing: cannot write database "
        rf"{re.escape(str(db))}: the disk is full; free some space and retry",
    )
    with Store.open(db, read_only=True) as store:
        assert store.run("SELECT count(*) FROM contacts") == [(0,)]
        assert store.run("SELECT status FROM import_batches") in ([], [("failed",)])


@pytest.mark.usefixtures("prefect_server")
def test_a_read_only_database_is_a_one_line_error(cli, workspace, small_disk, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text("Name,Phone\nAnn,(650) 253-0000\n", encoding="utf-8")
    db = small_disk / "contacts.duckdb"
    Store.open(db).close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    result = cli("--db", str(db), "import", str(source))
    one_error_line(
        result,
        rf"Error: cannot write database {re.escape(str(db))}: the file system is read-only; "
        r"pass a --db on a writable disk",
    )
    fresh = small_disk / "new.duckdb"
    result = cli("--db", str(fresh), "import", str(source))
    one_error_line(
        result,
        rf"Error: cannot write database {re.escape(str(fresh))}: the file system is "
        r"read-only; pass a --db on a writable disk",
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_database_file_without_write_permission_is_a_clear_error(workspace, tmp_path):
    Store.open(workspace.db).close()
    workspace.db.chmod(0o444)
    source = tmp_path / "c.csv"
    source.write_text("Name,Phone\nAnn,(650) 253-0000\n", encoding="utf-8")
    with pytest.raises(DatabaseNotWritable, match="permission denied"):
        workspace.run_import(source)


@pytest.mark.usefixtures("prefect_server")
def test_a_busy_database_fails_fast_through_the_cli_with_lock_wait_0(
    cli, workspace, tmp_path, monkeypatch
):
    source = tmp_path / "c.csv"
    source.write_text("Name,Phone\nAnn,(650) 253-0000\n", encoding="utf-8")
    monkeypatch.setenv("CONTACTS_LOCK_WAIT", "0")
    holder = hold_lock(workspace.db, 30)
    try:
        started = time.monotonic()
        result = cli("import", str(source))
        assert time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.wait()
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        f"Error: database {workspace.db} is busy: another process (PID {holder.pid}) is "
        "using it; wait for it to finish and retry\n"
    )
    # the file was read and its first chunk prepared before the flow failed: all stopped
    assert not [t.name for t in threading.enumerate() if t.name.startswith("contacts-")]


# Contacts whose every trace must stay out of the logs.
PEOPLE = [
    ("Zelda", "Quintanilla", "(650) 253-0001", "zelda.quintanilla@example.org"),
    ("Yusuf", "Okonkwo", "+44 20 7946 0123", "yusuf.okonkwo@example.net"),
    ("Marisol", "Featherstone", "212.736.5012", "m.featherstone@example.com"),
    ("Thaddeus", "Wojcik", "12", "t.wojcik@example.com"),  # an invalid phone: a reject
]
PHONE_DIGITS = ["6502530001", "2079460123", "2127365012"]  # national numbers


def leaks(text: str) -> list[str]:
    """Fixture names, emails and phones (any format, digits only too) found in `text`."""
    found = [word for first, last, _, email in PEOPLE for word in (first, last, email)
             if word.lower() in text.lower()]  # fmt: skip
    found += [email.split("@")[0] for *_, email in PEOPLE if email.split("@")[0] in text]
    for run in re.findall(r"\+?\d[\d ().-]{5,}\d", text):
        digits = re.sub(r"\D", "", run)
        found += [phone for phone in PHONE_DIGITS if phone in digits]
    return found


def read_run_records(flow_run_ids: list) -> list[str]:
    """Logs and state messages of the runs, as the Prefect API stored them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()

    async def fetch() -> list[str]:
        async with get_client() as client:
            logs = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=flow_run_ids))
            )
            runs = [await client.read_flow_run(run_id) for run_id in flow_run_ids]
            tasks = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=flow_run_ids))
            )
            states = [run.state.message or "" for run in [*runs, *tasks] if run.state]
            return [log.message for log in logs] + states

    return asyncio.run(fetch())


@pytest.mark.usefixtures("prefect_server")
def test_flow_logs_carry_counts_and_ids_never_phones_names_or_emails(
    workspace, tmp_path, caplog, monkeypatch
):
    # Prefect configures logging when first imported, replacing the root's handlers; the
    # module-level import of the flow happened before caplog installed its own.
    caplog.set_level(logging.DEBUG, logger="prefect")
    good = tmp_path / "people.csv"
    good.write_text(
        "First Name,Last Name,Mobile,Email\n"
        + "".join(f"{first},{last},{phone},{email}\n" for first, last, phone, email in PEOPLE),
        encoding="utf-8",
    )
    # No header: the first row's cells become the column names a MappingError lists.
    headerless = tmp_path / "headerless.csv"
    headerless.write_text("Zelda Quintanilla,zelda.quintanilla@example.org\n", encoding="utf-8")
    runs = {}

    def run(path: Path) -> None:
        state = import_contacts(
            path=str(path), db=str(workspace.db), data_dir=str(workspace.data_dir),
            return_state=True,
        )  # fmt: skip
        runs[path.name] = state

    run(good)
    run(headerless)

    def failing_insert(*args, **kwargs):  # as DuckDB words a constraint error: it quotes values
        raise duckdb.ConstraintException(
            'Duplicate key "phone: +16502530001" violates unique constraint (Zelda Quintanilla '
            "zelda.quintanilla@example.org)"
        )

    monkeypatch.setattr("store.imports._insert_contacts", failing_insert)  # the writer thread
    again = tmp_path / "people_again.csv"
    again.write_text(good.read_text(encoding="utf-8") + "Ann,Lee,(650) 253-0099,\n", "utf-8")
    run(again)

    assert runs["people.csv"].is_completed()
    stats = runs["people.csv"].result()
    assert (stats.imported, stats.invalid) == (3, 1)
    assert runs["headerless.csv"].is_failed() and runs["people_again.csv"].is_failed()
    error = runs["people_again.csv"].result(raise_on_failure=False)
    assert isinstance(error, BatchFailed) and "+16502530001" in str(error)  # the CLI sees it

    logged = [record.getMessage() for record in caplog.records]
    stored = read_run_records([state.state_details.flow_run_id for state in runs.values()])
    assert leaks("\n".join(logged)) == []
    assert leaks(caplog.text) == []  # with the tracebacks Prefect logs
    assert leaks("\n".join(stored)) == []
    assert any(stats.batch_id in line and "3 imported" in line for line in logged)
    assert any("3 imported" in line for line in stored)
    assert any("headerless.csv failed: MappingError" in line for line in logged)
    assert any(f"batch {error.batch_id} changed nothing" in line for line in logged)


def test_interrupted_dnc_loads_are_failed_on_the_next_open(tmp_path):
    from store import dnc as ledger
    from store.db import Store, now

    db = tmp_path / "c.duckdb"
    with Store.open(db) as store:
        load = {"id": "l1", "source": "registry", "file": "f.txt", "sha256": "0",
                "kind": "full_list", "started_at": now()}  # fmt: skip
        ledger.begin_load(store, load)
    with Store.open(db) as store:
        assert store.run("SELECT status FROM dnc_loads") == [("failed",)]
