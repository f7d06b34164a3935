"""Import through the library against a real DuckDB file: counts, policies, atomicity."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from older_databases import database_at_migration

from contacts import readers
from contacts.errors import ContactsError, DatabaseBusy
from contacts.exporting import ExportFilters, selection_frame
from store import imports as store_imports
from store.db import Store, now

CSV = """\
First Name,Last Name,Mobile,Email,Company,Notes
Ann,Lee,(650) 253-0000,ann@example.com,Acme,first
Bo,Kim,+1 212 736 5000,bo@example,Beta,
Cy,Oz,12,cy@example.com,Gamma,
Ann,Lee,650.253.0000,ann@example.com,Acme,again
Di,,+44 20 7946 0000,,,
"""


def write(tmp_path: Path, text: str, name: str = "contacts.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def contacts(store_path: Path) -> list[dict]:
    """The stored contacts, attributes decoded from their JSON text."""
    with Store.open(store_path, read_only=True) as store:
        rows = store.frame("SELECT * FROM contacts_view ORDER BY id").to_dicts()
    return [{**row, "attributes": json.loads(row["attributes"])} for row in rows]


def test_cells_are_stored_without_surrounding_whitespace(workspace, tmp_path):
    # the readers strip every cell once; the mapping relies on it
    text = (
        "First Name,Last Name,Mobile,Email,Company,Notes\n"
        '  Ann\t, Lee ,  (650) 253-0000  , ann@example.com ,"  Acme  ",\t x \n'
        "Bo,Kim,+1 212 736 5000,bo@example.com,Beta  ::: Gamma, \n"
        "   ,Oz,+1 212 736 5001,  ,  ,\n"
    )
    stats = workspace.run_import(write(tmp_path, text))
    assert (stats.imported, stats.invalid, stats.warnings) == (3, 0, 0)
    rows = contacts(workspace.db)
    assert [(r["first_name"], r["last_name"], r["email"], r["company"]) for r in rows] == [
        ("Ann", "Lee", "ann@example.com", "Acme"),
        ("Bo", "Kim", "bo@example.com", "Beta"),
        (None, "Oz", None, None),
    ]
    assert [r["attributes"] for r in rows] == [{"Notes": "x"}, {}, {}]


def test_counts_outputs_and_lineage(workspace, tmp_path):
    stats = workspace.run_import(write(tmp_path, CSV))
    assert (stats.rows_total, stats.imported, stats.duplicates_in_file, stats.invalid) == (
        5,
        3,
        1,
        1,
    )
    assert stats.warnings == 1  # bo@example
    rows = contacts(workspace.db)
    assert [r["phone"] for r in rows] == ["+16502530000", "+12127365000", "+442079460000"]
    assert rows[0]["attributes"] == {"Notes": "first"}
    assert rows[0]["created_batch_id"] == stats.batch_id and rows[0]["created_row"] == 1
    assert rows[1]["email"] is None and rows[0]["status"] == "active"
    folder = workspace.data_dir / "batches" / stats.batch_id
    report = json.loads((folder / "report.json").read_text())
    assert report["imported"] == 3 and report["warning_samples"][0]["value"] == "bo@example"
    rejects = (folder / "rejects.csv").read_text().splitlines()
    assert (
        rejects[0]
        == "First Name,Last Name,Mobile,Email,Company,Notes,row,reason,message,suggested_phone"
    )
    assert [line.split(",")[7] for line in rejects[1:]] == ["too_short", "duplicate_in_file"]


def test_attribute_and_original_maps_keep_awkward_headers_apart(workspace, tmp_path):
    text = "Phone,Notes,notes,Owner's note\n(650) 253-0000,a,b,c\n12,x,,z\n"
    stats = workspace.run_import(write(tmp_path, text))
    stored = contacts(workspace.db)[0]["attributes"]
    assert stored == {"Notes": "a", "notes": "b", "Owner's note": "c"}
    with Store.open(workspace.db, read_only=True) as store:
        original = store.run(
            "SELECT original FROM import_rejects WHERE batch_id = ?", [stats.batch_id]
        )[0][0]
    # empty cells left out, the file's column order kept
    assert list(json.loads(original).items()) == [("Phone", "12"), ("Notes", "x"),
                                                  ("Owner's note", "z")]  # fmt: skip


def test_a_file_of_phones_alone_stores_empty_attributes(workspace, tmp_path):
    workspace.run_import(write(tmp_path, "Phone\n(650) 253-0000\n"))
    assert contacts(workspace.db)[0]["attributes"] == {}


def test_contacts_inserted_in_row_groups_keep_file_order_ids(workspace, tmp_path, monkeypatch):
    """Read 3 records at a time, written 2 (a "row group") or 4 per statement: rows are
    held back between chunks and the last ones go in at the finish."""
    monkeypatch.setattr(readers, "READ_BATCH_ROWS", 3)
    monkeypatch.setattr(readers, "HEAD_RECORDS", 1)
    monkeypatch.setattr(store_imports, "ROW_GROUP_ROWS", 2)
    monkeypatch.setattr(store_imports, "INSERT_SLICE_ROWS", 4)
    inserts: list[int] = []
    original = store_imports._insert_contacts

    def counted(store, batch_id, new, *args, **kwargs):
        inserts.append(new.height)
        return original(store, batch_id, new, *args, **kwargs)

    monkeypatch.setattr(store_imports, "_insert_contacts", counted)
    rows = "".join(f"(650) 253-{n:04d},Name {n}\n" for n in range(10)) + "12,Short\n"
    rows += "".join(f"(650) 253-{n:04d},Again {n}\n" for n in range(3))
    stats = workspace.run_import(write(tmp_path, "Phone,Name\n" + rows))
    stored = contacts(workspace.db)
    assert (stats.imported, stats.invalid, stats.duplicates_in_file) == (10, 1, 3)
    assert [(r["id"], r["created_row"]) for r in stored] == [(n, n) for n in range(1, 11)]
    assert all(n % 2 == 0 for n in inserts[:-1]) and sum(inserts) == 10
    with Store.open(workspace.db, read_only=True) as store:
        rejected = store.run("SELECT source_row FROM import_rejects ORDER BY source_row")
    assert rejected == [(11,), (12,), (13,), (14,)]


@pytest.mark.parametrize(
    ("policy", "stored"),
    [
        ("update", {"Notes": "second", "Tier": "gold", "Region Code": "W"}),
        ("fill", {"Notes": "first", "Tier": "gold", "Region Code": "W"}),
    ],
)
def test_merged_attributes_are_stored(workspace, tmp_path, policy, stored):
    workspace.run_import(write(tmp_path, "Phone,Notes,Tier\n(650) 253-0000,first,gold\n"))
    again = write(tmp_path, "Phone,Notes,Region Code\n650.253.0000,second,W\n", "b.csv")
    assert workspace.run_import(again, on_duplicate=policy).updated == 1
    assert contacts(workspace.db)[0]["attributes"] == stored


def test_every_row_not_imported_has_one_reject_record(workspace, tmp_path):
    stats = workspace.run_import(write(tmp_path, CSV))
    with Store.open(workspace.db, read_only=True) as store:
        rejects = store.frame(
            "SELECT source_row, reason, original FROM import_rejects WHERE batch_id = ?",
            [stats.batch_id],
        ).to_dicts()
    assert sorted((r["source_row"], r["reason"]) for r in rejects) == [
        (3, "too_short"),
        (4, "duplicate_in_file"),
    ]
    original = next(r for r in rejects if r["source_row"] == 3)["original"]
    assert json.loads(original)["Mobile"] == "12"


def test_reimport_changes_nothing_and_says_so(workspace, tmp_path):
    path = write(tmp_path, CSV)
    workspace.run_import(path)
    before = contacts(workspace.db)
    again = workspace.run_import(path)
    assert (again.imported, again.updated, again.duplicates_existing) == (0, 0, 3)
    assert again.accounted() == again.rows_total == 5
    assert contacts(workspace.db) == before


@pytest.mark.parametrize(
    ("policy", "first_name", "company", "updated"),
    [("skip", "Ann", "Acme", 0), ("update", "Annie", "NewCo", 1), ("fill", "Ann", "Acme", 1)],
)
def test_duplicate_policies(workspace, tmp_path, policy, first_name, company, updated):
    workspace.run_import(
        write(tmp_path, "Phone,First Name,Company,Title\n(650) 253-0000,Ann,Acme,\n")
    )
    second = write(
        tmp_path, "Phone,First Name,Company,Title\n6502530000,Annie,NewCo,CEO\n", "b.csv"
    )
    stats = workspace.run_import(second, on_duplicate=policy)
    assert stats.updated == updated
    assert stats.duplicates_existing == 1 - updated
    row = contacts(workspace.db)[0]
    assert (row["first_name"], row["company"]) == (first_name, company)
    assert row["title"] == (None if policy == "skip" else "CEO")
    again = workspace.run_import(second, on_duplicate=policy)
    assert again.updated == 0  # nothing left to change


def add_dnc(db: Path, phone: str, source: str = "manual") -> None:
    from contacts.dnc import add_numbers

    add_numbers(db, [phone], source=source, reason="test", actor="pytest", at=now())


def test_dnc_numbers_import_as_dnc_and_stay_out_of_campaigns_and_callable(workspace, tmp_path):
    add_dnc(workspace.db, "+12127365000")
    stats = workspace.run_import(write(tmp_path, CSV), campaign="spring")
    assert (stats.dnc, stats.campaign_excluded_dnc) == (1, 1)
    status = {r["phone"]: r["status"] for r in contacts(workspace.db)}
    assert status["+12127365000"] == "dnc"
    callable_phones = selection_frame(workspace.db, ExportFilters(callable=True))["phone"]
    assert "+12127365000" not in callable_phones.to_list()
    assert callable_phones.len() == 2
    with Store.open(workspace.db, read_only=True) as store:
        members = store.run(
            "SELECT c.phone FROM campaign_members m JOIN contacts c ON c.id = m.contact_id"
        )
    assert sorted(p for (p,) in members) == ["+16502530000", "+442079460000"]


def test_a_failed_write_changes_no_contact_and_is_recorded(workspace, tmp_path, monkeypatch):
    workspace.run_import(write(tmp_path, "Phone\n(650) 253-0000\n"))
    before = contacts(workspace.db)

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store_imports, "_add_members", boom)
    with pytest.raises(ContactsError, match="failed and changed nothing: disk on fire"):
        workspace.run_import(write(tmp_path, CSV, "b.csv"), campaign="x")
    assert contacts(workspace.db) == before
    with Store.open(workspace.db, read_only=True) as store:
        batches = store.frame("SELECT status, error FROM import_batches ORDER BY started_at")
    assert batches["status"].to_list() == ["completed", "failed"]
    assert "disk on fire" in batches["error"][1]
    with Store.open(workspace.db, read_only=True) as store:
        assert store.run("SELECT count(*) FROM import_rejects")[0][0] == 0


def test_a_batch_left_running_is_marked_failed_on_next_open(workspace):
    with Store.open(workspace.db) as store:
        store_imports.begin_batch(
            store,
            {"batch_id": "b1", "source": "x.csv", "sha256": "0", "started_at": now(),
             "mapping": {}, "region": "US", "on_duplicate": "skip", "campaign": None,
             "encoding": "utf-8"},
        )  # fmt: skip
    with Store.open(workspace.db) as store:
        status, error = store.run("SELECT status, error FROM import_batches")[0]
    assert status == "failed" and error.startswith("interrupted")


def test_header_only_file_is_a_completed_batch_of_zero_rows(workspace, tmp_path):
    stats = workspace.run_import(write(tmp_path, "First Name,Phone\n"))
    assert (stats.status, stats.rows_total, stats.imported) == ("completed", 0, 0)


def test_a_busy_database_is_a_clear_error(workspace, tmp_path):
    Store.open(workspace.db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(workspace.db)!r})
            print("locked", flush=True)
            time.sleep(30)
        """)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(DatabaseBusy, match=r"is busy: another process \(PID \d+\)"):
            workspace.run_import(write(tmp_path, CSV))
        assert time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.wait()


