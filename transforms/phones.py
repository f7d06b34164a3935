"""Phone normalization to E.164 with `phonenumbers`, once per distinct (value, region).

A number is valid iff `phonenumbers.is_valid_number` says so; this module never makes
valid what the library calls invalid. When the library says invalid, the reason code
is refined: a value a spreadsheet damaged (scientific notation, a stripped '+' or
leading 0, a float '.0' tail) is `spreadsheet_damaged`, with the repaired number as a
suggestion when one exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
import polars as pl
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult
from phonenumbers.timezone import time_zones_for_number

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


def phone_lookup(pairs: pl.DataFrame) -> pl.DataFrame:
    """Answer each distinct (raw, region) pair once; join the result back on both columns."""
    distinct = pairs.select("raw", "region").unique()
    answers = [normalize_phone(raw, region) for raw, region in distinct.iter_rows()]
    return distinct.with_columns(
        pl.Series("e164", [a.e164 for a in answers], pl.String),
        pl.Series("extension", [a.extension for a in answers], pl.String),
        pl.Series("reason", [a.reason for a in answers], pl.String),
        pl.Series("suggested_phone", [a.suggested_phone for a in answers], pl.String),
        pl.Series("phone_region", [a.phone_region for a in answers], pl.String),
        pl.Series("line_type", [a.line_type for a in answers], pl.String),
        pl.Series("time_zones", [list(a.time_zones) for a in answers], pl.List(pl.String)),
    ).select(list(LOOKUP_SCHEMA))
