"""Do-Not-Call: the Python API behind `contacts dnc ...` and the DNC flows.

The ledger is append-only; every function here adds events or reads them. A number is
suppressed while any source's latest event for it is an 'add'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from contacts.errors import ContactsError, UsageError
from store import dnc as ledger
from store.db import Store, now
from transforms.calls import CALL_REQUEST_REASON
from transforms.phones import phone_lookup
from transforms.regions import region_for_country

CONSUMER_REQUEST_YEARS = 5  # 47 CFR 64.1200(d)(6): honor a do-not-call request for 5 years
REGISTRY_MAX_AGE = timedelta(days=31)  # FTC safe harbor: a registry copy at most 31 days old
REGISTRY_SOURCES = ("registry", "state")


class ConsumerRequestGuard(ContactsError):
    """Removing a consumer's own request younger than five years needs an override."""


@dataclass
class DncChange:
    """What an add or remove did, number by number."""

    changed: list[str] = field(default_factory=list)  # E.164 numbers the change applied to
    unchanged: list[str] = field(default_factory=list)  # already in the requested state
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (input, reason)

    def as_dict(self) -> dict[str, Any]:
        invalid = [{"input": raw, "reason": why} for raw, why in self.invalid]
        return {"changed": self.changed, "unchanged": self.unchanged, "invalid": invalid}


def normalize_numbers(raws: list[str], region: str) -> tuple[list[str], list[tuple[str, str]]]:
    """E.164 for each input (any format), and the inputs that are not valid numbers."""
    code = region_for_country(region)
    if code is None:
        raise UsageError(f"--region {region!r} is not a known region; use e.g. US, GB")
    pairs = pl.DataFrame(
        {"raw": raws, "region": [code] * len(raws)},
        schema={"raw": pl.String, "region": pl.String},
    )
    answers = pairs.join(phone_lookup(pairs), on=["raw", "region"], how="left")
    valid = (
        answers.filter(pl.col("e164").is_not_null()).get_column("e164").unique(maintain_order=True)
    )
    invalid = answers.filter(pl.col("e164").is_null()).select("raw", "reason").rows()
    return valid.to_list(), invalid


def add_numbers(
    db: Path,
    raws: list[str],
    *,
    source: str = "manual",
    reason: str | None = None,
    actor: str | None = None,
    region: str = "US",
    at: datetime | None = None,
    batch_id: str | None = None,
) -> DncChange:
    """Suppress numbers (any format) on behalf of `source`."""
    check_source(source)
    phones, invalid = normalize_numbers(raws, region)
    with Store.open(db) as store, store.transaction():
        active = ledger.active_sources(store, pl.Series(phones, dtype=pl.String))
        already = set(active.filter(pl.col("source") == source).get_column("phone").to_list())
        new = [p for p in phones if p not in already]
        ledger.append_events(store, _events(new, "add", source, reason, actor, at, batch_id))
    return DncChange(changed=new, unchanged=sorted(already), invalid=invalid)


def remove_numbers(
    db: Path,
    raws: list[str],
    *,
    reason: str,
    actor: str | None = None,
    source: str | None = None,
    region: str = "US",
    override_consumer_request: bool = False,
    at: datetime | None = None,
) -> DncChange:
    """Reactivate numbers: remove every active source (or only `source`), with a reason."""
    if not reason or not reason.strip():
        raise UsageError("removing a number from the DNC list needs --reason")
    if source is not None:
        check_source(source)
    phones, invalid = normalize_numbers(raws, region)
    when = at or now()
    with Store.open(db) as store, store.transaction():
        active = ledger.active_sources(store, pl.Series(phones, dtype=pl.String))
        if source is not None:
            active = active.filter(pl.col("source") == source)
        guarded = active.filter(
            (pl.col("source") == "call")
            & (
                pl.col("since").dt.convert_time_zone("UTC")
                > _years_before(when, CONSUMER_REQUEST_YEARS)
            )
        )
        if guarded.height and not override_consumer_request:
            numbers = ", ".join(guarded.get_column("phone").unique().sort().to_list())
            raise ConsumerRequestGuard(
                f"{numbers}: the consumer asked not to be called less than "
                f"{CONSUMER_REQUEST_YEARS} years ago (47 CFR 64.1200(d)(6)); "
                "pass --override-consumer-request to remove it anyway"
            )
        events = active.select(
            "phone",
            pl.lit("remove").alias("action"),
            "source",
            pl.lit(reason).alias("reason"),
            pl.lit(actor).alias("actor"),
            pl.lit(when).alias("occurred_at"),
            pl.lit(None, pl.String).alias("batch_id"),
        )
        ledger.append_events(store, events)
    changed = sorted(set(active.get_column("phone").to_list()))
    return DncChange(
        changed=changed, unchanged=[p for p in phones if p not in changed], invalid=invalid
    )


