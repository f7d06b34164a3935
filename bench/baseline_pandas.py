"""The baseline: the pandas + phonenumbers script a careful engineer would write first.

    python bench/baseline_pandas.py contacts.csv --db /tmp/baseline.duckdb

Reads every cell as text, normalizes the phone of each row to E.164 with phonenumbers
(the mobile column if valid, else the first valid phone column; region from the Country
cell, else --region) through a per-value cache, drops invalid rows, keeps the first row
of each phone, skips phones already in the `contacts` table and inserts the rest into
DuckDB in one transaction. Prints one JSON line of counts and timings.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import phonenumbers
from countries import region_for

E164 = phonenumbers.PhoneNumberFormat.E164


class PhoneNormalizer:
    """E.164 of a (cell, region) pair, or None when invalid; each pair parsed once."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], str | None] = {}

    def __call__(self, raw: str, region: str) -> str | None:
        key = (raw, region)
        try:
            return self.cache[key]
        except KeyError:
            pass
        result = None
        if raw.strip():
            try:
                number = phonenumbers.parse(raw, region)
                if phonenumbers.is_valid_number(number):
                    result = phonenumbers.format_number(number, E164)
            except phonenumbers.NumberParseException:
                pass
        self.cache[key] = result
        return result


def normalize(frame: pd.DataFrame, default_region: str) -> pd.Series:
    """E.164 phone of each row (mobile first, then other phone columns), None if none."""
    phone_columns = [c for c in frame.columns if "phone" in c.lower()]
    phone_columns.sort(key=lambda c: "mobile" not in c.lower())
    if "Country" in frame.columns:
        regions = frame["Country"].map(lambda c: region_for(c, default_region))
    else:
        regions = pd.Series(default_region, index=frame.index)
    to_e164 = PhoneNormalizer()
    phones: list[str | None] = []
    for region, *cells in zip(regions, *(frame[c] for c in phone_columns), strict=True):
        phones.append(next(filter(None, (to_e164(c, region) for c in cells)), None))
    return pd.Series(phones, index=frame.index, dtype=object)


def insert_new(db: Path, contacts: pd.DataFrame) -> int:
    """Insert contacts whose phone is not in the table yet; return how many."""
    con = duckdb.connect(str(db))
    try:
        con.register("incoming", contacts)
        con.execute("BEGIN")
        con.execute("CREATE TABLE IF NOT EXISTS contacts AS SELECT * FROM incoming LIMIT 0")
        before = con.execute("SELECT count(*) FROM contacts").fetchone()
        con.execute(
            "INSERT INTO contacts SELECT i.* FROM incoming i "
            "WHERE i.phone NOT IN (SELECT phone FROM contacts)"
        )
        after = con.execute("SELECT count(*) FROM contacts").fetchone()
        con.execute("COMMIT")
    finally:
        con.close()
    return int(after[0]) - int(before[0]) if after and before else 0


def prefill_from_truth(db: Path, path: Path, truth: Path) -> int:
    """Fill the table with FILE's valid contacts, taking E.164 from the generator's answers.

    Sets up an 'existing contacts' database without paying for phonenumbers.
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    answers = pd.read_parquet(truth, columns=["e164"])
    frame.insert(0, "phone", answers["e164"].astype(object).to_numpy())
    frame = frame[frame["phone"].notna()].drop_duplicates("phone")
    return insert_new(db, frame)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--region", default="US")
    parser.add_argument("--prefill-from-truth", type=Path, metavar="PARQUET")
    args = parser.parse_args(argv)
    if args.prefill_from_truth:
        inserted = prefill_from_truth(args.db, args.file, args.prefill_from_truth)
        print(json.dumps({"inserted": inserted}))
        return 0
    started = time.perf_counter()
    frame = pd.read_csv(args.file, dtype=str, keep_default_na=False)
    read_s = time.perf_counter() - started
    frame.insert(0, "phone", normalize(frame, args.region))
    normalize_s = time.perf_counter() - started - read_s
    valid = frame[frame["phone"].notna()]
    unique = valid.drop_duplicates("phone", keep="first")
    inserted = insert_new(args.db, unique)
    result = {
        "rows_read": len(frame),
        "invalid": len(frame) - len(valid),
        "duplicates_in_file": len(valid) - len(unique),
        "duplicates_existing": len(unique) - inserted,
        "inserted": inserted,
        "read_seconds": round(read_s, 3),
        "normalize_seconds": round(normalize_s, 3),
        "seconds": round(time.perf_counter() - started, 3),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
