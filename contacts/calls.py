"""Call history: the library API behind `contacts calls import|export` and the flow.

An import reads a CSV or JSON Lines file, validates and normalizes it
(`transforms.calls`), compares it with the stored calls and writes it in one
transaction (`store.calls`), then writes DATA_DIR/calls/<import id>/rejects.csv and
report.json. Every non-blank input row is inserted, already present (its call_id is
stored, or repeated identically in the file) or rejected:

    rows_total == inserted + already_present + rejected
"""

from __future__ import annotations

import codecs
import json
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from contacts.errors import ContactsError, SourceFileError, UsageError
from contacts.outputs import write_atomically
from contacts.readers import EXTRA_PREFIX, file_sha256, read_source
from store import calls as call_store
from store.db import Store, now
from transforms.calls import (
    MALFORMED,
    ROW,
    CallColumns,
    call_records,
    canonical_calls,
    dnc_request_events,
    map_call_columns,
    prepare_calls,
    split_present,
)
from transforms.regions import region_for_country

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
RAW_LINE = "_text"  # a JSON Lines line that is not an object, kept for the reject
INTERNAL = (ROW, MALFORMED, RAW_LINE)
OUTCOME_COLUMNS = ("row", "reason", "message")
REJECT_SAMPLES = 5
EXPORT_AGAIN = "export the calls as CSV or JSON Lines"
JSON_KEYS = (
    "import_id", "source", "sha256", "format", "status", "rows_total", "inserted",
    "already_present", "rejected", "dnc_requests", "dnc_requests_in_rejects",
    "duplicates_in_file", "linked_to_contacts", "outbound_to_suppressed", "ignored_columns",
    "rejects_file",
    "started_at", "finished_at",
)  # fmt: skip


@dataclass(frozen=True)
class CallSource:
    """A calls file read as text: one row per non-blank record, numbered as in the file."""

    path: Path
    format: str  # csv | jsonl
    frame: pl.DataFrame  # _row, _malformed, the source columns (and _text for JSON Lines)
    columns: list[str]  # source columns (CSV header cells, JSON keys) in file order
    sha256: str
    mapping: CallColumns
    blank_rows: int = 0


@dataclass
class CallImportStats:
    """One import's outcome: the --json object, report.json and the Prefect artifact."""

    import_id: str
    source: str
    sha256: str
    format: str
    status: str  # running | completed
    rows_total: int = 0
    inserted: int = 0
    already_present: int = 0  # call_id stored before, or repeated identically in the file
    rejected: int = 0
    dnc_requests: int = 0  # inserted calls with outcome dnc_request
    dnc_requests_in_rejects: int = 0  # rejected rows with a valid phone and that outcome
    duplicates_in_file: int = 0  # the part of already_present repeated within the file
    linked_to_contacts: int = 0  # inserted calls whose phone is a stored contact's
    outbound_to_suppressed: int = 0  # inserted outbound calls to a number then suppressed
    ignored_columns: list[str] = field(default_factory=list)
    rejects_file: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    region: str = "US"
    blank_rows: int = 0
    dnc_events_added: int = 0
    reject_samples: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        report = asdict(self)
        return {key: report[key] for key in JSON_KEYS}

    def __str__(self) -> str:
        lines = [
            f"Imported calls from {self.source} as {self.import_id}: {self.status}",
            f"  rows             {self.rows_total:>9,}",
            f"  inserted         {self.inserted:>9,}   ({self.linked_to_contacts:,} linked to "
            "contacts)",
            f"  already present  {self.already_present:>9,}   ({self.duplicates_in_file:,} "
            "repeated within the file)",
            f"  rejected         {self.rejected:>9,}",
            f"  DNC requests     {self.dnc_requests:>9,}   (recorded in the DNC list, source "
            "'call')",
        ]
        if self.dnc_requests_in_rejects:
            lines.append(
                f"                   {self.dnc_requests_in_rejects:>9,}   more on rejected rows, "
                "recorded in the DNC list all the same"
            )
        if self.outbound_to_suppressed:
            lines.append(
                f"  WARNING: {self.outbound_to_suppressed:,} outbound call(s) reached a number the "
                "DNC list suppressed at the time; see 'contacts dnc check PHONE --at TIME'"
            )
        if self.inserted == 0 and self.already_present:
            lines.append("  nothing new: every valid call in the file was already recorded")
        if self.rejects_file:
            lines.append(f"  rejects          {self.rejects_file}")
        lines += [f"    row {s['row']}: {s['reason']}: {s['message']}" for s in self.reject_samples]
        if self.rejected > len(self.reject_samples):
            lines.append(
                f"    ... {self.rejected - len(self.reject_samples):,} more in rejects.csv"
            )
        if self.ignored_columns:
            lines.append(f"  ignored columns  {', '.join(self.ignored_columns)}")
        return "\n".join(lines)


