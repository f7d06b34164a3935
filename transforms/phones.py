"""Phone normalization to E.164 with `phonenumbers`, once per distinct (value, region).

A number is valid iff `phonenumbers.is_valid_number` says so; this module never makes
valid what the library calls invalid. When the library says invalid, the reason code
is refined: a value a spreadsheet damaged (scientific notation, a stripped '+' or
leading 0, a float '.0' tail) is `spreadsheet_damaged`, with the repaired number as a
suggestion when one exists.

`phone_lookup` answers the common shapes with polars (`phones_fast`: the library's own
rules, vectorized, checked to agree with it) and leaves the rest to `normalize_phone`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult
from phonenumbers.timezone import time_zones_for_number

from transforms.phones_fast import parse_common

MISSING = "missing"
NOT_A_NUMBER = "not_a_number"
TOO_SHORT = "too_short"
TOO_LONG = "too_long"
INVALID_FOR_REGION = "invalid_for_region"
SPREADSHEET_DAMAGED = "spreadsheet_damaged"
REASONS = (MISSING, NOT_A_NUMBER, TOO_SHORT, TOO_LONG, INVALID_FOR_REGION, SPREADSHEET_DAMAGED)

SCIENTIFIC = re.compile(r"^\s*\+?(\d)(?:[.,](\d+))?[eE]\+?(\d{1,2})\s*$")
FLOAT_TAIL = re.compile(r"^\s*\+?(\d{6,17})\.0+\s*$")
DIGITS_ONLY = re.compile(r"^\s*(\d{6,17})\s*$")
# The same shapes for polars, on cells of ASCII spaces and digits (what parse_common answers);
# with 'E+' the library never parses the cell (a '+' inside is not a viable number).
SCIENTIFIC_PLUS = r"^ *\+?([0-9])(?:[.,]([0-9]+))?[eE]\+([0-9]{1,2}) *$"
FLOAT_TAIL_SPACES = r"^ *\+?([0-9]{6,17})\.0+ *$"
DIGITS_ONLY_SPACES = r"^ *([0-9]{6,17}) *$"

LOOKUP_CHUNK = 200_000  # distinct pairs per vectorized pass: bounds the memory of a pass

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: INVALID_FOR_REGION,
    NumberParseException.NOT_A_NUMBER: NOT_A_NUMBER,
    NumberParseException.TOO_SHORT_AFTER_IDD: TOO_SHORT,
    NumberParseException.TOO_SHORT_NSN: TOO_SHORT,
    NumberParseException.TOO_LONG: TOO_LONG,
}
_POSSIBLE_REASONS = {
    ValidationResult.TOO_SHORT: TOO_SHORT,
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: TOO_SHORT,
    ValidationResult.TOO_LONG: TOO_LONG,
}
_LINE_TYPES = {
    value: name.lower()
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}

LOOKUP_SCHEMA = {
    "raw": pl.String,
    "region": pl.String,
    "e164": pl.String,
    "extension": pl.String,
    "reason": pl.String,
    "suggested_phone": pl.String,
    "phone_region": pl.String,
    "line_type": pl.String,
    "time_zones": pl.List(pl.String),
}


@dataclass(frozen=True)
class PhoneAnswer:
    """What one raw value means: an E.164 number, or a reason it is not one."""

    e164: str | None = None
    extension: str | None = None
    reason: str | None = None
    suggested_phone: str | None = None
    phone_region: str | None = None
    line_type: str | None = None
    time_zones: tuple[str, ...] = ()


def normalize_phone(raw: str | None, region: str) -> PhoneAnswer:
    """E.164 for `raw` read in `region`, or the reason it is not a valid number.

    >>> normalize_phone("(415) 555-2671 x12", "US").e164
    '+14155552671'
    """
    text = (raw or "").strip()
    if not text:
        return PhoneAnswer(reason=MISSING)
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as err:
        return _damaged(text, region) or PhoneAnswer(reason=_PARSE_REASONS[err.error_type])
    if phonenumbers.is_valid_number(number):
        return PhoneAnswer(
            e164=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
            extension=number.extension or None,
            phone_region=phonenumbers.region_code_for_number(number),
            line_type=_LINE_TYPES.get(phonenumbers.number_type(number), "unknown"),
            time_zones=tuple(
                zone for zone in time_zones_for_number(number) if zone != "Etc/Unknown"
            ),
        )
    possible = phonenumbers.is_possible_number_with_reason(number)
    return _damaged(text, region) or PhoneAnswer(
        reason=_POSSIBLE_REASONS.get(possible, INVALID_FOR_REGION)
    )


def _damaged(text: str, region: str) -> PhoneAnswer | None:
    """Recognize the ways spreadsheets break phone numbers; None when it is not that."""
    scientific = SCIENTIFIC.match(text)
    if scientific:
        lead, fraction, exponent = scientific[1], scientific[2] or "", int(scientific[3])
        suggestion = None
        if len(fraction) == exponent:  # every digit survived; fewer means they were rounded
            suggestion = _valid_e164(lead + fraction, region)
        return PhoneAnswer(reason=SPREADSHEET_DAMAGED, suggested_phone=suggestion)
    float_tail = FLOAT_TAIL.match(text)
    if float_tail:
        digits = float_tail[1]
        suggestion = _valid_e164(digits, region) or _valid_e164("+" + digits, region)
        return PhoneAnswer(reason=SPREADSHEET_DAMAGED, suggested_phone=suggestion)
    digits_only = DIGITS_ONLY.match(text)
    if digits_only:
        digits = digits_only[1]
        suggestion = _valid_e164("+" + digits, region) or _valid_e164("0" + digits, region)
        if suggestion:
            return PhoneAnswer(reason=SPREADSHEET_DAMAGED, suggested_phone=suggestion)
    return None


def _valid_e164(text: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_lookup(pairs: pl.DataFrame, chunk_size: int = LOOKUP_CHUNK) -> pl.DataFrame:
    """Answer each distinct (raw, region) pair once; join the result back on both columns.

    Common shapes are answered with polars (`phones_fast.parse_common`, the library's
    own rules, vectorized), `chunk_size` pairs at a time to bound memory; the rest, one
    value at a time, by `normalize_phone`.
    """
    distinct = pairs.select("raw", "region").unique()
    answers = [
        _lookup_chunk(distinct.slice(start, chunk_size))
        for start in range(0, distinct.height, chunk_size)
    ]
    return pl.concat(answers) if answers else pl.DataFrame(schema=LOOKUP_SCHEMA)


def _lookup_chunk(distinct: pl.DataFrame) -> pl.DataFrame:
    answered, rest = vectorized_answers(distinct)
    frames = [answered, _library_answers(rest)]
    return pl.concat([frame.select(_lookup_columns(frame)) for frame in frames])


def vectorized_answers(distinct: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(answers found with polars, the distinct (raw, region) pairs left to normalize_phone)."""
    blank = pl.col("raw").is_null() | pl.col("raw").str.contains(r"^[ \t\r\n]*$")
    missing = distinct.filter(blank).with_columns(reason=pl.lit(MISSING))
    parsed, rest = parse_common(distinct.filter(~blank))
    answered, rest = _with_damage(_with_reasons(parsed), rest)
    return pl.concat([missing, answered], how="diagonal_relaxed"), rest


