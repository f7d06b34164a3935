"""What `phonenumbers` would answer for common phone shapes, computed with polars.

`parse_common(pairs)` splits distinct (raw, region) pairs in two: the ones whose shape it
fully understands (NANP and national numbers with `()-. /` punctuation, `+CC` and IDD
prefixes, extensions ` x12`, ` ext. 12`, ` #12`, `;ext=12`), answered here, and the rest,
left to the library. Answers follow the library step by step (`parse`,
`region_code_for_number`, `number_type`, `is_possible_number_with_reason`,
`time_zones_for_number`) with the installed library's own metadata: its regular
expressions run in the Rust `regex` engine, which has the same leftmost-first semantics
for the syntax they use (no lookaround, no backreferences; a region whose patterns do not
compile is left to the library). A few private helpers of the pinned version are used
(`_test_number_length`, `_GEO_MOBILE_COUNTRIES`, `_country_level_time_zones_for_number`).
Exactness is checked by tests/test_phones_fast.py and bench/phones_agreement.py; re-run
both when bumping phonenumbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import phonenumbers
import polars as pl
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    NumberParseException,
    PhoneMetadata,
    PhoneNumberType,
    ValidationResult,
)
from phonenumbers.phonenumberutil import _GEO_MOBILE_COUNTRIES, _test_number_length
from phonenumbers.timezone import TIMEZONE_DATA, _country_level_time_zones_for_number

# Leading '(' or spaces, an optional '+', the number (digits first), an optional extension.
# Anything else (letters, other punctuation, several '+') is left to the library.
SHAPE = (
    r"^ *\(? *(\+)?[ (]*([0-9][0-9 ().\-/]*?)"
    r"(?: *(?:(?:[eE][xX][tT][nN]?|[xX]|#)[.:]?[ \-]*|;[eE][xX][tT]=)([0-9]{1,9}))? *$"
)
EXTENSION = r"(?:[eE][xX][tT][nN]?|[xX]|#|;[eE][xX][tT]=)[.:]?[ \-]*([0-9]{1,9}) *$"
# Every character but digits that a SHAPE cell can hold: removing these literally
# (Aho-Corasick, ~2.5x faster than a regex replace) leaves exactly its digits.
SHAPE_NON_DIGITS = tuple(" (+).-/eExXtTnN#:;=")
MAX_RAW_LENGTH = 80  # far below the library's 250; longer cells are left to it
MIN_DIGITS = 3  # with 3 digits a cell of this shape is always "viable" to the library
MAX_NSN_LENGTH = 17
TYPED_DESCS = (  # _number_type_helper's order, before fixed line and mobile
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)
UNKNOWN = PhoneNumberType.UNKNOWN
KEEPS_STRIPPED = (ValidationResult.IS_POSSIBLE, ValidationResult.TOO_LONG)
ANSWER_SCHEMA = {
    "raw": pl.String,
    "region": pl.String,
    "e164": pl.String,  # valid numbers only
    "extension": pl.String,
    "parse_error": pl.Int8,  # NumberParseException error type when parse() raises
    "possible": pl.Int8,  # is_possible_number_with_reason of a parsed, invalid number
    "phone_region": pl.String,
    "number_type": pl.Int8,
    "time_zones": pl.List(pl.String),  # time_zones_for_number, as the library returns it
}
_MAX_LENGTH_TABLE = MAX_RAW_LENGTH + 1
# Metadata syntax that means the same to Python's re and the regex crate on ASCII digits:
# digits, \d, classes, groups, (?:, alternation, quantifiers, anchors. No lookaround,
# backreferences, flags, or class set operations ('--', '&&', '~~', nested '[').
_PORTABLE = re.compile(r"(?:\\d|\(\?:|[0-9()|?\[\]{},$^*+.-])*")
_CLASS_OPERATIONS = ("--", "&&", "~~", "[[")
_TRANSFORM = re.compile(r"(?:[0-9]|\\[0-9])*")  # digits and group references


@dataclass(frozen=True)
class Desc:
    pattern: str  # anchored for a full match
    lengths: tuple[int, ...]  # empty: any length


@dataclass(frozen=True)
class Rules:
    """One region's metadata, in the form the expressions below use."""

    region: str
    country_code: str
    idd: str | None  # anchored at the start
    national_prefix: str | None  # anchored at the start
    transform: str | None  # in the regex crate's replacement syntax
    prefix_groups: int
    general: Desc | None
    length_check: dict[int, int]  # NSN length -> _test_number_length result
    leading_digits: str | None
    typed: tuple[tuple[Desc, int], ...]
    fixed_line: Desc | None
    mobile: Desc | None
    same_mobile_and_fixed_line: bool