@dataclass(frozen=True)
class CallImportPlan:
    """Everything decided before the database is written."""

    source: CallSource
    write: call_store.CallWrite
    stats: CallImportStats


def check_region(region: str) -> str:
    code = region_for_country(region)
    if code is None:
        raise UsageError(f"--region {region!r} is not a known region; use e.g. US, GB")
    return code


# --- read ---------------------------------------------------------------------------


def read_calls(path: Path, encoding: str | None = None) -> CallSource:
    """Read a CSV or JSON Lines calls file (decided by content, then extension).

    Raises SourceFileError when it cannot be imported at all (missing, unreadable,
    binary, empty, no call_id / phone / direction / started_at column).
    """
    head = _head(path)
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first == b"[" and path.suffix.lower() in JSONL_SUFFIXES:
        raise SourceFileError(
            str(path), "is a JSON array, not JSON Lines", "write one call object a line"
        )
    if first == b"{" or path.suffix.lower() in JSONL_SUFFIXES:
        source = _read_jsonl(path, encoding)
    else:
        source = _read_csv(path, encoding)
    if source.mapping.missing:
        raise _missing_columns(source)
    return source


def _head(path: Path) -> bytes:
    if not path.exists():
        raise SourceFileError(str(path), "no such file", "check the path")
    if path.is_dir():
        raise SourceFileError(str(path), "is a directory", "pass a .csv or .jsonl file")
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 16)
    except OSError as err:
        raise SourceFileError(
            str(path), f"cannot be read ({err.strerror})", "check its permissions"
        ) from err
    if not head.strip(b"\x00\t\r\n ,;|\xef\xbb\xbf\xff\xfe"):
        raise SourceFileError(str(path), "is empty", "export the calls again")
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        max(head[0::2].count(0), head[1::2].count(0)) > len(head) // 4
    )
    if head.startswith(b"\x1f\x8b"):
        raise SourceFileError(str(path), "is gzip-compressed", "decompress it first")
    if head.startswith(b"PK\x03\x04"):
        raise SourceFileError(str(path), "is a zip archive or a workbook", EXPORT_AGAIN)
    if b"\x00" in head and not utf16:
        raise SourceFileError(str(path), "is not a text file (binary content)", EXPORT_AGAIN)
    return head


def _read_csv(path: Path, encoding: str | None) -> CallSource:
    table = read_source(path, encoding=encoding)
    extras = [c for c in table.frame.columns if c.startswith(EXTRA_PREFIX)]
    blank = pl.all_horizontal(pl.col(*table.columns, *extras).is_null())
    rows = table.frame.filter(~blank)
    past_header = pl.any_horizontal(pl.col(*extras).is_not_null()) if extras else pl.lit(False)
    width = len(table.columns)
    frame = rows.select(
        ROW,
        pl.when(past_header)
        .then(pl.lit(f"row has more cells than the header's {width} columns"))
        .alias(MALFORMED),
        *table.columns,
    )
    return CallSource(
        path=path,
        format="csv",
        frame=frame,
        columns=table.columns,
        sha256=table.sha256,
        mapping=map_call_columns(table.columns),
        blank_rows=table.frame.height - rows.height,
    )