def _lookup_columns(frame: pl.DataFrame) -> list[pl.Expr]:
    columns = []
    for name, dtype in LOOKUP_SCHEMA.items():
        column = pl.col(name) if name in frame.columns else pl.lit(None, dtype)
        if name == "time_zones":  # an invalid number has no zones: an empty list
            column = column.fill_null(pl.lit([], dtype))
        columns.append(column.cast(dtype).alias(name))
    return columns


def _with_reasons(parsed: pl.DataFrame) -> pl.DataFrame:
    """The library's outcome codes turned into normalize_phone's answer fields."""
    valid = pl.col("e164").is_not_null()
    return parsed.select(
        "raw",
        "region",
        "e164",
        "extension",
        pl.when(valid)
        .then(None)
        .when(pl.col("parse_error").is_not_null())
        .then(pl.col("parse_error").replace_strict(_PARSE_REASONS, return_dtype=pl.String))
        .otherwise(
            pl.col("possible").replace_strict(
                _POSSIBLE_REASONS, default=INVALID_FOR_REGION, return_dtype=pl.String
            )
        )
        .alias("reason"),
        pl.lit(None, pl.String).alias("suggested_phone"),
        "phone_region",
        pl.when(valid)
        .then(pl.col("number_type").replace_strict(_LINE_TYPES, return_dtype=pl.String))
        .alias("line_type"),
        pl.col("time_zones").list.filter(pl.element() != "Etc/Unknown"),
    )


