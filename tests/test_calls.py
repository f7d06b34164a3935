"""Call history: imports (CSV, JSON Lines), idempotency, DNC from calls, call stats in
contacts_view, the record-keeping export, and the CLI's exit codes and exact messages.

Only the tests that take the `prefect_server` fixture run the flow; the rest call the
library (`run_call_import`) and stay fast.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from examples_scale import scaled
from hypothesis import given, settings
from hypothesis import strategies as st

from contacts import calls as call_api
from contacts.calls import (
    JSON_KEYS,
    export_calls,
    parse_bound,
    read_calls,
    run_call_import,
)
from contacts.dnc import check_number, record_call_request
from contacts.errors import ContactsError, SourceFileError, UsageError
from store import calls as call_store
from store import dnc as ledger
from store.calls import stream_calls
from store.db import Store
from transforms.calls import (
    FIELDS,
    RECORD_COLUMNS,
    map_call_columns,
    parse_seconds,
    parse_times,
    prepare_calls,
)

FIXTURES = Path(__file__).parent / "fixtures" / "calls"
CSV_FILE = FIXTURES / "calls.csv"
JSONL_FILE = FIXTURES / "calls.jsonl"
# (row, reason) of every rejected row of calls.csv; row 13 is blank, row 14 repeats c-002.
CSV_REJECTS = [
    (5, "missing_call_id"), (6, "invalid_phone"), (7, "unknown_direction"),
    (8, "bad_timestamp"), (9, "ended_before_started"), (10, "negative_duration"),
    (11, "unknown_outcome"), (12, "unknown_sentiment"), (16, "malformed_row"),
    (17, "conflicting_call_id"), (18, "bad_timestamp"),
]  # fmt: skip
JSONL_REJECTS = [
    (6, "invalid_phone"), (7, "bad_duration"), (8, "malformed_row"), (9, "malformed_row"),
    (11, "missing_call_id"),
]  # fmt: skip
NO_CALL_ID = (
    "no call_id column (its columns: 'id_number', 'phone', 'direction', 'started_at', "
    "'outcome'); name the column that holds it call_id"
)
BINARY = "is not a text file (binary content); export the calls as CSV or JSON Lines"


def run(workspace, path: Path, **options):
    return run_call_import(path, workspace.db, workspace.data_dir, **options)


def counts(stats) -> tuple[int, ...]:
    return (stats.rows_total, stats.inserted, stats.already_present, stats.rejected,
            stats.dnc_requests)  # fmt: skip


def query(db: Path, sql: str) -> list[dict]:
    with Store.open(db, read_only=True) as store:
        return store.frame(sql).to_dicts()


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- import: every row accounted for ----------------------------------------------------


def test_csv_import_accounts_for_every_row(workspace):
    stats = run(workspace, CSV_FILE)
    assert counts(stats) == (17, 5, 1, 11, 1)
    assert stats.rows_total == stats.inserted + stats.already_present + stats.rejected
    assert (stats.duplicates_in_file, stats.dnc_requests_in_rejects) == (1, 1)
    header, rejects = read_csv(Path(stats.rejects_file))
    assert header == ["row", "reason", "message", *FIELDS]
    assert [(int(r["row"]), r["reason"]) for r in rejects] == CSV_REJECTS
    by_row = {int(r["row"]): r for r in rejects}
    assert by_row[6]["message"] == "phone '555' is not a valid number (too_short)"
    assert (by_row[6]["call_id"], by_row[6]["phone"]) == ("c-006", "555")  # as written
    assert by_row[8]["started_at"] == "01/07/2026 4pm"
    assert by_row[16]["message"] == "row has more cells than the header's 13 columns"
    assert by_row[17]["message"] == "call_id 'c-013' is also on row 15 with different fields"
    [record] = query(workspace.db, "SELECT * FROM call_imports")
    assert (record["status"], record["rows_total"], record["inserted"], record["rejected"]) == (
        "completed", 17, 5, 11,
    )  # fmt: skip
    stored = query(workspace.db, "SELECT source_row, reason, original FROM call_import_rejects")
    assert sorted((r["source_row"], r["reason"]) for r in stored) == CSV_REJECTS
    report = json.loads((Path(stats.rejects_file).parent / "report.json").read_text())
    assert report["inserted"] == 5 and report["blank_rows"] == 1


def test_a_row_with_several_problems_names_them_all():
    frame = pl.DataFrame(
        {"_row": [1], "call_id": ["x"], "phone": ["12"], "direction": ["up"],
         "started_at": ["2026-01-05T10:00:00Z"], "outcome": ["hangup"]}
    )  # fmt: skip
    prepared = prepare_calls(call_api.canonical_calls(frame, map_call_columns(frame.columns)), "US")
    [reject] = prepared.rejects.to_dicts()
    assert reject["reason"] == "invalid_phone"  # the first, in REASONS order
    assert reject["message"] == (
        "phone '12' is not a valid number (too_short); direction 'up' is not inbound or "
        "outbound; outcome 'hangup' is not one of completed, transferred, voicemail, "
        "no_answer, busy, network_error, invalid_number, dnc_request, failed"
    )


def test_stored_calls_are_normalized_to_e164_and_utc(workspace):
    run(workspace, CSV_FILE)
    rows = {r["id"]: r for r in query(workspace.db, "SELECT * FROM calls")}
    assert sorted(rows) == ["c-001", "c-002", "c-003", "c-004", "c-013"]
    first = rows["c-001"]
    assert (first["phone"], first["caller_id"], first["duration_seconds"]) == (
        "+16502530000", "+14155552671", 150.0,
    )  # fmt: skip
    assert first["transcript"] == "Agent: Hi, is this Ada?\nAda: Yes."
    offset = rows["c-002"]  # 09:10 at -05:00, ended_at filled from the duration
    assert (offset["started_at"], offset["ended_at"]) == (utc(2026, 1, 5, 14, 10),
                                                          utc(2026, 1, 5, 14, 11, 35))  # fmt: skip
    naive = rows["c-003"]  # no offset: UTC; duration filled from ended_at
    assert (naive["started_at"], naive["duration_seconds"]) == (utc(2026, 1, 6, 10), 120.0)
    assert {r["batch_id"] for r in rows.values()} == {
        query(workspace.db, "SELECT id FROM call_imports")[0]["id"]
    }


def test_jsonl_import_then_the_same_calls_as_csv_are_already_present(workspace):
    stats = run(workspace, JSONL_FILE)
    assert (stats.format, *counts(stats)) == ("jsonl", 11, 6, 0, 5, 1)
    _, rejects = read_csv(Path(stats.rejects_file))
    assert [(int(r["row"]), r["reason"]) for r in rejects] == JSONL_REJECTS
    broken = next(r for r in rejects if r["row"] == "8")
    assert broken["raw_line"].startswith('{"call_id": "c-022"')
    assert broken["message"].startswith("not valid JSON (")
    rows = {r["id"]: r for r in query(workspace.db, "SELECT * FROM calls")}
    varied = rows["c-023"]  # 'Outbound', 'No Answer', 'Neutral', '1:05', -08:00 with a fraction
    assert (varied["direction"], varied["outcome"], varied["sentiment"]) == (
        "outbound", "no_answer", "neutral",
    )  # fmt: skip
    assert (varied["started_at"], varied["duration_seconds"]) == (
        datetime(2026, 1, 9, 19, 0, 0, 250000, tzinfo=UTC), 65.0,
    )  # fmt: skip
    assert rows["24"]["phone"] == "+16502530000"  # numbers in JSON are read as their text
    # c-023 and 24 dialled +16502530000 after its owner asked on c-004 (same file): flagged
    assert stats.outbound_to_suppressed == 2
    assert "  WARNING: 2 outbound call(s) reached a number the DNC list suppressed" in str(stats)
    turns = json.loads(rows["c-001"]["transcript"])  # a list of turns is kept as JSON text
    assert turns[1] == {"speaker": "callee", "text": "Yes."}

    again = run(workspace, CSV_FILE)
    assert counts(again) == (17, 1, 5, 11, 0)  # only c-013 is new; c-004 was recorded
    assert again.duplicates_in_file == 1


def test_reimport_inserts_nothing_adds_no_dnc_event_and_says_so(workspace):
    run(workspace, CSV_FILE)
    before = query(workspace.db, "SELECT count(*) AS n FROM dnc_events")[0]["n"]
    again = run(workspace, CSV_FILE)
    assert counts(again) == (17, 0, 6, 11, 0)
    assert again.dnc_events_added == 0
    assert "nothing new: every valid call in the file was already recorded" in str(again)
    assert query(workspace.db, "SELECT count(*) AS n FROM calls")[0]["n"] == 5
    assert query(workspace.db, "SELECT count(*) AS n FROM dnc_events")[0]["n"] == before == 2


# --- DNC from calls -------------------------------------------------------------------


def test_dnc_request_suppresses_the_number_from_the_call_start(workspace):
    run(workspace, CSV_FILE)
    result = check_number(workspace.db, "650 253 0000")
    assert result.suppressed
    assert [(s["source"], s["reason"], s["since"]) for s in result.sources] == [
        ("call", "dnc_request on call c-004", "2026-01-07T15:00:00+00:00")
    ]
    assert not check_number(workspace.db, "6502530000", at=utc(2026, 1, 7, 14, 59)).suppressed
    # row 18 is rejected (its start is 'tomorrow'), but the consumer asked: recorded anyway
    rejected = check_number(workspace.db, "(312) 555-0123")
    assert [(s["source"], s["reason"]) for s in rejected.sources] == [
        ("call", "dnc_request on call c-015")
    ]


def test_a_request_recorded_live_is_not_recorded_again(workspace):
    record_call_request(workspace.db, "6502530000", call_id="c-004", at=utc(2026, 1, 7, 15))
    stats = run(workspace, CSV_FILE)
    assert (stats.dnc_requests, stats.dnc_events_added) == (1, 1)  # c-015's only
    with Store.open(workspace.db, read_only=True) as store:
        assert ledger.history(store, "+16502530000").height == 1


# --- call stats through contacts_view ----------------------------------------------------

STATS_SQL = "SELECT phone, status, call_count, last_called_at FROM contacts_view ORDER BY id"


def test_call_stats_reach_contacts_and_unknown_callers_link_when_imported(workspace):
    workspace.run_import(FIXTURES / "contacts.csv")
    stats = run(workspace, CSV_FILE)
    assert stats.linked_to_contacts == 4  # all but the inbound call from +44
    assert query(workspace.db, STATS_SQL) == [
        {"phone": "+16502530000", "status": "dnc", "call_count": 2,
         "last_called_at": utc(2026, 1, 7, 15)},
        {"phone": "+12127365000", "status": "active", "call_count": 2,
         "last_called_at": utc(2026, 1, 8, 12)},
    ]  # fmt: skip
    links = query(workspace.db, "SELECT id, contact_id FROM calls ORDER BY id")
    ada = query(workspace.db, "SELECT id FROM contacts WHERE phone = '+16502530000'")[0]["id"]
    assert links[0] == {"id": "c-001", "contact_id": ada}
    assert links[2] == {"id": "c-003", "contact_id": None}  # inbound, number not yet known

    workspace.run_import(FIXTURES / "contacts_later.csv")
    later = query(workspace.db, STATS_SQL)[-1]
    assert later == {"phone": "+442079460000", "status": "active", "call_count": 1,
                     "last_called_at": utc(2026, 1, 6, 10)}  # fmt: skip


def test_calls_find_their_contacts_by_the_exact_e164_text(workspace):
    """The lookup joins on the stored phones' integer keys: text that is not that E.164
    phone exactly (a leading 0, no '+', spaces, too many digits) finds no contact."""
    workspace.run_import(FIXTURES / "contacts.csv")
    phones = pl.Series(
        "phone",
        ["+16502530000", "+016502530000", "16502530000", "+1 650 253 0000",
         "+16502530000123456789", "+", None],
    )  # fmt: skip
    with Store.open(workspace.db, read_only=True) as store:
        found = call_store.contact_ids(store, phones).to_dicts()
    ada = query(workspace.db, "SELECT id FROM contacts WHERE phone = '+16502530000'")[0]["id"]
    assert found == [{"phone": "+16502530000", "contact_id": ada}]


# --- atomicity ---------------------------------------------------------------------------


def test_a_failure_inside_the_batch_changes_nothing(workspace, monkeypatch):
    def disk_full(store, events):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ledger, "append_events", disk_full)
    with pytest.raises(ContactsError, match=r"failed and changed nothing: .*No space left"):
        run(workspace, CSV_FILE)
    for table in ("calls", "dnc_events", "call_import_rejects"):
        assert query(workspace.db, f"SELECT count(*) AS n FROM {table}")[0]["n"] == 0
    [record] = query(workspace.db, "SELECT status, error FROM call_imports")
    assert record["status"] == "failed" and "No space left" in record["error"]
    monkeypatch.undo()
    assert run(workspace, CSV_FILE).inserted == 5  # nothing half-written blocks a retry


# --- reading: files that cannot be imported at all ----------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file; check the path"),
        ("empty.csv", b"\n \n", "is empty; export the calls again"),
        ("binary.csv", (FIXTURES / "binary.csv").read_bytes(), BINARY),
        ("calls.csv.gz", (FIXTURES / "calls.csv.gz").read_bytes(),
         "is gzip-compressed; decompress it first"),
        ("array.json", b'[{"call_id": "a"}]\n',
         "is a JSON array, not JSON Lines; write one call object a line"),
        ("cp1251.jsonl", '{"call_id": "Привет"}\n'.encode("cp1251"),
         "is not utf-8-sig text ('utf-8' codec can't decode byte 0xcf in position 13: "
         "invalid continuation byte); JSON Lines files are UTF-8: re-export it as UTF-8 or "
         "pass --encoding"),
        ("no_objects.jsonl", b"call_id,phone\n",
         "has no JSON object on any line (line 1: not valid JSON (Expecting value at column "
         "1)); write one call object a line"),
        ("keys.jsonl", b'{"ref": 1, "phone": "6502530000"}\n',
         "no call_id, direction or started_at field in any line (its fields: 'ref', "
         "'phone'); add call_id, direction, started_at to every call object"),
        ("no_call_id.csv", (FIXTURES / "no_call_id.csv").read_bytes(), NO_CALL_ID),
    ],
)  # fmt: skip
def test_files_that_cannot_be_imported_raise_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceFileError) as caught:
        read_calls(path)
    assert str(caught.value) == f"{path}: {message}"


def test_columns_are_matched_after_folding_and_by_alias():
    mapped = map_call_columns(
        ["Call ID", "Phone Number", "Direction", "Start Time", "Duration", "Disposition", "Notes"]
    )
    assert mapped.fields == {
        "call_id": "Call ID", "phone": "Phone Number", "direction": "Direction",
        "started_at": "Start Time", "duration_seconds": "Duration", "outcome": "Disposition",
    }  # fmt: skip
    assert (mapped.ignored, mapped.missing) == (("Notes",), ())
    assert map_call_columns(["id", "call_id"]).fields["call_id"] == "call_id"  # exact wins


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-05T14:03:00Z", utc(2026, 1, 5, 14, 3)),
        ("2026-01-05T09:03:00-05:00", utc(2026, 1, 5, 14, 3)),
        ("2026-01-05T19:33:00+0530", utc(2026, 1, 5, 14, 3)),
        ("2026-01-05T16:03:00+02", utc(2026, 1, 5, 14, 3)),
        ("2026-01-05 14:03:00", utc(2026, 1, 5, 14, 3)),  # naive: UTC
        ("2026-01-05T14:03", utc(2026, 1, 5, 14, 3)),
        ("2026-01-05T14:03:00.5Z", datetime(2026, 1, 5, 14, 3, 0, 500000, tzinfo=UTC)),
        ("2026-01-05T14:03:00,5Z", datetime(2026, 1, 5, 14, 3, 0, 500000, tzinfo=UTC)),
        ("20260105T140300Z", utc(2026, 1, 5, 14, 3)),  # ISO 8601 basic format
        ("2026-02-30T10:00:00Z", None),
        ("2026-01-05T25:00:00Z", None),
        ("2026-01-05", None),  # a day is not a call's start time
        ("01/05/2026 14:03", None),
        ("1767621780", None),
    ],
)
def test_iso_8601_times(text, expected):
    assert pl.select(parse_times(pl.lit(text))).item() == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("42", 42.0), ("42.5", 42.5), ("1:02:03", 3723.0), ("02:03", 123.0), ("-5", -5.0),
     ("1e3", 1000.0), ("ten", None), ("inf", None), ("nan", None), ("1:75", None)],
)  # fmt: skip
def test_durations(text, expected):
    assert pl.select(parse_seconds(pl.lit(text))).item() == expected


# Cells from which random call rows are drawn: valid, invalid and blank values mixed.
CELLS = {
    "call_id": st.sampled_from(["a", "b", "c", "d", None]),
    "phone": st.sampled_from(["6502530000", "+44 20 7946 0000", "555", "x", None]),
    "direction": st.sampled_from(["inbound", "Outbound", "up", None]),
    "started_at": st.sampled_from(["2026-01-05T10:00:00Z", "2026-01-05 11:00", "soon", None]),
    "ended_at": st.sampled_from(["2026-01-05T10:30:00Z", "2026-01-05T09:00:00Z", "x", None]),
    "duration_seconds": st.sampled_from(["30", "-1", "x", None]),
    "outcome": st.sampled_from(["completed", "dnc_request", "hangup", None]),
}


@settings(max_examples=scaled(25), deadline=None)
@given(rows=st.lists(st.fixed_dictionaries(CELLS), max_size=12))
def test_every_row_lands_in_exactly_one_bucket(rows):
    frame = pl.DataFrame(rows, schema={name: pl.String for name in CELLS})
    frame = frame.with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))
    prepared = prepare_calls(call_api.canonical_calls(frame, map_call_columns(list(CELLS))), "US")
    buckets = [prepared.calls, prepared.repeats, prepared.rejects]
    numbers = [n for bucket in buckets for n in bucket.get_column("_row").to_list()]
    assert sorted(numbers) == list(range(1, len(rows) + 1))
    assert prepared.calls.get_column("call_id").is_unique().all()


# --- export --------------------------------------------------------------------------------


def test_export_carries_the_record_keeping_fields(workspace, tmp_path):
    run(workspace, CSV_FILE)
    out = tmp_path / "out" / "calls.csv"
    assert export_calls(workspace.db, out) == 5
    header, rows = read_csv(out)
    assert header == list(RECORD_COLUMNS)
    by_id = {r["call_id"]: r for r in rows}
    assert by_id["c-002"] == {
        "calling_number": "+14155552671", "called_number": "+12127365000",
        "date_utc": "2026-01-05", "time_utc": "14:10:00",
        "started_at_utc": "2026-01-05T14:10:00Z", "ended_at_utc": "2026-01-05T14:11:35Z",
        "duration_seconds": "95", "caller_id": "+14155552671", "disposition": "voicemail",
        "campaign": "spring", "direction": "outbound", "call_id": "c-002",
    }  # fmt: skip
    inbound = by_id["c-003"]  # the contact called us: the numbers swap sides
    assert (inbound["calling_number"], inbound["called_number"]) == (
        "+442079460000", "+14155552671",
    )  # fmt: skip
    assert by_id["c-013"]["campaign"] == '\'=HYPERLINK("http://x")'  # neutralized
    assert not list(out.parent.glob("*.partial"))


def test_export_filters_by_day_and_campaign(workspace, tmp_path):
    run(workspace, CSV_FILE)
    out = tmp_path / "calls.csv"
    start, end = parse_bound("2026-01-05", "--from"), parse_bound("2026-01-06", "--to", end=True)
    assert export_calls(workspace.db, out, start=start, end=end) == 3  # the 6th included
    assert [r["call_id"] for r in read_csv(out)[1]] == ["c-001", "c-002", "c-003"]
    assert export_calls(workspace.db, out, campaign="spring") == 3
    late = parse_bound("2026-01-07T15:00:00Z", "--from")
    assert export_calls(workspace.db, out, start=late) == 2  # c-004 at 15:00, c-013
    with pytest.raises(UsageError, match=r"^--from is after --to; nothing could match$"):
        export_calls(workspace.db, out, start=end, end=start)


def test_an_export_written_a_call_at_a_time_is_the_same_file(workspace, tmp_path, monkeypatch):
    """The export streams its calls in batches: one call a batch writes the same bytes as
    one batch for all, and an empty selection still writes the header."""
    run(workspace, CSV_FILE)
    whole, one_by_one, empty = (tmp_path / name for name in ("a.csv", "b.csv", "c.csv"))
    assert export_calls(workspace.db, whole) == 5
    monkeypatch.setattr(call_store, "EXPORT_BATCH_ROWS", 1)
    sizes = []

    def counted(*args, **kwargs):
        for batch in stream_calls(*args, **kwargs):
            sizes.append(batch.height)
            yield batch

    monkeypatch.setattr(call_store, "stream_calls", counted)
    assert export_calls(workspace.db, one_by_one) == 5
    assert sizes == [0, 1, 1, 1, 1, 1]  # the header's frame, then a call each
    assert one_by_one.read_bytes() == whole.read_bytes()
    assert export_calls(workspace.db, empty, campaign="no such campaign") == 0
    assert empty.read_text(encoding="utf-8") == ",".join(RECORD_COLUMNS) + "\n"


def test_a_failed_export_leaves_the_previous_file(workspace, tmp_path, monkeypatch):
    run(workspace, CSV_FILE)
    out = tmp_path / "calls.csv"
    export_calls(workspace.db, out)
    before = out.read_bytes()

    def crash(frame: pl.DataFrame):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(call_api, "call_records", crash)
    with pytest.raises(ContactsError, match="No space left on device"):
        export_calls(workspace.db, out)
    assert out.read_bytes() == before


# --- CLI (library-backed: no flow run) -------------------------------------------------


def test_cli_import_of_a_missing_file_fails_before_any_flow(cli, workspace):
    path = workspace.root / "nope.csv"
    result = cli("calls", "import", str(path), "--json")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: {path}: no such file; check the path\n"
    assert not workspace.db.exists()


def test_cli_usage_errors_exit_2(cli, workspace, tmp_path):
    result = cli("calls", "import", str(CSV_FILE), "--region", "Atlantis")
    assert (result.exit_code, result.stderr) == (
        2, "Error: --region 'Atlantis' is not a known region; use e.g. US, GB\n",
    )  # fmt: skip
    result = cli("calls", "export", "--out", str(tmp_path / "x.csv"), "--from", "last week")
    assert (result.exit_code, result.stderr) == (
        2, "Error: --from 'last week' is not a date (YYYY-MM-DD) or an ISO 8601 time\n",
    )  # fmt: skip


def test_cli_export(cli, workspace, tmp_path):
    run(workspace, CSV_FILE)
    out = tmp_path / "calls.csv"
    result = cli("calls", "export", "--out", str(out), "--to", "2026-01-05", "--campaign", "spring")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, f"Exported 2 calls to {out}\n", "",
    )  # fmt: skip


# --- CLI through the flow -------------------------------------------------------------


def test_cli_import_json_then_reimport(cli, workspace, prefect_server):
    result = cli("calls", "import", str(CSV_FILE), "--json")
    assert (result.exit_code, result.stderr) == (0, "")
    first = json.loads(result.stdout)
    assert list(first) == list(JSON_KEYS)
    assert [first[k] for k in ("rows_total", "inserted", "already_present", "rejected",
                               "dnc_requests")] == [17, 5, 1, 11, 1]  # fmt: skip
    assert first["rejects_file"] == str(
        workspace.data_dir / "calls" / first["import_id"] / "rejects.csv"
    )
    again = cli("calls", "import", str(CSV_FILE))
    assert again.exit_code == 0
    lines = again.stdout.splitlines()
    assert lines[2:4] == [
        "  inserted                 0   (0 linked to contacts)",
        "  already present          6   (1 repeated within the file)",
    ]
    assert "  nothing new: every valid call in the file was already recorded" in lines


@pytest.mark.parametrize(
    ("name", "message"), [("binary.csv", BINARY), ("no_call_id.csv", NO_CALL_ID)]
)
def test_cli_import_that_cannot_run_exits_1_with_one_line(
    cli, workspace, prefect_server, name, message
):
    path = FIXTURES / name
    result = cli("calls", "import", str(path))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: {path}: {message}\n"
    assert not workspace.db.exists()
