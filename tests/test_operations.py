"""Scheduled operation: inbox imports, deployments and batch reverts."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from contacts.dnc import add_numbers, check_number
from contacts.errors import ContactsError
from contacts.inbox import ready_files
from contacts.revert import revert_import
from flows.serve import ServeConfig, build_deployments
from store.db import Store

CSV = "Name,Phone\nAnn Lee,(650) 253-0000\nBo Kim,(212) 736-5000\n"


def aged(path: Path, seconds: float = 60) -> Path:
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path


def test_ready_files_wait_for_writes_to_settle_and_skip_partials(tmp_path):
    done = tmp_path / "done.csv"
    done.write_text(CSV)
    aged(done)
    fresh = tmp_path / "still_copying.csv"
    fresh.write_text("Name,Ph")
    for name in ("x.csv.part", ".hidden.csv", "~$lock.xlsx", "notes.pdf"):
        aged_path = tmp_path / name
        aged_path.write_text("x")
        aged(aged_path)
    assert ready_files(tmp_path, settle_seconds=10) == [done]


def test_deployments_have_the_configured_schedules(tmp_path):
    config = ServeConfig(db=tmp_path / "c.duckdb", data_dir=tmp_path, inbox=tmp_path / "in",
                         interval_seconds=30, export_cron="15 3 * * *",
                         export_timezone="America/New_York")  # fmt: skip
    inbox, nightly = build_deployments(config)
    assert (inbox.name, nightly.name) == ("inbox", "nightly-dnc-export")
    assert inbox.schedules[0].schedule.interval == timedelta(seconds=30)
    assert inbox.parameters["inbox"] == str(tmp_path / "in")
    assert nightly.schedules[0].schedule.cron == "15 3 * * *"
    assert nightly.schedules[0].schedule.timezone == "America/New_York"
    assert nightly.parameters["out"] == str(tmp_path / "exports" / "dnc_suppression.csv")


@pytest.mark.usefixtures("prefect_server")
def test_inbox_imports_each_file_once_and_files_it_away(workspace, tmp_path):
    from flows.inbox import scan_inbox

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "good.csv").write_text(CSV)
    (inbox / "copy_of_good.csv").write_text(CSV)
    (inbox / "broken.csv").write_text("Name,City\nAnn,Paris\n")
    for path in inbox.iterdir():
        aged(path)
    aged(inbox / "copy_of_good.csv", 30)  # newer: imported after good.csv
    (inbox / "arriving.csv").write_text(CSV)  # still being written
    params = {"inbox": str(inbox), "db": str(workspace.db), "data_dir": str(workspace.data_dir),
              "settle_seconds": 5}  # fmt: skip
    assert scan_inbox(**params) == {"processed": 1, "duplicate": 1, "failed": 1}
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
        "copy_of_good.csv", "copy_of_good.csv.report.json", "good.csv", "good.csv.report.json",
    ]  # fmt: skip
    error = (inbox / "failed" / "broken.csv.error.txt").read_text()
    assert error.startswith("no phone column found")
    assert [p.name for p in inbox.iterdir() if p.is_file()] == ["arriving.csv"]
    aged(inbox / "arriving.csv")
    assert scan_inbox(**params) == {"processed": 0, "duplicate": 1, "failed": 0}
    with Store.open(workspace.db, read_only=True) as store:
        assert store.run("SELECT count(*) FROM import_batches")[0][0] == 1
        assert store.run("SELECT count(*) FROM contacts")[0][0] == 2


def test_revert_deletes_created_contacts_keeps_updated_ones_and_dnc(workspace, tmp_path):
    first = tmp_path / "first.csv"
    first.write_text("Name,Phone\nAnn Lee,(650) 253-0000\n")
    workspace.run_import(first)
    second = tmp_path / "second.csv"
    second.write_text("Name,Phone\nAnnie Lee,6502530000\nBo Kim,(212) 736-5000\n")
    batch = workspace.run_import(second, on_duplicate="update")
    add_numbers(workspace.db, ["2127365000"], reason="asked")
    result = revert_import(workspace.db, batch.batch_id, actor="ops", reason="wrong list")
    assert result.contacts_deleted == 1
    with Store.open(workspace.db, read_only=True) as store:
        rows = store.run("SELECT phone, first_name FROM contacts")
        reverted = store.run("SELECT reverted_at IS NOT NULL FROM import_batches WHERE id = ?",
                             [batch.batch_id])  # fmt: skip
    assert rows == [("+16502530000", "Annie")]  # updated by the batch, so kept
    assert reverted == [(True,)]
    assert check_number(workspace.db, "2127365000").suppressed  # DNC outlives the contact
    with pytest.raises(ContactsError, match="already reverted"):
        revert_import(workspace.db, batch.batch_id)
    with pytest.raises(ContactsError, match="no batch 'nope'"):
        revert_import(workspace.db, "nope")


@pytest.mark.usefixtures("prefect_server")
def test_batch_revert_cli(workspace, tmp_path, cli):
    source = tmp_path / "c.csv"
    source.write_text(CSV)
    batch = workspace.run_import(source)
    done = cli("batch", "revert", batch.batch_id)
    assert done.exit_code == 0
    assert done.stdout.startswith(f"Reverted batch {batch.batch_id}: 2 contacts it created")
    again = cli("batch", "revert", batch.batch_id)
    assert again.exit_code == 1
    assert again.stderr.startswith(f"Error: batch {batch.batch_id} was already reverted at ")
