"""The import use case as plain functions: read -> import the batch -> write outputs.

The Prefect flow (`flows.import_contacts`) runs these same steps as tasks; `run_import`
runs them directly (dry runs, the library API, tests).
"""

from __future__ import annotations

import codecs
import os
import secrets
from collections import Counter
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from contacts.errors import BatchFailed, ContactsError, UsageError
from contacts.outputs import WARNING_SAMPLE, rejects_frame, write_outputs
from contacts.progress import stage
from contacts.readahead import prepared_chunks, take_prefetched
from contacts.readers import SourceTable, read_source
from contacts.staging import StagedCsv, StagingArea, remove_stale
from contacts.stats import BatchStats
from store.db import Store, now
from store.imports import (
    STAT_COLUMNS,
    BatchChunk,
    BatchWriter,
    WriteFailed,
    begin_batch,
    fail_batch,
    known_contacts,
    suppressed_phones,
)
from transforms.dedupe import POLICIES, merge_known, split_known
from transforms.mapping import ROW, ColumnMapping, cell_struct, map_columns
from transforms.prepare import PreparedBatch
from transforms.regions import region_for_country

# Under the data directory: frames an import stages on disk (removed when it ends).
STAGING_FOLDER = ".staging"
# How long an import waits for another process's database lock, unless told otherwise.
DEFAULT_LOCK_WAIT = 60.0
LOCK_WAIT_ENV = "CONTACTS_LOCK_WAIT"


@dataclass(frozen=True)
class ImportOptions:
    path: Path
    db: Path
    data_dir: Path
    region: str = "US"
    overrides: dict[str, str] = field(default_factory=dict)
    campaign: str | None = None
    on_duplicate: str = "skip"
    encoding: str | None = None
    sheet: str | None = None
    # Seconds to wait while another process holds the database; the library fails at
    # once, the flow (CLI, schedules) waits `lock_wait_setting(None)`.
    lock_wait: float = 0.0


@dataclass(frozen=True)
class ImportPlan:
    """A batch judged (and, unless a dry run, written); `discard()` when done."""

    batch_id: str
    source: SourceTable
    mapping: ColumnMapping
    stats: BatchStats
    warning_samples: list[dict[str, object]]
    rejects: StagedCsv  # rejects.csv's text: the outcomes that did not import, with their cells
    staging: StagingArea

    def discard(self) -> None:
        """Drop the staged frames and their files."""
        self.staging.close()


def check_options(options: ImportOptions) -> ImportOptions:
    """Usage errors first, before any file or database is touched."""
    if options.on_duplicate not in POLICIES:
        raise UsageError(
            f"--on-duplicate {options.on_duplicate!r} is not one of {', '.join(POLICIES)}"
        )
    region = region_for_country(options.region)
    if region is None:
        raise UsageError(f"--region {options.region!r} is not a known region; use e.g. US, GB")
    if options.encoding is not None:
        try:
            codecs.lookup(options.encoding)
        except LookupError as err:
            raise UsageError(
                f"--encoding {options.encoding!r} is not an encoding Python knows; "
                "use e.g. utf-8, cp1252, utf-16"
            ) from err
    if options.campaign is not None and not options.campaign.strip():
        raise UsageError("--campaign needs a name")
    if not options.lock_wait >= 0:  # also refuses NaN
        raise UsageError(f"lock wait {options.lock_wait!r} must be 0 or more seconds")
    return ImportOptions(**{**options.__dict__, "region": region})


def lock_wait_setting(value: float | None, environ: Mapping[str, str] = os.environ) -> float:
    """The lock wait for an edge (CLI, flow parameter): `value`, else $CONTACTS_LOCK_WAIT,
    else 60 s. `CONTACTS_LOCK_WAIT=0` fails at once when the database is busy."""
    if value is not None:
        return value
    raw = environ.get(LOCK_WAIT_ENV, "").strip()
    if not raw:
        return DEFAULT_LOCK_WAIT
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise UsageError(
            f"{LOCK_WAIT_ENV}={raw!r} is not a number of seconds; use e.g. 60, or 0 to fail "
            "at once when the database is busy"
        )
    return seconds


def read_and_map(options: ImportOptions) -> tuple[SourceTable, ColumnMapping]:
    """Read the header and first records, and decide the mapping; raise if the file
    cannot be imported at all. The rest of the records are read as the batch is planned.

    Takes what `contacts.readahead.prefetching` read for these options, if anything."""
    prefetched = take_prefetched(options)
    return read_header(options) if prefetched is None else prefetched


