"""failure_rows' one-query pre-check (schemas.checking) reports what pandera reports."""

from __future__ import annotations

import polars as pl
import pytest
from examples_scale import scaled
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.checking import judge
from schemas.contact import (
    MAX_CELL,
    OPTIONAL_FIELDS,
    CleanContacts,
    _failures,
    failure_rows,
    raw_schema,
)
from schemas.pandera_polars import pa, pa_config
from schemas.rules import EMAIL, MAX_FIELD

CLEAN = CleanContacts.to_schema()

# values near each check's edge: valid, invalid, empty, null
phones = st.sampled_from(["+14155550123", "+442071838750", "+1415555012", "14155550123",
                          "+0123456789", "", None])  # fmt: skip
extensions = st.sampled_from(["12", "1" * 20, "1" * 21, "x9", "", None])
emails = st.sampled_from(["a@b.co", "a@b", "a b@c.de", "é@ü.org", "a@b.c", "", None])
names = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.sampled_from(["x" * MAX_FIELD, "x" * (MAX_FIELD + 1), "é" * MAX_FIELD]),
)
regions = st.sampled_from(["US", "GB", "001", "us", "USA", None])
line_types = st.sampled_from(["mobile", "fixed_line", "toll_free", "cell", "", None])
rows = st.one_of(st.integers(0, 6), st.none())
cells = st.one_of(st.none(), st.text(max_size=3), st.just("y" * (MAX_CELL + 1)))


def clean_frames() -> st.SearchStrategy[pl.DataFrame]:
    row = st.fixed_dictionaries(
        {
            "_row": rows,
            "phone": phones,
            "phone_extension": extensions,
            "first_name": names,
            "last_name": names,
            "email": emails,
            "company": names,
            "title": names,
            "phone_region": regions,
            "line_type": line_types,
        }
    )
    schema = {name: pl.String for name in CLEAN.columns} | {"_row": pl.Int64}
    return st.lists(row, max_size=8).map(lambda r: pl.DataFrame(r, schema=schema))


def raw_frames() -> st.SearchStrategy[pl.DataFrame]:
    row = st.fixed_dictionaries({"_row": rows, "a": cells, "b": cells, "_extra_0": cells})
    schema = {"_row": pl.Int64, "a": pl.String, "b": pl.String, "_extra_0": pl.String}
    return st.lists(row, max_size=8).map(lambda r: pl.DataFrame(r, schema=schema))


def optional_frames() -> st.SearchStrategy[pl.DataFrame]:
    fields = {"_row": rows, "email": emails} | {
        name: names for name in ("first_name", "last_name", "company", "title")
    }
    schema = {name: pl.String for name in fields} | {"_row": pl.Int64}
    return st.lists(st.fixed_dictionaries(fields), max_size=8).map(
        lambda r: pl.DataFrame(r, schema=schema)
    )


