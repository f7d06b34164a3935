"""The floor: read a contact CSV with polars (all cells text), anti-join on the phone cell
against the `contacts` table of a DuckDB database, insert the rest. No normalization.

    python bench/floor_polars_duckdb.py contacts.csv --db /tmp/floor.duckdb

The key is the first non-empty phone cell as written, so this is a lower bound on the
work of any importer, not a correct one. Prints one JSON line of counts and timings.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb
import polars as pl


def read_contacts(path: Path) -> pl.DataFrame:
    """All cells as text, plus `phone`: the first non-empty phone column, as written."""
    frame = pl.read_csv(path, infer_schema=False)
    phones = [c for c in frame.columns if "phone" in c.lower()]
    if not phones:
        raise ValueError(f"{path}: no column with 'phone' in its name")
    return frame.with_columns(pl.coalesce(*phones).alias("phone"))


def insert_new(db: Path, frame: pl.DataFrame) -> int:
    """Insert rows whose phone is not in `contacts` yet, in one transaction."""
    con = duckdb.connect(str(db))
    try:
        con.register("incoming", frame.to_arrow())
        con.execute("BEGIN")
        con.execute("CREATE TABLE IF NOT EXISTS contacts AS SELECT * FROM incoming LIMIT 0")
        before = con.execute("SELECT count(*) FROM contacts").fetchone()
        con.execute(
            "INSERT INTO contacts SELECT i.* FROM incoming i "
            "ANTI JOIN contacts c ON i.phone = c.phone"
        )
        after = con.execute("SELECT count(*) FROM contacts").fetchone()
        con.execute("COMMIT")
    finally:
        con.close()
    return int(after[0]) - int(before[0]) if after and before else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    frame = read_contacts(args.file)
    read_s = time.perf_counter() - started
    inserted = insert_new(args.db, frame)
    total_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows_read": frame.height,
                "inserted": inserted,
                "read_seconds": round(read_s, 3),
                "seconds": round(total_s, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
