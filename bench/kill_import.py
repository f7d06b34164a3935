"""Kill imports with SIGKILL at random moments; check the database after every kill.

    .venv/bin/python bench/kill_import.py                     # 120 kills of 30,000-row imports
    .venv/bin/python bench/kill_import.py --iterations 300 --rows 50000 --seed 7 --json

Each iteration runs one import (`run_import` in a child process, no Prefect) of one of
three generated files and kills it: at a random moment (`anywhere`), while it opens the
database (`opening`: connect, create, migrate), or after its batch was recorded as
running (`writing`: the write transaction, its commit, the checkpoint, the reports). A
few are not killed. Then the database is opened as the next writer would open it and
checked (PRODUCT.md section 9, "nothing lost"):

- no batch is left running; a killed batch either completed or changed nothing;
- contacts = the sum of `imported` over completed batches, phones unique;
- rejects, warnings and contacts belong to completed batches only;
- each completed batch: rows_total = imported + updated + duplicates + invalid, and one
  reject per row that did not become or update a contact.

`--through-disk` makes every import stage its chunks on disk and insert through
Parquet files, the path of files of millions of rows.

Every `--fresh-every` iterations the database is deleted, so creation is killed too.
Prints one line per iteration to stderr and a summary to stdout; exit code 1 if any
check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from store.audit import ImportBooks, audit_imports
from store.db import Store

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
MODES = ("anywhere", "opening", "writing", "none")
WEIGHTS = (0.4, 0.15, 0.4, 0.05)

# Prints "opening" before Store.open and "begun" once the batch is committed as running.
DRIVER = """
import sys
from pathlib import Path
import contacts.importer as importer

real_open, real_begin = importer.Store.open, importer.begin_batch
def open_store(*args, **kwargs):
    print("opening", flush=True)
    return real_open(*args, **kwargs)
def begin_batch(*args, **kwargs):
    real_begin(*args, **kwargs)
    print("begun", flush=True)
importer.Store.open, importer.begin_batch = open_store, begin_batch

source, db, data_dir = sys.argv[1:4]
if "--through-disk" in sys.argv:  # stage every chunk on disk, insert through Parquet
    import contacts.staging, store.imports
    contacts.staging.MEMORY_BUDGET = 0
    store.imports.IN_MEMORY_INSERT_ROWS = 0
importer.run_import(importer.ImportOptions(
    path=Path(source), db=Path(db), data_dir=Path(data_dir), lock_wait=30))
print("done", flush=True)
"""


def check(db: Path) -> ImportBooks:
    """Open as the next writer would (failing interrupted batches) and audit the books."""
    with Store.open(db) as store:
        return audit_imports(store)


def wait_for(proc: subprocess.Popen, marker: bytes, timeout: float) -> bool:
    """Read the child's stdout until a line equals `marker`; False if it ended first."""
    deadline = time.monotonic() + timeout
    seen = b""
    fd = proc.stdout.fileno()
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            return False
        seen += chunk
        if marker in seen.split(b"\n"):
            return True
    return False


def one_kill(
    source: Path, db: Path, data_dir: Path, mode: str, delay: float, extra: list[str]
) -> int:
    """Run one import, kill it as `mode` says; return its exit code."""
    proc = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(source), str(db), str(data_dir), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    if mode == "anywhere":
        time.sleep(delay)
    elif mode in ("opening", "writing"):
        wait_for(proc, b"opening" if mode == "opening" else b"begun", timeout=120)
        time.sleep(delay)
    if mode != "none":
        proc.send_signal(signal.SIGKILL)
    code = proc.wait(timeout=300)
    proc.stdout.close()
    return code


