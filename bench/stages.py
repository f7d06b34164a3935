"""Where an import's time goes: the library import run in process, timed per stage.

    .venv/bin/python bench/stages.py contacts.csv [--db existing.duckdb] [--repeat 1]

Stages are the import's own functions, wrapped with a timer (inner stages are also
counted in their outer one). The database is a fresh temporary copy of --db, or empty.
No Prefect: this isolates the pipeline's work from the orchestration's fixed cost.
Prints one JSON object: seconds per stage, total, peak RSS and the batch counts.
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (stage, module, function or Class.method): each wrapped where its callers look it up
STAGES = (
    ("read", "contacts.importer", "read_source"),
    ("map", "contacts.importer", "map_columns"),
    ("import batch (read rows, prepare, compare, write)", "contacts.importer", "import_batch"),
    ("prepare (read-ahead thread, overlapping)", "contacts.readahead", "prepare_rows"),
    ("prepare.apply_mapping", "transforms.prepare", "apply_mapping"),
    ("prepare.validate_raw", "transforms.prepare", "_split_malformed"),
    ("prepare.phones", "transforms.prepare", "phone_answers"),
    ("prepare.choose_phones", "transforms.prepare", "choose_phones"),
    ("finish (the plan's thread: in-file dedupe)", "contacts.readahead", "finish_rows"),
    ("finish.validate_clean", "transforms.prepare", "_split_schema_violations"),
    ("dedupe.lookup", "contacts.importer", "known_contacts"),
    ("dedupe.dnc", "contacts.importer", "suppressed_phones"),
    ("dedupe.merge", "contacts.importer", "merge_known"),
    ("rejects.original_cells", "contacts.importer", "_original_cells"),
    ("write.queue_wait (plan waits for the writer)", "store.imports", "BatchWriter.write"),
    ("write.chunks (writer thread, overlapping)", "store.imports", "BatchWriter._write_chunk"),
    ("write.commit_wait (after the plan)", "store.imports", "BatchWriter.finish"),
    ("outputs", "contacts.importer", "write_outputs"),
)


def peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def timed(
    name: str, function: Callable[..., Any], seconds: dict[str, float], peaks: dict[str, int]
) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[name] += time.perf_counter() - started
            peaks[name] = peak_mb()

    return wrapper


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--db", type=Path, help="start from a copy of this database")
    parser.add_argument("--on-duplicate", default="skip")
    args = parser.parse_args(argv)

    seconds: dict[str, float] = defaultdict(float)
    peaks: dict[str, int] = {}
    for name, module_name, attribute in STAGES:
        owner: Any = importlib.import_module(module_name)
        *classes, function = attribute.split(".")
        for class_name in classes:
            owner = getattr(owner, class_name)
        setattr(owner, function, timed(name, getattr(owner, function), seconds, peaks))

    from contacts.importer import ImportOptions, run_import

    with tempfile.TemporaryDirectory(prefix="stages-") as scratch:
        db = Path(scratch) / "contacts.duckdb"
        if args.db:
            shutil.copyfile(args.db, db)
        options = ImportOptions(
            path=args.file, db=db, data_dir=Path(scratch), on_duplicate=args.on_duplicate
        )
        started = time.perf_counter()
        stats = run_import(options)
        total = time.perf_counter() - started
    report = {
        "file": args.file.name,
        "total_s": round(total, 2),
        "stages_s": {name: round(seconds[name], 2) for name, *_ in STAGES},
        "peak_rss_mb": peak_mb(),
        "peak_rss_mb_after": {name: peaks.get(name) for name, *_ in STAGES},
        "counts": {
            key: getattr(stats, key)
            for key in ("rows_total", "imported", "duplicates_in_file", "invalid", "updated")
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
