"""Contacts management (PRODUCT.md section 6): search, show, edit, delete.

Plain functions behind `contacts search|show|edit|delete`; no Prefect flow runs here
(interactive commands answer in well under a second on a million contacts). A contact
is named by its id or its phone in any format ("ID|PHONE").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from contacts.errors import ContactsError, UsageError
from schemas.rules import EMAIL, MAX_FIELD
from store import contacts as rows
from store.contacts import ContactFilter
from store.db import Store, now
from transforms.phone_rules import normalize_phone
from transforms.regions import region_for_country

STATUSES = ("active", "dnc")
TEXT_FIELDS = ("first_name", "last_name", "email", "company", "title")
EXPLICIT_ID = re.compile(r"^id:(\d{1,18})$", re.I)
MAX_ID_DIGITS = 18  # ids are BIGINT


class ContactNotFound(ContactsError):
    """No contact has this id or phone."""


class PhoneInUse(ContactsError):
    """A phone edit would give the contact another contact's number."""

    def __init__(self, phone: str, other_id: int, other_name: str) -> None:
        self.phone = phone
        self.other_id = other_id
        who = f"contact {other_id}" + (f" ({other_name})" if other_name else "")
        super().__init__(
            f"{phone} already belongs to {who}; edit or delete that contact first "
            "(nothing was changed)"
        )


class UnknownCampaign(ContactsError):
    """A --campaign filter names no campaign."""


@dataclass(frozen=True)
class Filters:
    """The selection filters of `search`, `delete` and `export`, as typed by a user."""

    search: str | None = None
    status: str | None = None
    campaign: str | None = None
    called_from: str | None = None
    called_to: str | None = None
    callable: bool = False
    region: str = "US"

    def given(self) -> bool:
        return any(
            value not in (None, False)
            for value in (self.search, self.status, self.campaign, self.called_from,
                          self.called_to, self.callable)
        )  # fmt: skip


def check_region(region: str) -> str:
    code = region_for_country(region)
    if code is None:
        raise UsageError(f"--region {region!r} is not a known region; use e.g. US, GB")
    return code


def contact_filter(filters: Filters) -> ContactFilter:
    """Check the filters (usage errors) and read a phone typed in any format as E.164."""
    if filters.status is not None and filters.status not in STATUSES:
        raise UsageError(f"--status {filters.status!r} is not one of {', '.join(STATUSES)}")
    if filters.campaign is not None and not filters.campaign.strip():
        raise UsageError("--campaign needs a name")
    region = check_region(filters.region)
    called_from = parse_moment(filters.called_from, "--called-from", end_of_day=False)
    called_before = parse_moment(filters.called_to, "--called-to", end_of_day=True)
    if called_from and called_before and called_from >= called_before:
        raise UsageError(
            f"--called-from {filters.called_from} is after --called-to {filters.called_to}"
        )
    search = filters.search if filters.search and filters.search.strip() else None
    phone = normalize_phone(search, region).e164 if search else None
    return ContactFilter(
        status=filters.status,
        search=search,
        phone=phone,
        callable=filters.callable,
        campaign=filters.campaign,
        called_from=called_from,
        called_before=called_before,
    )


def parse_moment(text: str | None, option: str, *, end_of_day: bool) -> datetime | None:
    """A date (UTC day) or ISO 8601 time; with `end_of_day` the exclusive upper bound.

    '2026-03-10' -> 2026-03-10T00:00Z, or 2026-03-11T00:00Z as the end of a range
    (the whole day is in). A time without a zone is UTC.
    """
    if text is None:
        return None
    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is not None:
        start = datetime.combine(day, time(0), tzinfo=UTC)
        return start + timedelta(days=1) if end_of_day else start
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a date (2026-03-10) or an ISO 8601 time"
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment + timedelta(microseconds=1) if end_of_day else moment


def check_campaign(store: Store, where: ContactFilter) -> None:
    """A --campaign that names no campaign is an error, not an empty selection."""
    if where.campaign is None or rows.campaign_exists(store, where.campaign):
        return
    names = rows.campaign_names(store)
    known = f"campaigns: {', '.join(names)}" if names else "there are no campaigns yet"
    raise UnknownCampaign(f"no campaign {where.campaign!r}; {known}")


