"""SQL for the DNC ledger: append events, derive the suppression set, loads and exports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from store.db import MATCHING_KEY, Store

SOURCES = ("manual", "call", "api", "registry", "state", "file")
EVENT_COLUMNS = ("phone", "action", "source", "reason", "actor", "occurred_at", "batch_id")


def append_events(store: Store, events: pl.DataFrame) -> int:
    """Append ledger events (EVENT_COLUMNS) and bring the current state of the (phone,
    source) pairs they touch up to date; returns how many. Call it inside a transaction."""
    if events.height == 0:
        return 0
    before = store.run("SELECT coalesce(max(id), 0) FROM dnc_events")[0][0]
    with store.registered("new_events", events.select(EVENT_COLUMNS)):
        store.run(
            "INSERT INTO dnc_events (phone, action, source, reason, actor, occurred_at, batch_id)"
            " SELECT phone, action, source, reason, actor, occurred_at, batch_id FROM new_events"
        )
    _apply_latest(store, before)
    return events.height


def _apply_latest(store: Store, before: int) -> None:
    """Fold the events with ids above `before` into dnc_current.

    A pair's current row is its latest event by (occurred_at, id). New events have the
    highest ids, so a pair whose new events are at least as late as its current row
    loses that row, and every pair then left without one gets its latest new event. A
    new event dated before the current row (a call recorded late) changes nothing.

    Only the new events are read (the id filter skips older row groups), and the way
    each statement is written matters at scale:
    - the latest event is picked by a window, not by max_by over (occurred_at, id):
      that aggregate held 2.5 GB for a 5M-line registry load, and max_by skips NULLs;
    - DELETE ... USING the new events (a row several of them supersede is deleted
      once), not a correlated EXISTS with the date comparison, which DuckDB answers
      by grouping the whole current state; nor a per-pair maximum, which groups all
      new events (~0.2 GB more for a 5M-line load);
    - an explicit ANTI JOIN, not NOT EXISTS: DuckDB builds a NOT EXISTS's hash table
      on dnc_current whatever its size. One `dnc add` on a 15M-event ledger took
      2.3-3.0 s and 1.6 GB that way, and takes 0.33-0.43 s and 240 MB this way.
    """
    appended = "(SELECT * FROM dnc_events WHERE id > ?)"
    store.run(
        f"DELETE FROM dnc_current c USING {appended} e "
        "WHERE c.phone = e.phone AND c.source = e.source AND c.occurred_at <= e.occurred_at",
        [before],
    )
    store.run(
        "INSERT INTO dnc_current (phone, source, action, occurred_at, reason, actor, "
        f"phone_key) SELECT phone, source, action, occurred_at, reason, actor, "
        f"{MATCHING_KEY.format('phone')} FROM {appended} e "
        "ANTI JOIN dnc_current c ON c.phone = e.phone AND c.source = e.source "
        "QUALIFY row_number() OVER (PARTITION BY phone, source "
        "ORDER BY occurred_at DESC, id DESC) = 1",
        [before],
    )


def refresh_current(store: Store) -> None:
    """Rebuild dnc_current from the whole ledger (for tools that write events in SQL)."""
    store.run("DELETE FROM dnc_current")
    _apply_latest(store, 0)


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


def record_export(
    store: Store, export: dict[str, Any], added: pl.DataFrame, removed: pl.DataFrame
) -> None:
    """Remember what this export wrote, so the next delta is computed against it: the
    snapshot (the previous export's numbers) moves by this export's delta. Rewriting it
    whole made DuckDB delete and reinsert every key of its primary-key index: 60 s of
    commit for an unchanged 5M-number list."""
    with store.transaction():
        if removed.height:
            with store.registered("unexported", removed.select("phone")):
                store.run(
                    "DELETE FROM dnc_export_snapshot WHERE phone IN (SELECT phone FROM unexported)"
                )
        if added.height:
            with store.registered("exported", added.select("phone")):
                store.run("INSERT INTO dnc_export_snapshot SELECT phone FROM exported")
        store.run(
            "INSERT INTO dnc_exports VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [export["id"], export["exported_at"], export["full_file"], export["delta_file"],
             export["numbers"], export["added"], export["removed"], export["sha256"]],
        )  # fmt: skip
