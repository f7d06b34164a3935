"""SQL for contacts: filtered selections (export, search, delete), one contact, edits.

Interactive paths (search, show, edit, delete) read tuples (`_records`), never polars
frames: a frame needs pyarrow, whose import alone costs about 0.15 s.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from store.db import PHONE_KEY, Store, phone_key

if TYPE_CHECKING:  # polars is imported where frames are made
    import polars as pl

EXPORT_COLUMNS = (
    "phone", "first_name", "last_name", "email", "company", "title", "status",
    "last_called_at", "call_count", "phone_extension", "phone_region", "line_type",
    "time_zones", "attributes", "id", "created_at", "updated_at",
)  # fmt: skip
TEXT_FIELDS = ("first_name", "last_name", "email", "company")  # what a search text matches
EDITABLE = ("phone", "phone_extension", "first_name", "last_name", "email", "company", "title",
            "phone_region", "line_type", "time_zones")  # fmt: skip
SUMMARY = "c.id, c.phone, c.first_name, c.last_name, c.email, c.company, c.title"
MIN_DIGITS = 4  # fewer digits than this never match phones (too many hits to be useful)
LETTERS = re.compile(r"[^\W\d_]")
EXPORT_BATCH_ROWS = 200_000  # rows an export writes at a time, at most
EXPORT_ID_RANGE = 500_000  # contact ids an export selects with one query


@dataclass(frozen=True)
class ContactFilter:
    """Filters of PRODUCT.md section 8. Every set filter must hold.

    `search` matches names, email and company word by word (each word somewhere, any
    case), or the phone: `phone` (an E.164 reading of the text) exactly, or the text's
    digits (4+) anywhere in the number. `called_from` / `called_before` bound
    `last_called_at` (inclusive / exclusive).
    """

    status: str | None = None
    search: str | None = None
    phone: str | None = None
    callable: bool = False
    campaign: str | None = None
    called_from: datetime | None = None
    called_before: datetime | None = None

    def is_empty(self) -> bool:
        return self == ContactFilter()


def looks_like_phone(text: str) -> bool:
    """No letters and enough digits: match it against phones only, not names."""
    return not LETTERS.search(text) and sum(ch.isdigit() for ch in text) >= MIN_DIGITS


def filter_sql(where: ContactFilter, alias: str = "c") -> tuple[str, list[Any]]:
    """A WHERE condition on the contacts table (or contacts_view) named `alias`."""
    clauses: list[str] = []
    params: list[Any] = []
    # on the phone keys (migration 011): dnc_suppressed would group the whole ledger first
    suppressed = f"EXISTS (SELECT 1 FROM dnc_suppressing s WHERE s.phone_key = {alias}.phone_key)"
    if where.status == "dnc":
        clauses.append(suppressed)
    elif where.status == "active":
        clauses.append(f"NOT {suppressed}")
    if where.callable:
        clauses.append(f"NOT {suppressed}")
    if where.campaign is not None:
        clauses.append(
            f"{alias}.id IN (SELECT contact_id FROM campaign_members WHERE campaign_id = ?)"
        )
        params.append(where.campaign)
    if where.called_from is not None or where.called_before is not None:
        bounds, bound_params = [], []
        if where.called_from is not None:
            bounds.append("max(started_at) >= ?")
            bound_params.append(where.called_from)
        if where.called_before is not None:
            bounds.append("max(started_at) < ?")
            bound_params.append(where.called_before)
        clauses.append(  # last_called_at as contacts_view derives it: calls by phone
            f"{alias}.phone IN (SELECT phone FROM calls GROUP BY phone HAVING "
            + " AND ".join(bounds)
            + ")"
        )
        params += bound_params
    if where.search is not None:
        clause, search_params = _search_sql(where, alias)
        clauses.append(clause)
        params += search_params
    return " AND ".join(f"({c})" for c in clauses) or "true", params


def _search_sql(where: ContactFilter, alias: str) -> tuple[str, list[Any]]:
    text = where.search or ""
    options: list[str] = []
    params: list[Any] = []
    words = [word.strip(",;") for word in text.lower().split()]
    words = [word for word in words if word]
    if words and not looks_like_phone(text):
        for word in words:  # ILIKE: any case, '%' and '_' in the text are literal
            options.append(
                " OR ".join(f"{alias}.{field} ILIKE ? ESCAPE '\\'" for field in TEXT_FIELDS)
            )
            params += [f"%{_escape_like(word)}%"] * len(TEXT_FIELDS)
        options = [" AND ".join(f"({o})" for o in options)]
    if where.phone:
        options.append(f"{alias}.phone = ?")
        params.append(where.phone)
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= MIN_DIGITS:
        options.append(f"contains({alias}.phone, ?)")
        params.append(digits)
    return " OR ".join(f"({o})" for o in options) or "false", params


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def select_contacts(store: Store, where: ContactFilter) -> pl.DataFrame:
    """Contacts matching every filter, ordered by id, in EXPORT_COLUMNS (for exports)."""
    return store.frame(*_selection_sql(where))


def stream_contacts(store: Store, where: ContactFilter) -> Iterator[pl.DataFrame]:
    """select_contacts' rows as frames of at most EXPORT_BATCH_ROWS, after an empty frame
    with the columns: one query per EXPORT_ID_RANGE ids, in order, so DuckDB never sorts
    more than that range (the stored order is id order, so each query reads about its
    own row groups). 8.9M contacts: 1.4 GB at the peak, where the whole selection at
    once took 8.0 GB."""
    sql, params = _selection_sql(where, ids_between=True)
    first, last = store.run("SELECT min(id), max(id) FROM contacts")[0]
    starts = range(first, last + 1, EXPORT_ID_RANGE) if first is not None else range(1)
    for number, start in enumerate(starts):
        frames = store.frames(
            sql, [*params, start, start + EXPORT_ID_RANGE - 1], rows=EXPORT_BATCH_ROWS
        )
        header = next(frames)
        if number == 0:
            yield header
        yield from frames


def _selection_sql(where: ContactFilter, *, ids_between: bool = False) -> tuple[str, list[Any]]:
    """The selection's query; with `ids_between`, two more parameters: the first and
    the last id of a range."""
    condition, params = filter_sql(where, "c")
    if where.callable:  # status comes from the same ledger; a second, direct check
        condition += " AND c.status = 'active'"
    if ids_between:
        condition += " AND c.id BETWEEN ? AND ?"
    sql = (
        "SELECT phone, first_name, last_name, email, company, title, status, last_called_at, "
        "call_count, phone_extension, phone_region, line_type, array_to_string(time_zones, ';') "
        "AS time_zones, attributes, id, created_at, "
        f"updated_at FROM contacts_view c WHERE {condition} ORDER BY id"
    )
    return sql, params


@dataclass
class Page:
    """One page of a search. `total` is None when counting would cost a full scan that
    the page did not need (ORDER BY id LIMIT stops early); `more` says a next page exists."""

    rows: list[dict[str, Any]]
    total: int | None
    more: bool


def search_contacts(
    store: Store, where: ContactFilter, limit: int, offset: int = 0, *, count: bool = False
) -> Page:
    """One page of the matches ordered by id, with status, call stats and campaigns."""
    condition, params = filter_sql(where, "c")
    rows = _records(
        store,
        f"SELECT {SUMMARY} FROM contacts c WHERE {condition} ORDER BY c.id LIMIT ? OFFSET ?",
        [*params, limit + 1, offset],
    )
    more = len(rows) > limit
    rows = rows[:limit]
    total = offset + len(rows) if rows and not more else None
    if total is None and (count or not rows or where.is_empty()):
        # an empty filter counts from metadata; past the last page, say how many there are
        total = store.run(f"SELECT count(*) FROM contacts c WHERE {condition}", params)[0][0]
    return Page(with_derived(store, rows), total, more)


def with_derived(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add status, last_called_at, call_count and campaigns to contact rows (a page).

    The same derivations as contacts_view, restricted to the page's phones: the view
    itself would aggregate the whole ledger and call log for every query.
    """
    if not rows:
        return rows
    phones = [row["phone"] for row in rows]
    keys = [key for key in map(phone_key, phones) if key is not None]
    suppressed = {
        phone
        for (phone,) in store.run(
            "SELECT DISTINCT phone FROM dnc_suppressing "
            "WHERE phone_key IN (SELECT unnest(?::BIGINT[]))",
            [keys],
        )
    }
    calls = {
        phone: (last, count)
        for phone, last, count in store.run(
            "SELECT phone, max(started_at), count(*) FROM calls WHERE list_contains(?, phone) "
            "GROUP BY phone",
            [phones],
        )
    }
    campaigns = {
        contact_id: names
        for contact_id, names in store.run(
            "SELECT contact_id, list(campaign_id ORDER BY campaign_id) FROM campaign_members "
            "WHERE list_contains(?, contact_id) GROUP BY contact_id",
            [[row["id"] for row in rows]],
        )
    }
    for row in rows:
        last, count = calls.get(row["phone"], (None, 0))
        row["status"] = "dnc" if row["phone"] in suppressed else "active"
        row["last_called_at"] = last
        row["call_count"] = count
        row["campaigns"] = campaigns.get(row["id"], [])
    return rows