def failing(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> set[str] | None:
    judged = judge(schema, frame)
    return None if judged is None else set(judged.failing)


def same_failures(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> None:
    """failure_rows (pre-check, then pandera on the failing columns) == pandera alone."""
    ordered = ["_row", "column", "check", "failure_case"]
    fast = failure_rows(schema, frame).sort(ordered, nulls_last=True)
    full = _failures(schema, frame).sort(ordered, nulls_last=True)
    assert fast.equals(full), (fast, full)
    judged = judge(schema, frame)
    assert judged is not None
    assert judged.failing >= set(full.get_column("column").to_list())
    if judged.suspects is not None:  # every failing row is a suspect
        suspects = frame.filter(judged.suspects).get_column("_row")
        assert full.get_column("_row").is_in(suspects.implode()).all()


@settings(max_examples=scaled(150), deadline=None)
@given(frame=clean_frames())
def test_clean_contacts_failures_are_pandera_s(frame: pl.DataFrame) -> None:
    same_failures(CLEAN, frame)


@settings(max_examples=scaled(100), deadline=None)
@given(frame=raw_frames())
def test_raw_failures_are_pandera_s(frame: pl.DataFrame) -> None:
    same_failures(raw_schema(["a", "b"], ["_extra_0"]), frame)


@settings(max_examples=scaled(100), deadline=None)
@given(frame=optional_frames())
def test_optional_field_failures_are_pandera_s(frame: pl.DataFrame) -> None:
    same_failures(OPTIONAL_FIELDS, frame)


def test_a_valid_frame_runs_no_pandera_data_check(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pl.DataFrame({"_row": [1, 2], "a": ["x", None], "b": ["y", "z"]})
    calls: list[tuple[list[str], int]] = []
    original = pa.DataFrameSchema.validate

    def validate(self: pa.DataFrameSchema, data: pl.DataFrame, **kwargs: object) -> object:
        calls.append((list(self.columns), data.height))
        return original(self, data, **kwargs)

    monkeypatch.setattr(pa.DataFrameSchema, "validate", validate)
    assert failure_rows(raw_schema(["a", "b"], []), frame).height == 0
    assert len(calls) == 1  # the structure only

    calls.clear()
    broken = pl.DataFrame({"_row": [1, 2, 3, 1], "a": ["x", None, "y", "z"], "b": ["y"] * 4})
    assert failure_rows(raw_schema(["a", "b"], []), broken).get_column("_row").to_list() == [1, 1]
    # pandera asked about the failing column alone, on the rows failing it
    assert calls[-1] == (["_row"], 2)


def test_schema_level_failures_still_raise() -> None:
    with pytest.raises(pa.errors.SchemaErrors):
        failure_rows(raw_schema(["a", "b"], []), pl.DataFrame({"_row": [1], "a": ["x"]}))
    with pytest.raises(pa.errors.SchemaErrors):
        failure_rows(OPTIONAL_FIELDS, pl.DataFrame({"_row": [1], "email": [1]}))


def test_what_it_does_not_mirror_goes_to_pandera_whole() -> None:
    frame = pl.DataFrame({"_row": [1, 2], "a": ["1", "x"]})
    coerced = pa.DataFrameSchema(
        {"_row": pa.Column(pl.Int64), "a": pa.Column(pl.Int64)}, coerce=True
    )
    assert failing(coerced, frame) is None
    frame_check = pa.DataFrameSchema(
        {"_row": pa.Column(pl.Int64), "a": pa.Column(pl.String)},
        checks=[pa.Check(lambda data: data.lazyframe.select(pl.col("a") != "x"))],
    )
    assert failing(frame_check, frame) is None
    assert failure_rows(frame_check, frame).height == 1

    def explode(data: object) -> object:
        raise RuntimeError("boom")

    raising = pa.DataFrameSchema(
        {"_row": pa.Column(pl.Int64), "a": pa.Column(pl.String, pa.Check(explode))}
    )
    assert failing(raising, frame) is None


def test_nulls_follow_ignore_na() -> None:
    frame = pl.DataFrame({"_row": [1, 2], "a": [None, "x"]})
    lenient = pa.DataFrameSchema(
        {"a": pa.Column(pl.String, pa.Check.str_matches("^x$"), nullable=True)}
    )
    strict = pa.DataFrameSchema(
        {"a": pa.Column(pl.String, pa.Check.str_matches("^x$", ignore_na=False), nullable=True)}
    )
    assert failing(lenient, frame) == set()
    assert failing(strict, frame) == {"a"}
    assert failure_rows(strict, frame).get_column("_row").to_list() == [1]


def test_two_nulls_are_duplicates_as_pandera_counts_them() -> None:
    frame = pl.DataFrame({"_row": [1, 2, 3], "a": [None, "x", None]})
    schema = pa.DataFrameSchema({"a": pa.Column(pl.String, nullable=True, unique=True)})
    assert failing(schema, frame) == {"a"}
    same_failures(schema, frame)
    assert failing(schema, frame.head(2)) == set()


def test_a_check_that_may_compare_rows_is_judged_on_the_whole_frame() -> None:
    frame = pl.DataFrame({"_row": [1, 2, 3], "a": [1, 5, 9]})
    above_mean = pa.Check(
        lambda data: data.lazyframe.select(pl.col(data.key) >= pl.col(data.key).mean())
    )
    schema = pa.DataFrameSchema({"a": pa.Column(pl.Int64, above_mean)})
    judged = judge(schema, frame)
    assert judged is not None and judged.failing == {"a"} and judged.suspects is None
    assert failure_rows(schema, frame).get_column("_row").to_list() == [1]
    same_failures(schema, frame)


@pytest.mark.parametrize(
    "setting", [{"validation_depth": "SCHEMA_ONLY"}, {"validation_enabled": False}]
)
def test_pandera_settings_cannot_switch_the_checks_off(setting: dict[str, object]) -> None:
    frame = pl.DataFrame({"_row": [1, 2], "email": ["a@b.co", "nope"]})
    schema = pa.DataFrameSchema({"email": pa.Column(pl.String, pa.Check.str_matches(EMAIL))})
    with pa_config.config_context(**setting):
        assert failure_rows(schema, frame).get_column("_row").to_list() == [2]
        assert _failures(schema, frame).get_column("_row").to_list() == [2]
