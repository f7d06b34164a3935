"""Check a generated file against phonenumbers and the generator's own answers.

    python bench/check_sample.py /tmp/c.csv --truth /tmp/c.parquet --sample 20000

Parses a random sample of rows with phonenumbers, using the product's rule (the mobile
column if it holds a valid number, else the first valid one; region from the Country
cell, else US), and reports the measured shares and every disagreement with --truth.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import phonenumbers as pn
import polars as pl
from countries import region_for

PHONE_COLUMNS = ("Mobile Phone", "Work Phone")


def parse_valid(raw: str | None, region: str) -> pn.PhoneNumber | None:
    """The number in a cell if phonenumbers calls it valid, else None."""
    if not raw or not raw.strip():
        return None
    try:
        number = pn.parse(raw, region)
    except pn.NumberParseException:
        return None
    return number if pn.is_valid_number(number) else None


def read_rows(path: Path) -> pl.DataFrame:
    """Data rows numbered like the product does: 1-based, blank rows skipped."""
    frame = pl.read_csv(path, infer_schema=False)
    blank = pl.all_horizontal(pl.all().is_null() | (pl.all().str.strip_chars() == ""))
    return frame.filter(~blank).with_row_index("row", offset=1).cast({"row": pl.Int64})


def check(path: Path, truth: Path, sample: int, seed: int) -> dict[str, object]:
    rows = read_rows(path).join(pl.read_parquet(truth), on="row", how="left")
    picked = rows.sample(min(sample, rows.height), seed=seed)
    measured: Counter[str] = Counter()
    mismatches: list[dict[str, object]] = []
    for rec in picked.iter_rows(named=True):
        region = region_for(rec["Country"])
        number = next(filter(None, (parse_valid(rec[c], region) for c in PHONE_COLUMNS)), None)
        found = number and pn.format_number(number, pn.PhoneNumberFormat.E164)
        measured["valid" if found else "invalid"] += 1
        measured["with_extension"] += bool(number and number.extension)
        measured["international"] += bool(number and pn.region_code_for_number(number) != "US")
        kind = rec["invalid_kind"] or ("dup_valid" if rec["kind"] == "dup" else "first_valid")
        measured[f"truth:{kind}"] += 1
        if found != rec["e164"]:
            mismatches.append({k: rec[k] for k in ("row", *PHONE_COLUMNS, "Country", "e164")})
    n = picked.height
    return {
        "rows_in_file": rows.height,
        "sample": n,
        "valid_share": round(measured["valid"] / n, 4),
        "invalid_share": round(measured["invalid"] / n, 4),
        "international_share_of_sample": round(measured["international"] / n, 4),
        "extension_share": round(measured["with_extension"] / n, 4),
        "truth_kinds_in_sample": {
            k.removeprefix("truth:"): v for k, v in sorted(measured.items()) if "truth:" in k
        },
        "disagreements_with_truth": len(mismatches),
        "disagreement_examples": mismatches[:10],
        "duplicates": duplicate_report(rows),
    }


def duplicate_report(rows: pl.DataFrame) -> dict[str, object]:
    """Share of in-file duplicate rows, and how many differ in text from the first row."""
    cells = pl.concat_str([pl.col(c).fill_null("") for c in PHONE_COLUMNS], separator="|").alias(
        "cells"
    )
    valid = rows.filter(pl.col("e164").is_not_null()).with_columns(cells)
    first = valid.sort("row").group_by("e164", maintain_order=True).first()
    dups = valid.filter(pl.col("kind") == "dup").join(
        first.select("e164", pl.col("cells").alias("first_cells")), on="e164"
    )
    differ = dups.filter(pl.col("cells") != pl.col("first_cells")).height
    return {
        "dup_rows_share": round(dups.height / rows.height, 4),
        "dup_rows_formatted_differently": round(differ / max(dups.height, 1), 4),
        "distinct_valid_phones": first.height,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--truth", type=Path, required=True)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    report = check(args.file, args.truth, args.sample, args.seed)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 1 if report["disagreements_with_truth"] else 0


if __name__ == "__main__":
    sys.exit(main())
