"""Staged frames, and the streamed import: any batch size and memory budget give the
same database, stats and output files."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import polars as pl
import pytest

from contacts import readers, staging
from contacts.errors import StoreError
from contacts.importer import ImportOptions, run_import
from store import imports as store_imports
from store.db import Store


def frame(start: int, rows: int) -> pl.DataFrame:
    return pl.DataFrame({"n": range(start, start + rows), "text": [f"r{i}" for i in range(rows)]})


def csv_text(*frames: pl.DataFrame) -> str:
    return pl.concat(frames).write_csv()


def written(staged: staging.StagedCsv) -> str:
    handle = io.BytesIO()
    staged.write_to(handle)
    return handle.getvalue().decode()


def test_text_stays_in_memory_within_the_budget(tmp_path):
    area = staging.StagingArea(tmp_path / "staging")
    staged = area.staged()
    staged.add(frame(0, 3))
    staged.add(frame(3, 2))
    assert not area.spilled and not (tmp_path / "staging").exists()
    assert written(staged) == csv_text(frame(0, 3), frame(3, 2))
    assert written(staged).splitlines()[:2] == ["n,text", "0,r0"]
    assert staged.rows == 5


def test_text_past_the_budget_goes_to_files_and_comes_back_in_order(tmp_path):
    first = frame(0, 3).write_csv(include_header=False).encode()
    area = staging.StagingArea(tmp_path / "staging", budget=len(first))
    staged, other = area.staged(), area.staged()
    staged.add(frame(0, 3))  # fits
    other.add(frame(100, 1))  # the budget is spent: to a file
    staged.add(frame(3, 4))
    assert area.spilled
    assert sum(isinstance(part, Path) for part in staged.parts) == 1
    for _ in range(2):  # written more than once
        assert written(staged) == csv_text(frame(0, 3), frame(3, 4))
    assert written(other) == csv_text(frame(100, 1))
    area.close()
    assert not (tmp_path / "staging").exists()  # the emptied parent goes too
    area.close()  # twice is fine


def test_kept_text_holds_only_the_rows_of_a_frame_filtered_from_a_large_one():
    rows = 200_000
    parent = pl.DataFrame({"text": [f"a long enough cell of text number {i}" for i in range(rows)]})
    picked = parent.filter(pl.int_range(pl.len()) % 1000 == 0)  # 200 rows
    area = staging.StagingArea(None)
    staged = area.staged()
    staged.add(picked)
    (part,) = staged.parts
    assert isinstance(part, bytes) and area.held == len(part) < 20_000
    assert written(staged) == picked.write_csv()
    assert staged.rows == 200


def test_a_folder_that_cannot_be_made_is_a_clear_error(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    staged = staging.StagingArea(blocker / ".staging", budget=0).staged()
    with pytest.raises(StoreError, match=r"cannot stage the import's rows in .*data/\.staging"):
        staged.add(frame(0, 2))


def test_the_header_comes_from_the_first_frame_even_an_empty_one(tmp_path):
    staged = staging.StagingArea(tmp_path).staged()
    assert written(staged) == ""  # no frame: no text, not even a header
    staged.add(frame(0, 0))
    assert written(staged) == "n,text\n"
    staged.add(frame(0, 0))
    staged.add(frame(0, 2))
    staged.add(frame(2, 0))
    assert written(staged) == csv_text(frame(0, 2))
    assert len(staged.parts) == 1 and staged.rows == 2


CSV = """\
Name,Mobile,Work,Email,Notes,row
Ann Lee,(650) 253-0000,,ann@example.com,first,x
Bo Kim,+1 212 736 5000,(212) 736-5001,bo@example,,
Cy Oz,12,,cy@example.com,short,
Ann Again,650.253.0000,,,again,
Di Ng,+44 20 7946 0000,,,,
,,,,,
Ed Fu,(415) 555-0100 x12,,ed@example.com,tail,
Bo Kim,212-736-5000,,,,
Fay Wu,+33 1 42 68 53 00,,,,
Gus Ho,(650) 253-0000 ,,,dup of row 1,
Hal Yu,555,,,,
Ivy Xi,+1 (415) 555-0101,,,,,extra
"""


def snapshot(db: Path, data_dir: Path, batch_id: str) -> dict[str, object]:
    with Store.open(db, read_only=True) as store:
        contacts = store.frame(
            "SELECT * EXCLUDE (id, created_batch_id, last_batch_id, created_at, updated_at) "
            "FROM contacts ORDER BY id"
        )
        rejects = store.frame("SELECT * EXCLUDE (batch_id) FROM import_rejects ORDER BY source_row")
        warnings = store.frame(
            "SELECT * EXCLUDE (batch_id) FROM import_warnings ORDER BY source_row, column_name"
        )
        members = store.frame("SELECT count(*) AS n FROM campaign_members")
    folder = data_dir / "batches" / batch_id
    report = json.loads((folder / "report.json").read_text())
    for key in ("batch_id", "started_at", "finished_at", "rejects_file", "duration_seconds"):
        report.pop(key, None)
    return {
        "contacts": contacts.to_dicts(),
        "rejects": rejects.to_dicts(),
        "warnings": warnings.to_dicts(),
        "members": members.item(),
        "report": report,
        "rejects_csv": (folder / "rejects.csv").read_text(),
    }


@pytest.mark.parametrize(
    ("batch_rows", "budget", "in_memory_rows"),
    [(1, 0, 0), (2, 0, 3), (3, 10**9, 10**9), (5, 600, 2)],
)
def test_any_batch_size_and_memory_budget_give_the_same_import(
    tmp_path, monkeypatch, batch_rows, budget, in_memory_rows
):
    """Read batches, staging budget, and how many rows go to DuckDB as registered frames
    before the rest goes through Parquet files: none of them changes an answer."""
    path = tmp_path / "contacts.csv"
    path.write_text(CSV, encoding="utf-8")
    results = []
    default = (readers.READ_BATCH_ROWS, 10**9, store_imports.IN_MEMORY_INSERT_ROWS)
    for run, (rows, bytes_, in_memory) in enumerate(
        [default, (batch_rows, budget, in_memory_rows)]
    ):
        monkeypatch.setattr(readers, "READ_BATCH_ROWS", rows)
        monkeypatch.setattr(staging, "MEMORY_BUDGET", bytes_)
        monkeypatch.setattr(store_imports, "IN_MEMORY_INSERT_ROWS", in_memory)
        db, data_dir = tmp_path / f"run{run}.duckdb", tmp_path / f"data{run}"
        # a stored contact first, so the batch has an existing duplicate to report
        seed = tmp_path / "seed.csv"
        seed.write_text("Phone\n+33 1 42 68 53 00\n", encoding="utf-8")
        run_import(ImportOptions(path=seed, db=db, data_dir=data_dir))
        stats = run_import(ImportOptions(path=path, db=db, data_dir=data_dir, campaign="spring"))
        assert stats.batch_id is not None
        results.append(snapshot(db, data_dir, stats.batch_id))
        assert not (data_dir / ".staging").exists()  # nothing left behind
    assert results[1] == results[0]
    assert results[0]["report"]["rows_total"] == 11


def test_leftovers_of_killed_imports_are_removed(tmp_path):
    old, fresh = tmp_path / "import-old", tmp_path / "import-fresh"
    for folder in (old, fresh):
        folder.mkdir()
        (folder / "000001.part").write_bytes(b"x")
    os.utime(old, (0, 0))
    staging.remove_stale(tmp_path)
    assert not old.exists() and fresh.exists()


def test_parquet_files_left_by_a_killed_writer_are_removed_by_the_next(tmp_path):
    db = tmp_path / "contacts.duckdb"
    Store.open(db).close()
    leftover = tmp_path / ".contacts.duckdb.staged-abc.parquet"
    other_db = tmp_path / ".other.duckdb.staged-abc.parquet"
    leftover.write_bytes(b"x")
    other_db.write_bytes(b"x")
    with Store.open(db, read_only=True):
        assert leftover.exists()  # a reader does not hold the lock
    Store.open(db).close()
    assert not leftover.exists() and other_db.exists()
