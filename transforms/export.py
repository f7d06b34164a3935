"""Shape contact selections for files people open in spreadsheets."""

from __future__ import annotations

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"


def neutralize_formulas(frame: pl.DataFrame, keep: tuple[str, ...] = ("phone",)) -> pl.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a single quote.

    >>> neutralize_formulas(pl.DataFrame({"a": ["=1+1"]})).item()
    "'=1+1"

    `keep` names columns left as they are (the E.164 phone starts with '+' by design).
    """
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String and name not in keep]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )
