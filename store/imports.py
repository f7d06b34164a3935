"""SQL for import batches: lookups before a batch, and writing it whole or not at all."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from store.db import PHONE_KEY, Store, now
from transforms.dedupe import MERGED_FIELDS
from transforms.mapping import ROW
from transforms.phones_fast import time_zones

# DuckDB writes the full row groups of an INSERT to the database file while the
# statement runs; the rows of a last, partial row group wait in memory until the COMMIT
# compresses them, at the very end of the import. So the writer holds rows back until
# they fill whole row groups: 4 chunks of 102k new contacts into a 10M-contact database
# made the COMMIT take 0.3 s, 2 chunks of 204k made it take 0.01 s.
ROW_GROUP_ROWS = 122_880
# Contacts (and rejects) inserted per statement at most: whole row groups, ~500k rows.
INSERT_SLICE_ROWS = 4 * ROW_GROUP_ROWS
# Chunks the plan may queue ahead of the batch's writer (each one a read batch's rows).
QUEUED_CHUNKS = 2
# Rows a batch inserts from registered frames before the rest goes through Parquet files
# (`Store.staged`): DuckDB keeps the former in memory until the commit (~450 bytes per
# contact), the latter cost ~0.2 s per 500k to write.
IN_MEMORY_INSERT_ROWS = 1_000_000
STAT_COLUMNS = (
    "rows_total", "imported", "updated", "duplicates_in_file", "duplicates_existing",
    "invalid", "dnc", "campaign_excluded_dnc", "warnings",
)  # fmt: skip


@dataclass(frozen=True)
class BatchChunk:
    """What one chunk of a file writes (`BatchWriter.write`)."""

    new: pl.DataFrame  # contacts to insert (prepare.CONTACT_COLUMNS: zone_set, not time_zones)
    changed: pl.DataFrame  # contacts to update: contact_id + merged fields
    rejects: pl.DataFrame  # _row, reason, message, suggested_phone, phone, original
    warnings: pl.DataFrame  # _row, column, value, reason
    campaign_phones: pl.DataFrame | None  # `phone`: the chunk's phones to add to the campaign


class WriteFailed(Exception):
    """The batch's writer stopped on `error`; its transaction was rolled back."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error


@dataclass(frozen=True)
class _Finish:
    stats: dict[str, int]


_ABORT = object()


class _Aborted(Exception):
    """Raised in the writer's thread to roll its transaction back on `abort()`."""