def portable(pattern: str) -> bool:
    """Whether polars runs `pattern` exactly as the library's `re` does."""
    if not _PORTABLE.fullmatch(pattern) or any(op in pattern for op in _CLASS_OPERATIONS):
        return False
    try:
        pl.Series([""]).str.contains(pattern)
    except pl.exceptions.PolarsError:
        return False
    return True


def _desc(desc: phonenumbers.PhoneNumberDesc | None) -> Desc | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return Desc(f"^(?:{desc.national_number_pattern})$", tuple(desc.possible_length))


@cache
def rules_for(region: str) -> Rules | None:
    """The region's rules, or None when one of its patterns cannot run in polars."""
    meta = PhoneMetadata.metadata_for_region(region, None)
    if meta is None:
        return None
    prefix = meta.national_prefix_for_parsing or None
    rule = meta.national_prefix_transform_rule or None
    rules = Rules(
        region=region,
        country_code=str(meta.country_code),
        idd=f"^(?:{meta.international_prefix})" if meta.international_prefix else None,
        national_prefix=f"^(?:{prefix})" if prefix else None,
        transform=re.sub(r"\\(\d)", r"${\1}", rule) if rule else None,
        prefix_groups=re.compile(prefix).groups if prefix else 0,
        general=_desc(meta.general_desc),
        length_check={n: _test_number_length("0" * n, meta) for n in range(_MAX_LENGTH_TABLE + 1)},
        leading_digits=f"^(?:{meta.leading_digits})" if meta.leading_digits else None,
        typed=tuple((d, kind) for name, kind in TYPED_DESCS if (d := _desc(getattr(meta, name)))),
        fixed_line=_desc(meta.fixed_line),
        mobile=_desc(meta.mobile),
        same_mobile_and_fixed_line=bool(meta.same_mobile_and_fixed_line_pattern),
    )
    patterns = [rules.idd, rules.national_prefix, rules.leading_digits]
    descs = [rules.general, rules.fixed_line, rules.mobile, *(d for d, _ in rules.typed)]
    patterns += [d.pattern for d in descs if d is not None]
    if rule and not _TRANSFORM.fullmatch(rule):
        return None
    return rules if all(portable(p) for p in patterns if p) else None


MAIN_REGION = {str(code): regions[0] for code, regions in COUNTRY_CODE_TO_REGION_CODE.items()}
_CODES = list(MAIN_REGION)


