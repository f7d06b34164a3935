"""`contacts export`: a filtered selection written as a spreadsheet-safe CSV."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from contacts.errors import ContactsError, UsageError
from store.contacts import ContactFilter, select_contacts
from store.db import Store
from transforms.export import neutralize_formulas
from transforms.phones import normalize_phone

STATUSES = ("active", "dnc")


@dataclass(frozen=True)
class ExportFilters:
    status: str | None = None
    search: str | None = None
    callable: bool = False
    region: str = "US"


def contact_filter(filters: ExportFilters) -> ContactFilter:
    """Check the filters and read a phone typed in any format as E.164."""
    if filters.status is not None and filters.status not in STATUSES:
        raise UsageError(f"--status {filters.status!r} is not one of {', '.join(STATUSES)}")
    phone = normalize_phone(filters.search, filters.region).e164 if filters.search else None
    return ContactFilter(
        status=filters.status, search=filters.search, phone=phone, callable=filters.callable
    )


def export_contacts(db: Path, out: Path, filters: ExportFilters) -> int:
    """Write the selection to `out` (atomically); return the number of contacts."""
    where = contact_filter(filters)
    with Store.open(db, read_only=True) as store:
        selection = select_contacts(store, where)
    partial = out.with_name(out.name + ".partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        neutralize_formulas(selection).write_csv(partial)
        os.replace(partial, out)
    except OSError as err:
        raise ContactsError(f"cannot write {out}: {err.strerror}") from err
    return selection.height


def selection_frame(db: Path, filters: ExportFilters) -> pl.DataFrame:
    """The selection an export would write, before neutralization (for tests and the API)."""
    with Store.open(db, read_only=True) as store:
        return select_contacts(store, contact_filter(filters))