def record_call_request(
    db: Path, phone: str, *, call_id: str, at: datetime, region: str = "US"
) -> DncChange:
    """A callee asked not to be called (a `dnc_request` outcome): source 'call'."""
    return add_numbers(
        db,
        [phone],
        source="call",
        reason=CALL_REQUEST_REASON.format(call_id),
        actor="call",
        region=region,
        at=at,
    )


@dataclass
class CheckResult:
    phone: str
    at: datetime
    suppressed: bool
    sources: list[dict[str, Any]]  # the latest event of each source at `at`

    def as_dict(self) -> dict[str, Any]:
        return {
            "phone": self.phone,
            "at": self.at.isoformat(),
            "suppressed": self.suppressed,
            "sources": self.sources,
        }


def check_number(
    db: Path, raw: str, *, region: str = "US", at: datetime | None = None
) -> CheckResult:
    """Was this number suppressed at `at` (default now), and by which sources?"""
    phones, invalid = normalize_numbers([raw], region)
    if not phones:
        raise UsageError(f"{raw!r} is not a valid phone number ({invalid[0][1]})")
    when = at or now()
    with Store.open(db, read_only=True) as store:
        latest = ledger.sources_at(store, phones[0], when)
    sources = [
        {
            "source": row["source"],
            "since": row["occurred_at"].isoformat(),
            "reason": row["reason"],
            "actor": row["actor"],
        }
        for row in latest.filter(pl.col("action") == "add").iter_rows(named=True)
    ]
    return CheckResult(phones[0], when, bool(sources), sources)


@dataclass
class SourceStatus:
    source: str
    numbers: int
    last_event: datetime | None
    last_load: datetime | None
    warning: str | None = None


def dnc_status(db: Path, *, at: datetime | None = None) -> list[SourceStatus]:
    """Each source's size and freshness; a registry copy older than 31 days is a warning."""
    when = at or now()
    with Store.open(db, read_only=True) as store:
        rows = ledger.source_summary(store).to_dicts()
    report = []
    for row in rows:
        status = SourceStatus(row["source"], row["numbers"], row["last_event"], row["last_load"])
        if row["source"] == "registry":
            if status.last_load is None:
                status.warning = "no FTC registry copy loaded: load one with 'contacts dnc import'"
            elif when - status.last_load > REGISTRY_MAX_AGE:
                days = (when - status.last_load).days
                status.warning = (
                    f"registry copy is {days} days old; the FTC safe harbor needs one at most "
                    "31 days old: load a fresh download"
                )
        report.append(status)
    return report


def check_source(source: str) -> None:
    if source not in ledger.SOURCES:
        raise UsageError(f"--source {source!r} is not one of {', '.join(ledger.SOURCES)}")


def _events(
    phones: list[str],
    action: str,
    source: str,
    reason: str | None,
    actor: str | None,
    at: datetime | None,
    batch_id: str | None,
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "phone": phones,
            "action": [action] * len(phones),
            "source": [source] * len(phones),
            "reason": [reason] * len(phones),
            "actor": [actor] * len(phones),
            "occurred_at": [at or now()] * len(phones),
            "batch_id": [batch_id] * len(phones),
        },
        schema={
            "phone": pl.String,
            "action": pl.String,
            "source": pl.String,
            "reason": pl.String,
            "actor": pl.String,
            "occurred_at": pl.Datetime("us", "UTC"),
            "batch_id": pl.String,
        },
    )


def _years_before(when: datetime, years: int) -> datetime:
    try:
        return when.replace(year=when.year - years)
    except ValueError:  # 29 February
        return when.replace(year=when.year - years, day=28)