def test_the_import_announces_its_stages_in_order(workspace, tmp_path):
    from contacts.progress import STAGES, listening

    seen: list[str] = []
    with listening(seen.append):
        workspace.run_import(write(tmp_path, CSV))
    assert seen == list(STAGES)


def test_a_read_only_command_migrates_a_database_of_an_older_release(workspace, tmp_path):
    """After an upgrade a scheduled export or a search needs no import first: a read-only
    open migrates the database (here from migration 9: the DNC state gains its phone keys)
    and the suppressed number stays out of the callable export."""
    from store.db import migrations

    con = database_at_migration(workspace.db, 9)
    for phone in ("+16502530000", "+14155550199"):
        con.execute(
            "INSERT INTO contacts (phone, first_name, attributes, time_zones, created_batch_id, "
            "last_batch_id, created_at, updated_at, phone_key) VALUES (?, 'Old', '{}', "
            "['America/Los_Angeles'], 'b0', 'b0', now(), now(), CAST(substr(?, 2) AS BIGINT))",
            [phone, phone],
        )
    con.execute(
        "INSERT INTO dnc_events (phone, action, source, reason, actor, occurred_at) "
        "VALUES ('+16502530000', 'add', 'manual', 'asked', 'pytest', now())"
    )
    con.execute(
        "INSERT INTO dnc_current SELECT phone, source, action, occurred_at, reason, actor "
        "FROM dnc_events"
    )
    con.close()

    callable_now = selection_frame(workspace.db, ExportFilters(callable=True))
    assert callable_now["phone"].to_list() == ["+14155550199"]
    with Store.open(workspace.db, read_only=True) as store:
        assert store.run("SELECT max(version) FROM schema_migrations") == [(migrations()[-1][0],)]
        assert store.run("SELECT phone_key FROM dnc_current") == [(16502530000,)]


