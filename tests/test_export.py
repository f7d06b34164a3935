"""Exports: spreadsheet formula neutralization."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.export import neutralize_formulas


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("Ann", "Ann"),
        ("a=b", "a=b"),
        (None, None),
    ],
)
def test_cells_that_would_run_as_formulas_are_quoted(cell, expected):
    frame = pl.DataFrame({"phone": ["+16502530000"], "first_name": [cell]})
    out = neutralize_formulas(frame)
    assert out.row(0) == ("+16502530000", expected)  # the E.164 phone keeps its '+'
