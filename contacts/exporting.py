"""`contacts export`: a filtered selection written as a spreadsheet-safe CSV."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from pathlib import Path
from typing import IO

import polars as pl

from contacts import manage
from contacts.errors import ContactsError, UsageError
from contacts.manage import Filters, check_campaign
from contacts.outputs import write_atomically
from store.contacts import ContactFilter, count_contacts, select_contacts, stream_contacts
from store.db import Store, now
from transforms.calling_window import FEDERAL_WINDOW, parse_window, within_calling_window
from transforms.export import neutralize_formulas

ISO_TIMESTAMP = "%Y-%m-%dT%H:%M:%S%.6f%:z"  # 2026-01-09T19:00:00.250000+00:00
STATUSES = manage.STATUSES


@dataclass(frozen=True)
class ExportFilters:
    """Section 8's export filters, plus an optional local-time calling window: with
    `calling_window` ('08:00-21:00') or `window_at` (an ISO time; default now) only the
    numbers whose every candidate time zone is inside the window at that instant stay."""

    status: str | None = None
    search: str | None = None
    callable: bool = False
    region: str = "US"
    campaign: str | None = None
    called_from: str | None = None
    called_to: str | None = None
    calling_window: str | None = None
    window_at: str | None = None

    def filters(self) -> Filters:
        return Filters(
            search=self.search,
            status=self.status,
            campaign=self.campaign,
            called_from=self.called_from,
            called_to=self.called_to,
            callable=self.callable,
            region=self.region,
        )


@dataclass(frozen=True)
class CallingWindow:
    window: tuple[time, time]
    at: datetime

    def __str__(self) -> str:
        start, end = self.window
        end_text = "24:00" if end == time.max else f"{end:%H:%M}"
        return f"{start:%H:%M}-{end_text} local time at {self.at.isoformat(timespec='seconds')}"


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote, and what the calling window left out."""

    rows: int
    window: CallingWindow | None = None
    outside_window: int = 0  # a candidate zone's local time is outside the window
    no_time_zone: int = 0  # no known zone: never callable under a window
    suppressed_members: int = 0  # campaign members left out: their numbers are suppressed


def contact_filter(filters: ExportFilters) -> ContactFilter:
    """Check the filters and read a phone typed in any format as E.164.

    A campaign file never holds a suppressed number (PRODUCT section 4), even one
    suppressed after its contact joined the campaign: with --campaign only the members
    that are callable now are selected, and asking for suppressed members is a usage
    error (`contacts search --campaign NAME --status dnc` lists them).
    """
    where = manage.contact_filter(filters.filters())
    if where.campaign is None:
        return where
    if where.status == "dnc":
        raise UsageError(
            "a campaign export never lists suppressed numbers; "
            f"see them with: contacts search --campaign {where.campaign} --status dnc"
        )
    return replace(where, callable=True)


def _select(store: Store, where: ContactFilter) -> tuple[pl.DataFrame, int]:
    """The selection, and how many campaign members it left out as suppressed."""
    check_campaign(store, where)
    selection = select_contacts(store, where)
    return selection, _suppressed_members(store, where, selection.height)


def _suppressed_members(store: Store, where: ContactFilter, selected: int) -> int:
    """Campaign members a campaign selection of `selected` contacts left out."""
    if where.campaign is None:
        return 0
    return count_contacts(store, replace(where, callable=False, status=None)) - selected


def calling_window(filters: ExportFilters) -> CallingWindow | None:
    """The window asked for (usage errors for malformed values), or None."""
    if filters.calling_window is None and filters.window_at is None:
        return None
    window = FEDERAL_WINDOW
    if filters.calling_window is not None:
        try:
            window = parse_window(filters.calling_window)
        except ValueError as err:
            raise UsageError(f"--calling-window: {err}") from None
    return CallingWindow(window, parse_instant(filters.window_at))


def parse_instant(text: str | None) -> datetime:
    """--window-at: an ISO 8601 time (UTC when it names no zone), or 'now' / None."""
    if text is None or text.strip().lower() == "now":
        return now()
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or len(text.strip()) <= len("2026-03-10"):  # a day is not an instant
        raise UsageError(
            f"--window-at {text!r} is not an ISO 8601 time; pass e.g. 2026-03-10T14:30:00Z"
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def export_contacts(db: Path, out: Path, filters: ExportFilters) -> ExportResult:
    """Write the selection to `out` (atomically); say how many contacts it holds.

    The selection is written as DuckDB produces it, a batch at a time, so an export of
    any size holds one batch in memory (`store.contacts.stream_contacts`)."""
    where = contact_filter(filters)
    window = calling_window(filters)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with Store.open(db, read_only=True) as store:
            check_campaign(store, where)
            batches = stream_contacts(store, where)
            result = write_atomically(out, lambda handle: _write(batches, window, handle))
            left_out = _suppressed_members(store, where, result.rows + _outside(result))
    except OSError as err:
        raise ContactsError(f"cannot write {out}: {err.strerror}") from err
    return replace(result, suppressed_members=left_out)


def _write(
    batches: Iterator[pl.DataFrame], window: CallingWindow | None, handle: IO[bytes]
) -> ExportResult:
    """Write the batches as one CSV (the first, empty, gives the header); the counts."""
    totals = ExportResult(0, window)
    for number, batch in enumerate(batches):
        if window is not None:
            batch, counts = _apply_window(batch, window)
            totals = replace(
                totals,
                outside_window=totals.outside_window + counts.outside_window,
                no_time_zone=totals.no_time_zone + counts.no_time_zone,
            )
        neutralize_formulas(batch).write_csv(
            handle, include_header=number == 0, datetime_format=ISO_TIMESTAMP
        )
        totals = replace(totals, rows=totals.rows + batch.height)
    return totals


def _outside(result: ExportResult) -> int:
    """Selected contacts the calling window left out."""
    return result.outside_window + result.no_time_zone


def selection_frame(db: Path, filters: ExportFilters) -> pl.DataFrame:
    """The selection an export would write, before neutralization (for tests and the API)."""
    where = contact_filter(filters)
    window = calling_window(filters)
    with Store.open(db, read_only=True) as store:
        selection, _ = _select(store, where)
    return selection if window is None else _apply_window(selection, window)[0]


def _apply_window(
    selection: pl.DataFrame, window: CallingWindow, suppressed_members: int = 0
) -> tuple[pl.DataFrame, ExportResult]:
    zones = pl.col("time_zones").str.split(";").list.filter(pl.element() != "")
    with_zones = selection.with_columns(zones.alias("_zones"))
    inside, outside = within_calling_window(with_zones, window.at, window.window, "_zones")
    no_zone = int(outside.get_column("_zones").list.len().fill_null(0).eq(0).sum())
    result = ExportResult(
        inside.height, window, outside.height - no_zone, no_zone, suppressed_members
    )
    return inside.drop("_zones"), result