JSON_TYPES = {"list": "an array", "str": "a string", "int": "a number", "float": "a number",
              "bool": "a boolean", "NoneType": "null"}  # fmt: skip


def _read_jsonl(path: Path, encoding: str | None) -> CallSource:
    """One JSON object a line; a line that is not one is a malformed row, not a failure.

    Values become text as JSON writes them (42, 42.5, true); arrays and objects (a
    transcript as a list of turns) become their JSON text.
    """
    text = _decode(path, encoding)
    records: list[dict[str, str | int | None]] = []
    columns: dict[str, None] = {}
    blank = 0
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip(" \t\r\ufeff")
        if not line:
            blank += 1
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            records.append({ROW: number, MALFORMED: f"not valid JSON ({err.msg} at column "
                            f"{err.colno})", RAW_LINE: line})  # fmt: skip
            continue
        if not isinstance(value, dict):
            kind = JSON_TYPES.get(type(value).__name__, "not an object")
            records.append({ROW: number, MALFORMED: f"not a JSON object ({kind})", RAW_LINE: line})
            continue
        record: dict[str, str | int | None] = {ROW: number}
        for key, cell in value.items():
            name = f"{key} (field)" if key in INTERNAL else key
            columns.setdefault(name)
            record[name] = _json_text(cell)
        records.append(record)
    blank -= text.endswith("\n")  # the newline that ends the last line opens no line
    keys = list(columns)
    if not keys and records:
        first = records[0]
        raise SourceFileError(
            str(path),
            f"has no JSON object on any line (line {first[ROW]}: {first[MALFORMED]})",
            "write one call object a line",
        )
    schema = {ROW: pl.Int64, MALFORMED: pl.String, RAW_LINE: pl.String}
    schema |= {key: pl.String for key in keys}
    return CallSource(
        path=path,
        format="jsonl",
        frame=pl.from_dicts(records, schema=schema) if records else pl.DataFrame(schema=schema),
        columns=keys,
        sha256=file_sha256(path),
        mapping=map_call_columns(keys),
        blank_rows=blank,
    )


def _decode(path: Path, encoding: str | None) -> str:
    data = path.read_bytes()
    if encoding is None:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            encoding = "utf-8-sig"
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as err:
        raise SourceFileError(
            str(path),
            f"is not {encoding} text ({err})" if isinstance(err, UnicodeDecodeError)
            else f"unknown encoding {encoding!r}",
            "JSON Lines files are UTF-8: re-export it as UTF-8 or pass --encoding",
        ) from err  # fmt: skip


def _json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _missing_columns(source: CallSource) -> SourceFileError:
    missing = source.mapping.missing
    listed = ", ".join(repr(c) for c in source.columns) or "none"
    names = " or ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
    if source.format == "jsonl":
        return SourceFileError(
            str(source.path),
            f"no {names} field in any line (its fields: {listed})",
            f"add {', '.join(missing)} to every call object",
        )
    plural = len(missing) > 1
    return SourceFileError(
        str(source.path),
        f"no {names} column{'s' if plural else ''} (its columns: {listed})",
        f"name the column{'s' if plural else ''} that hold{'' if plural else 's'} "
        f"{'them' if plural else 'it'} {', '.join(missing)}",
    )


# --- plan and commit ------------------------------------------------------------------