@cache
def code_usable(country_code: str) -> bool:
    """Whether every region of a country calling code has rules (non-geographic: no)."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(int(country_code), ())
    return bool(regions) and all(r != "001" and rules_for(r) is not None for r in regions)


@cache
def region_usable(region: str) -> bool:
    """Whether numbers written in this region can be answered here."""
    if region not in phonenumbers.SUPPORTED_REGIONS or rules_for(region) is None:
        return False
    return code_usable(str(phonenumbers.country_code_for_region(region)))


@cache
def _zone_table() -> pl.DataFrame:
    """zone_key -> time zones: E.164 digit prefixes, and '+CC' for country-level answers."""
    country = {
        f"+{code}": _country_level_time_zones_for_number(phonenumbers.PhoneNumber(code))
        for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
    }
    entries = {**TIMEZONE_DATA, **country}
    return pl.DataFrame(
        {"zone_key": list(entries), "time_zones": [list(z) for z in entries.values()]},
        schema={"zone_key": pl.String, "time_zones": pl.List(pl.String)},
    )


DIRECT_MIN_ROWS = 5_000  # rows of one region (or '+' code) worth a lane of their own
# the columns of a row once its national significant number ('nsn') is known
NATIONAL_COLUMNS = (
    "raw", "region", "ext", "country_code", "national", "meta_region", "unsure",
    "parse_error", "nsn",
)  # fmt: skip
ZONE_HEAD = 4  # E.164 digits looked up at once: 1 + the area code for NANP
ZONE_HEAD_MIN_ROWS = 20_000  # rows of one country code worth the lookup by head
_LONGER = "+"  # a zone key never holds '+': "this head has longer keys"


@cache
def _zone_keys_of(country_code: str) -> dict[int, dict[str, str]]:
    """The time zone prefixes a number of this code can start with, by length."""
    sizes: dict[int, dict[str, str]] = {}
    for key in TIMEZONE_DATA:
        if key.startswith(country_code) or country_code.startswith(key):
            sizes.setdefault(len(key), {})[key] = key
    return sizes


@cache
def _zone_heads(country_code: str) -> dict[str, str]:
    """Each possible first ZONE_HEAD digits -> its longest zone prefix among the keys of at
    most ZONE_HEAD digits, or _LONGER when a longer key starts with them."""
    sizes = _zone_keys_of(country_code)
    longer = {key[:ZONE_HEAD] for size, keys in sizes.items() if size > ZONE_HEAD for key in keys}
    free = ZONE_HEAD - len(country_code)
    heads = {}
    for tail in range(10**free):
        head = f"{country_code}{tail:0{free}d}"
        if head in longer:
            heads[head] = _LONGER
            continue
        for size in sorted((size for size in sizes if size <= ZONE_HEAD), reverse=True):
            if head[:size] in sizes[size]:
                heads[head] = head[:size]
                break
    return heads


@cache
def _zone_key(country_code: str) -> pl.Expr:
    """The longest time zone prefix of the E.164 digits (country code + 'nsn')."""
    sizes = _zone_keys_of(country_code)
    digits = pl.concat_str(pl.lit(country_code), pl.col("nsn"))
    # a hash lookup per prefix length (a join): faster than is_in on a list literal
    found = [
        digits.str.slice(0, size).replace_strict(sizes[size], default=None, return_dtype=pl.String)
        for size in sorted(sizes, reverse=True)
    ]
    return pl.coalesce(found) if found else pl.lit(None, pl.String)  # the longest wins


def _zone_keys(found: pl.DataFrame, country_code: str) -> pl.Expr:
    """time_zones_for_number's key for each row's national number: the longest prefix of
    its E.164 digits in TIMEZONE_DATA.

    In a large group the first ZONE_HEAD digits settle most numbers with one lookup, and
    only those whose head has longer keys (or shorter numbers) look further; a small
    group runs one lookup per key length in the frame's own query (fewer calls).
    """
    if found.height < ZONE_HEAD_MIN_ROWS or len(country_code) >= ZONE_HEAD:
        return _zone_key(country_code)
    digits = found.select(pl.concat_str(pl.lit(country_code), "nsn").alias("zone_key"))
    heads = (
        digits.to_series()
        .str.slice(0, ZONE_HEAD)
        .replace_strict(_zone_heads(country_code), default=None, return_dtype=pl.String)
    )
    further = ((heads == _LONGER) | (digits.to_series().str.len_chars() < ZONE_HEAD)).fill_null(
        False
    )
    at = further.arg_true()
    if at.len():
        rest = found.select("nsn").gather(at).select(_zone_key(country_code)).to_series()
        heads = heads.scatter(at, rest)
    return pl.lit(heads)


def _full_match(column: str, desc: Desc | None) -> pl.Expr:
    """_match_national_number: the pattern alone, no length check."""
    if desc is None:
        return pl.lit(False)
    return pl.col(column).str.contains(desc.pattern)


def _matches_desc(column: str, desc: Desc | None) -> pl.Expr:
    """_is_number_matching_desc: possible lengths, then the pattern."""
    if desc is None:
        return pl.lit(False)
    found = pl.col(column).str.contains(desc.pattern)
    if desc.lengths:
        found = pl.col(column).str.len_chars().is_in(list(desc.lengths)) & found
    return found


@cache
def _length_check(column: str, region: str) -> pl.Expr:
    """_test_number_length for any type: a ValidationResult per row."""
    rules = _rules(region)
    return (
        pl.col(column)
        .str.len_chars()
        .replace_strict(rules.length_check, default=ValidationResult.TOO_LONG, return_dtype=pl.Int8)
    )


@cache
def _number_type(column: str, region: str) -> pl.Expr:
    """_number_type_helper, as an Int8 PhoneNumberType."""
    rules = _rules(region)
    kind = pl.when(~_matches_desc(column, rules.general)).then(pl.lit(UNKNOWN))
    for desc, value in rules.typed:
        kind = kind.when(_matches_desc(column, desc)).then(pl.lit(value))
    fixed = _matches_desc(column, rules.fixed_line)
    if rules.same_mobile_and_fixed_line:
        kind = kind.when(fixed).then(pl.lit(PhoneNumberType.FIXED_LINE_OR_MOBILE))
    else:
        mobile = _matches_desc(column, rules.mobile)
        kind = (
            kind.when(fixed & mobile)
            .then(pl.lit(PhoneNumberType.FIXED_LINE_OR_MOBILE))
            .when(fixed)
            .then(pl.lit(PhoneNumberType.FIXED_LINE))
            .when(mobile)
            .then(pl.lit(PhoneNumberType.MOBILE))
        )
    return kind.otherwise(pl.lit(UNKNOWN)).cast(pl.Int8)


@cache
def _strip_national_prefix(column: str, region: str) -> pl.Expr:
    """_maybe_strip_national_prefix_carrier_code, the number part of its answer."""
    rules = _rules(region)
    number = pl.col(column)
    if rules.national_prefix is None:
        return number
    found = number.str.extract(rules.national_prefix, 0)
    viable = _full_match(column, rules.general)
    general = rules.general.pattern if rules.general else None

    def fits(expr: pl.Expr) -> pl.Expr:
        return expr.str.contains(general) if general else pl.lit(False)

    removed = number.str.slice(found.str.len_chars())
    result = pl.when(viable & ~fits(removed)).then(number).otherwise(removed)
    if rules.transform is not None:
        changed = number.str.replace(rules.national_prefix, rules.transform, n=1)
        by_rule = pl.when(viable & ~fits(changed)).then(number).otherwise(changed)
        last_group = number.str.extract(rules.national_prefix, rules.prefix_groups)
        result = pl.when(last_group.is_null()).then(result).otherwise(by_rule)
    matched = found.is_not_null() & (number.str.len_chars() > 0)
    return pl.when(matched).then(result).otherwise(number)


def _rules(region: str) -> Rules:
    rules = rules_for(region)
    if rules is None:  # callers only pass usable regions
        raise ValueError(f"no polars rules for region {region!r}")
    return rules


def _by(frame: pl.DataFrame, keys: list[str], step: Callable[..., pl.DataFrame]) -> pl.DataFrame:
    """Run `step(rows, *key values)` for each group of rows sharing `keys`."""
    groups = frame.partition_by(keys, as_dict=True).items()
    return pl.concat([step(part, *values) for values, part in groups], how="diagonal_relaxed")


def _by_lazily(
    frame: pl.DataFrame, keys: list[str], step: Callable[..., pl.LazyFrame]
) -> pl.DataFrame:
    """`_by` with `step` extending a query per group: one collect runs them all. Only for
    steps that do not branch: polars recomputes a query's input for each branch."""
    groups = frame.partition_by(keys, as_dict=True).items()
    parts = [step(part.lazy(), *values) for values, part in groups]
    return pl.concat(parts, how="diagonal_relaxed").collect()