def resolve(store: Store, ref: str, region: str) -> int:
    """The id of the contact named by `ref`: an id, `id:N`, or a phone in any format.

    A bare number is looked up both as an id and as a phone; if both find different
    contacts the caller must say which (`id:N`, or the phone with its +country code).
    """
    text = ref.strip()
    explicit = EXPLICIT_ID.match(text)
    if explicit:
        found = rows.find_contact(store, contact_id=int(explicit[1]))
        if not found:
            raise ContactNotFound(
                f"no contact with id {explicit[1]}; find it with 'contacts search'"
            )
        return found
    is_id = text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS
    contact_id = int(text) if is_id else None
    answer = normalize_phone(text, region)
    if contact_id is None and answer.e164 is None:
        raise UsageError(f"{ref!r} is not a contact id or a valid phone number ({answer.reason})")
    by_id = rows.find_contact(store, contact_id=contact_id) if contact_id is not None else 0
    by_phone = rows.find_contact(store, phone=answer.e164) if answer.e164 else 0
    if by_id and by_phone and by_id != by_phone:
        raise UsageError(
            f"{ref!r} is contact id {by_id} and also the phone {answer.e164} of contact "
            f"{by_phone}; pass id:{by_id} or {answer.e164}"
        )
    if by_id or by_phone:
        return by_id or by_phone
    named = [f"id {contact_id}"] if contact_id is not None else []
    named += [f"phone {answer.e164}"] if answer.e164 else []
    raise ContactNotFound(f"no contact with {' or '.join(named)}; find it with 'contacts search'")


@dataclass
class SearchPage:
    total: int | None  # None: not counted (pass count=True); `more` says if a page follows
    more: bool
    offset: int
    limit: int
    contacts: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "more": self.more,
            "offset": self.offset,
            "limit": self.limit,
            "contacts": [jsonable(row) for row in self.contacts],
        }


def search(
    db: Path, filters: Filters, *, limit: int = 20, offset: int = 0, count: bool = False
) -> SearchPage:
    """One page of the contacts matching every filter, ordered by id.

    The total is counted only with `count` (a full scan: ~0.1 s on a million contacts),
    when the filter is empty, or when this page is the last one.
    """
    if limit < 1 or offset < 0:
        raise UsageError("--limit must be at least 1 and --offset at least 0")
    where = contact_filter(filters)
    with Store.open(db, read_only=True) as store:
        check_campaign(store, where)
        page = rows.search_contacts(store, where, limit, offset, count=count)
    return SearchPage(page.total, page.more, offset, limit, page.rows)


def show(db: Path, ref: str, *, region: str = "US") -> dict[str, Any]:
    """One contact: fields, attributes, phone facts, lineage, status and why, DNC history,
    calls and campaigns."""
    region = check_region(region)
    with Store.open(db, read_only=True) as store:
        contact_id = resolve(store, ref, region)
        detail = rows.contact_row(store, contact_id)
        phone = detail["phone"]
        sources = rows.dnc_sources_now(store, phone)
        history = rows.dnc_history(store, phone)
        campaigns = rows.contact_campaigns(store, contact_id)
        calls = rows.contact_calls(store, contact_id, phone)
    # status and call stats as contacts_view derives them: the ledger and the calls by phone
    to_this_number = [call["started_at"] for call in calls if call["phone"] == phone]
    return {
        **detail,
        "status": "dnc" if sources else "active",
        "last_called_at": max(to_this_number, default=None),
        "call_count": len(to_this_number),
        "dnc_sources": sources,
        "dnc_history": history,
        "campaigns": campaigns,
        "calls": calls,
    }


@dataclass(frozen=True)
class Changes:
    """What `contacts edit` sets. None leaves a field alone; '' clears it (not the phone).

    `attributes` are (key, value) pairs; an empty value removes the key.
    """

    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    company: str | None = None
    title: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()

    def empty(self) -> bool:
        return self == Changes()


@dataclass
class EditResult:
    id: int
    phone: str
    previous_phone: str
    changed: list[str] = field(default_factory=list)
    status: str = "active"
    dnc_sources: list[str] = field(default_factory=list)  # suppressing the phone now
    previous_phone_dnc: list[str] = field(default_factory=list)  # the old number's sources

    def as_dict(self) -> dict[str, Any]:
        return jsonable(self.__dict__)


def parse_attributes(pairs: list[str]) -> tuple[tuple[str, str], ...]:
    """'KEY=VALUE' options as pairs ('KEY=' removes KEY)."""
    parsed = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--attr {pair!r} is not KEY=VALUE, e.g. --attr 'Lead Source=web'")
        parsed.append((key.strip(), value.strip()))
    return tuple(parsed)


def check_changes(changes: Changes) -> Changes:
    """Usage errors before the database is opened: emails as the import validates them."""
    if changes.empty():
        raise UsageError(
            "nothing to change: pass --first-name, --last-name, --email, --company, "
            "--title, --phone or --attr KEY=VALUE"
        )
    cleaned = {name: _clean(getattr(changes, name)) for name in TEXT_FIELDS}
    for name, value in cleaned.items():
        if value and len(value) > MAX_FIELD:
            raise UsageError(f"--{_flag(name)} is longer than {MAX_FIELD} characters")
    email = cleaned["email"]
    if email and not re.match(EMAIL, email):
        raise UsageError(f"--email {email!r} is not a valid email address; nothing was changed")
    if changes.phone is not None and not changes.phone.strip():
        raise UsageError(
            "--phone cannot be empty: the phone is the contact's identity "
            "(delete the contact instead)"
        )
    return replace(changes, **cleaned)