def read_header(options: ImportOptions) -> tuple[SourceTable, ColumnMapping]:
    """read_and_map without a prefetch: read the header and first records, map them."""
    stage("reading the header")
    source = read_source(options.path, encoding=options.encoding, sheet=options.sheet)
    mapping = map_columns(source.columns, options.overrides, sample=source.head)
    return source, mapping


@dataclass
class _Chunks:
    """Where the chunks of a file go as they are judged, and their counts."""

    writer: BatchWriter | None  # None on a dry run
    counts: Counter[str] = field(default_factory=Counter)
    warning_samples: list[dict[str, object]] = field(default_factory=list)


def import_batch(
    options: ImportOptions,
    source: SourceTable,
    mapping: ColumnMapping,
    store: Store,
    started_at: datetime | None = None,
) -> ImportPlan:
    """Record the batch as running, then judge the file chunk by chunk while a writer
    thread (`store.imports.BatchWriter`) writes each judged chunk, all in one
    transaction, committed once every row is accounted for. A failure rolls the batch
    back and records it as failed."""
    batch_id = new_batch_id()
    started_at = started_at or now()
    begin_batch(
        store,
        {
            "batch_id": batch_id,
            "source": str(options.path),
            "sha256": source.sha256,
            "started_at": started_at.isoformat(),
            "mapping": mapping.as_report(),
            "region": options.region,
            "on_duplicate": options.on_duplicate,
            "campaign": options.campaign,
            "encoding": source.encoding,
        },
    )
    area = _staging_area(options)
    rejects = area.staged()  # by the writer, after it wrote them: off the plan's path

    def keep_rejects(outcomes: pl.DataFrame) -> None:
        rejects.add(rejects_frame(source.columns, outcomes))

    try:
        writer = BatchWriter(store, batch_id, options.campaign, keep_rejects=keep_rejects)
    except Exception as err:
        area.close()
        _record_failure(store, batch_id, err)
        raise BatchFailed(batch_id, err) from err
    try:
        plan = _plan(options, source, mapping, store, batch_id, started_at, writer, area, rejects)
    except BaseException as err:
        writer.abort()  # first: it may be adding to the area
        area.close()
        _record_failure(store, batch_id, err.error if isinstance(err, WriteFailed) else err)
        if isinstance(err, WriteFailed):
            raise BatchFailed(batch_id, err.error) from err.error
        raise
    stage("committing the batch")
    try:
        finished = writer.finish({name: getattr(plan.stats, name) for name in STAT_COLUMNS})
    except WriteFailed as err:
        plan.discard()
        _record_failure(store, batch_id, err.error)
        raise BatchFailed(batch_id, err.error) from err.error
    plan.stats.status = "completed"
    plan.stats.finished_at = finished.isoformat()
    return plan


def _record_failure(store: Store, batch_id: str, err: BaseException) -> None:
    """Mark the batch failed. This can fail for the same reason (a full disk); the batch
    then stays 'running' until the next writer's Store.open marks it failed."""
    with suppress(Exception):
        fail_batch(store, batch_id, f"{type(err).__name__}: {err}")


def plan_import(
    options: ImportOptions,
    source: SourceTable,
    mapping: ColumnMapping,
    store: Store,
    started_at: datetime | None = None,
) -> ImportPlan:
    """Judge the whole file and write nothing: a dry run's counts and warnings."""
    area = _staging_area(options)
    try:
        started_at = started_at or now()
        return _plan(
            options, source, mapping, store, new_batch_id(), started_at, None, area, area.staged()
        )
    except BaseException:
        area.close()
        raise


def _staging_area(options: ImportOptions) -> StagingArea:
    remove_stale(options.data_dir / STAGING_FOLDER)
    return StagingArea(options.data_dir / STAGING_FOLDER)