def count_contacts(store: Store, where: ContactFilter) -> int:
    """How many contacts match every filter."""
    condition, params = filter_sql(where, "c")
    return store.run(f"SELECT count(*) FROM contacts c WHERE {condition}", params)[0][0]


def matching_ids(store: Store, where: ContactFilter) -> list[int]:
    condition, params = filter_sql(where, "c")
    return [row[0] for row in store.run(f"SELECT c.id FROM contacts c WHERE {condition}", params)]


def campaign_exists(store: Store, name: str) -> bool:
    return bool(store.run("SELECT 1 FROM campaigns WHERE id = ?", [name]))


def campaign_names(store: Store) -> list[str]:
    return [row[0] for row in store.run("SELECT id FROM campaigns ORDER BY id")]


def find_contact(store: Store, *, contact_id: int | None = None, phone: str | None = None) -> int:
    """The id of the contact with this id or E.164 phone, or 0. A phone is looked up by
    its key: 10M contacts scan in ~0.015 s, against ~0.17 s for their phones' text."""
    if contact_id is not None:
        found = store.run("SELECT id FROM contacts WHERE id = ?", [contact_id])
    elif phone is not None and (key := phone_key(phone)) is not None:
        found = store.run("SELECT id FROM contacts WHERE phone_key = ?", [key])
    else:
        return 0  # not E.164: no stored phone equals it
    return found[0][0] if found else 0


