"""Time `contacts dnc import` on generated FTC registry full lists.

    .venv/bin/python bench/dnc_load.py --lines 5000000 --rounds 2

Each round loads, into a new database: the first list; the same file again (nothing
changes); then a second list of the same area codes and size but other numbers (about
as many additions as removals). Each step is `contacts --db DB dnc import FILE --source
registry` in its own process, measured by `measure.py` (wall time, CPU, peak RSS).
With PREFECT_API_URL set, the flow runs report to that server as in production;
without it each step starts a temporary one, which adds 10-25 s.

Lists go to `--workdir` ('AAA,NNNNNNN' lines over 50 area codes, seeded) and are
reused; the databases are removed after each round.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl
from measure import Measurement, measure

AREA_CODES = [201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217,
              218, 219, 224, 225, 228, 229, 231, 234, 239, 240, 248, 251, 252, 253, 254,
              256, 260, 262, 267, 269, 270, 276, 281, 301, 302, 303, 304, 305, 307, 308,
              309, 310, 312, 313, 314]  # fmt: skip


def registry_list(path: Path, lines: int, seed: int) -> Path:
    """An FTC-style full list: `lines` random numbers (a few repeat, as in real lists)."""
    if path.exists():
        return path
    areas = pl.Series(AREA_CODES, dtype=pl.Int64).sample(lines, with_replacement=True, seed=seed)
    subscribers = pl.int_range(0, lines, eager=True).hash(seed) % 8_000_000 + 2_000_000
    frame = pl.DataFrame({"area": areas, "number": subscribers})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    frame.write_csv(partial, include_header=False)
    partial.rename(path)
    return path


def load(contacts: Path, db: Path, listing: Path) -> Measurement:
    command = [str(contacts), "--db", str(db), "dnc", "import", str(listing)]
    return measure([*command, "--source", "registry"])


def counts(step: Measurement) -> str:
    if not step.ok:
        return f"exit {step.returncode}: {step.stderr.strip().splitlines()[-1:]}"
    wanted = ("added", "removed", "unchanged", "malformed")
    found = {
        line.split()[0]: line.split()[1]
        for line in step.stdout.splitlines()
        if line.split() and line.split()[0] in wanted
    }
    return ", ".join(f"{found.get(name, '?')} {name}" for name in wanted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/cbench"))
    parser.add_argument("--contacts", type=Path, default=Path(sys.executable).parent / "contacts")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    first = registry_list(args.workdir / f"ftc_{args.lines}_s1.txt", args.lines, 1)
    second = registry_list(args.workdir / f"ftc_{args.lines}_s2.txt", args.lines, 2)
    db = args.workdir / "dnc_load.duckdb"
    results = []
    print("| round | step | wall s | CPU s | peak RSS MB | result |")
    print("|---:|---|---:|---:|---:|---|")
    for round_number in range(1, args.rounds + 1):
        for stale in (db, db.with_name(db.name + ".wal")):
            stale.unlink(missing_ok=True)
        for step, listing in (("first load", first), ("same list again", first),
                              ("another list", second)):  # fmt: skip
            done = load(args.contacts, db, listing)
            row = {
                "round": round_number,
                "step": step,
                "lines": args.lines,
                "wall_s": round(done.wall_s, 2),
                "cpu_s": done.cpu_s,
                "peak_rss_mb": done.peak_rss_mb,
                "result": counts(done),
            }
            results.append(row)
            print(
                f"| {round_number} | {step} | {row['wall_s']:.2f} | {row['cpu_s'] or 0:.2f} "
                f"| {row['peak_rss_mb'] or 0:,.0f} | {row['result']} |",
                flush=True,
            )
            if not done.ok:
                return 1
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
