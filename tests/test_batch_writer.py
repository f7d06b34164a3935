"""The batch writer: a file's chunks are written from a thread of their own while the
rest is planned, in one transaction; a failure anywhere leaves the database as it was."""

from __future__ import annotations

import functools
import threading
import time

import polars as pl
import pytest

from contacts import importer, readahead, readers
from contacts.errors import BatchFailed
from contacts.importer import ImportOptions, run_import
from store import imports as store_imports
from store.db import Store

ROWS = "".join(f"Name {n},(650) 253-{n:04d}\n" for n in range(9)) + "Bad,12\n"
CSV = "Name,Phone\n" + ROWS


@pytest.fixture
def files(tmp_path, monkeypatch):
    """A seed file (one contact) and a 10-row file read two records at a time."""
    monkeypatch.setattr(readers, "READ_BATCH_ROWS", 2)
    monkeypatch.setattr(readers, "HEAD_RECORDS", 1)
    seed = tmp_path / "seed.csv"
    seed.write_text("Phone\n+33 1 42 68 53 00\n", encoding="utf-8")
    path = tmp_path / "contacts.csv"
    path.write_text(CSV, encoding="utf-8")
    db, data_dir = tmp_path / "c.duckdb", tmp_path / "data"
    run_import(ImportOptions(path=seed, db=db, data_dir=data_dir))
    return ImportOptions(path=path, db=db, data_dir=data_dir, campaign="spring")


def state(db) -> dict[str, object]:
    with Store.open(db, read_only=True) as store:
        return {
            "contacts": store.run("SELECT id, phone FROM contacts ORDER BY id"),
            "rejects": store.run("SELECT count(*) FROM import_rejects")[0][0],
            "warnings": store.run("SELECT count(*) FROM import_warnings")[0][0],
            "members": store.run("SELECT count(*) FROM campaign_members")[0][0],
            "campaigns": store.run("SELECT count(*) FROM campaigns")[0][0],
        }


def batches(db) -> list[tuple[str, str | None]]:
    with Store.open(db, read_only=True) as store:
        return store.run("SELECT status, error FROM import_batches ORDER BY started_at")


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "batch-writer"]


def fail_on_call(number: int, function, error: Exception):
    calls = []

    @functools.wraps(function)
    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == number:
            raise error
        return function(*args, **kwargs)

    return failing


@pytest.mark.parametrize(
    ("owner", "name", "call", "error", "raised"),
    [
        # the writer thread fails on its third insert: the error is the batch's
        (store_imports, "_insert_contacts", 3, OSError("no space left"), BatchFailed),
        # preparing the fourth chunk fails, three already written: the error as it is
        (readahead, "prepare_rows", 4, RuntimeError("a bug"), RuntimeError),
        # so does finishing it, in the plan's thread
        (readahead, "finish_rows", 4, RuntimeError("a bug"), RuntimeError),
    ],
)
def test_a_failure_after_written_chunks_rolls_the_batch_back(
    files, monkeypatch, owner, name, call, error, raised
):
    before = state(files.db)
    failing = fail_on_call(call, getattr(owner, name), error)
    monkeypatch.setattr(owner, name, failing)
    with pytest.raises(raised, match=str(error)):
        run_import(files)
    assert state(files.db) == before
    assert batches(files.db)[-1] == ("failed", f"{type(error).__name__}: {error}")
    assert writer_threads() == []
    assert not (files.data_dir / ".staging").exists()

    monkeypatch.setattr(owner, name, failing.__wrapped__)  # then the file imports whole
    stats = run_import(files)
    assert (stats.imported, stats.invalid) == (9, 1)
    assert len(state(files.db)["contacts"]) == 10


def test_the_plan_sees_the_database_as_it_was_before_the_batch(files, monkeypatch):
    """Its lookups run outside the writer's transaction: the batch's own contacts, already
    written by earlier chunks, are not 'stored contacts' to it."""
    seen = []

    def counting(store, phones, **kwargs):
        seen.append(store.run("SELECT count(*) FROM contacts")[0][0])
        return known(store, phones, **kwargs)

    known = importer.known_contacts
    monkeypatch.setattr(importer, "known_contacts", counting)
    stats = run_import(files)
    assert len(seen) == 5 and set(seen) == {1}  # 10 records, 2 at a time: 5 chunks
    assert (stats.imported, stats.duplicates_existing) == (9, 0)
    assert state(files.db)["members"] == 9


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "c.duckdb") as store:
        store_imports.begin_batch(
            store,
            {"batch_id": "b1", "source": "f.csv", "sha256": "0", "started_at": "2026-11-24",
             "mapping": {}, "region": "US", "on_duplicate": "skip", "campaign": "x",
             "encoding": "utf-8"},
        )  # fmt: skip
        yield store
    assert writer_threads() == []


def test_an_aborted_writer_writes_nothing(store):
    writer = store_imports.BatchWriter(store, "b1", "x")  # inserts the campaign first
    writer.abort()
    writer.abort()  # twice is fine
    assert store.run("SELECT count(*) FROM campaigns") == [(0,)]
    assert store.run("SELECT status FROM import_batches") == [("running",)]


def test_a_chunk_that_fails_is_reported_by_the_next_call_and_nothing_is_written(store):
    writer = store_imports.BatchWriter(store, "b1", "x")
    broken = pl.DataFrame({"no_row_column": [1]})
    writer.write(store_imports.BatchChunk(broken, broken, broken, broken, None))
    with pytest.raises(store_imports.WriteFailed, match="_row"):
        for _ in range(10):  # the writer needs a moment to fail; then every call says so
            writer.write(store_imports.BatchChunk(broken, broken, broken, broken, None))
            time.sleep(0.05)
    with pytest.raises(store_imports.WriteFailed, match="_row"):
        writer.finish({name: 0 for name in store_imports.STAT_COLUMNS})
    assert store.run("SELECT count(*) FROM campaigns") == [(0,)]
    assert store.run("SELECT status FROM import_batches") == [("running",)]
