"""Attributes and original cells are stored as JSON text made by polars (store.imports)."""

from __future__ import annotations

import json

import duckdb
import polars as pl
from examples_scale import scaled
from hypothesis import example, given, settings
from hypothesis import strategies as st

from store.imports import cells_as_json

# Header and cell text as exports have it, plus what is awkward in JSON: quotes,
# backslashes, commas, colons, braces, the word null, control characters.
TEXT = st.lists(
    st.one_of(
        st.sampled_from(['"', "\\", ",", ":", "{", "}", "null", '":null', "\n", "\x00", "é"]),
        st.characters(codec="utf-8"),
    ),
    max_size=8,
).map("".join)
HEADERS = st.lists(TEXT.filter(bool), min_size=1, max_size=5, unique=True)


@st.composite
def cell_rows(draw: st.DrawFn) -> tuple[list[str], list[dict[str, str | None]]]:
    headers = draw(HEADERS)
    values = st.one_of(st.none(), TEXT)
    rows = draw(
        st.lists(st.fixed_dictionaries({h: values for h in headers}), min_size=1, max_size=8)
    )
    return headers, rows


def encoded(headers: list[str], rows: list[dict[str, str | None]]) -> list[str]:
    struct = pl.Struct({h: pl.String for h in headers})
    frame = pl.DataFrame({"cells": rows}, schema={"cells": struct})
    out, sql = cells_as_json(frame, "cells")
    assert sql == "cells"
    return out.get_column("cells").to_list()


# Found by this test: a cell ending in ',' before an empty cell whose header begins with
# ':null' made the regular expressions that dropped null members cut across both.
COMMA_BEFORE_NULL_HEADER = (['"', ":null", ","], [{'"': ",", ":null": None, ",": None}])
# Headers polars would read as patterns in an expression (all columns, a regex).
PATTERN_HEADERS = (["*", "^a.*$", "b"], [{"*": "x", "^a.*$": None, "b": "y"}])


@settings(max_examples=scaled(300), deadline=None)
@given(cell_rows())
@example(COMMA_BEFORE_NULL_HEADER)
@example(PATTERN_HEADERS)
def test_json_holds_the_non_empty_cells_in_column_order(case) -> None:
    headers, rows = case
    for text, row in zip(encoded(headers, rows), rows, strict=True):
        expected = [(h, row[h]) for h in headers if row[h] is not None]
        assert list(json.loads(text).items()) == expected


@settings(max_examples=scaled(100), deadline=None)
@given(cell_rows())
@example(COMMA_BEFORE_NULL_HEADER)
@example(PATTERN_HEADERS)
def test_duckdb_reads_the_json_back_as_the_same_map(case) -> None:
    """The merge of a re-import reads stored attributes as {key, value} entries."""
    headers, rows = case
    texts = encoded(headers, rows)
    con = duckdb.connect()
    got = con.execute(
        "SELECT map_entries(CAST(CAST(t AS JSON) AS MAP(VARCHAR, VARCHAR))) "
        "FROM unnest(?::VARCHAR[]) AS u(t)",
        [texts],
    ).fetchall()
    for (entries,), row in zip(got, rows, strict=True):
        expected = [{"key": h, "value": row[h]} for h in headers if row[h] is not None]
        assert entries == expected


def test_no_cells_at_all_store_an_empty_object() -> None:
    frame = pl.DataFrame({"_row": [1], "cells": [{"a": None}]}).drop("cells")
    frame = frame.with_columns(pl.lit(None, pl.Struct({})).alias("cells"))
    out, sql = cells_as_json(frame, "cells")
    assert "cells" not in out.columns and sql == "'{}'"


def test_merged_entries_become_json_in_sql() -> None:
    entries = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))
    frame = pl.DataFrame(
        {"merged": [[{"key": "Tier", "value": 'g"old'}]]}, schema={"merged": entries}
    )
    out, sql = cells_as_json(frame, "merged")
    con = duckdb.connect()
    con.register("f", out.to_arrow())
    assert json.loads(con.execute(f"SELECT {sql} FROM f").fetchone()[0]) == {"Tier": 'g"old'}