def _shape(pairs: pl.DataFrame) -> pl.DataFrame:
    """raw, region, plus, digits (before any extension), ext, unsure."""
    raw = pl.col("raw")
    regions = pairs.get_column("region").unique().drop_nulls()
    usable = [region for region in regions if region_usable(region)]
    cut = pairs.with_columns(
        # in a SHAPE cell only the extension has a label, and no digit follows it
        ext=raw.str.extract(EXTENSION, 1),
        # the digits of a SHAPE cell; other cells are left to the library
        digits=raw.str.replace_many(SHAPE_NON_DIGITS, [""] * len(SHAPE_NON_DIGITS)),
    )
    ext, digits = pl.col("ext"), pl.col("digits")
    cut = cut.with_columns(
        digits=pl.when(ext.is_null())
        .then(digits)
        .otherwise(digits.str.slice(0, digits.str.len_chars() - ext.str.len_chars()))
    )
    unsure = (
        ~raw.str.contains(SHAPE)
        | ~pl.col("region").is_in(usable)
        | (raw.str.len_chars() > MAX_RAW_LENGTH)
        | (digits.str.len_chars() < MIN_DIGITS)
        | (raw.str.contains("/", literal=True) & ext.is_not_null())  # '/ x' starts a 2nd number
    )
    return cut.select(
        "raw",
        "region",
        raw.str.contains("+", literal=True).alias("plus"),
        "digits",
        "ext",
        unsure.fill_null(True).alias("unsure"),
        pl.lit(None, pl.Int8).alias("parse_error"),
    )