def plan_call_import(
    source: CallSource, store: Store, *, region: str = "US", started_at: datetime | None = None
) -> CallImportPlan:
    """Validate the rows and compare them with the stored calls; nothing is written."""
    region = check_region(region)
    started = started_at or now()
    import_id = new_import_id()
    prepared = prepare_calls(canonical_calls(source.frame, source.mapping), region)
    stored = call_store.stored_call_ids(store, prepared.calls.get_column("call_id"))
    new, present = split_present(prepared.calls, stored)
    new = new.join(call_store.contact_ids(store, new.get_column("phone")), on="phone", how="left")
    events = dnc_request_events(
        new, prepared.rejects, import_id=import_id, source_name=source.path.name, at=started
    )
    asked = pl.col("outcome") == "dnc_request"
    stats = CallImportStats(
        import_id=import_id,
        source=str(source.path),
        sha256=source.sha256,
        format=source.format,
        status="running",
        rows_total=prepared.rows_total,
        inserted=new.height,
        already_present=present.height + prepared.repeats.height,
        rejected=prepared.rejects.height,
        dnc_requests=new.filter(asked).height,
        dnc_requests_in_rejects=prepared.rejects.filter(asked & pl.col("phone").is_not_null())
        .height,
        duplicates_in_file=prepared.repeats.height,
        linked_to_contacts=new.get_column("contact_id").is_not_null().sum(),
        ignored_columns=list(source.mapping.ignored),
        started_at=started.isoformat(),
        region=region,
        blank_rows=source.blank_rows,
        reject_samples=prepared.rejects.head(REJECT_SAMPLES)
        .select(pl.col(ROW).alias("row"), "reason", "message")
        .to_dicts(),
    )  # fmt: skip
    if stats.inserted + stats.already_present + stats.rejected != stats.rows_total:
        raise ContactsError(  # a bug, never bad input: refuse to write
            f"internal error: {stats.inserted + stats.already_present + stats.rejected} row "
            f"outcomes for {stats.rows_total} rows"
        )
    write = call_store.CallWrite(
        import_id=import_id,
        calls=new,
        events=events,
        rejects=prepared.rejects.select(ROW, "reason", "message").join(
            _original_cells(source, prepared.rejects.get_column(ROW)), on=ROW, how="left"
        ),
        counts={name: getattr(stats, name) for name in call_store.COUNT_COLUMNS},
    )
    return CallImportPlan(source, write, stats)


def commit_call_import(store: Store, plan: CallImportPlan) -> CallImportStats:
    """Record the import, then apply it in one transaction; a failure is recorded as such."""
    stats = plan.stats
    call_store.begin_import(
        store,
        {"id": stats.import_id, "source": stats.source, "sha256": stats.sha256,
         "format": stats.format, "region": stats.region, "started_at": stats.started_at},
    )  # fmt: skip
    try:
        written = call_store.write_calls(store, plan.write)
    except Exception as err:
        call_store.fail_import(store, stats.import_id, f"{type(err).__name__}: {err}")
        raise ContactsError(
            f"calls import {stats.import_id} failed and changed nothing: {err}"
        ) from err
    stats.status = "completed"
    stats.finished_at = written.finished_at.isoformat()
    stats.dnc_events_added = written.dnc_events_added
    stats.outbound_to_suppressed = written.outbound_to_suppressed
    return stats


def run_call_import(
    path: Path, db: Path, data_dir: Path, *, region: str = "US", encoding: str | None = None
) -> CallImportStats:
    """Import a calls file without Prefect: the library entry point."""
    check_region(region)
    started = now()
    source = read_calls(path, encoding)
    with Store.open(db) as store:
        plan = plan_call_import(source, store, region=region, started_at=started)
        stats = commit_call_import(store, plan)
    write_call_outputs(plan, stats, data_dir)
    return stats


def new_import_id() -> str:
    """Sortable and unique: 'calls-20261124T101500-3fa9c1'."""
    return f"calls-{now():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def _original_cells(source: CallSource, rows: pl.Series) -> pl.DataFrame:
    """_row -> the non-empty source cells of `rows` as {key, value} lists."""
    names = [*source.columns, *([RAW_LINE] if RAW_LINE in source.frame.columns else [])]
    pairs = pl.concat_list(
        [
            pl.struct(key=pl.lit("raw_line" if c == RAW_LINE else c, pl.String), value=pl.col(c))
            for c in names
        ]
    )
    original = pairs.list.filter(pl.element().struct.field("value").is_not_null())
    wanted = source.frame.filter(pl.col(ROW).is_in(rows.implode()))
    return wanted.select(ROW, original.alias("original"))


