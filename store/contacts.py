"""SQL for reading contacts: filtered selections for export and search."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from store.db import Store

EXPORT_COLUMNS = (
    "phone", "first_name", "last_name", "email", "company", "title", "status",
    "last_called_at", "call_count", "phone_extension", "phone_region", "line_type",
    "time_zones", "attributes", "id", "created_at", "updated_at",
)  # fmt: skip


@dataclass(frozen=True)
class ContactFilter:
    """Filters of PRODUCT.md section 8; `phone` is an E.164 form of the search text."""

    status: str | None = None
    search: str | None = None
    phone: str | None = None
    callable: bool = False


def select_contacts(store: Store, where: ContactFilter) -> pl.DataFrame:
    """Contacts matching every filter, ordered by id, in EXPORT_COLUMNS."""
    clauses, params = [], []
    if where.status:
        clauses.append("status = ?")
        params.append(where.status)
    if where.callable:
        # status comes from the ledger view; the NOT EXISTS is a second, direct check
        clauses.append(
            "status = 'active' AND NOT EXISTS "
            "(SELECT 1 FROM dnc_suppressed s WHERE s.phone = contacts_view.phone)"
        )
    if where.search:
        text_match = (  # contains(), not LIKE: '%' and '_' in the search are literal
            "contains(lower(concat_ws(' ', first_name, last_name, email, company)), ?)"
            " OR contains(lower(concat_ws(' ', last_name, first_name)), ?)"
        )
        needle = where.search.strip().lower()
        options = [text_match]
        params += [needle, needle]
        digits = "".join(ch for ch in where.search if ch.isdigit())
        if where.phone:
            options.append("phone = ?")
            params.append(where.phone)
        if len(digits) >= 4:
            options.append("contains(phone, ?)")
            params.append(digits)
        clauses.append("(" + " OR ".join(options) + ")")
    sql = (
        "SELECT phone, first_name, last_name, email, company, title, status, last_called_at, "
        "call_count, phone_extension, phone_region, line_type, array_to_string(time_zones, ';') "
        "AS time_zones, CAST(to_json(attributes) AS VARCHAR) AS attributes, id, created_at, "
        "updated_at FROM contacts_view"
    )
    if clauses:
        sql += " WHERE " + " AND ".join(f"({c})" for c in clauses)
    return store.frame(sql + " ORDER BY id", params)


def delete_contacts(store: Store, phones: list[str]) -> int:
    """Delete contacts by E.164 phone, with their campaign memberships; DNC events stay."""
    with (
        store.transaction(),
        store.registered("doomed", pl.DataFrame({"phone": phones}, schema={"phone": pl.String})),
    ):
        store.run(
            "DELETE FROM campaign_members WHERE contact_id IN "
            "(SELECT id FROM contacts WHERE phone IN (SELECT phone FROM doomed))"
        )
        deleted = store.run(
            "DELETE FROM contacts WHERE phone IN (SELECT phone FROM doomed) RETURNING id"
        )
    return len(deleted)
