"""Chunks prepared ahead of the import, and the CLI's prefetch while Prefect loads: the
same answers as preparing in turn, the file read once, no thread left behind."""

from __future__ import annotations

import threading
import time

import polars as pl
import pytest

from contacts import importer, readahead, readers
from contacts.errors import MappingError
from contacts.readahead import ReadAhead, prefetching, take_prefetched
from store.db import Store
from transforms.prepare import SeenPhones, prepare_chunk, prepare_rows

ROWS = [f"Name {n},(650) 253-{n:04d}" for n in range(7)]
ROWS += ["Again,650.253.0001", "Bad,12", ",", "Other,+44 20 7946 0000"]
CSV = "Name,Phone\n" + "\n".join(ROWS) + "\n"


def thread_names() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("contacts-")}


@pytest.fixture
def small_batches(monkeypatch):
    """Records read two at a time, so a small file comes in several chunks."""
    monkeypatch.setattr(readers, "READ_BATCH_ROWS", 2)
    monkeypatch.setattr(readers, "HEAD_RECORDS", 1)


@pytest.fixture
def source_file(tmp_path, small_batches):
    path = tmp_path / "contacts.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


def read(workspace, path):
    return importer.read_header(importer.check_options(workspace.options(path)))


def recorded_prepare(monkeypatch, fail_on_call: int | None = None) -> list[str]:
    """Have the read-ahead's prepare_rows append "prepare" to the returned list on each
    call, and raise ValueError("broken chunk") on call `fail_on_call`."""
    events: list[str] = []

    def prepare(frame, *args):
        events.append("prepare")
        if events.count("prepare") == fail_on_call:
            raise ValueError("broken chunk")
        return prepare_rows(frame, *args)

    monkeypatch.setattr(readahead, "prepare_rows", prepare)
    return events


def frames_equal(left: pl.DataFrame, right: pl.DataFrame) -> bool:
    return left.equals(right, null_equal=True) and left.schema == right.schema


def test_read_ahead_gives_the_chunks_preparing_in_turn_gives(workspace, source_file):
    source, mapping = read(workspace, source_file)
    ahead = ReadAhead(source, mapping, "US")
    got = list(ahead)
    ahead.close()

    source, mapping = read(workspace, source_file)
    seen = SeenPhones()
    expected = [
        (frame, prepare_chunk(frame, source.columns, mapping, "US", seen))
        for frame in source.batches()
    ]
    assert len(got) == len(expected) >= 5
    for (frame, prepared), (want_frame, want) in zip(got, expected, strict=True):
        assert frames_equal(frame, want_frame)
        for name in ("contacts", "duplicates_in_file", "rejects", "warnings"):
            assert frames_equal(getattr(prepared, name), getattr(want, name)), name
        assert (prepared.rows_total, prepared.blank_rows) == (want.rows_total, want.blank_rows)
    assert "contacts-read-ahead" not in thread_names()


def test_a_failure_while_preparing_is_raised_where_its_chunk_would_come(
    workspace, source_file, monkeypatch
):
    source, mapping = read(workspace, source_file)
    recorded_prepare(monkeypatch, fail_on_call=2)
    ahead = ReadAhead(source, mapping, "US")
    chunks = iter(ahead)
    next(chunks)
    with pytest.raises(ValueError, match="broken chunk"):
        next(chunks)
    ahead.close()
    assert "contacts-read-ahead" not in thread_names()