# --- outputs --------------------------------------------------------------------------


def import_dir(data_dir: Path, import_id: str) -> Path:
    return data_dir / "calls" / import_id


def rejects_frame(plan: CallImportPlan) -> pl.DataFrame:
    """row, reason, message, then the original columns (and raw_line for broken JSON).

    Re-importing a rejects.csv replaces its old row/reason/message columns; any other
    source column with one of those names is kept as '<name> (original)'.
    """
    source = plan.source
    is_rejects_file = set(OUTCOME_COLUMNS) <= set(source.columns)
    columns = [c for c in source.columns if not (is_rejects_file and c in OUTCOME_COLUMNS)]
    cells = [pl.col(c).alias(f"{c} (original)" if c in OUTCOME_COLUMNS else c) for c in columns]
    if RAW_LINE in source.frame.columns and source.frame.get_column(RAW_LINE).is_not_null().any():
        cells.append(pl.col(RAW_LINE).alias("raw_line"))
    outcomes = plan.write.rejects.select(pl.col(ROW).alias("row"), "reason", "message")
    original = source.frame.select(pl.col(ROW).alias("row"), *cells)
    return outcomes.join(original, on="row", how="left").sort("row")


def write_call_outputs(plan: CallImportPlan, stats: CallImportStats, data_dir: Path) -> Path:
    """DATA_DIR/calls/<import id>/rejects.csv and report.json, each written atomically."""
    folder = import_dir(data_dir, stats.import_id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        rejects = folder / "rejects.csv"
        write_atomically(rejects, lambda handle: rejects_frame(plan).write_csv(handle))
        stats.rejects_file = str(rejects)
        report = json.dumps(asdict(stats), indent=2, ensure_ascii=False, default=str) + "\n"
        write_atomically(folder / "report.json", lambda handle: handle.write(report.encode()))
    except OSError as err:
        raise ContactsError(
            f"calls import {stats.import_id} was saved, but its report could not be written "
            f"to {folder}: {err.strerror}"
        ) from err
    return folder


# --- export ---------------------------------------------------------------------------


def parse_bound(text: str | None, option: str, *, end: bool = False) -> datetime | None:
    """A --from/--to value: a day (YYYY-MM-DD, whole day in UTC) or an ISO 8601 time.

    Returns the bound as a UTC instant; for --to, the first instant after it.
    """
    if text is None:
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        day = None
    if day is not None:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise UsageError(
            f"{option} {text!r} is not a date (YYYY-MM-DD) or an ISO 8601 time"
        ) from err
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC) + (timedelta(microseconds=1) if end else timedelta(0))


def export_calls(
    db: Path,
    out: Path,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    campaign: str | None = None,
) -> int:
    """Write the call-record CSV (calls started in [start, end)); return the number of calls."""
    if start is not None and end is not None and start >= end:
        raise UsageError("--from is after --to; nothing could match")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with Store.open(db, read_only=True) as store:
            batches = call_store.stream_calls(store, start, end, campaign)
            return write_atomically(out, lambda handle: _write_calls(batches, handle))
    except OSError as err:
        raise ContactsError(f"cannot write {out}: {err.strerror}") from err


def _write_calls(batches: Iterator[pl.DataFrame], handle: BinaryIO) -> int:
    """The call records of `batches` as one CSV (the first, empty, gives the header);
    how many calls."""
    written = 0
    for number, calls in enumerate(batches):
        utc = calls.with_columns(pl.col("started_at", "ended_at").dt.convert_time_zone("UTC"))
        call_records(utc).write_csv(handle, include_header=number == 0)
        written += calls.height
    return written
