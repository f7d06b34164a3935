"""Phone normalization: a table of real-world inputs, and agreement with phonenumbers."""

from __future__ import annotations

import phonenumbers
import polars as pl
import pytest
from examples_scale import scaled
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.phones import (
    INVALID_FOR_REGION,
    MISSING,
    NOT_A_NUMBER,
    SPREADSHEET_DAMAGED,
    TOO_LONG,
    TOO_SHORT,
    normalize_phone,
    phone_lookup,
)

VALID = [
    # raw, region, e164, extension
    ("(650) 253-0000", "US", "+16502530000", None),
    ("650.253.0000", "US", "+16502530000", None),
    ("650-253-0000 x123", "US", "+16502530000", "123"),
    ("650 253 0000 ext. 45", "US", "+16502530000", "45"),
    ("+1 650 253 0000", "GB", "+16502530000", None),
    ("1-650-253-0000", "US", "+16502530000", None),
    ("16502530000", "US", "+16502530000", None),
    ("001 650 253 0000", "GB", "+16502530000", None),
    ("(212) 736-5000", "US", "+12127365000", None),
    ("020 7946 0000", "GB", "+442079460000", None),
    ("+44 (0)20 7946 0000", "US", "+442079460000", None),
    ("07911 123456", "GB", "+447911123456", None),
    ("06 12 34 56 78", "FR", "+33612345678", None),
    ("+33 6 12 34 56 78", "US", "+33612345678", None),
    ("030 1234567", "DE", "+49301234567", None),
    ("+49 170 1234567", "US", "+491701234567", None),
    ("55 1234 5678", "MX", "+525512345678", None),
    ("+61 2 9876 5432", "US", "+61298765432", None),
    ("98765 43210", "IN", "+919876543210", None),
    ("(11) 91234-5678", "BR", "+5511912345678", None),
    ("1-800-FLOWERS", "US", "+18003569377", None),
]

INVALID = [
    # raw, region, reason, suggested
    ("", "US", MISSING, None),
    ("   ", "US", MISSING, None),
    (None, "US", MISSING, None),
    ("n/a", "US", NOT_A_NUMBER, None),
    ("call me", "US", NOT_A_NUMBER, None),
    ("12", "US", TOO_SHORT, None),
    ("253-0000", "US", TOO_SHORT, None),
    ("1234567890123456789", "US", TOO_LONG, None),
    ("(123) 456-7890", "US", INVALID_FOR_REGION, None),
    ("4.41E+11", "US", SPREADSHEET_DAMAGED, None),
    ("6.50253E+09", "US", SPREADSHEET_DAMAGED, None),
    ("1.6502530000E+10", "US", SPREADSHEET_DAMAGED, "+16502530000"),
    ("6502530000.0", "US", SPREADSHEET_DAMAGED, "+16502530000"),
    ("447911123456", "US", SPREADSHEET_DAMAGED, "+447911123456"),
    ("33612345678", "US", SPREADSHEET_DAMAGED, "+33612345678"),
]


@pytest.mark.parametrize(("raw", "region", "e164", "extension"), VALID)
def test_valid_numbers_become_e164(raw: str, region: str, e164: str, extension: str | None):
    answer = normalize_phone(raw, region)
    assert (answer.e164, answer.extension, answer.reason) == (e164, extension, None)
    assert answer.phone_region == phonenumbers.region_code_for_number(phonenumbers.parse(e164))


@pytest.mark.parametrize(("raw", "region", "reason", "suggested"), INVALID)
def test_invalid_numbers_have_a_reason(
    raw: str | None, region: str, reason: str, suggested: str | None
):
    answer = normalize_phone(raw, region)
    assert (answer.e164, answer.reason, answer.suggested_phone) == (None, reason, suggested)


def test_valid_numbers_carry_line_type_and_time_zones():
    mobile = normalize_phone("+44 7911 123456", "US")
    assert mobile.line_type == "mobile"
    assert "Europe/London" in mobile.time_zones  # UK mobiles also cover the Crown dependencies
    toll_free = normalize_phone("1-800-356-9377", "US")
    assert toll_free.line_type == "toll_free"


def _library_answer(raw: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


REGIONS = ["US", "CA", "GB", "DE", "FR", "MX", "IN", "AU", "BR", "ES", "IT", "JP"]
separators = st.sampled_from(["", " ", "-", ".", "(", ")", "/"])
digit_runs = st.text(alphabet="0123456789", min_size=1, max_size=5)
phone_like = st.builds(
    lambda prefix, parts, seps, ext: (
        prefix + "".join(p + s for p, s in zip(parts, seps, strict=False)) + ext
    ),
    st.sampled_from(["", "+", "+1 ", "1-", "00", "0", "+44 ", "+33 ", "+49 "]),
    st.lists(digit_runs, min_size=1, max_size=5),
    st.lists(separators, min_size=5, max_size=5),
    st.sampled_from(["", " x12", " ext. 7", ";ext=99"]),
)


@settings(max_examples=scaled(400), deadline=None)
@given(raw=st.one_of(phone_like, st.text(max_size=25)), region=st.sampled_from(REGIONS))
def test_agrees_with_phonenumbers(raw: str, region: str):
    """Valid exactly when the library says so, with the library's E.164."""
    answer = normalize_phone(raw, region)
    assert answer.e164 == _library_answer(raw, region)
    assert (answer.reason is None) == (answer.e164 is not None)


@settings(max_examples=scaled(200), deadline=None)
@given(raw=phone_like, region=st.sampled_from(REGIONS))
def test_normalization_is_idempotent(raw: str, region: str):
    first = normalize_phone(raw, region)
    if first.e164 is not None:
        again = normalize_phone(first.e164, region)
        assert again.e164 == first.e164
        assert normalize_phone(first.e164, "US").e164 == first.e164  # E.164 needs no region


@settings(max_examples=scaled(50), deadline=None)
@given(
    raws=st.lists(st.one_of(phone_like, st.none()), min_size=1, max_size=30),
    region=st.sampled_from(REGIONS),
)
def test_lookup_answers_each_pair_like_the_scalar_function(raws: list[str | None], region: str):
    pairs = pl.DataFrame({"raw": raws, "region": [region] * len(raws)}).drop_nulls()
    lookup = phone_lookup(pairs)
    assert lookup.height == pairs.unique().height
    for row in lookup.iter_rows(named=True):
        answer = normalize_phone(row["raw"], row["region"])
        assert (row["e164"], row["reason"], row["extension"]) == (
            answer.e164,
            answer.reason,
            answer.extension,
        )
