"""SQL for call history: lookups before an import, writing it whole, reading for export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from store import dnc as ledger
from store.db import MATCHING_KEY, Store, now

EXPORT_BATCH_ROWS = 200_000  # calls an export writes at a time, at most
COUNT_COLUMNS = ("rows_total", "inserted", "already_present", "rejected", "dnc_requests")
CALL_COLUMNS = (
    "id", "phone", "contact_id", "direction", "started_at", "ended_at", "duration_seconds",
    "outcome", "sentiment", "recording_url", "transcript", "summary", "campaign", "caller_id",
)  # fmt: skip


@dataclass(frozen=True)
class CallWrite:
    """Everything one calls import writes, applied in a single transaction."""

    import_id: str
    calls: pl.DataFrame  # new calls: transforms.calls.FIELDS plus contact_id
    events: pl.DataFrame  # DNC ledger events (store.dnc.EVENT_COLUMNS), before dedupe
    rejects: pl.DataFrame  # _row, reason, message, original ({key, value} list)
    counts: dict[str, int]  # COUNT_COLUMNS


def stored_call_ids(store: Store, ids: pl.Series) -> pl.Series:
    """The subset of `ids` already in `calls`."""
    with store.registered("incoming_ids", ids.unique().drop_nulls().alias("id").to_frame()):
        found = store.frame("SELECT c.id FROM calls c JOIN incoming_ids i ON c.id = i.id")
    return found.get_column("id") if found.height else pl.Series("id", [], pl.String)


def contact_ids(store: Store, phones: pl.Series) -> pl.DataFrame:
    """(phone, contact_id) for the stored contacts among `phones`."""
    with store.registered("incoming_phones", phones.unique().alias("phone").to_frame()):
        return store.frame(
            "SELECT i.phone, c.id AS contact_id FROM contacts c "
            f"JOIN incoming_phones i ON c.phone_key = {MATCHING_KEY.format('i.phone')}"
        )


def fail_interrupted_imports(store: Store) -> None:
    """A writer holds the only lock, so an import still 'running' now was interrupted."""
    store.run(
        "UPDATE call_imports SET status = 'failed', finished_at = ?, "
        "error = 'interrupted: the process ended before the import finished' "
        "WHERE status = 'running'",
        [now()],
    )


def begin_import(store: Store, record: dict[str, Any]) -> None:
    """Record the import as running (committed at once), so a crash leaves a trace."""
    fail_interrupted_imports(store)
    store.run(
        "INSERT INTO call_imports (id, source, sha256, format, region, started_at, status) "
        "VALUES (?, ?, ?, ?, ?, ?, 'running')",
        [record["id"], record["source"], record["sha256"], record["format"], record["region"],
         record["started_at"]],
    )  # fmt: skip


def fail_import(store: Store, import_id: str, error: str) -> None:
    store.run(
        "UPDATE call_imports SET status = 'failed', finished_at = ?, error = ? WHERE id = ?",
        [now(), error, import_id],
    )


@dataclass(frozen=True)
class WriteResult:
    finished_at: datetime
    dnc_events_added: int
    outbound_to_suppressed: int  # new outbound calls to a number suppressed at that time


def write_calls(store: Store, write: CallWrite) -> WriteResult:
    """Insert the calls, their DNC events and the rejects, and complete the import:
    atomically.

    Events the ledger already holds (same phone, source and reason: a request recorded
    live, or by an earlier import) are not added again.
    """
    finished = now()
    with store.transaction():
        with store.registered("new_calls", write.calls):
            inserted = store.run(
                f"INSERT INTO calls ({', '.join(CALL_COLUMNS)}, batch_id, recorded_at) "
                "SELECT call_id, phone, contact_id, direction, started_at, ended_at, "
                "duration_seconds, outcome, sentiment, recording_url, transcript, summary, "
                "campaign, caller_id, ?, ? FROM new_calls n "
                "WHERE NOT EXISTS (SELECT 1 FROM calls c WHERE c.id = n.call_id) ORDER BY _row",
                [write.import_id, finished],
            )[0][0]
        if inserted != write.calls.height:  # planned under the same lock: a bug, not data
            raise RuntimeError(f"{inserted} calls inserted, {write.calls.height} planned")
        events = _new_events(store, write.events)
        ledger.append_events(store, events)
        leaks = _outbound_to_suppressed(store, write.import_id)
        with store.registered("call_rejects", write.rejects):
            store.run(
                "INSERT INTO call_import_rejects SELECT ?, _row, reason, message, "
                "map_from_entries(original) FROM call_rejects",
                [write.import_id],
            )
        assignments = ", ".join(f"{name} = ?" for name in COUNT_COLUMNS)
        store.run(
            f"UPDATE call_imports SET status = 'completed', finished_at = ?, {assignments}, "
            "outbound_to_suppressed = ? WHERE id = ?",
            [finished, *(write.counts[name] for name in COUNT_COLUMNS), leaks, write.import_id],
        )
    return WriteResult(finished, events.height, leaks)


def _outbound_to_suppressed(store: Store, import_id: str) -> int:
    """Outbound calls of this import placed while the ledger suppressed the number (any
    source's latest event strictly before the call was an 'add'): evidence of a leak."""
    return store.run(
        "SELECT count(*) FROM calls c WHERE c.batch_id = ? AND c.direction = 'outbound' "
        "AND EXISTS (SELECT 1 FROM (SELECT max_by(e.action, (e.occurred_at, e.id)) AS action "
        "FROM dnc_events e WHERE e.phone = c.phone AND e.occurred_at < c.started_at "
        "GROUP BY e.source) WHERE action = 'add')",
        [import_id],
    )[0][0]


def _new_events(store: Store, events: pl.DataFrame) -> pl.DataFrame:
    if events.height == 0:
        return events
    with store.registered("call_events", events.select(ledger.EVENT_COLUMNS)):
        return store.frame(
            "SELECT * FROM call_events e WHERE NOT EXISTS (SELECT 1 FROM dnc_events d "
            "WHERE d.phone = e.phone AND d.source = e.source AND d.reason = e.reason)"
        )


def stream_calls(
    store: Store,
    start: datetime | None,
    end: datetime | None,
    campaign: str | None,
) -> Iterator[pl.DataFrame]:
    """Stored calls started in [start, end) and of `campaign` (each when given), by time,
    as frames of at most EXPORT_BATCH_ROWS after an empty frame with the columns
    (`Store.frames`): an export holds one batch, never the whole selection."""
    clauses, params = [], []
    if start is not None:
        clauses.append("started_at >= ?")
        params.append(start)
    if end is not None:
        clauses.append("started_at < ?")
        params.append(end)
    if campaign is not None:
        clauses.append("campaign = ?")
        params.append(campaign)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return store.frames(
        "SELECT id AS call_id, phone, direction, started_at, ended_at, duration_seconds, "
        f"outcome, campaign, caller_id FROM calls{where} ORDER BY started_at, id",
        params,
        rows=EXPORT_BATCH_ROWS,
    )
