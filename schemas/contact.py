"""Pandera schemas for the raw, optional-field and clean contact frames.

Failures never abort a batch: `failure_rows` turns them into a table of
(row position, column, check, value) that the pipeline makes rejects or warnings of.
"""

from __future__ import annotations

import polars as pl

from schemas.checking import judge
from schemas.pandera_polars import pa, pa_config
from schemas.rules import E164, EMAIL, MAX_FIELD
from transforms.phones import REASONS

MAX_CELL = 10_000  # a longer cell is almost always an unterminated quote swallowing rows
TEXT_FIELDS = ("first_name", "last_name", "email", "company", "title")
LINE_TYPES = (
    "fixed_line", "mobile", "fixed_line_or_mobile", "toll_free", "premium_rate",
    "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail", "unknown",
)  # fmt: skip

NO_EXTRA_CELLS = "cells_past_header"
CELL_TOO_LONG = "cell_too_long"


def raw_schema(columns: list[str], extras: list[str]) -> pa.DataFrameSchema:
    """Every header column is text of sane length; nothing sits past the header's width."""
    checks = {
        column: pa.Column(
            pl.String, pa.Check.str_length(max_value=MAX_CELL, name=CELL_TOO_LONG), nullable=True
        )
        for column in columns
    }
    for extra in extras:
        checks[extra] = pa.Column(
            pl.String,
            pa.Check(lambda data: data.lazyframe.select(pl.col(data.key).is_null()),
                     name=NO_EXTRA_CELLS),
            nullable=True,
        )  # fmt: skip
    checks["_row"] = pa.Column(pl.Int64, unique=True)
    return pa.DataFrameSchema(checks, strict=True)


OPTIONAL_FIELDS = pa.DataFrameSchema(
    {
        "email": pa.Column(pl.String, pa.Check.str_matches(EMAIL, name="email_format"),
                           nullable=True),
        **{
            name: pa.Column(pl.String, pa.Check.str_length(max_value=MAX_FIELD, name="too_long"),
                            nullable=True)
            for name in ("first_name", "last_name", "company", "title")
        },
    }
)  # fmt: skip


class CleanContacts(pa.DataFrameModel):
    """The frame written to the contacts table: one valid, unique E.164 phone per row."""

    row: pl.Int64 = pa.Field(alias="_row", unique=True)
    phone: pl.String = pa.Field(str_matches=E164, unique=True)
    phone_extension: pl.String = pa.Field(nullable=True, str_matches=r"^\d{1,20}$")
    first_name: pl.String = pa.Field(nullable=True, str_length={"max_value": MAX_FIELD})
    last_name: pl.String = pa.Field(nullable=True, str_length={"max_value": MAX_FIELD})
    email: pl.String = pa.Field(nullable=True, str_matches=EMAIL)
    company: pl.String = pa.Field(nullable=True, str_length={"max_value": MAX_FIELD})
    title: pl.String = pa.Field(nullable=True, str_length={"max_value": MAX_FIELD})
    phone_region: pl.String = pa.Field(str_matches=r"^([A-Z]{2}|001)$")
    line_type: pl.String = pa.Field(isin=LINE_TYPES)

    class Config:
        strict = False


class RejectRows(pa.DataFrameModel):
    """Rejects: one per input row that did not become or update a contact."""

    row: pl.Int64 = pa.Field(alias="_row", unique=True)
    reason: pl.String = pa.Field(
        isin=(*REASONS, "malformed_row", "schema_violation", "duplicate_in_file",
              "duplicate_existing")
    )  # fmt: skip
    message: pl.String


def failure_rows(
    schema: pa.DataFrameSchema | type[pa.DataFrameModel], frame: pl.DataFrame
) -> pl.DataFrame:
    """(_row, column, check, failure_case) for every failing cell; empty when valid.

    `frame` must carry the `_row` column; failures are reported against it. The frame's
    structure is validated first (schema-level checks only); then one query finds the
    columns whose data checks fail (`schemas.checking`), and pandera validates those
    columns alone, on the rows that fail them when each check judges row by row, for
    their failure cases. When nothing fails, none of pandera's data checks runs.
    """
    if isinstance(schema, type):
        schema = schema.to_schema()
    _failures(schema, frame, SCHEMA_ONLY)  # raises on a schema-level failure, returns none
    judged = judge(schema, frame)
    if judged is None:
        return _failures(schema, frame)
    if not judged.failing:
        return _no_failures()
    part = schema.select_columns([name for name in schema.columns if name in judged.failing])
    part.strict = False  # the other columns are in the frame, and were checked above
    suspects = judged.suspects
    return _failures(part, frame if suspects is None else frame.filter(suspects))


SCHEMA_ONLY = pa_config.ValidationDepth.SCHEMA_ONLY
SCHEMA_AND_DATA = pa_config.ValidationDepth.SCHEMA_AND_DATA


def _failures(
    schema: pa.DataFrameSchema,
    frame: pl.DataFrame,
    depth: pa_config.ValidationDepth = SCHEMA_AND_DATA,
) -> pl.DataFrame:
    """pandera's validation of `frame` to `depth`, its failing cells as `failure_rows`
    gives them. Validation runs whatever PANDERA_VALIDATION_ENABLED or _DEPTH say: the
    pipeline's rejects and warnings depend on it."""
    try:
        with pa_config.config_context(validation_enabled=True, validation_depth=depth):
            schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        if cases.get_column("index").null_count():
            raise  # a schema-level failure (missing column, wrong type) is a bug, not bad data
        positions = cases.get_column("index").cast(pl.Int64)
        return cases.select(
            frame.get_column("_row").gather(positions).alias("_row"),
            pl.col("column").cast(pl.String),
            pl.col("check").cast(pl.String),
            pl.col("failure_case").cast(pl.String),
        )
    return _no_failures()


def _no_failures() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"_row": pl.Int64, "column": pl.String, "check": pl.String,
                "failure_case": pl.String}
    )  # fmt: skip
