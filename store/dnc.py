"""SQL for the DNC ledger: append events, derive the suppression set, loads and exports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from store.db import MATCHING_KEY, Store

SOURCES = ("manual", "call", "api", "registry", "state", "file")
EVENT_COLUMNS = ("phone", "action", "source", "reason", "actor", "occurred_at", "batch_id")


def append_events(store: Store, events: pl.DataFrame) -> int:
    """Append ledger events (EVENT_COLUMNS) and refresh the current state of the (phone,
    source) pairs they touch; returns how many. Call it inside a transaction."""
    if events.height == 0:
        return 0
    with store.registered("new_events", events.select(EVENT_COLUMNS)):
        store.run(
            "INSERT INTO dnc_events (phone, action, source, reason, actor, occurred_at, batch_id)"
            " SELECT phone, action, source, reason, actor, occurred_at, batch_id FROM new_events"
        )
        refresh_current(store, "new_events")
    return events.height


def refresh_current(store: Store, touched: str | None = None) -> None:
    """Recompute dnc_current from the ledger for the pairs in table `touched` (all if None)."""
    scope = (
        f" WHERE EXISTS (SELECT 1 FROM {touched} t WHERE t.phone = {{table}}.phone"
        f" AND t.source = {{table}}.source)"
        if touched
        else ""
    )
    store.run("DELETE FROM dnc_current" + scope.format(table="dnc_current"))
    store.run(
        "INSERT INTO dnc_current (phone, source, action, occurred_at, reason, actor, phone_key) "
        "SELECT phone, source, max_by(action, (occurred_at, id)), max(occurred_at), "
        "max_by(reason, (occurred_at, id)), max_by(actor, (occurred_at, id)), "
        f"{MATCHING_KEY.format('phone')} FROM dnc_events"
        + scope.format(table="dnc_events")
        + " GROUP BY phone, source"
    )


def active_sources(store: Store, phones: pl.Series) -> pl.DataFrame:
    """(phone, source, since, reason, actor) for every source suppressing one of `phones`."""
    with store.registered("wanted_phones", phones.unique().alias("phone").to_frame()):
        return store.frame(
            "SELECT phone, source, occurred_at AS since, reason, actor FROM dnc_sources "
            "WHERE action = 'add' AND phone IN (SELECT phone FROM wanted_phones) "
            "ORDER BY phone, source"
        )


def active_phones(store: Store, source: str) -> pl.DataFrame:
    """The numbers one source suppresses now (one column: phone)."""
    return store.frame(
        "SELECT phone FROM dnc_sources WHERE action = 'add' AND source = ?", [source]
    )


def sources_at(store: Store, phone: str, at: datetime) -> pl.DataFrame:
    """Latest event per source at or before `at` for one number (action tells add/remove)."""
    return store.frame(
        "SELECT source, action, occurred_at, reason, actor FROM dnc_events "
        "WHERE phone = ? AND occurred_at <= ? "
        "QUALIFY row_number() OVER (PARTITION BY source ORDER BY occurred_at DESC, id DESC) = 1 "
        "ORDER BY source",
        [phone, at],
    )


def history(store: Store, phone: str) -> pl.DataFrame:
    return store.frame(
        "SELECT occurred_at, action, source, reason, actor, batch_id FROM dnc_events "
        "WHERE phone = ? ORDER BY occurred_at, id",
        [phone],
    )


def suppression_set(store: Store) -> pl.DataFrame:
    """Every suppressed E.164 number, sorted (one column: phone)."""
    return store.frame("SELECT phone FROM dnc_suppressed ORDER BY phone")


def source_summary(store: Store) -> pl.DataFrame:
    """Per source: numbers suppressed now, last event, last completed file load."""
    return store.frame(
        "WITH counts AS (SELECT source, count(*) AS numbers FROM dnc_sources "
        "WHERE action = 'add' GROUP BY source), "
        "events AS (SELECT source, max(occurred_at) AS last_event FROM dnc_events "
        "GROUP BY source), "
        "loads AS (SELECT source, max(finished_at) AS last_load FROM dnc_loads "
        "WHERE status = 'completed' GROUP BY source) "
        "SELECT s.source, coalesce(c.numbers, 0) AS numbers, e.last_event, l.last_load "
        "FROM (SELECT unnest(?) AS source) s LEFT JOIN counts c USING (source) "
        "LEFT JOIN events e USING (source) LEFT JOIN loads l USING (source) "
        "ORDER BY list_position(?, s.source)",
        [list(SOURCES), list(SOURCES)],
    )


def begin_load(store: Store, load: dict[str, Any]) -> None:
    store.run(
        "INSERT INTO dnc_loads (id, source, file, sha256, kind, started_at, status) "
        "VALUES (?, ?, ?, ?, ?, ?, 'running')",
        [
            load["id"],
            load["source"],
            load["file"],
            load["sha256"],
            load["kind"],
            load["started_at"],
        ],
    )


def finish_load(store: Store, load_id: str, counts: dict[str, int], at: datetime) -> None:
    store.run(
        "UPDATE dnc_loads SET status = 'completed', finished_at = ?, lines_total = ?, added = ?, "
        "removed = ?, unchanged = ?, malformed = ? WHERE id = ?",
        [at, counts["lines_total"], counts["added"], counts["removed"], counts["unchanged"],
         counts["malformed"], load_id],
    )  # fmt: skip


def fail_load(store: Store, load_id: str, error: str, at: datetime) -> None:
    store.run(
        "UPDATE dnc_loads SET status = 'failed', finished_at = ?, error = ? WHERE id = ?",
        [at, error, load_id],
    )


def record_load_rejects(store: Store, load_id: str, rejects: pl.DataFrame) -> None:
    if rejects.height == 0:
        return
    with store.registered("load_rejects", rejects.select("line", "text", "reason")):
        store.run(
            "INSERT INTO dnc_load_rejects SELECT ?, line, text, reason FROM load_rejects",
            [load_id],
        )


def previous_export_set(store: Store) -> pl.DataFrame:
    return store.frame("SELECT phone FROM dnc_export_snapshot")


def record_export(store: Store, export: dict[str, Any], current: pl.DataFrame) -> None:
    """Remember what this export wrote, so the next delta is computed against it."""
    with store.transaction():
        store.run("DELETE FROM dnc_export_snapshot")
        with store.registered("exported", current.select("phone")):
            store.run("INSERT INTO dnc_export_snapshot SELECT phone FROM exported")
        store.run(
            "INSERT INTO dnc_exports VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [export["id"], export["exported_at"], export["full_file"], export["delta_file"],
             export["numbers"], export["added"], export["removed"], export["sha256"]],
        )  # fmt: skip