def contact_row(store: Store, contact_id: int) -> dict[str, Any]:
    """Every stored field of one contact, and the source file of the batch that created
    it (lineage). The contact must exist."""
    [row] = _records(
        store,
        "SELECT c.*, b.source AS created_batch_source FROM contacts c "
        "LEFT JOIN import_batches b ON b.id = c.created_batch_id WHERE c.id = ?",
        [contact_id],
    )
    row["attributes"] = json.loads(row["attributes"]) if row["attributes"] else {}
    del row["phone_key"]  # the store's own index of `phone`
    return row


def contact_campaigns(store: Store, contact_id: int) -> list[dict[str, Any]]:
    return _records(
        store,
        "SELECT campaign_id AS campaign, added_at, batch_id FROM campaign_members "
        "WHERE contact_id = ? ORDER BY added_at, campaign_id",
        [contact_id],
    )


def contact_calls(store: Store, contact_id: int, phone: str) -> list[dict[str, Any]]:
    """Calls to this number, then calls recorded against this contact under an earlier
    number; newest first. (Two scans each with its own filter: an OR scans every column.)"""
    columns = (
        "id AS call_id, phone, direction, started_at, ended_at, duration_seconds, outcome, "
        "sentiment, recording_url, transcript, summary, campaign, caller_id"
    )
    return _records(
        store,
        f"SELECT {columns} FROM calls WHERE phone = ? UNION ALL "
        f"SELECT {columns} FROM calls WHERE contact_id = ? AND phone <> ? "
        "ORDER BY started_at DESC, call_id",
        [phone, contact_id, phone],
    )


def dnc_history(store: Store, phone: str) -> list[dict[str, Any]]:
    """The ledger's events for one number, oldest first (store.dnc.history, as records)."""
    return _records(
        store,
        "SELECT occurred_at, action, source, reason, actor, batch_id FROM dnc_events "
        "WHERE phone = ? ORDER BY occurred_at, id",
        [phone],
    )


def dnc_sources_now(store: Store, phone: str) -> list[dict[str, Any]]:
    """The sources suppressing one number now (empty: the number may be called), found
    by the phone's key."""
    key = phone_key(phone)
    if key is None:
        return []  # not E.164: no ledger row has its key
    return _records(
        store,
        "SELECT source, since, reason, actor FROM dnc_suppressing "
        "WHERE phone_key = ? ORDER BY source",
        [key],
    )


def update_contact(
    store: Store,
    contact_id: int,
    fields: dict[str, Any],
    attributes: dict[str, str] | None,
    at: datetime,
) -> None:
    """Set `fields` (names from EDITABLE) and, when given, replace the attributes."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    assignments = [
        f"{name} = ?::VARCHAR[]" if name == "time_zones" else f"{name} = ?" for name in fields
    ]
    params: list[Any] = list(fields.values())
    if "phone" in fields:  # the key of the new phone (the SET sees the old row)
        assignments.append(f"phone_key = {PHONE_KEY.format('?')}")
        params.append(fields["phone"])
    if attributes is not None:
        assignments.append("attributes = ?")
        params.append(json.dumps(attributes, ensure_ascii=False, separators=(",", ":")))
    store.run(
        f"UPDATE contacts SET {', '.join(assignments)}, updated_at = ? WHERE id = ?",
        [*params, at, contact_id],
    )


def delete_contacts(store: Store, phones: list[str]) -> int:
    """Delete contacts by E.164 phone, with their campaign memberships; DNC events stay."""
    with store.transaction():
        keys = [key for key in map(phone_key, phones) if key is not None]
        ids = store.run(
            "SELECT id FROM contacts WHERE phone_key IN (SELECT unnest(?::BIGINT[]))", [keys]
        )
        return _delete(store, [row[0] for row in ids])


def delete_contacts_by_id(store: Store, ids: list[int]) -> int:
    """Delete contacts by id, with their campaign memberships; DNC events and calls stay."""
    with store.transaction():
        return _delete(store, ids)


def _delete(store: Store, ids: list[int]) -> int:
    if not ids:
        return 0
    doomed = "(SELECT unnest(?::BIGINT[]))"  # a hash semi-join, also for 100,000s of ids
    store.run(f"DELETE FROM campaign_members WHERE contact_id IN {doomed}", [ids])
    return len(store.run(f"DELETE FROM contacts WHERE id IN {doomed} RETURNING id", [ids]))


def _records(store: Store, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Rows as dicts, without polars or pyarrow."""
    cursor = store.con.execute(sql, params or [])
    names = [column[0] for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
