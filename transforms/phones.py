"""Phone normalization to E.164 with `phonenumbers`, for whole columns of cells.

A number is valid iff `phonenumbers.is_valid_number` says so; this module never makes
valid what the library calls invalid. When the library says invalid, the reason code
is refined: a value a spreadsheet damaged (scientific notation, a stripped '+' or
leading 0, a float '.0' tail) is `spreadsheet_damaged`, with the repaired number as a
suggestion when one exists.

`phone_answers` answers a column of cells in its order: from BULK_MIN cells, the common
shapes in bulk (`phones_fast`: the library's own rules as automata over digits, checked
to agree with it) and the rest by `normalize_phone`, once per distinct (value, region);
below, every distinct pair by `normalize_phone`. `phone_lookup` does the same for
distinct pairs, to join back.
"""

from __future__ import annotations

import numpy as np
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
from transforms.phones_fast import ANSWER_SCHEMA, answer_in_place, parse_common, zone_sets

SCIENTIFIC_PLUS = r"^ *\+?([0-9])(?:[.,]([0-9]+))?[eE]\+([0-9]{1,2}) *$"
FLOAT_TAIL_SPACES = r"^ *\+?([0-9]{6,17})\.0+ *$"
DIGITS_ONLY_SPACES = r"^ *([0-9]{6,17}) *$"

LOOKUP_CHUNK = 1_000_000  # distinct pairs per bulk pass: bounds the memory of a pass
# Distinct pairs worth the bulk path. Its automata for a region cost up to ~0.2 s to
# build, once per process; the library answers a pair in ~60 us.
BULK_MIN = 5_000
ROW_INDEX = "_cell"  # a cell's row in phone_answers' input

LOOKUP_SCHEMA = {
    "raw": pl.String,
    "region": pl.String,
    "e164": pl.String,
    "extension": pl.String,
    "reason": pl.String,
    "suggested_phone": pl.String,
    "phone_region": pl.String,
    "line_type": pl.String,
    "zone_set": pl.UInt16,  # phones_fast.zone_sets(): time_zones(zone_set) lists them
}


def phone_lookup(pairs: pl.DataFrame, chunk_size: int = LOOKUP_CHUNK) -> pl.DataFrame:
    """Answer each distinct (raw, region) pair once: a row per distinct pair, to join
    back on both columns."""
    return phone_answers(pairs.select("raw", "region").unique(), chunk_size)


def phone_answers(cells: pl.DataFrame, chunk_size: int = LOOKUP_CHUNK) -> pl.DataFrame:
    """LOOKUP_SCHEMA answers for each (raw, region) row of `cells`, in its order.

    From BULK_MIN rows, common shapes are answered in bulk (`phones_fast.answer_in_place`,
    the library's own rules as automata), `chunk_size` rows at a time to bound memory,
    and the rest by `normalize_phone`, once per distinct pair; below, every distinct
    pair by `normalize_phone`.
    """
    cells = cells.select(pl.col("raw", "region").cast(pl.String))
    present = cells.get_column("raw").is_not_null()
    if present.sum() < cells.height:  # empty cells need no lookup
        return _spread(phone_answers(cells.filter(present), chunk_size), cells, present)
    if cells.height < max(BULK_MIN, 1):
        answers = _library_answers(cells.unique())
        return cells.join(answers, on=["raw", "region"], how="left", nulls_equal=True,
                          maintain_order="left").select(_lookup_columns(answers))  # fmt: skip
    return pl.concat(
        [_bulk(cells.slice(at, chunk_size)) for at in range(0, cells.height, chunk_size)]
    )


def _bulk(cells: pl.DataFrame) -> pl.DataFrame:
    """LOOKUP_SCHEMA answers for each row of `cells` (raw never null), in its order: in
    bulk where the automata answer, the rest by the library once per distinct pair."""
    answers, fixed, in_bulk, left = _in_bulk(cells)
    by_library = _library_answers(left.select("raw", "region").unique())
    left = left.join(by_library, on=["raw", "region"], how="left", nulls_equal=True)
    left = left.select(ROW_INDEX, *_lookup_columns(left))
    covered = in_bulk.copy()
    covered[left.get_column(ROW_INDEX).to_numpy()] = True
    if not covered.all():  # a bug, never bad input
        raise RuntimeError("a phone cell got no answer")
    return _patched(answers, pl.concat([fixed, left]))