def generate(workdir: Path, rows: int, seed: int) -> list[Path]:
    """Three files: seed S, seed S+1 sharing 30% with it, and seed S again (a re-import)."""
    first, second = workdir / f"kill_{seed}_{rows}.csv", workdir / f"kill_{seed + 1}_{rows}.csv"
    specs = [(first, ["--seed", str(seed)]),
             (second, ["--seed", str(seed + 1), "--overlap-with-seed", str(seed),
                       "--overlap", "0.3"])]  # fmt: skip
    for path, extra in specs:
        if not path.exists():
            subprocess.run(
                [sys.executable, str(BENCH / "generate.py"), "--rows", str(rows),
                 "--out", str(path), *extra],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
    return [first, second, first]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=120)
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=1, help="for the files and the kills")
    parser.add_argument("--fresh-every", type=int, default=20, help="delete the database")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "ckill")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--through-disk",
        action="store_true",
        help="imports stage every chunk on disk and insert through Parquet files",
    )
    args = parser.parse_args()

    args.workdir.mkdir(parents=True, exist_ok=True)
    files = generate(args.workdir, args.rows, args.seed)
    run_dir = Path(tempfile.mkdtemp(prefix="run_", dir=args.workdir))
    db, data_dir = run_dir / "contacts.duckdb", run_dir / "data"
    # The longest a kill can usefully wait: one unkilled import.
    started = time.monotonic()
    extra = ["--through-disk"] if args.through_disk else []
    one_kill(files[0], run_dir / "timing.duckdb", run_dir / "timing", "none", 0, extra)
    span = time.monotonic() - started

    rng = random.Random(args.seed)
    outcomes: Counter[tuple[str, str]] = Counter()
    problems: list[str] = []
    began = time.monotonic()
    for index in range(args.iterations):
        if index % args.fresh_every == 0:
            for path in (db, db.with_name(db.name + ".wal")):
                path.unlink(missing_ok=True)
        mode = rng.choices(MODES, WEIGHTS)[0]
        delay = {"anywhere": rng.uniform(0.2, span * 1.1), "opening": rng.uniform(0, 0.15),
                 "writing": rng.uniform(0, 0.6), "none": 0.0}[mode]  # fmt: skip
        before = check(db) if db.exists() else ImportBooks()
        code = one_kill(files[index % len(files)], db, data_dir, mode, delay, extra)
        after = check(db)
        broken = after.problems
        leftovers = list(db.parent.glob(f".{db.name}.staged-*"))
        if leftovers:  # the writer that opened it for `check` removes them
            broken.append(f"{len(leftovers)} staged Parquet files left next to the database")
        new = set(after.status) - set(before.status)
        if code == 0:
            outcome = "finished"
        elif not new:
            outcome = "killed before the batch"
        else:
            outcome = f"killed, batch {after.status[next(iter(new))]}"
        changed = after.contacts - before.contacts
        if outcome in ("killed before the batch", "killed, batch failed") and changed:
            broken.append(f"{outcome} but contacts changed by {changed}")
        if set(before.status) - set(after.status) or len(new) > 1:
            broken.append(f"batches appeared or vanished: {before.status} -> {after.status}")
        problems += [f"iteration {index}: {p}" for p in broken]
        outcomes[(mode, outcome)] += 1
        print(f"{index:4d} {mode:8s} {delay:5.2f}s exit {code:4d}  {outcome}"
              + (f"  BROKEN: {broken}" if broken else ""), file=sys.stderr)  # fmt: skip

    summary = {
        "iterations": args.iterations,
        "rows": args.rows,
        "seconds": round(time.monotonic() - began, 1),
        "unkilled_import_seconds": round(span, 2),
        "outcomes": {f"{mode}: {outcome}": n for (mode, outcome), n in sorted(outcomes.items())},
        "totals": dict(Counter(outcome for (_, outcome) in outcomes.elements())),
        "problems": problems,
        "stray_creation_files": len(list(run_dir.glob(".*.creating-*"))),
        "database": str(db),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{args.iterations} kills of {args.rows:,}-row imports in {summary['seconds']} s "
              f"(an unkilled import: {span:.1f} s)")  # fmt: skip
        for key, count in summary["outcomes"].items():
            print(f"  {key:45s} {count:5d}")
        print("  totals: " + ", ".join(f"{k} {v}" for k, v in summary["totals"].items()))
        print(f"  left-over partial new databases: {summary['stray_creation_files']}")
        print(f"  checks failed: {len(problems)}")
        for problem in problems[:20]:
            print(f"    {problem}")
    if not problems:
        shutil.rmtree(run_dir, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
