"""The floor's work inside a Prefect flow run: what any importer that runs as a Prefect
flow pays at least on this machine, before it normalizes, validates or dedupes anything.

    python bench/floor_in_flow.py contacts.csv --db /tmp/floor.duckdb   # read + insert
    python bench/floor_in_flow.py --empty                              # a flow doing nothing

The read and the insert (`floor_polars_duckdb.py`'s) start in a thread before Prefect is
imported, and the flow run waits for them: the best case of overlapping Prefect's
start with the work, as `contacts import` does with its first chunk. With `--empty` the
flow returns at once, which measures Prefect's fixed cost per process (imports, the
API's client, a flow run's states). Prefect's flow engine runs as in the product: the
project's `flows` package is imported, so a run does not wait for its heartbeat
thread, and the process ends without the interpreter's teardown once Prefect has
delivered its logs and events (`contacts.cli_process`). Uses `PREFECT_API_URL` like the
product. Prints one JSON line like the floor's.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from floor_polars_duckdb import insert_new, read_contacts


class Work:
    """The floor's read and insert in a thread of their own; `result()` waits for them."""

    def __init__(self, file: Path, db: Path) -> None:
        self._outcome: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, args=(file, db), daemon=True)
        self._thread.start()

    def _run(self, file: Path, db: Path) -> None:
        try:
            started = time.perf_counter()
            frame = read_contacts(file)
            self._outcome["rows_read"] = frame.height
            self._outcome["inserted"] = insert_new(db, frame)
            self._outcome["work_seconds"] = round(time.perf_counter() - started, 3)
        except Exception as err:  # raised again in the flow, which then fails
            self._outcome["error"] = err

    def result(self) -> dict[str, Any]:
        self._thread.join()
        if "error" in self._outcome:
            raise self._outcome["error"]
        return self._outcome


EXIT_CODE = [1]  # main's, once it returned


def _exit_without_teardown() -> None:
    """The last exit handler, as in the product: after Prefect's services drained."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_CODE[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, nargs="?")
    parser.add_argument("--db", type=Path)
    parser.add_argument("--empty", action="store_true", help="run a flow that does nothing")
    args = parser.parse_args(argv)
    if args.empty == (args.file is not None) or (args.file is not None and args.db is None):
        parser.error("give FILE and --db, or --empty")
    started = time.perf_counter()
    atexit.register(_exit_without_teardown)  # first registered: runs last
    work = None if args.empty else Work(args.file, args.db)

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    from prefect import flow  # after the work started, as the product's CLI does

    import flows  # noqa: F401 - the product's flow engine settings

    @flow(name="bench-floor", persist_result=False)
    def floor_flow() -> dict[str, Any]:
        return {} if work is None else work.result()

    outcome = floor_flow()
    outcome["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    try:
        EXIT_CODE[0] = main()
    except SystemExit as done:  # argparse's usage errors
        EXIT_CODE[0] = done.code if isinstance(done.code, int) else 1
    sys.exit(EXIT_CODE[0])
