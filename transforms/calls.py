"""Call records as polars frames: map, parse, validate, dedupe, shape for export.

Pure: no files, DuckDB or Prefect. Every non-blank input row ends in exactly one bucket:

    calls (first valid row of each call_id)  +  repeats  +  rejects  ==  rows_total

and `split_present` then partitions `calls` against the call ids already stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from schemas.aliases import normalize_header
from schemas.contact import E164, failure_rows
from schemas.pandera_polars import pa
from transforms.export import FORMULA_START, neutralize_formulas
from transforms.phones import MISSING, phone_lookup

ROW = "_row"
MALFORMED = "_malformed"  # set by the reader: why a row could not be split into fields
FIELDS = (
    "call_id", "phone", "direction", "started_at", "ended_at", "duration_seconds", "outcome",
    "sentiment", "recording_url", "transcript", "summary", "campaign", "caller_id",
)  # fmt: skip
REQUIRED = ("call_id", "phone", "direction", "started_at")
DIRECTIONS = ("inbound", "outbound")
OUTCOMES = (
    "completed", "transferred", "voicemail", "no_answer", "busy", "network_error",
    "invalid_number", "dnc_request", "failed",
)  # fmt: skip
SENTIMENTS = ("positive", "neutral", "negative", "flagged")
DNC_REQUEST = "dnc_request"
# The ledger reason of a consumer's request made on a call; contacts.dnc.record_call_request
# writes the same text, so a request recorded live is not recorded again by an import.
CALL_REQUEST_REASON = "dnc_request on call {}"

# Header keys (schemas.aliases.normalize_header) of the exports call platforms produce.
ALIASES = {
    "call_id": ("call id", "id", "call sid", "sid", "call uuid", "uuid"),
    "phone": ("phone", "phone number", "number", "contact phone", "customer phone"),
    "direction": ("direction", "call direction"),
    "started_at": ("started at", "start time", "started", "start", "call start", "start at"),
    "ended_at": ("ended at", "end time", "ended", "end", "call end", "end at"),
    "duration_seconds": ("duration seconds", "duration", "duration s", "duration sec",
                         "duration secs", "call duration"),
    "outcome": ("outcome", "disposition", "call outcome", "result"),
    "sentiment": ("sentiment",),
    "recording_url": ("recording url", "recording", "recording link"),
    "transcript": ("transcript", "transcription"),
    "summary": ("summary", "call summary"),
    "campaign": ("campaign", "campaign name"),
    "caller_id": ("caller id", "caller id number", "from number"),
}  # fmt: skip
DIRECTION_WORDS = {
    "inbound": "inbound", "in": "inbound", "incoming": "inbound",
    "outbound": "outbound", "out": "outbound", "outgoing": "outbound",
    "outbound api": "outbound", "outbound dial": "outbound",
}  # fmt: skip

# Reason codes, in the order a row's first problem is chosen.
REASONS = (
    "malformed_row", "missing_call_id", "invalid_phone", "unknown_direction", "bad_timestamp",
    "ended_before_started", "bad_duration", "negative_duration", "unknown_outcome",
    "unknown_sentiment", "conflicting_call_id",
)  # fmt: skip
COLUMN_REASONS = {  # a failed built-in check (nullability, isin, regex) on a column
    "call_id": "missing_call_id",
    "phone": "invalid_phone",
    "direction": "unknown_direction",
    "started_at": "bad_timestamp",
    "outcome": "unknown_outcome",
    "sentiment": "unknown_sentiment",
}
REJECT_SCHEMA = {
    ROW: pl.Int64,
    "reason": pl.String,
    "message": pl.String,
    "call_id": pl.String,
    "phone": pl.String,
    "outcome": pl.String,
    "started_at": pl.Datetime("us", "UTC"),
}
UTC = pl.Datetime("us", "UTC")
# ISO 8601 date and time, extended or basic, '.' or ',' fractions, Z / +hh:mm / +hhmm / +hh.
ISO_TIME = (
    r"^(\d{4})-?(\d{2})-?(\d{2})[Tt ](\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d{1,9}))?)?"
    r" *(?:([Zz])|([+-]\d{2})(?::?(\d{2}))?)?$"
)
# Fields whose text the reject messages quote.
QUOTED = (
    "phone",
    "direction",
    "started_at",
    "ended_at",
    "duration_seconds",
    "outcome",
    "sentiment",
)
HMS = r"^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$"
MS = r"^(\d+):([0-5]\d(?:\.\d+)?)$"


@dataclass(frozen=True)
class CallColumns:
    """Which source column feeds which call field."""

    fields: dict[str, str]  # call field -> source column
    ignored: tuple[str, ...]  # source columns that feed no field
    missing: tuple[str, ...]  # required fields no column names


def map_call_columns(columns: list[str]) -> CallColumns:
    """Match headers to call fields after folding case and punctuation ('Call ID').

    A header spelled as the field itself beats an alias ('call_id' beats 'id').
    """
    keys = [normalize_header(column) for column in columns]
    fields: dict[str, str] = {}
    for name, aliases in ALIASES.items():
        exact = [c for c, key in zip(columns, keys, strict=True) if key == aliases[0]]
        near = [c for c, key in zip(columns, keys, strict=True) if key in aliases[1:]]
        if exact or near:
            fields[name] = (exact or near)[0]
    used = set(fields.values())
    return CallColumns(
        fields=fields,
        ignored=tuple(c for c in columns if c not in used),
        missing=tuple(name for name in REQUIRED if name not in fields),
    )


def canonical_calls(frame: pl.DataFrame, columns: CallColumns) -> pl.DataFrame:
    """_row, _malformed and every call field as trimmed text (absent or blank: null)."""
    cells = [
        (pl.col(columns.fields[name]) if name in columns.fields else pl.lit(None))
        .cast(pl.String)
        .str.strip_chars()
        .replace("", None)
        .alias(name)
        for name in FIELDS
    ]
    malformed = pl.col(MALFORMED) if MALFORMED in frame.columns else pl.lit(None, pl.String)
    return frame.select(pl.col(ROW).cast(pl.Int64), malformed.alias(MALFORMED), *cells)


def parse_times(text: pl.Expr) -> pl.Expr:
    """ISO 8601 text to UTC; a time without an offset is UTC; anything else null.

    >>> pl.select(parse_times(pl.lit("2026-01-05T09:03:00-05:00"))).item()
    datetime.datetime(2026, 1, 5, 14, 3, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
    """
    part = text.str.extract_groups(ISO_TIME).struct.field
    offset = (
        pl.when(part("9").is_not_null())
        .then(part("9") + ":" + part("10").fill_null("00"))
        .otherwise(pl.lit("+00:00"))
    )
    canonical = pl.concat_str(
        part("1"), pl.lit("-"), part("2"), pl.lit("-"), part("3"), pl.lit("T"), part("4"),
        pl.lit(":"), part("5"), pl.lit(":"), part("6").fill_null("00"), pl.lit("."),
        part("7").fill_null("0"), offset,
    )  # fmt: skip
    return canonical.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%:z", time_zone="UTC", time_unit="us", strict=False
    )


def parse_seconds(text: pl.Expr) -> pl.Expr:
    """'42', '42.5', '1:02:03' or '02:03' to seconds; anything else (or inf/nan) null."""
    hms = text.str.extract_groups(HMS).struct.field
    ms = text.str.extract_groups(MS).struct.field
    seconds = pl.coalesce(
        text.cast(pl.Float64, strict=False),
        hms("1").cast(pl.Float64) * 3600 + hms("2").cast(pl.Float64) * 60
        + hms("3").cast(pl.Float64),
        ms("1").cast(pl.Float64) * 60 + ms("2").cast(pl.Float64),
    )  # fmt: skip
    return pl.when(seconds.is_finite()).then(seconds)


def _word(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


def parse_calls(calls: pl.DataFrame, region: str) -> pl.DataFrame:
    """Typed, normalized fields beside the raw text the reject messages quote.

    Phones and caller ids are parsed once per distinct value; a caller id that is not a
    valid number is kept as written (it is what the network showed).
    """
    pairs = pl.concat([calls.select(pl.col(c).alias("raw")) for c in ("phone", "caller_id")])
    pairs = pairs.filter(pl.col("raw").is_not_null()).with_columns(region=pl.lit(region))
    lookup = phone_lookup(pairs).select("raw", "e164", "reason")
    phones = lookup.rename({"raw": "phone", "e164": "phone_e164", "reason": "phone_reason"})
    callers = lookup.select(pl.col("raw").alias("caller_id"), pl.col("e164").alias("caller_e164"))
    words = {name: _word(pl.col(name)) for name in ("direction", "outcome", "sentiment")}
    return (
        calls.join(phones, on="phone", how="left")
        .join(callers, on="caller_id", how="left")
        .select(
            ROW,
            MALFORMED,
            "call_id",
            pl.col("phone_e164").alias("phone"),
            pl.col("phone_reason").fill_null(MISSING),
            words["direction"].str.replace("_", " ").replace(DIRECTION_WORDS).alias("direction"),
            parse_times(pl.col("started_at")).alias("started_at"),
            parse_times(pl.col("ended_at")).alias("ended_at"),
            parse_seconds(pl.col("duration_seconds")).alias("duration_seconds"),
            words["outcome"].alias("outcome"),
            words["sentiment"].alias("sentiment"),
            "recording_url",
            "transcript",
            "summary",
            "campaign",
            pl.coalesce("caller_e164", "caller_id").alias("caller_id"),
            *(pl.col(name).alias(f"raw_{name}") for name in QUOTED),
        )
        .sort(ROW)
    )


def _parsed_when_given(name: str, reason: str) -> pa.Check:
    """A cell that has text must have parsed."""
    return pa.Check(
        lambda data: data.lazyframe.select(
            pl.col(name).is_not_null() | pl.col(f"raw_{name}").is_null()
        ),
        name=reason,
    )


PARSED_CALLS = pa.DataFrameSchema(
    {
        ROW: pa.Column(pl.Int64, unique=True),
        "call_id": pa.Column(pl.String, nullable=False),
        "phone": pa.Column(pl.String, pa.Check.str_matches(E164), nullable=False),
        "direction": pa.Column(pl.String, pa.Check.isin(DIRECTIONS), nullable=False),
        "started_at": pa.Column(UTC, nullable=False),
        "ended_at": pa.Column(
            UTC,
            [
                _parsed_when_given("ended_at", "bad_timestamp"),
                pa.Check(
                    lambda data: data.lazyframe.select(
                        ~(pl.col("ended_at") < pl.col("started_at")).fill_null(False)
                    ),
                    name="ended_before_started",
                ),
            ],
            nullable=True,
        ),
        "duration_seconds": pa.Column(
            pl.Float64,
            [
                _parsed_when_given("duration_seconds", "bad_duration"),
                pa.Check(
                    lambda data: data.lazyframe.select(
                        (pl.col("duration_seconds") >= 0).fill_null(True)
                    ),
                    name="negative_duration",
                ),
            ],
            nullable=True,
        ),
        "outcome": pa.Column(pl.String, pa.Check.isin(OUTCOMES), nullable=True),
        "sentiment": pa.Column(pl.String, pa.Check.isin(SENTIMENTS), nullable=True),
    },
    strict=False,
)


@dataclass(frozen=True)
class PreparedCalls:
    calls: pl.DataFrame  # valid, first row of each call_id, ended_at and duration completed
    repeats: pl.DataFrame  # _row, call_id: the same call again, identical, later in the file
    rejects: pl.DataFrame  # REJECT_SCHEMA, one row per rejected input row
    rows_total: int


def prepare_calls(calls: pl.DataFrame, region: str) -> PreparedCalls:
    """Validate (Pandera) and normalize canonical calls; dedupe call ids within the file."""
    broken = calls.filter(pl.col(MALFORMED).is_not_null())
    parsed = parse_calls(calls.filter(pl.col(MALFORMED).is_null()), region)
    failures = failure_rows(PARSED_CALLS, parsed)
    reasons = failures.select(
        ROW,
        "column",
        pl.when(pl.col("check").is_in(REASONS))
        .then(pl.col("check"))
        .otherwise(pl.col("column").replace_strict(COLUMN_REASONS, default="malformed_row"))
        .alias("reason"),
    )
    invalid = _rejects(parsed, reasons)
    valid = parsed.join(invalid.select(ROW), on=ROW, how="anti")
    first, repeats, conflicts = _dedupe_call_ids(valid)
    malformed = broken.select(
        ROW,
        pl.lit("malformed_row").alias("reason"),
        pl.col(MALFORMED).alias("message"),
        *(pl.lit(None, dtype).alias(n) for n, dtype in list(REJECT_SCHEMA.items())[3:]),
    )
    return PreparedCalls(
        calls=_complete_times(first),
        repeats=repeats,
        rejects=pl.concat([malformed, invalid, conflicts]).sort(ROW),
        rows_total=calls.height,
    )


def _rejects(parsed: pl.DataFrame, reasons: pl.DataFrame) -> pl.DataFrame:
    """One reject per failing row: the first reason by REASONS, every message joined."""
    raw = {name: pl.col(f"raw_{name}") for name in QUOTED}
    reason, column = pl.col("reason"), pl.col("column")
    message = (
        pl.when(reason == "missing_call_id")
        .then(pl.lit("call_id is missing"))
        .when((reason == "invalid_phone") & raw["phone"].is_null())
        .then(pl.lit("phone is missing"))
        .when(reason == "invalid_phone")
        .then(pl.format("phone '{}' is not a valid number ({})", raw["phone"], "phone_reason"))
        .when((reason == "unknown_direction") & raw["direction"].is_null())
        .then(pl.lit("direction is missing (inbound or outbound)"))
        .when(reason == "unknown_direction")
        .then(pl.format("direction '{}' is not inbound or outbound", raw["direction"]))
        .when((reason == "bad_timestamp") & (column == "started_at") & raw["started_at"].is_null())
        .then(pl.lit("started_at is missing"))
        .when((reason == "bad_timestamp") & (column == "started_at"))
        .then(pl.format("started_at '{}' is not an ISO 8601 time "
                        "(e.g. 2026-01-05T14:03:00Z)", raw["started_at"]))
        .when(reason == "bad_timestamp")
        .then(pl.format("ended_at '{}' is not an ISO 8601 time (e.g. 2026-01-05T14:03:00Z)",
                        raw["ended_at"]))
        .when(reason == "ended_before_started")
        .then(pl.format("ended_at '{}' is before started_at '{}'", raw["ended_at"],
                        raw["started_at"]))
        .when(reason == "bad_duration")
        .then(pl.format("duration_seconds '{}' is not a number of seconds",
                        raw["duration_seconds"]))
        .when(reason == "negative_duration")
        .then(pl.format("duration_seconds '{}' is negative", raw["duration_seconds"]))
        .when(reason == "unknown_outcome")
        .then(pl.format(f"outcome '{{}}' is not one of {', '.join(OUTCOMES)}", raw["outcome"]))
        .when(reason == "unknown_sentiment")
        .then(pl.format(f"sentiment '{{}}' is not one of {', '.join(SENTIMENTS)}",
                        raw["sentiment"]))
        .otherwise(pl.format("{} failed validation", column))
    )  # fmt: skip
    rank = pl.col("reason").replace_strict(REASONS, list(range(len(REASONS))), default=99)
    return (
        reasons.unique([ROW, "reason", "column"])
        .join(parsed, on=ROW, how="left")
        .with_columns(message.alias("message"), rank.alias("rank"))
        .sort(ROW, "rank", "column")
        .group_by(ROW, maintain_order=True)
        .agg(
            pl.col("reason").first(),
            pl.col("message").str.join("; "),
            *(pl.col(name).first() for name in ("call_id", "phone", "outcome", "started_at")),
        )
        .select(list(REJECT_SCHEMA))
    )


CONTENT = (
    "phone", "direction", "started_at", "ended_at", "duration_seconds", "outcome", "sentiment",
    "recording_url", "transcript", "summary", "campaign", "caller_id",
)  # fmt: skip


def _dedupe_call_ids(valid: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(first row of each call_id, identical later rows, later rows that disagree)."""
    marked = valid.sort(ROW).with_columns(
        pl.col(ROW).first().over("call_id").alias("first_row"),
        (pl.struct(CONTENT).hash() == pl.struct(CONTENT).hash().first().over("call_id")).alias(
            "same"
        ),
    )
    later = marked.filter(pl.col(ROW) != pl.col("first_row"))
    conflicts = later.filter(~pl.col("same")).select(
        ROW,
        pl.lit("conflicting_call_id").alias("reason"),
        pl.format("call_id '{}' is also on row {} with different fields", "call_id", "first_row")
        .alias("message"),
        "call_id", "phone", "outcome", "started_at",
    )  # fmt: skip
    return (
        marked.filter(pl.col(ROW) == pl.col("first_row")).drop("first_row", "same"),
        later.filter(pl.col("same")).select(ROW, "call_id"),
        conflicts,
    )


def _complete_times(calls: pl.DataFrame) -> pl.DataFrame:
    """Fill ended_at from the duration, or the duration from ended_at; drop the raw text."""
    started, ended, seconds = pl.col("started_at"), pl.col("ended_at"), pl.col("duration_seconds")
    return calls.select(
        ROW,
        "call_id",
        "phone",
        "direction",
        "started_at",
        pl.coalesce(ended, started + pl.duration(microseconds=(seconds * 1e6).cast(pl.Int64)))
        .alias("ended_at"),
        pl.coalesce(seconds, (ended - started).dt.total_microseconds() / 1e6)
        .alias("duration_seconds"),
        *FIELDS[6:],
    )  # fmt: skip


def split_present(calls: pl.DataFrame, stored_ids: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(new calls, calls whose call_id is already stored)."""
    known = pl.col("call_id").is_in(stored_ids.implode())
    return calls.filter(~known), calls.filter(known)


def dnc_request_events(
    new: pl.DataFrame, rejects: pl.DataFrame, *, import_id: str, source_name: str, at: object
) -> pl.DataFrame:
    """Ledger events (source 'call') for consumers who asked not to be called.

    Each new call with outcome dnc_request gives one, at the call's start. A rejected
    row that still names a valid phone and that outcome gives one too (at its start,
    else `at`): the consumer's request stands even when the call record is broken. No
    event is dated after `at` (the import's start).
    """
    asked = pl.col("outcome") == DNC_REQUEST
    rows = pl.concat(
        [
            new.filter(asked).select(ROW, "call_id", "phone", "started_at"),
            rejects.filter(asked & pl.col("phone").is_not_null()).select(
                ROW, "call_id", "phone", "started_at"
            ),
        ]
    )
    reason = (
        pl.when(pl.col("call_id").is_not_null())
        .then(pl.format(CALL_REQUEST_REASON, "call_id"))
        .otherwise(
            pl.concat_str(
                pl.lit("dnc_request on row "),
                pl.col(ROW).cast(pl.String),
                pl.lit(f" of {source_name}"),
            )
        )
    )
    events = rows.sort(ROW).select(
        "phone",
        pl.lit("add").alias("action"),
        pl.lit("call").alias("source"),
        reason.alias("reason"),
        pl.lit("call").alias("actor"),
        # never in the future: the ledger answers "suppressed at T?" by event time
        pl.min_horizontal(pl.col("started_at"), pl.lit(at, UTC)).alias("occurred_at"),
        pl.lit(import_id).alias("batch_id"),
    )
    return events.unique(["phone", "reason"], keep="first", maintain_order=True)


RECORD_COLUMNS = (
    "calling_number", "called_number", "date_utc", "time_utc", "started_at_utc",
    "ended_at_utc", "duration_seconds", "caller_id", "disposition", "campaign", "direction",
    "call_id",
)  # fmt: skip
PHONE_COLUMNS = ("calling_number", "called_number", "caller_id")


def call_records(calls: pl.DataFrame) -> pl.DataFrame:
    """The telemarketing record-keeping view of stored calls, safe to open in a spreadsheet.

    `caller_id` is the number the platform presented; for an outbound call it is the
    calling number and the contact's phone the called one, for an inbound call the
    reverse. Phone columns keep their '+' only when they hold an E.164 number.
    """
    outbound = pl.col("direction") == "outbound"
    seconds = pl.col("duration_seconds")
    whole = seconds == seconds.round(0)
    records = calls.select(
        pl.when(outbound).then("caller_id").otherwise("phone").alias("calling_number"),
        pl.when(outbound).then("phone").otherwise("caller_id").alias("called_number"),
        pl.col("started_at").dt.strftime("%Y-%m-%d").alias("date_utc"),
        pl.col("started_at").dt.strftime("%H:%M:%S").alias("time_utc"),
        pl.col("started_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("started_at_utc"),
        pl.col("ended_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("ended_at_utc"),
        pl.when(whole)
        .then(seconds.cast(pl.Int64).cast(pl.String))
        .otherwise(seconds.round(3).cast(pl.String))
        .alias("duration_seconds"),
        "caller_id",
        pl.col("outcome").alias("disposition"),
        "campaign",
        "direction",
        "call_id",
    )
    return neutralize_formulas(records, keep=PHONE_COLUMNS).with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START) & ~pl.col(name).str.contains(E164))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in PHONE_COLUMNS
    )