def _code_of(number: pl.Expr) -> pl.Expr:
    """_extract_country_code: the shortest leading 1-3 digits that are a calling code."""
    code = pl.lit(None, pl.String)
    for size in (3, 2, 1):  # the shortest wins, so it is tested last
        head = number.str.slice(0, size)
        code = pl.when(head.is_in(_CODES)).then(head).otherwise(code)
    return code


def _country(part: pl.DataFrame, region: str) -> pl.DataFrame:
    """_maybe_extract_country_code, with parse's retry of a '+' followed by no known code:
    country code, national number and region of the metadata, or parse's error."""
    rules = _rules(region)
    digits = pl.col("digits")
    if rules.idd is None:
        part = part.with_columns(idd_ok=pl.lit(False), rest=digits)
    else:
        idd = digits.str.extract(rules.idd, 0)
        rest = digits.str.slice(idd.str.len_chars())
        # an IDD is stripped unless a 0 follows it (country codes never start with 0)
        idd_ok = (idd.is_not_null() & (rest.str.slice(0, 1) != "0")).fill_null(False)
        part = part.with_columns(idd_ok=idd_ok, rest=rest)
    idd_ok, plus = pl.col("idd_ok"), pl.col("plus")
    with_plus = part.filter(plus).with_columns(plus_code=_code_of(digits))
    lost = pl.col("plus_code").is_null()  # then parse retries without the '+'
    abroad = pl.concat(
        [
            with_plus.with_columns(
                full=pl.when(lost & idd_ok).then("rest").otherwise(digits),
                parse_error=pl.when(lost & ~idd_ok)
                .then(pl.lit(NumberParseException.INVALID_COUNTRY_CODE))
                .cast(pl.Int8),
            ).drop("plus_code"),
            part.filter(~plus & idd_ok).with_columns(full="rest"),
        ]
    )
    full = pl.col("full")
    abroad = abroad.with_columns(country_code=_code_of(full))
    code = pl.col("country_code")
    abroad = abroad.with_columns(
        national=full.str.slice(code.str.len_chars()),
        meta_region=code.replace_strict(MAIN_REGION, default=None),
        parse_error=pl.coalesce(
            "parse_error",
            pl.when(full.str.len_chars() <= 2)
            .then(pl.lit(NumberParseException.TOO_SHORT_AFTER_IDD))
            .when(code.is_null())
            .then(pl.lit(NumberParseException.INVALID_COUNTRY_CODE)),
        ).cast(pl.Int8),
    )
    # at home, a number starting with the region's own code loses it if it fits better so
    own = rules.country_code
    home = part.filter(~plus & ~idd_ok).with_columns(country_code=pl.lit(own))
    prefixed = digits.str.starts_with(own)
    plain = home.filter(~prefixed).with_columns(national=digits, meta_region=pl.lit(region))
    maybe = home.filter(prefixed).with_columns(after_code=digits.str.slice(len(own)))
    maybe = maybe.with_columns(stripped=_strip_national_prefix("after_code", region))
    switch = (~_full_match("digits", rules.general) & _full_match("stripped", rules.general)) | (
        _length_check("digits", region) == ValidationResult.TOO_LONG
    )
    maybe = maybe.with_columns(
        national=pl.when(switch).then(pl.col("stripped")).otherwise(digits),
        meta_region=pl.when(switch).then(pl.lit(MAIN_REGION[own])).otherwise(pl.lit(region)),
    )
    columns = ["raw", "region", "ext", "country_code", "national", "meta_region", "unsure"]
    columns.append("parse_error")
    return pl.concat([frame.select(columns) for frame in (abroad, plain, maybe)])


def _national(part: pl.LazyFrame, meta_region: str) -> pl.LazyFrame:
    """parse's national prefix step and length checks: the national significant number."""
    part = part.with_columns(stripped=_strip_national_prefix("national", meta_region))
    keep = _length_check("stripped", meta_region).is_in(list(KEEPS_STRIPPED))
    part = part.with_columns(nsn=pl.when(keep).then(pl.col("stripped")).otherwise("national"))
    return part.with_columns(
        parse_error=pl.when(pl.col("nsn").str.len_chars() > MAX_NSN_LENGTH)  # parse raises
        .then(pl.lit(NumberParseException.TOO_LONG))
        .cast(pl.Int8),
        unsure=pl.col("unsure") | (pl.col("national").str.len_chars() < 2),
    )


