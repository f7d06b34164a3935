"""Phone rules for one value at a time: phonenumbers only, no polars.

Interactive commands (search, show, edit) use `normalize_phone` without paying for
polars; `transforms.phones` vectorizes the same answers for whole files.
A number is valid iff `phonenumbers.is_valid_number` says so; a value a spreadsheet
damaged is `spreadsheet_damaged`, with the repaired number when the digits survived.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
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
# The same shapes for polars, on cells of ASCII spaces and digits (what parse_common answers);
# with 'E+' the library never parses the cell (a '+' inside is not a viable number).
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