def _with_damage(answered: pl.DataFrame, rest: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """_damaged, vectorized: (answers, pairs left to the library).

    Answers scientific-notation cells with 'E+' from `rest` (the library never parses
    them), and refines the invalid answers of float-tail and digits-only cells. Each
    suggestion is `_valid_e164(first, region) or _valid_e164(second, region)`.
    """
    raw = pl.col("raw")
    is_scientific = raw.str.contains(SCIENTIFIC_PLUS)
    parts = raw.str.extract_groups(SCIENTIFIC_PLUS)
    lead, fraction = parts.struct.field("1"), parts.struct.field("2").fill_null("")
    exact = fraction.str.len_chars() == parts.struct.field("3").cast(pl.Int64)
    float_tail = raw.str.extract(FLOAT_TAIL_SPACES, 1)
    digits = raw.str.extract(DIGITS_ONLY_SPACES, 1)
    no_text = pl.lit(None, pl.String)
    shapes = raw.str.contains(FLOAT_TAIL_SPACES) | raw.str.contains(DIGITS_ONLY_SPACES)
    invalid = pl.col("e164").is_null()
    plain, maybe = answered.filter(~invalid), answered.filter(invalid)
    plain = pl.concat([plain, maybe.filter(~shapes)])
    maybe = maybe.filter(shapes)
    damaged = pl.concat(
        [
            rest.filter(is_scientific).with_columns(
                first=pl.when(exact).then(lead + fraction), second=no_text, keep_reason=False
            ),
            maybe.filter(float_tail.is_not_null()).with_columns(
                first=float_tail, second="+" + float_tail, keep_reason=False
            ),
            maybe.filter(digits.is_not_null()).with_columns(
                first="+" + digits, second="0" + digits, keep_reason=True
            ),
        ],
        how="diagonal_relaxed",
    )
    options = ("first", "second")
    texts = pl.concat([damaged.select(pl.col(c).alias("raw"), "region") for c in options])
    found, _ = parse_common(texts.drop_nulls().unique())
    for option in options:
        judged = found.select(
            pl.col("raw").alias(option),
            "region",
            pl.col("e164").alias(f"{option}_e164"),
            pl.lit(True).alias(f"{option}_answered"),
        )
        damaged = damaged.join(judged, on=[option, "region"], how="left")
    first, second = pl.col("first"), pl.col("second")
    known = first.is_null() | (
        pl.col("first_answered")
        & (
            pl.col("first_e164").is_not_null()
            | second.is_null()
            | pl.col("second_answered").fill_null(False)
        )
    ).fill_null(False)
    suggested = pl.coalesce("first_e164", "second_e164")
    damaged = damaged.with_columns(
        known=known,
        suggested_phone=suggested,
        reason=pl.when(pl.col("keep_reason") & suggested.is_null())
        .then(pl.col("reason"))
        .otherwise(pl.lit(SPREADSHEET_DAMAGED)),
    )
    unsure = damaged.filter(~pl.col("known")).select("raw", "region")
    return (
        pl.concat([plain, damaged.filter(pl.col("known"))], how="diagonal_relaxed"),
        pl.concat([rest.filter(~is_scientific), unsure]),
    )


def _library_answers(pairs: pl.DataFrame) -> pl.DataFrame:
    """normalize_phone per pair, written straight into columns.

    Time zones are kept as ids of distinct tuples: turning a million Python lists into a
    list column takes gigabytes.
    """
    columns: dict[str, list[object]] = {name: [] for name in LOOKUP_SCHEMA}
    zone_ids: dict[tuple[str, ...], int] = {}
    for raw, region in pairs.iter_rows():
        answer = normalize_phone(raw, region)
        columns["raw"].append(raw)
        columns["region"].append(region)
        columns["e164"].append(answer.e164)
        columns["extension"].append(answer.extension)
        columns["reason"].append(answer.reason)
        columns["suggested_phone"].append(answer.suggested_phone)
        columns["phone_region"].append(answer.phone_region)
        columns["line_type"].append(answer.line_type)
        columns["time_zones"].append(zone_ids.setdefault(answer.time_zones, len(zone_ids)))
    zones = pl.Series([list(z) for z in zone_ids], dtype=LOOKUP_SCHEMA["time_zones"])
    ids = pl.Series(columns.pop("time_zones"), dtype=pl.UInt32)
    schema = {name: dtype for name, dtype in LOOKUP_SCHEMA.items() if name != "time_zones"}
    return pl.DataFrame(columns, schema=schema).with_columns(time_zones=zones.gather(ids))