class BatchWriter:
    """Writes one batch while it is planned: a thread of its own, one transaction on its
    own cursor, fed chunk by chunk.

    DuckDB works with the GIL released, so the inserts of one chunk overlap the
    preparation of the next. The plan's lookups run on the store's own connection,
    outside this transaction: they see the database as it was before the batch.
    `finish(stats)` completes the batch and commits; `abort()` rolls it back. Nothing
    is visible to other connections before the commit.
    """

    def __init__(
        self,
        store: Store,
        batch_id: str,
        campaign: str | None,
        keep_rejects: Callable[[pl.DataFrame], None] | None = None,
    ) -> None:
        self.batch_id = batch_id
        self.campaign = campaign
        self._keep_rejects = keep_rejects  # called here with each chunk's rejects, once written
        self.at = now()  # the rows' created_at / updated_at / added_at
        self._cursor = store.cursor()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=QUEUED_CHUNKS)
        self._error: BaseException | None = None
        self._ended = False  # a finish or abort was taken from the queue
        self._finished: datetime | None = None
        self._inserted = 0  # rows inserted so far (contacts and rejects)
        self._contacts = _RowGroups(self._insert_contacts)
        self._rejects = _RowGroups(self._insert_rejects)
        self._thread = threading.Thread(target=self._run, name="batch-writer", daemon=True)
        self._thread.start()

    def write(self, chunk: BatchChunk) -> None:
        """Queue a chunk (waits while QUEUED_CHUNKS are pending); raises `WriteFailed`
        as soon as an earlier chunk failed."""
        self._check()
        self._queue.put(chunk)

    def finish(self, stats: dict[str, int]) -> datetime:
        """Write what is queued, mark the batch completed with `stats`, commit; return
        the commit time. Raises `WriteFailed` (nothing committed) on any failure."""
        self._queue.put(_Finish(stats))
        self._thread.join()
        self._check()
        assert self._finished is not None
        return self._finished

    def abort(self) -> None:
        """Roll back whatever was written; safe after finish or a failure."""
        if self._thread.is_alive():
            self._queue.put(_ABORT)
            self._thread.join()

    def _check(self) -> None:
        if self._error is not None:
            raise WriteFailed(self._error)

    def _next(self) -> object:
        item = self._queue.get()
        self._ended = not isinstance(item, BatchChunk)
        return item

    def _run(self) -> None:
        try:
            with self._cursor.transaction():  # rolls back on anything raised, abort included
                self._finished = self._write_all()
        except _Aborted:
            pass
        except BaseException as err:  # handed to the planning thread by write/finish
            self._error = err
            while not self._ended:  # unblock the planner until it stops feeding us
                self._next()
        finally:
            with suppress(Exception):
                self._cursor.close()

    def _write_all(self) -> datetime:
        """Write the queued chunks, then complete the batch; the commit follows."""
        cursor = self._cursor
        if self.campaign:
            cursor.run(
                "INSERT INTO campaigns VALUES (?, ?) ON CONFLICT DO NOTHING",
                [self.campaign, self.at],
            )
        while isinstance(item := self._next(), BatchChunk):
            self._write_chunk(item)
        if not isinstance(item, _Finish):
            raise _Aborted
        self._contacts.flush()
        self._rejects.flush()
        finished = now()
        assignments = ", ".join(f"{name} = ?" for name in STAT_COLUMNS)
        cursor.run(
            f"UPDATE import_batches SET status = 'completed', finished_at = ?, {assignments} "
            "WHERE id = ?",
            [finished, *(item.stats[name] for name in STAT_COLUMNS), self.batch_id],
        )
        return finished

    def _write_chunk(self, chunk: BatchChunk) -> None:
        """One chunk's statements. New contacts and rejects go in whole row groups (the
        rest waits for the next chunk or the finish); campaign members need every new
        contact of their chunk inserted first."""
        cursor, at = self._cursor, self.at
        self._contacts.add(chunk.new.sort(ROW))
        _update_contacts(cursor, self.batch_id, chunk.changed, at)
        self._rejects.add(chunk.rejects)
        if self._keep_rejects is not None:
            self._keep_rejects(chunk.rejects)
        if chunk.warnings.height:
            with cursor.registered("batch_warnings", chunk.warnings):
                cursor.run(
                    'INSERT INTO import_warnings SELECT ?, _row, "column", value, reason '
                    "FROM batch_warnings",
                    [self.batch_id],
                )
        if self.campaign and chunk.campaign_phones is not None:
            self._contacts.flush()
            _add_members(cursor, self.batch_id, self.campaign, chunk.campaign_phones, at)

    def _insert_contacts(self, new: pl.DataFrame) -> None:
        _insert_contacts(self._cursor, self.batch_id, new, self.at, on_disk=self._on_disk())
        self._inserted += new.height

    def _insert_rejects(self, outcomes: pl.DataFrame) -> None:
        rejects, original = cells_as_json(outcomes, "original")
        with self._cursor.source("batch_rejects", rejects, on_disk=self._on_disk()) as source:
            self._cursor.run(
                "INSERT INTO import_rejects SELECT ?, _row, reason, message, "
                f"suggested_phone, phone, {original} FROM {source}",
                [self.batch_id],
            )
        self._inserted += rejects.height

    def _on_disk(self) -> bool:
        return self._inserted >= IN_MEMORY_INSERT_ROWS


