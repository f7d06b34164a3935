"""Deterministic generator of messy CRM contact exports for the import benchmark.

    python bench/generate.py --rows 1000000 --out /tmp/c1m.csv --seed 1 --truth /tmp/c1m.parquet
    python bench/generate.py --rows 1000000 --out new.csv --overlap-with-seed 2 --overlap 0.5

Every row refers to a "base contact" (seed, j) whose fields are pure functions of a hash
of (seed, j), so a row can repeat an earlier contact (an in-file duplicate, formatted
differently) or a contact of another seed's file (the incremental "already known" case)
without keeping state. The first `--overlap` share of seed S's contacts is what another
file borrows, so it is in S's file whenever S's file is at least that long.
Prints one JSON line with the expected counts; `--truth` writes the per-row answer
(`row, kind, e164, region, invalid_kind`) as Parquet.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl
import pyarrow.parquet as pq
from rows import INVALID_KINDS, Mix, RowPlan, plan_rows, render_rows

CHUNK_ROWS = 200_000
HEADER = (
    "First Name",
    "Last Name",
    "Email",
    "Company",
    "Job Title",
    "Mobile Phone",
    "Work Phone",
    "Country",
    "City",
    "Notes",
)
BLANK_LINE = "\x01E"  # sentinel first cells replaced by blank lines after writing
DELIMITER_LINE = "\x01D"


@dataclass
class Summary:
    rows: int = 0
    blank_lines: int = 0
    new_valid: int = 0
    overlap_valid: int = 0
    duplicates_in_file: int = 0
    invalid: int = 0
    international: int = 0

    def add(self, plan: RowPlan) -> None:
        valid = plan.valid
        self.rows += plan.size
        self.new_valid += int((valid & (plan.kind == 0)).sum())
        self.duplicates_in_file += int((valid & (plan.kind == 1)).sum())
        self.overlap_valid += int((valid & (plan.kind == 2)).sum())
        self.invalid += int((~valid).sum())
        self.international += int((valid & (plan.region > 0)).sum())


def _with_blank_lines(frame: pl.DataFrame, positions: list[int]) -> pl.DataFrame:
    """Insert sentinel rows before the given 0-based data rows of the chunk."""
    first = HEADER[0]
    blanks = pl.DataFrame(
        {first: [BLANK_LINE if i % 2 == 0 else DELIMITER_LINE for i in range(len(positions))]},
        schema={first: pl.String},
    ).with_columns(pl.Series("_key", [2 * p - 1 for p in positions], dtype=pl.Int64))
    keyed = frame.with_columns((pl.int_range(pl.len(), dtype=pl.Int64) * 2).alias("_key"))
    return pl.concat([keyed, blanks], how="diagonal").sort("_key").drop("_key")


def _write_chunk(handle: BinaryIO, frame: pl.DataFrame, header: bool, blanks: list[int]) -> None:
    if not blanks:
        frame.write_csv(handle, include_header=header)
        return
    text = _with_blank_lines(frame, blanks).write_csv(include_header=header)
    empties = "," * (len(HEADER) - 1) + "\n"
    text = text.replace(BLANK_LINE + empties, "\n").replace(DELIMITER_LINE + empties, empties)
    handle.write(text.encode("utf-8"))


def generate(
    out: Path,
    rows: int,
    seed: int,
    mix: Mix,
    overlap_seed: int | None = None,
    blank_lines: int = 0,
    truth: Path | None = None,
) -> Summary:
    """Write `rows` data rows (plus `blank_lines` blank ones) to `out`; return the counts."""
    summary = Summary(blank_lines=blank_lines)
    blank_at = [(i + 1) * rows // (blank_lines + 1) for i in range(blank_lines)]
    own_done = overlap_done = 0
    truth_writer: pq.ParquetWriter | None = None
    with out.open("wb") as handle:
        for chunk_no, start in enumerate(range(0, max(rows, 1), CHUNK_ROWS)):
            size = min(CHUNK_ROWS, rows - start)
            if size <= 0:
                break
            plan = plan_rows(seed, chunk_no, size, own_done, overlap_done, mix, overlap_seed)
            own_done += int((plan.kind == 0).sum())
            overlap_done += int((plan.kind == 2).sum())
            summary.add(plan)
            frame, answers = render_rows(plan, HEADER)
            blanks = [p - start for p in blank_at if start <= p < start + size]
            _write_chunk(handle, frame, header=chunk_no == 0, blanks=blanks)
            if truth is not None:
                answers = answers.with_columns(
                    (pl.int_range(pl.len(), dtype=pl.Int64) + start + 1).alias("row")
                ).select("row", "kind", "e164", "region", "invalid_kind")
                table = answers.to_arrow()
                if truth_writer is None:
                    truth_writer = pq.ParquetWriter(truth, table.schema)
                truth_writer.write_table(table)
        if rows == 0:
            pl.DataFrame(schema=dict.fromkeys(HEADER, pl.String)).write_csv(handle)
    if truth_writer is not None:
        truth_writer.close()
    return summary


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, required=True, help="data rows to write")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=1, help="seeds equal mod 15 share phones")
    parser.add_argument("--overlap-with-seed", type=int, help="borrow contacts of this seed")
    parser.add_argument("--overlap", type=float, default=0.5, help="share of rows borrowed")
    parser.add_argument("--dup-share", type=float, default=0.08, help="in-file duplicate rows")
    parser.add_argument("--intl-share", type=float, default=0.10, help="non-US contacts")
    parser.add_argument("--invalid-share", type=float, default=0.03, help="no valid phone")
    parser.add_argument("--blank-lines", type=int, default=0, help="blank lines to insert")
    parser.add_argument("--truth", type=Path, help="write per-row answers here (Parquet)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overlap = args.overlap if args.overlap_with_seed is not None else 0.0
    mix = Mix(
        dup_share=args.dup_share,
        intl_share=args.intl_share,
        invalid_share=args.invalid_share,
        overlap_share=overlap,
    )
    try:
        mix.check(args.seed, args.overlap_with_seed)
    except ValueError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    summary = generate(
        args.out, args.rows, args.seed, mix, args.overlap_with_seed, args.blank_lines, args.truth
    )
    result = {
        **asdict(summary),
        "seed": args.seed,
        "overlap_with_seed": args.overlap_with_seed,
        "invalid_kinds": list(INVALID_KINDS),
        "seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