def _validate(part: pl.DataFrame, country_code: str) -> pl.DataFrame:
    """region_code_for_number (the first region of the code that claims the number, by
    leading digits or by a type), number_type (valid iff not UNKNOWN),
    is_possible_number_with_reason, and the key of time_zones_for_number's answer."""
    regions = COUNTRY_CODE_TO_REGION_CODE[int(country_code)]
    claimed, pending = [], part
    for region in regions:
        leading = _rules(region).leading_digits
        if len(regions) > 1 and leading is not None:
            claims = pending.get_column("nsn").str.contains(leading)  # run once, used twice
            hit, pending = pending.filter(claims), pending.filter(~claims)
            if hit.height == 0:  # most regions of a code claim none of a chunk's numbers
                continue
            hit = hit.with_columns(number_type=_number_type("nsn", region))
        else:
            typed = pending.with_columns(number_type=_number_type("nsn", region))
            claims = pl.col("number_type") != UNKNOWN
            hit, pending = typed.filter(claims), typed.filter(~claims).drop("number_type")
        claimed.append(hit.with_columns(phone_region=pl.lit(region)))
        if pending.height == 0:
            break
    unclaimed = pending.with_columns(
        number_type=pl.lit(UNKNOWN, pl.Int8), phone_region=pl.lit(None, pl.String)
    )
    found = pl.concat([*claimed, unclaimed], how="diagonal_relaxed")
    zone_keys = _zone_keys(found, country_code)
    kind = pl.col("number_type")
    valid = kind != UNKNOWN
    geographical = kind.is_in([PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE])
    if int(country_code) in _GEO_MOBILE_COUNTRIES:
        geographical |= kind == PhoneNumberType.MOBILE
    return found.with_columns(
        pl.when(valid).then(pl.col("phone_region")).alias("phone_region"),
        pl.when(valid).then(pl.concat_str(pl.lit(f"+{country_code}"), "nsn")).alias("e164"),
        pl.when(~valid).then(_length_check("nsn", regions[0])).alias("possible"),
        pl.when(valid & geographical)
        .then(zone_keys)
        .when(valid)
        .then(pl.lit(f"+{country_code}"))
        .alias("zone_key"),
    )