class _RowGroups:
    """Rows for one table, inserted in file order and in whole row groups
    (ROW_GROUP_ROWS); `flush` inserts what is left."""

    def __init__(self, insert: Callable[[pl.DataFrame], None]) -> None:
        self._insert = insert
        self._held: pl.DataFrame | None = None

    def add(self, frame: pl.DataFrame) -> None:
        rows = frame if self._held is None else pl.concat([self._held, frame])
        whole = rows.height - rows.height % ROW_GROUP_ROWS
        for part in _slices(rows.head(whole), INSERT_SLICE_ROWS):
            self._insert(part)
        self._held = rows.slice(whole) if rows.height > whole else None

    def flush(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._insert(held)


def known_contacts(store: Store, phones: pl.Series, *, fields: bool = True) -> pl.DataFrame:
    """Stored contacts whose phone is in `phones` (E.164): id and phone, and unless
    `fields` is False their mergeable fields, attributes as {key, value} lists."""
    entries = "map_entries(CAST(CAST(c.attributes AS JSON) AS MAP(VARCHAR, VARCHAR)))"
    columns = ", ".join(MERGED_FIELDS) + f", {entries} AS attributes"
    # the phone spelled from its key: the stored phones are not read at all
    phone = "'+' || CAST(c.phone_key AS VARCHAR) AS phone"
    with store.registered("incoming_phones", phones.unique().alias("phone").to_frame()):
        return store.frame(
            f"SELECT c.id, {phone}{', ' + columns if fields else ''} FROM contacts c "
            f"JOIN incoming_phones i ON c.phone_key = {PHONE_KEY.format('i.phone')}"
        )


def suppressed_phones(store: Store, phones: pl.Series) -> pl.Series:
    """The subset of `phones` that the DNC ledger suppresses now, joined on phone keys
    with the view dnc_suppressing (migration 011; dnc_suppressed groups the whole ledger
    first: 0.44-0.62 s per chunk against a 5M-number registry)."""
    with store.registered("incoming_phones", phones.unique().alias("phone").to_frame()):
        found = store.frame(
            "SELECT DISTINCT i.phone FROM dnc_suppressing d JOIN incoming_phones i "
            f"ON d.phone_key = {PHONE_KEY.format('i.phone')}"
        )
    return found.get_column("phone") if found.height else pl.Series("phone", [], pl.String)


def begin_batch(store: Store, batch: dict[str, Any]) -> None:
    """Record the batch as running (committed at once), so a crash leaves a trace."""
    store.run(
        "INSERT INTO import_batches (id, source, sha256, started_at, status, mapping, region, "
        "on_duplicate, campaign, encoding) VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)",
        [
            batch["batch_id"],
            batch["source"],
            batch["sha256"],
            batch["started_at"],
            json.dumps(batch["mapping"]),
            batch["region"],
            batch["on_duplicate"],
            batch["campaign"],
            batch["encoding"],
        ],
    )


def fail_batch(store: Store, batch_id: str, error: str) -> None:
    store.run(
        "UPDATE import_batches SET status = 'failed', finished_at = ?, error = ? WHERE id = ?",
        [now(), error, batch_id],
    )


def _json_member(position: int, name: str) -> pl.Expr:
    """'"name":"value"' for a non-empty cell of column `_{position}`, else null (the value
    escaped by polars' JSON encoder)."""
    value = pl.col(f"_{position}")
    # a one-field struct's JSON is '{"v":' + the value's JSON + '}'
    escaped = pl.struct(value.alias("v")).struct.json_encode()
    escaped = escaped.str.strip_prefix('{"v":').str.strip_suffix("}")
    return pl.when(value.is_not_null()).then(
        pl.lit(json.dumps(name, ensure_ascii=False) + ":") + escaped
    )


def cells_as_json(frame: pl.DataFrame, column: str) -> tuple[pl.DataFrame, str]:
    """(`frame` ready to register, the SQL for `column` as JSON text of its non-empty
    cells: {"header": "value", ...}, in column order; '{}' when there are none).

    `column` is a struct, a field per source header (`transforms.mapping.cell_struct`),
    encoded here by polars, or a list of {key, value} entries (merged attributes), turned
    into JSON by DuckDB.
    """
    dtype = frame.schema[column]
    if isinstance(dtype, pl.List):
        return frame, f"CAST(to_json(map_from_entries({column})) AS VARCHAR)"
    if not isinstance(dtype, pl.Struct) or not dtype.fields:  # no cells to keep
        return frame.drop(column), "'{}'"
    # One member per non-empty cell, joined: cutting null members out of the whole
    # object's JSON with regular expressions cannot tell a member's start from the same
    # characters inside a cell. The cells are renamed by position first, as polars reads
    # a name like '*' or '^...$' in an expression as a pattern, never as a field.
    cells = frame.get_column(column).struct.unnest()
    names = cells.columns
    cells.columns = [f"_{position}" for position in range(len(names))]
    members = [_json_member(position, name) for position, name in enumerate(names)]
    joined = pl.concat_str(members, separator=",", ignore_nulls=True)  # '' when all empty
    encoded = cells.select(pl.concat_str(pl.lit("{"), joined, pl.lit("}")).alias(column))
    return frame.with_columns(encoded.to_series()), column


def _slices(frame: pl.DataFrame, rows: int) -> Iterator[pl.DataFrame]:
    """`frame` in slices of at most `rows` rows, in order (none when it is empty)."""
    for start in range(0, frame.height, rows):
        yield frame.slice(start, rows)


def _insert_contacts(
    store: Store, batch_id: str, new: pl.DataFrame, at: datetime, *, on_disk: bool
) -> None:
    """Insert `new` (sorted by _row) in file order: one statement of the transaction.

    Ids are taken from the contacts' sequence as one range and given in file order here,
    so the insert needs no ORDER BY (a sort of every row with its map) to keep them so.
    """
    if new.height == 0:
        return
    first, last = store.run(
        "SELECT min(id), max(id) FROM (SELECT nextval('contact_ids') AS id FROM range(?))",
        [new.height],
    )[0]
    if last - first + 1 != new.height:  # only this transaction draws ids: never expected
        raise RuntimeError(f"contact ids {first}..{last} are not {new.height} in a row")
    new = new.with_columns(
        pl.int_range(first, last + 1, dtype=pl.Int64).alias("id"),
        time_zones(new.get_column("zone_set")),
    )
    new, attributes = cells_as_json(new, "attributes")
    with store.source("batch_new", new, on_disk=on_disk) as batch_new:
        store.run(
            "INSERT INTO contacts (id, phone, phone_extension, first_name, last_name, email, "
            "company, title, attributes, phone_region, line_type, time_zones, "
            "created_batch_id, created_row, last_batch_id, created_at, updated_at, phone_key) "
            "SELECT id, phone, phone_extension, first_name, last_name, email, company, "
            f"title, {attributes}, phone_region, line_type, time_zones, "
            f"$1, _row, $1, $2, $2, {PHONE_KEY.format('phone')} FROM {batch_new}",
            [batch_id, at],
        )


def _update_contacts(store: Store, batch_id: str, changed: pl.DataFrame, at: datetime) -> None:
    if changed.height == 0:
        return
    assignments = ", ".join(f"{name} = u.{name}" for name in MERGED_FIELDS)
    # a name of its own: `attributes` alone would be the contacts table's column
    changed = changed.rename({"attributes": "merged_attributes"})
    changed, attributes = cells_as_json(changed, "merged_attributes")
    with store.registered("batch_changed", changed):
        store.run(
            f"UPDATE contacts SET {assignments}, attributes = {attributes}, "
            "last_batch_id = $1, updated_at = $2 FROM batch_changed u "
            "WHERE contacts.id = u.contact_id",
            [batch_id, at],
        )


def _add_members(
    store: Store, batch_id: str, campaign: str, phones: pl.DataFrame, at: datetime
) -> None:
    with store.registered("member_phones", phones.select("phone")):
        store.run(
            "INSERT INTO campaign_members SELECT ?, c.id, ?, ? FROM contacts c "
            f"JOIN member_phones m ON c.phone_key = {PHONE_KEY.format('m.phone')} "
            "ON CONFLICT DO NOTHING",
            [campaign, at, batch_id],
        )


def list_batches(store: Store, limit: int | None = None) -> pl.DataFrame:
    sql = "SELECT * FROM import_batches ORDER BY started_at DESC"
    return store.frame(sql + (f" LIMIT {int(limit)}" if limit else ""))


def batch_row(store: Store, batch_id: str) -> dict[str, Any] | None:
    rows = store.frame("SELECT * FROM import_batches WHERE id = ?", [batch_id]).to_dicts()
    return rows[0] if rows else None


def revert_batch(store: Store, batch_id: str, actor: str | None, reason: str | None) -> int:
    """Delete the contacts a batch created (not those it updated); DNC events stay."""
    at = now()
    with store.transaction():
        store.run(
            "DELETE FROM campaign_members WHERE contact_id IN "
            "(SELECT id FROM contacts WHERE created_batch_id = ?)",
            [batch_id],
        )
        deleted = store.run(
            "DELETE FROM contacts WHERE created_batch_id = ? RETURNING id", [batch_id]
        )
        store.run("UPDATE import_batches SET reverted_at = ? WHERE id = ?", [at, batch_id])
        store.run(
            "INSERT INTO batch_reverts VALUES (?, ?, ?, ?, ?)",
            [batch_id, at, len(deleted), actor, reason],
        )
    return len(deleted)


def completed_batch_with_sha(store: Store, sha256: str) -> str | None:
    """The completed, not reverted batch that imported a file with this content, if any."""
    rows = store.run(
        "SELECT id FROM import_batches WHERE sha256 = ? AND status = 'completed' "
        "AND reverted_at IS NULL ORDER BY started_at LIMIT 1",
        [sha256],
    )
    return rows[0][0] if rows else None


def record_inbox_file(store: Store, entry: dict[str, Any]) -> None:
    store.run(
        "INSERT INTO inbox_files VALUES (?, ?, ?, ?, ?, ?, ?)",
        [entry["sha256"], entry["name"], entry["seen_at"], entry["outcome"],
         entry.get("batch_id"), entry.get("moved_to"), entry.get("error")],
    )  # fmt: skip