def edit(db: Path, ref: str, changes: Changes, *, region: str = "US") -> EditResult:
    """Change a contact's fields. A new phone is re-normalized, must not belong to another
    contact, and carries its own DNC status (the ledger is keyed by phone)."""
    changes = check_changes(changes)
    region = check_region(region)
    new_phone = None
    if changes.phone is not None:
        new_phone = normalize_phone(changes.phone, region)
        if new_phone.e164 is None:
            raise UsageError(
                f"--phone {changes.phone!r} is not a valid phone number ({new_phone.reason}); "
                "nothing was changed"
            )
    with Store.open(db) as store, store.transaction():
        contact_id = resolve(store, ref, region)
        current = rows.contact_row(store, contact_id)
        wanted = {  # '' clears: stored as NULL, like an empty cell at import
            name: getattr(changes, name) or None
            for name in TEXT_FIELDS
            if getattr(changes, name) is not None
        }
        updates: dict[str, Any] = {
            name: value for name, value in wanted.items() if value != current[name]
        }
        if new_phone is not None and (new_phone.e164, new_phone.extension) != (
            current["phone"],
            current["phone_extension"],
        ):
            other = rows.find_contact(store, phone=new_phone.e164)
            if other and other != contact_id:
                taken = rows.contact_row(store, other)
                name = " ".join(filter(None, (taken["first_name"], taken["last_name"])))
                raise PhoneInUse(new_phone.e164, other, name)
            updates |= {
                "phone": new_phone.e164,
                "phone_extension": new_phone.extension,
                "phone_region": new_phone.phone_region,
                "line_type": new_phone.line_type,
                "time_zones": list(new_phone.time_zones),
            }
        attributes = _merged_attributes(current["attributes"], changes.attributes)
        if attributes == (current["attributes"] or {}):
            attributes = None
        if updates or attributes is not None:
            rows.update_contact(store, contact_id, updates, attributes, now())
        phone = updates.get("phone", current["phone"])
        sources = [row["source"] for row in rows.dnc_sources_now(store, phone)]
        before = current["phone"]
        before_sources = sources if phone == before else [
            row["source"] for row in rows.dnc_sources_now(store, before)
        ]  # fmt: skip
    changed = [name for name in updates if name in ("phone", *TEXT_FIELDS)]
    if "phone" not in changed and "phone_extension" in updates:
        changed.append("phone_extension")
    return EditResult(
        id=contact_id,
        phone=phone,
        previous_phone=before,
        changed=changed + (["attributes"] if attributes is not None else []),
        status="dnc" if sources else "active",
        dnc_sources=sources,
        previous_phone_dnc=before_sources,
    )


def _merged_attributes(
    current: dict[str, str] | None, pairs: tuple[tuple[str, str], ...]
) -> dict[str, str]:
    merged = dict(current or {})
    for key, value in pairs:
        if value:
            merged[key] = value
        else:
            merged.pop(key, None)
    return merged


def _clean(value: str | None) -> str | None:
    """Trim; an empty value clears the field (stored as NULL, like an empty import cell)."""
    if value is None:
        return None
    return value.strip() or ""


def _flag(name: str) -> str:
    return name.replace("_", "-")


def select_for_delete(db: Path, refs: list[str], filters: Filters) -> list[int]:
    """The ids `contacts delete` would delete: the named contacts, or those matching the
    filters. Naming none and filtering on nothing is refused (no accidental 'delete all')."""
    if refs and filters.given():
        raise UsageError("name contacts (ID or PHONE) or pass filters, not both")
    if not refs and not filters.given():
        raise UsageError(
            "name the contacts to delete (ID or PHONE) or pass a filter: --status, "
            "--campaign, --search, --called-from, --called-to"
        )
    region = check_region(filters.region)
    where = contact_filter(filters) if not refs else None
    with Store.open(db, read_only=True) as store:
        if where is None:
            return list(dict.fromkeys(resolve(store, ref, region) for ref in refs))
        check_campaign(store, where)
        return rows.matching_ids(store, where)


def delete(db: Path, ids: list[int]) -> int:
    """Delete contacts by id (irreversible). Their memberships go; DNC events and call
    records stay (both are keyed by phone)."""
    with Store.open(db) as store:
        return rows.delete_contacts_by_id(store, ids)


def jsonable(value: Any) -> Any:
    """Times as ISO 8601 UTC, containers recursively: for --json output."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value
