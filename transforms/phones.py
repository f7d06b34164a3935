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

from concurrent.futures import ThreadPoolExecutor

import polars as pl

from transforms.phone_rules import (  # noqa: F401 - re-exported: the module's scalar API
    _LINE_TYPES,
    _PARSE_REASONS,
    _POSSIBLE_REASONS,
    DIGITS_ONLY,
    FLOAT_TAIL,
    INVALID_FOR_REGION,
    MISSING,
    NOT_A_NUMBER,
    REASONS,
    SCIENTIFIC,
    SPREADSHEET_DAMAGED,
    TOO_LONG,
    TOO_SHORT,
    PhoneAnswer,
    _damaged,
    _valid_e164,
    normalize_phone,
)
from transforms.phones_fast import parse_common

SCIENTIFIC_PLUS = r"^ *\+?([0-9])(?:[.,]([0-9]+))?[eE]\+([0-9]{1,2}) *$"
FLOAT_TAIL_SPACES = r"^ *\+?([0-9]{6,17})\.0+ *$"
DIGITS_ONLY_SPACES = r"^ *([0-9]{6,17}) *$"

LOOKUP_CHUNK = 200_000  # distinct pairs per vectorized pass: bounds the memory of a pass
LOOKUP_THREADS = 2  # passes at a time (polars releases the GIL while it works)
PARALLEL_MIN = 20_000  # distinct pairs worth splitting in two for two threads

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


def phone_lookup(pairs: pl.DataFrame, chunk_size: int = LOOKUP_CHUNK) -> pl.DataFrame:
    """Answer each distinct (raw, region) pair once; join the result back on both columns.

    Common shapes are answered with polars (`phones_fast.parse_common`, the library's
    own rules, vectorized), `chunk_size` pairs at a time to bound memory; the rest, one
    value at a time, by `normalize_phone`.
    """
    distinct = pairs.select("raw", "region").unique()
    chunks = [
        part.slice(at, chunk_size)
        for part in _by_country_kind(distinct)
        for at in range(0, part.height, chunk_size)
    ]
    with ThreadPoolExecutor(LOOKUP_THREADS) as pool:
        answers = list(pool.map(_lookup_chunk, chunks))
    return pl.concat(answers) if answers else pl.DataFrame(schema=LOOKUP_SCHEMA)


def _by_country_kind(distinct: pl.DataFrame) -> list[pl.DataFrame]:
    """Once there is enough work, two parts for two threads: numbers written in the most
    common region without an international prefix, and the rest.

    Each country a part holds costs it a fixed ~20 ms of polars calls whatever its rows,
    part of it compiling its 10 to 50 patterns again (~0.3-0.6 ms each: polars keeps 32
    compiled patterns per thread, and a pass uses 100-200): halves of one mix would
    each pay for every country.
    """
    if distinct.height < PARALLEL_MIN:
        return [distinct]
    top = distinct.get_column("region").drop_nulls().mode().sort().first()
    home = (pl.col("region") == top) & ~pl.col("raw").str.contains(r"^[ (]*(?:\+|00)")
    marked = distinct.with_columns(home.fill_null(False).alias("_home"))
    return marked.partition_by("_home", include_key=False)


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
