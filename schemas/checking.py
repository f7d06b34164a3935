"""Which columns of a frame fail a pandera schema's data checks, found in one polars query.

pandera's polars backend runs each column's checks as queries of their own: nullability,
uniqueness and every `Check`, each collected separately, ~30 small queries per chunk of
`CleanContacts`. Inside an import, where the read-ahead, the plan and the writer share
polars' two worker threads, each of those collections waits its turn: validating the
clean contacts of a 125k-row chunk took ~110 ms there against ~40 ms alone.

`failing_columns` answers the only question an import asks of most chunks, "does
anything fail?", with the same checks gathered into one `collect_all`. It evaluates each
check the way pandera does (the check's own function through its backend's `apply`, nulls
passing or failing as `ignore_na` says, non-nullable and unique columns as pandera tests
them), so a column pandera would fail is always among those returned. `failure_rows`
(schemas.contact) then asks pandera itself for the failure cases of those columns only,
so every reported failure is still pandera's own.

Anything this module does not mirror (coercion, defaults, regex columns, frame-wide
checks, element-wise or grouped checks, a check that raises) makes it answer None:
validate with the whole schema.
"""

from __future__ import annotations

import polars as pl

from schemas.pandera_polars import CHECK_OUTPUT_KEY, PolarsData, pa


def failing_columns(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> set[str] | None:
    """Names of `schema`'s columns whose data checks fail on `frame`, or None when this
    cannot tell (validate with the whole schema then).

    The frame's structure (columns present, their types, strictness) must have been
    validated already; only data-level checks are evaluated here.
    """
    if not _mirrored(schema):
        return None
    data = frame.lazy()
    columns: list[str] = []
    queries: list[pl.LazyFrame] = []
    try:
        for name, column in schema.columns.items():
            if name not in frame.columns:
                if column.required:
                    return None  # pandera reports it; not a data check
                continue
            for passes in _column_tests(data, name, column):
                columns.append(name)
                queries.append(passes)
        results = pl.collect_all(queries) if queries else []
    except Exception:  # a check that raises: pandera reports it as it sees fit
        return None
    return {name for name, result in zip(columns, results, strict=True) if not result.item()}


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


def _column_tests(data: pl.LazyFrame, name: str, column: pa.Column) -> list[pl.LazyFrame]:
    """One-cell queries, True when the column passes: nullability, uniqueness, each check
    (pandera.backends.polars: ColumnBackend.check_nullable, check_unique, run_checks)."""
    tests: list[pl.LazyFrame] = []
    values = pl.col(name)
    floats = data.collect_schema()[name] in (pl.Float32, pl.Float64)
    if not column.nullable:
        present = values.is_not_null()
        if floats:
            present = present & values.is_not_nan()
        tests.append(data.select(present.all()))
    if column.unique:
        # pandera asks is_duplicated().any(); counting distinct values (null being one) is
        # the same question, 2-8x cheaper; floats keep pandera's form (NaN, -0.0)
        unique = values.is_duplicated().any().not_() if floats else values.n_unique() == pl.len()
        tests.append(data.select(unique))
    for check in column.checks:
        tests.append(_check_passes(data, name, check))
    return tests


def _check_passes(data: pl.LazyFrame, name: str, check: pa.Check) -> pl.LazyFrame:
    """A check's verdict as pandera's `PolarsCheckBackend` reaches it, uncollected."""
    function = getattr(check._check_fn, "__name__", None)
    if function is not None and check.is_builtin_check(function):
        # as Check.__call__ does: a built-in check's function is looked up anew, since
        # its polars implementation registers when pandera's polars backend first loads
        check._check_fn = check.get_builtin_check_fn(function)
    output = check.get_backend(data)(check).apply(PolarsData(data, name))
    if isinstance(output, bool):
        return pl.LazyFrame({CHECK_OUTPUT_KEY: [output]})
    verdict = pl.col(CHECK_OUTPUT_KEY)
    verdict = (verdict | verdict.is_null()) if check.ignore_na else verdict.fill_null(False)
    return output.select(verdict.all())
