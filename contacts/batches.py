"""`contacts batches` and `contacts batch show`: the batch ledger, readable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contacts.errors import ContactsError
from store.db import Store
from store.imports import list_batches


def batch_rows(db: Path, limit: int | None = None) -> list[dict[str, Any]]:
    with Store.open(db, read_only=True) as store:
        rows = list_batches(store, limit).to_dicts()
    for row in rows:
        row["mapping"] = json.loads(row["mapping"]) if row.get("mapping") else None
    return rows


def batch_detail(db: Path, batch_id: str) -> dict[str, Any]:
    matches = [row for row in batch_rows(db) if row["id"] == batch_id]
    if not matches:
        raise ContactsError(f"no batch {batch_id!r}; list them with 'contacts batches'")
    return matches[0]


def format_batches(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No batches yet: run 'contacts import FILE'."
    header = f"{'batch':24} {'status':9} {'started':19} {'rows':>9} {'new':>9} {'upd':>7} " \
             f"{'dup':>8} {'invalid':>8} {'dnc':>6}  source"  # fmt: skip
    lines = [header]
    for row in rows:
        dups = (row["duplicates_in_file"] or 0) + (row["duplicates_existing"] or 0)
        started = str(row["started_at"])[:19]
        lines.append(
            f"{row['id']:24} {row['status']:9} {started:19} {row['rows_total'] or 0:>9,} "
            f"{row['imported'] or 0:>9,} {row['updated'] or 0:>7,} {dups:>8,} "
            f"{row['invalid'] or 0:>8,} {row['dnc'] or 0:>6,}  {row['source']}"
        )
    return "\n".join(lines)