def _plain_national_numbers(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows whose national significant number is plain to see, in NATIONAL_COLUMNS unless
    none; the rest), for the regions and '+' codes of DIRECT_MIN_ROWS rows or more.

    Where the country and national prefix steps provably change nothing they are
    skipped: at home, digits that start with neither the region's IDD, nor its own
    country code, nor its national prefix are the national number; after a '+', the
    digits past a known code that do not start with its main region's national prefix.
    The lengths parse() refuses (under 2 or over MAX_NSN_LENGTH digits) take the steps.
    """
    if frame.height < DIRECT_MIN_ROWS:
        return frame.clear(), frame
    digits, plus, size = pl.col("digits"), pl.col("plus"), pl.col("digits").str.len_chars()
    # (when, its code, the digits before the national number, the region of its rules)
    cases: list[tuple[pl.Expr, str, int, str]] = []
    counts = frame.group_by("plus", "region").len().filter(pl.col("len") >= DIRECT_MIN_ROWS)
    for region in counts.filter(~plus).get_column("region"):
        rules = _rules(region)
        when = ~plus & (pl.col("region") == region) & ~digits.str.starts_with(rules.country_code)
        for prefix in (rules.idd, rules.national_prefix):
            if prefix is not None:
                when &= ~digits.str.contains(prefix)
        cases.append((when & size.is_between(2, MAX_NSN_LENGTH), rules.country_code, 0, region))
    if counts.filter(plus).get_column("len").sum() >= DIRECT_MIN_ROWS:
        frame = frame.with_columns(pl.when(plus).then(_code_of(digits)).alias("plus_code"))
        codes = frame.get_column("plus_code").drop_nulls().value_counts()
        for code in codes.filter(pl.col("count") >= DIRECT_MIN_ROWS).get_column("plus_code"):
            if not code_usable(code):
                continue
            national = digits.str.slice(len(code))
            # 2+ digits after the code: more than the 2 digits parse() refuses after a '+'
            when = (pl.col("plus_code") == code) & national.str.len_chars().is_between(
                2, MAX_NSN_LENGTH
            )
            prefix = _rules(MAIN_REGION[code]).national_prefix
            if prefix is not None:
                when &= ~national.str.contains(prefix)
            cases.append((when, code, len(code), MAIN_REGION[code]))
    if not cases:
        return frame.clear(), frame.drop("plus_code", strict=False)
    case = pl.lit(None, pl.Int32)
    for number, (when, *_) in reversed(list(enumerate(cases))):  # the first case wins
        case = pl.when(when).then(pl.lit(number, pl.Int32)).otherwise(case)
    frame = frame.with_columns(case.alias("case"))
    pick = pl.col("case")

    def of_case(values: list[str | int], dtype: pl.DataType) -> pl.Expr:
        return pick.replace_strict(dict(enumerate(values)), return_dtype=dtype)

    direct = frame.filter(pick.is_not_null()).with_columns(
        country_code=of_case([code for _, code, _, _ in cases], pl.String()),
        national=digits.str.slice(of_case([skip for _, _, skip, _ in cases], pl.Int64())),
        meta_region=of_case([region for *_, region in cases], pl.String()),
    )
    rest = frame.filter(pick.is_null()).drop("case", "plus_code", strict=False)
    return direct.with_columns(nsn=pl.col("national")).select(NATIONAL_COLUMNS), rest


def _countries(frame: pl.DataFrame) -> pl.DataFrame:
    found = _by(frame, ["region"], _country)
    codes = found.get_column("country_code").unique().drop_nulls()
    usable = [c for c in codes if code_usable(c)]
    no_rules = pl.col("parse_error").is_null() & ~pl.col("country_code").is_in(usable)
    return found.with_columns(unsure=pl.col("unsure") | no_rules)  # e.g. non-geographic


def _national_numbers(frame: pl.DataFrame) -> pl.DataFrame:
    return _by_lazily(frame, ["meta_region"], _national)


def _validated(frame: pl.DataFrame) -> pl.DataFrame:
    return _by(frame, ["country_code"], _validate)


def parse_common(pairs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(answers in ANSWER_SCHEMA, the (raw, region) pairs left to the library).

    `pairs` holds distinct (raw, region) rows whose raw is not blank.
    """
    staged = _shape(pairs)
    left, failed = [], []

    def settle(frame: pl.DataFrame) -> pl.DataFrame:
        """Set aside rows left to the library and rows parse() raises for."""
        left.append(frame.filter(pl.col("unsure")))
        frame = frame.filter(~pl.col("unsure"))
        failed.append(frame.filter(pl.col("parse_error").is_not_null()))
        return frame.filter(pl.col("parse_error").is_null())

    direct, staged = _plain_national_numbers(settle(staged))
    for stage in (_countries, _national_numbers):
        if staged.height == 0:
            break
        staged = settle(stage(staged))
    known = [part.select(NATIONAL_COLUMNS) for part in (staged, direct) if part.height]
    validated = [settle(_validated(pl.concat(known)))] if known else []
    found = pl.concat([*validated, *failed], how="diagonal_relaxed")
    left_pairs = pl.concat([frame.select("raw", "region") for frame in left])
    if found.height == 0:
        return pl.DataFrame(schema=ANSWER_SCHEMA), left_pairs
    unknown = pl.lit(["Etc/Unknown"], pl.List(pl.String))
    valid = pl.col("e164").is_not_null()
    columns = [
        pl.col(c).cast(dtype) if c in found.columns else pl.lit(None, dtype).alias(c)
        for c, dtype in ANSWER_SCHEMA.items()
        if c not in ("extension", "time_zones")
    ]
    if "zone_key" not in found.columns:
        columns.append(pl.lit(None, pl.String).alias("zone_key"))
    found = (
        found.with_columns(columns)
        .join(_zone_table(), on="zone_key", how="left")
        .with_columns(
            pl.when(valid).then(pl.col("ext")).alias("extension"),
            pl.when(valid).then(pl.col("time_zones").fill_null(unknown)).alias("time_zones"),
        )
    )
    return found.select(list(ANSWER_SCHEMA)), left_pairs
