"""Which columns and rows of a frame fail a pandera schema's data checks, in one query.

pandera's polars backend runs each column's checks as queries of their own: nullability,
uniqueness and every `Check`, each collected separately, ~30 small queries per chunk of
`CleanContacts`. Inside an import, where the read-ahead, the plan and the writer share
polars' two worker threads, each of those collections waits its turn: validating the
clean contacts of a 125k-row chunk took ~110 ms there against ~40 ms alone.

`judge` answers the question an import asks of most chunks, "does anything fail?", with
the same checks gathered into one `collect_all`. It evaluates each check the way pandera
does (the check's own function through its backend's `apply`, nulls passing or failing
as `ignore_na` says, non-nullable and unique columns as pandera tests them), so a column
pandera would fail is always among the failing ones. When every check of those columns
judges row by row, it also marks the rows that fail them. `failure_rows`
(schemas.contact) then asks pandera itself for the failure cases of those columns on
those rows, so every reported failure is still pandera's own.

Anything this module does not mirror (coercion, defaults, regex columns, frame-wide
checks, element-wise or grouped checks, a check that raises) makes it answer None:
validate with the whole schema.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from schemas.pandera_polars import CHECK_OUTPUT_KEY, PolarsData, pa

# pandera's built-in checks whose verdict on a row depends on that row's value alone
ROW_BY_ROW = frozenset(
    {
        "equal_to", "not_equal_to", "greater_than", "greater_than_or_equal_to",
        "less_than", "less_than_or_equal_to", "in_range", "isin", "notin",
        "str_matches", "str_contains", "str_startswith", "str_endswith", "str_length",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Judgement:
    """What `judge` found: the columns failing a data check, and when every check of
    those columns judges row by row, a mask of the rows failing one of them (pandera
    judges the columns on those rows alone exactly as on the whole frame), else None."""

    failing: frozenset[str]
    suspects: pl.Series | None


@dataclass(frozen=True)
class _Test:
    column: str
    query: pl.LazyFrame  # one boolean column: a row's verdict, or one value for the frame
    row_by_row: bool  # its verdict on a row depends on that row alone
    # for a unique column: the rows to suspect when it fails (its query only counts)
    suspects: pl.Expr | None = None


def judge(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> Judgement | None:
    """Evaluate the data checks of `schema` on `frame` in one `collect_all`; None when
    this cannot tell (validate with the whole schema then).

    The frame's structure (columns present, their types, strictness) must have been
    validated already; only data-level checks are evaluated here.
    """
    if not _mirrored(schema):
        return None
    data = frame.lazy()
    try:
        tests: list[_Test] = []
        for name, column in schema.columns.items():
            if name not in frame.columns:
                if column.required:
                    return None  # pandera reports it; not a data check
                continue
            tests.extend(_column_tests(data, name, column))
        verdicts = [result.to_series() for result in pl.collect_all(t.query for t in tests)]
        failed = [
            (test, verdict)
            for test, verdict in zip(tests, verdicts, strict=True)
            if not verdict.all()
        ]
        failing = frozenset(test.column for test, _ in failed)
        return Judgement(failing, _suspects(frame, tests, failing, failed))
    except Exception:  # a check that raises: pandera reports it as it sees fit
        return None


def _suspects(
    frame: pl.DataFrame,
    tests: list[_Test],
    failing: frozenset[str],
    failed: list[tuple[_Test, pl.Series]],
) -> pl.Series | None:
    """The rows failing a test of a failing column; None when one of those columns has a
    test whose verdict on a row may depend on other rows."""
    if not failing or any(t.column in failing and not t.row_by_row for t in tests):
        return None
    masks: list[pl.Expr] = []
    for test, verdict in failed:
        if test.suspects is not None:
            masks.append(test.suspects)
        elif verdict.len() != frame.height:
            return None
        else:
            masks.append(pl.lit(verdict).not_())
    return frame.select(pl.any_horizontal(masks)).to_series()


def _mirrored(schema: pa.DataFrameSchema) -> bool:
    """True when every data check of `schema` is one `_column_tests` evaluates as pandera."""
    if schema.checks or schema.unique or schema.coerce or schema.parsers:
        return False
    if getattr(schema, "drop_invalid_rows", False) or getattr(schema, "add_missing_columns", False):
        return False
    for column in schema.columns.values():
        if column.regex or column.coerce or column.default is not None or column.parsers:
            return False
        if getattr(column, "drop_invalid_rows", False):
            return False
        if any(check.element_wise or check.groupby is not None for check in column.checks):
            return False
    return True


def _column_tests(data: pl.LazyFrame, name: str, column: pa.Column) -> list[_Test]:
    """Nullability, uniqueness and each check of a column, as pandera tests them
    (pandera.backends.polars: ColumnBackend.check_nullable, check_unique, run_checks)."""
    tests: list[_Test] = []
    values = pl.col(name)
    floats = data.collect_schema()[name] in (pl.Float32, pl.Float64)
    if not column.nullable:
        present = values.is_not_null()
        if floats:
            present = present & values.is_not_nan()
        tests.append(_Test(name, data.select(present), row_by_row=True))
    if column.unique:
        # pandera asks is_duplicated().any(); counting distinct values (null being one) is
        # the same question, 2-8x cheaper; floats keep pandera's form (NaN, -0.0)
        unique = values.is_duplicated().any().not_() if floats else values.n_unique() == pl.len()
        # every copy of a duplicated value is a suspect, so a subset keeps its duplicates
        tests.append(_Test(name, data.select(unique), True, suspects=values.is_duplicated()))
    for check in column.checks:
        row_by_row = _builtin(check) in ROW_BY_ROW
        tests.append(_Test(name, _check_verdicts(data, name, check), row_by_row))
    return tests


def _check_verdicts(data: pl.LazyFrame, name: str, check: pa.Check) -> pl.LazyFrame:
    """The check's output as pandera judges it (`postprocess_lazyframe_output`), one
    column: true where it passes, nulls already passed or failed as `ignore_na` says."""
    output = check.get_backend(data)(check).apply(PolarsData(data, name))
    if isinstance(output, bool):
        return pl.LazyFrame({CHECK_OUTPUT_KEY: [output]})
    verdict = pl.col(CHECK_OUTPUT_KEY)
    verdict = (verdict | verdict.is_null()) if check.ignore_na else verdict.fill_null(False)
    return output.select(verdict)


def _builtin(check: pa.Check) -> str | None:
    """The name of the built-in check behind `check` (whatever it was named), refreshed as
    Check.__call__ does: a built-in's polars implementation registers when pandera's
    polars backend first loads, after the check may have been made."""
    function = getattr(check._check_fn, "__name__", None)
    if function is None or not check.is_builtin_check(function):
        return None
    check._check_fn = check.get_builtin_check_fn(function)
    return function
