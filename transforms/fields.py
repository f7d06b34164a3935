"""Text fields: split full names, blank malformed optional fields (with a warning)."""

from __future__ import annotations

import polars as pl

from schemas.contact import OPTIONAL_FIELDS, failure_rows

HONORIFICS = r"(?i)^(mr|mrs|ms|miss|mx|dr|prof|sir|herr|frau|mme|mlle|sr|sra|srta|dott)\.?\s+"
WARNING_SCHEMA = {"_row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String}


def split_full_names(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill first/last from `full_name` when both are empty ('Smith, Ann' or 'Ann Smith')."""
    name = pl.col("full_name").str.replace(HONORIFICS, "").str.strip_chars()
    has_comma = name.str.contains(",")
    first = (
        pl.when(has_comma)
        .then(name.str.split_exact(",", 1).struct.field("field_1"))
        .otherwise(name.str.extract(r"^(\S+)"))
        .str.strip_chars()
    )
    last = (
        pl.when(has_comma)
        .then(name.str.split_exact(",", 1).struct.field("field_0"))
        .otherwise(name.str.extract(r"^\S+\s+(.+)$"))
        .str.strip_chars()
    )
    use = pl.col("first_name").is_null() & pl.col("last_name").is_null()
    return frame.with_columns(
        pl.when(use).then(first.replace("", None)).otherwise(pl.col("first_name"))
        .alias("first_name"),
        pl.when(use).then(last.replace("", None)).otherwise(pl.col("last_name"))
        .alias("last_name"),
    ).drop("full_name")  # fmt: skip


def blank_malformed_fields(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Set malformed optional cells (emails, over-long names) to null; return the warnings."""
    failures = failure_rows(OPTIONAL_FIELDS, frame.select("_row", *OPTIONAL_FIELDS.columns))
    if failures.height == 0:
        return frame, pl.DataFrame(schema=WARNING_SCHEMA)
    warnings = failures.select(
        pl.col("_row"),
        pl.col("column"),
        pl.col("failure_case").alias("value"),
        pl.when(pl.col("column") == "email")
        .then(pl.lit("invalid_email"))
        .otherwise(pl.lit("value_too_long"))
        .alias("reason"),
    )
    blanked = frame.with_columns(
        pl.when(pl.col("_row").is_in(failures.filter(pl.col("column") == column)["_row"].implode()))
        .then(None)
        .otherwise(pl.col(column))
        .alias(column)
        for column in failures.get_column("column").unique().to_list()
    )
    return blanked, warnings