def _in_bulk(
    cells: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray, pl.DataFrame]:
    """What the bulk path answers of `cells`, each row numbered by ROW_INDEX: (the
    automata's answers, LOOKUP_SCHEMA, for every row in its order; answers of repaired
    spreadsheet damage that replace theirs (ROW_INDEX first); which rows are answered
    once those are in; the rows left to the library: ROW_INDEX, raw, region)."""
    indexed = cells.select("raw", "region").with_row_index(ROW_INDEX)
    parsed, answered = answer_in_place(indexed)
    answers = _with_reasons(parsed)
    fixed, left = _with_damage(
        answers.filter(pl.Series(answered)), indexed.filter(pl.Series(~answered))
    )
    in_bulk = answered.copy()
    in_bulk[fixed.get_column(ROW_INDEX).to_numpy()] = True
    in_bulk[left.get_column(ROW_INDEX).to_numpy()] = False  # damage it cannot judge
    fixed = fixed.select(ROW_INDEX, *_lookup_columns(fixed))
    return answers.select(list(LOOKUP_SCHEMA)), fixed, in_bulk, left


def _patched(answers: pl.DataFrame, patches: pl.DataFrame) -> pl.DataFrame:
    """`answers` with the rows at `patches`' ROW_INDEX replaced by theirs."""
    if patches.height == 0:
        return answers
    at = patches.get_column(ROW_INDEX)
    columns = []
    for name in answers.columns:
        column = answers.get_column(name).clone()
        columns.append(column.scatter(at, patches.get_column(name)))
    return pl.DataFrame(columns)


def _spread(found: pl.DataFrame, cells: pl.DataFrame, present: pl.Series) -> pl.DataFrame:
    """The answers `found` for the `present` cells, with MISSING for the others, in the
    order of `cells`."""
    at = pl.select(pl.when(present).then(present.cum_sum() - 1)).to_series()
    answers = found.select(pl.all().gather(at))
    return answers.with_columns(
        cells.get_column("raw"),
        cells.get_column("region"),
        pl.when(present).then(pl.col("reason")).otherwise(pl.lit(MISSING)).alias("reason"),
        pl.col("zone_set").fill_null(zone_sets().unknown),
    )


def vectorized_answers(pairs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(answers found in bulk, the (raw, region) pairs left to normalize_phone): the bulk
    path of `phone_answers`, for the tests and the agreement benchmark."""
    answers, fixed, in_bulk, left = _in_bulk(pairs)
    return _patched(answers, fixed).filter(pl.Series(in_bulk)), left.drop(ROW_INDEX)


def _lookup_columns(frame: pl.DataFrame) -> list[pl.Expr]:
    columns = []
    for name, dtype in LOOKUP_SCHEMA.items():
        column = pl.col(name) if name in frame.columns else pl.lit(None, dtype)
        if name == "zone_set":  # an invalid number has no zones
            column = column.fill_null(zone_sets().unknown)
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
        "zone_set",
        *(column for column in parsed.columns if column not in ANSWER_SCHEMA),
    )


def _with_damage(answered: pl.DataFrame, rest: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """_damaged, vectorized: (answers that replace those of `answered` or answer rows
    of `rest`, the rows left to the library: the rest of `rest`, and damaged cells of
    `answered` whose repair the bulk path cannot judge).

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
    maybe = answered.filter(pl.col("e164").is_null()).filter(shapes)
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
    unsure = damaged.filter(~pl.col("known")).select(rest.columns)
    return damaged.filter(pl.col("known")), pl.concat([rest.filter(~is_scientific), unsure])


def _library_answers(pairs: pl.DataFrame) -> pl.DataFrame:
    """normalize_phone per pair, written straight into columns."""
    columns: dict[str, list[object]] = {name: [] for name in LOOKUP_SCHEMA}
    zones = zone_sets()
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
        columns["zone_set"].append(zones.of(answer.time_zones))
    return pl.DataFrame(columns, schema=LOOKUP_SCHEMA)