def _plan(
    options: ImportOptions,
    source: SourceTable,
    mapping: ColumnMapping,
    store: Store,
    batch_id: str,
    started_at: datetime,
    writer: BatchWriter | None,
    area: StagingArea,
    rejects: StagedCsv,
) -> ImportPlan:
    """Prepare the file chunk by chunk, compare each chunk with the stored contacts and
    the DNC ledger, and hand it to `writer`, which also stages its rejects in `rejects`
    (of `area`) for rejects.csv. The caller closes `area` if this raises."""
    chunks = _Chunks(writer=writer)
    stage("reading, preparing and writing rows (phones, duplicates, DNC)")
    chunk_source = prepared_chunks(source, mapping, options.region)
    try:
        for frame, prepared in chunk_source:
            _plan_chunk(options, source, store, frame, prepared, chunks)
            del frame, prepared  # freed before the next chunk is waited for
    finally:
        chunk_source.close()
    counts = chunks.counts  # a count per STAT_COLUMNS name, and blank_rows
    stats = BatchStats(
        batch_id=batch_id,
        source=str(options.path),
        sha256=source.sha256,
        status="running",
        **{name: counts[name] for name in (*STAT_COLUMNS, "blank_rows")},
        mapping=mapping.as_report(),
        started_at=started_at.isoformat(),
        encoding=source.encoding,
        delimiter=source.delimiter,
        region=options.region,
        on_duplicate=options.on_duplicate,
        campaign=options.campaign,
        notes=[*source.notes, *mapping.notes],
    )
    if stats.accounted() != stats.rows_total:  # a bug, never bad input: refuse to write
        raise ContactsError(
            f"internal error: {stats.accounted()} row outcomes for {stats.rows_total} rows"
        )
    return ImportPlan(batch_id, source, mapping, stats, chunks.warning_samples, rejects, area)


def _plan_chunk(
    options: ImportOptions,
    source: SourceTable,
    store: Store,
    frame: pl.DataFrame,
    prepared: PreparedBatch,
    chunks: _Chunks,
) -> None:
    """Judge the next rows of the file (`prepared` from `frame`) and hand what they
    write to the writer."""
    phones = prepared.contacts.get_column("phone")
    merging = options.on_duplicate != "skip"
    known = known_contacts(store, phones, fields=merging)
    new, matched = split_known(prepared.contacts, known)
    changed, unchanged = merge_known(matched, options.on_duplicate)
    suppressed = suppressed_phones(store, phones).implode()

    counts = chunks.counts
    members = None
    if options.campaign:
        members = phones.filter(~phones.is_in(suppressed))
        counts["campaign_excluded_dnc"] += phones.len() - members.len()
    existing = unchanged.select(
        ROW,
        pl.lit("duplicate_existing").alias("reason"),
        pl.lit("phone already belongs to a stored contact").alias("message"),
        pl.lit(None, pl.String).alias("suggested_phone"),
        "phone",
    )
    outcomes = pl.concat([prepared.rejects, prepared.duplicates_in_file, existing]).sort(ROW)
    outcomes = outcomes.join(_original_cells(frame, source.columns, outcomes), on=ROW, how="left")
    counts.update(
        rows_total=prepared.rows_total,
        blank_rows=prepared.blank_rows,
        imported=new.height,
        updated=changed.height,
        duplicates_in_file=prepared.duplicates_in_file.height,
        duplicates_existing=unchanged.height,
        invalid=prepared.rejects.height,
        dnc=int(new.get_column("phone").is_in(suppressed).sum()),
        warnings=prepared.warnings.height,
    )
    wanted = WARNING_SAMPLE - len(chunks.warning_samples)
    if wanted > 0:
        chunks.warning_samples.extend(prepared.warnings.head(wanted).to_dicts())
    if chunks.writer is None:  # a dry run: the counts are all it needs
        return
    chunks.writer.write(
        BatchChunk(
            new=new,
            changed=changed,
            rejects=outcomes,
            warnings=prepared.warnings,
            campaign_phones=None if members is None else members.to_frame(),
        )
    )


def run_import(options: ImportOptions, *, dry_run: bool = False) -> BatchStats:
    """Import a file without Prefect: the library entry point."""
    options = check_options(options)
    started = now()
    source, mapping = read_and_map(options)
    if dry_run:
        with Store.open(options.db, read_only=True, wait_seconds=options.lock_wait) as store:
            plan = plan_import(options, source, mapping, store, started)
        plan.discard()
        plan.stats.status = "dry_run"
        plan.stats.batch_id = None
        return plan.stats
    plan: ImportPlan | None = None
    try:
        with Store.open(options.db, wait_seconds=options.lock_wait) as store:
            plan = import_batch(options, source, mapping, store, started)
            with store.closing_meanwhile():
                stage("writing the report")
                write_outputs(plan, plan.stats, options.data_dir)
    finally:
        if plan is not None:
            plan.discard()  # its staged files
    return plan.stats


def new_batch_id() -> str:
    """Sortable and unique: '20261124T101500-3fa9c1'."""
    return f"{now():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def _original_cells(
    frame: pl.DataFrame, columns: list[str], outcomes: pl.DataFrame
) -> pl.DataFrame:
    """_row -> the source cells of the rows in `outcomes`, as one struct per row."""
    rows = frame.filter(pl.col(ROW).is_in(outcomes.get_column(ROW).implode()))
    return rows.select(ROW, cell_struct(columns).alias("original"))