def test_one_chunk_at_most_is_prepared_beside_the_consumers_work(
    workspace, source_file, monkeypatch
):
    """The next chunk is prepared while the consumer works on the one it took (its
    lookups and writes), never two: the import's memory holds at most one chunk more."""
    source, mapping = read(workspace, source_file)
    events = recorded_prepare(monkeypatch)
    ahead = ReadAhead(source, mapping, "US", depth=1)
    time.sleep(0.3)  # as far ahead as it may go
    assert events == ["prepare"]
    for _chunk in ahead:
        events.append("got")
        time.sleep(0.1)  # the consumer's lookups and writes
        events.append("done")
    ahead.close()
    chunks = events.count("got")
    assert chunks >= 5
    assert events.count("prepare") == chunks
    held = 0  # chunks prepared and not yet done with: the one consumed, one ahead
    for event in events:
        held += {"prepare": 1, "got": 0, "done": -1}[event]
        assert held <= 2
    # each chunk after the first was prepared while the consumer held the one before
    prepares = [i for i, event in enumerate(events) if event == "prepare"]
    dones = [i for i, event in enumerate(events) if event == "done"]
    assert all(prepares[k + 1] < dones[k] for k in range(chunks - 1))


def test_close_stops_a_producer_waiting_for_its_consumer(workspace, source_file):
    source, mapping = read(workspace, source_file)
    ahead = ReadAhead(source, mapping, "US", depth=1)
    deadline = time.monotonic() + 10
    while ahead._queue.qsize() < 1 and time.monotonic() < deadline:
        time.sleep(0.01)  # the first chunk is ready; the producer waits with the second
    ahead.close()
    assert "contacts-read-ahead" not in thread_names()
    ahead.close()  # idempotent


def test_an_import_inside_prefetching_reads_the_file_once(workspace, source_file, monkeypatch):
    reads = []
    original = importer.read_source

    def counting(*args, **kwargs):
        reads.append((threading.current_thread().name, args[0]))
        return original(*args, **kwargs)

    monkeypatch.setattr(importer, "read_source", counting)
    options = importer.check_options(workspace.options(source_file))
    with prefetching(options):
        stats = importer.run_import(options)
    assert reads == [("contacts-prefetch", source_file)]  # read while the block began
    assert (stats.rows_total, stats.imported, stats.duplicates_in_file, stats.invalid) == (
        10, 8, 1, 1
    )  # fmt: skip
    assert stats.blank_rows == 1
    with Store.open(workspace.db, read_only=True) as store:
        assert store.run("SELECT count(*) FROM contacts")[0][0] == 8
    assert not thread_names()


def test_the_prefetched_import_matches_an_import_without_it(workspace, tmp_path, source_file):
    plain, fetched = workspace, type(workspace)(tmp_path / "fetched")
    expected = plain.run_import(source_file)
    options = importer.check_options(fetched.options(source_file))
    with prefetching(options):
        stats = importer.run_import(options)
    keys = ("rows_total", "imported", "duplicates_in_file", "invalid", "blank_rows", "mapping")
    assert {k: getattr(stats, k) for k in keys} == {k: getattr(expected, k) for k in keys}

    def contacts(db):
        with Store.open(db, read_only=True) as store:
            return store.run("SELECT id, phone, first_name FROM contacts ORDER BY id")

    assert contacts(fetched.db) == contacts(plain.db)


def test_a_prefetch_is_only_taken_by_an_import_of_the_same_options(workspace, source_file):
    options = importer.check_options(workspace.options(source_file))
    other = importer.check_options(workspace.options(source_file, region="GB"))
    with prefetching(options):
        assert take_prefetched(other) is None
        taken = take_prefetched(options)
        assert taken is not None
        assert take_prefetched(options) is None  # once
        taken[0].read_ahead.close()
    assert not thread_names()


def test_a_file_that_cannot_import_fails_the_same_way_prefetched(workspace, tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("Name,City\nAnn,Paris\n", encoding="utf-8")
    options = importer.check_options(workspace.options(path))
    with pytest.raises(MappingError) as plain:
        importer.run_import(options)
    with prefetching(options), pytest.raises(MappingError) as fetched:
        importer.run_import(options)
    assert str(fetched.value) == str(plain.value)
    assert not workspace.db.exists()
    assert not thread_names()


def test_a_prefetch_nobody_takes_is_stopped_when_the_block_ends(workspace, source_file):
    options = importer.check_options(workspace.options(source_file))
    with prefetching(options):
        time.sleep(0.2)  # e.g. the flow failed before its read step
    assert not thread_names()
    assert not workspace.db.exists()