def test_a_read_only_open_refuses_a_database_it_cannot_migrate(workspace, tmp_path, monkeypatch):
    Store.open(workspace.db).close()
    with Store.open(workspace.db) as store:
        store.run("DELETE FROM schema_migrations WHERE version = (SELECT max(version) "
                  "FROM schema_migrations)")  # fmt: skip

    def refuse(*args, **kwargs):
        raise ContactsError("read-only file system")

    monkeypatch.setattr(Store, "migrate", refuse)
    with pytest.raises(ContactsError, match=r"older release and could not be migrated \(read"):
        Store.open(workspace.db, read_only=True)


def test_a_database_from_before_migration_6_keeps_its_contacts_and_ids(workspace, tmp_path):
    """006 rebuilds `contacts` without its ART indexes: same rows, same ids, and the id
    sequence and the importer's phone check carry on from there. 007 turns attributes
    and original cells from maps into JSON text, 008 adds every contact's phone_key,
    009 rebuilds import_rejects without its key and with zstd for the original cells."""

    from store.db import migrations

    con = database_at_migration(workspace.db, 5)
    for phone in ("+16502530000", "+14155550199"):
        con.execute(
            "INSERT INTO contacts (phone, first_name, attributes, time_zones, "
            "created_batch_id, last_batch_id, created_at, updated_at) "
            "VALUES (?, 'Old', MAP {'Notes': 'kept'}, ['America/Los_Angeles'], 'b0', 'b0', "
            "now(), now())",
            [phone],
        )
    con.execute(
        "INSERT INTO import_rejects VALUES ('b0', 7, 'too_short', 'm', NULL, NULL, "
        "MAP {'Phone': '12', 'Owner''s \"note\"': 'x'})"
    )
    con.close()

    stats = workspace.run_import(write(tmp_path, CSV))  # opens the store: migrates to the last
    assert (stats.imported, stats.duplicates_existing) == (2, 1)
    rows = contacts(workspace.db)
    assert [(r["id"], r["phone"]) for r in rows] == [
        (1, "+16502530000"), (2, "+14155550199"), (3, "+12127365000"), (4, "+442079460000"),
    ]  # fmt: skip
    assert rows[0]["attributes"] == {"Notes": "kept"} and rows[0]["first_name"] == "Old"
    assert rows[1]["time_zones"] == ["America/Los_Angeles"]
    with Store.open(workspace.db, read_only=True) as store:
        assert store.run("SELECT max(version) FROM schema_migrations") == [(migrations()[-1][0],)]
        [(original,)] = store.run("SELECT original FROM import_rejects WHERE batch_id = 'b0'")
        keys = store.run("SELECT phone_key FROM contacts ORDER BY id")
        assert keys == [(16502530000,), (14155550199,), (12127365000,), (442079460000,)]
        assert json.loads(original) == {"Phone": "12", 'Owner\'s "note"': "x"}
        constraints = store.run(
            "SELECT table_name, count(*) FROM duckdb_constraints() "
            "WHERE table_name IN ('contacts', 'import_rejects') "
            "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE') GROUP BY 1"
        )
        assert constraints == []
        rejects = store.run("SELECT batch_id, source_row FROM import_rejects ORDER BY 1, 2")
        assert rejects.count(("b0", 7)) == 1
        assert len(rejects) == 1 + stats.rows_total - stats.imported - stats.updated
        compressions = store.run(
            "SELECT DISTINCT compression FROM pragma_storage_info('import_rejects') "
            "WHERE column_name = 'original' AND segment_type = 'VARCHAR'"
        )
        assert compressions == [("ZSTD",)]
