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


def test_exported_timestamps_are_iso_8601_with_a_colon_in_the_offset(workspace, tmp_path):
    from contacts.exporting import ExportFilters, export_contacts

    source = tmp_path / "c.csv"
    source.write_text("Name,Phone\nAnn Lee,(650) 253-0000\n", encoding="utf-8")
    workspace.run_import(source)
    out = tmp_path / "out.csv"
    export_contacts(workspace.db, out, ExportFilters())
    header, row = out.read_text().splitlines()[:2]
    created = row.split(",")[header.split(",").index("created_at")]
    assert created.endswith("+00:00") and "T" in created
