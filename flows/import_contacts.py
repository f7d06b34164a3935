"""The `import_contacts` flow: read the header -> import the batch -> report, each a task.

Failures end the run in a Failed state carrying the error; the CLI turns that state
back into the error. Logs and state messages carry counts, batch ids, the file name and
error classes, never an error's text, which can quote cells (a headerless file's first
row becomes its column names; DuckDB quotes the key of a constraint error). A task
raises `StepFailed`, whose text is redacted, as Prefect logs what a task raises.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed, State

from contacts.errors import ContactsError
from contacts.importer import (
    ImportOptions,
    ImportPlan,
    check_options,
    import_batch,
    lock_wait_setting,
    read_and_map,
)
from contacts.outputs import write_outputs
from contacts.progress import stage
from contacts.readers import SourceTable
from contacts.stats import BatchStats
from store.db import Store, now
from transforms.mapping import ColumnMapping

# Frames and connections pass between tasks in memory: no hashing, no pickles.
TASK_OPTIONS = {"cache_policy": NO_CACHE, "persist_result": False}

Result = TypeVar("Result")


def redacted(err: BaseException) -> str:
    """An error as logs may show it: its class and value-free facts, not its message."""
    if isinstance(err, ContactsError):
        return err.log_summary()
    return f"unexpected {type(err).__name__}"


class StepFailed(Exception):
    """A task's error in a redacted wrapper: Prefect logs the repr and traceback of what
    a task raises, so the original (`error`) rides along unprinted."""

    def __init__(self, error: Exception) -> None:
        super().__init__(redacted(error))
        self.error = error


def redact_failures(function: Callable[..., Result]) -> Callable[..., Result]:
    """Make a task raise `StepFailed` instead of an error whose text can quote cells."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Result:
        try:
            return function(*args, **kwargs)
        except Exception as err:
            raise StepFailed(err) from None  # no chained traceback with the message

    return run


@task(name="read-source", **TASK_OPTIONS)
@redact_failures
def read_source_task(options: ImportOptions) -> tuple[SourceTable, ColumnMapping]:
    return read_and_map(options)


@task(name="import-batch", **TASK_OPTIONS)
@redact_failures
def import_batch_task(
    options: ImportOptions,
    source: SourceTable,
    mapping: ColumnMapping,
    store: Store,
    started_at: datetime,
) -> ImportPlan:
    return import_batch(options, source, mapping, store, started_at)


@task(name="write-report", **TASK_OPTIONS)
@redact_failures
def write_report_task(plan: ImportPlan, stats: BatchStats, data_dir: Path) -> None:
    stage("writing the report")
    write_outputs(plan, stats, data_dir)
    create_table_artifact(
        key=f"import-{plan.batch_id.lower()}",
        table=[{"stat": key, "value": str(value)} for key, value in stats.as_dict().items()
               if key != "mapping"],
        description=f"Import batch {plan.batch_id}",
    )  # fmt: skip


@flow(name="import-contacts", log_prints=False, persist_result=False)
def import_contacts(
    path: str,
    db: str,
    data_dir: str,
    region: str = "US",
    overrides: dict[str, str] | None = None,
    campaign: str | None = None,
    on_duplicate: str = "skip",
    encoding: str | None = None,
    sheet: str | None = None,
    lock_wait: float | None = None,
) -> State:
    """Import one contact file into the database; returns the batch stats as a dict.

    `lock_wait`: seconds to wait while another process holds the database (default
    $CONTACTS_LOCK_WAIT, else 60).
    """
    logger = get_run_logger()
    started_at = now()
    name = Path(path).name
    try:
        options = check_options(
            ImportOptions(
                path=Path(path), db=Path(db), data_dir=Path(data_dir), region=region,
                overrides=overrides or {}, campaign=campaign, on_duplicate=on_duplicate,
                encoding=encoding, sheet=sheet, lock_wait=lock_wait_setting(lock_wait),
            )
        )  # fmt: skip
        source, mapping = read_source_task(options)
        logger.info("read the header: %d columns", len(source.columns))
        plan: ImportPlan | None = None
        try:
            with Store.open(options.db, wait_seconds=options.lock_wait) as store:
                plan = import_batch_task(options, source, mapping, store, started_at)
                stats = plan.stats
                with store.closing_meanwhile():
                    write_report_task(plan, stats, options.data_dir)
        finally:
            if plan is not None:
                plan.discard()  # its staged files
    except StepFailed as failed:
        return failed_run(name, failed.error)
    except Exception as err:
        return failed_run(name, err)
    logger.info(
        "batch %s: %d rows, %d imported, %d updated, %d duplicates, %d invalid, %d dnc",
        stats.batch_id, stats.rows_total, stats.imported, stats.updated,
        stats.duplicates_skipped, stats.invalid, stats.dnc,
    )  # fmt: skip
    return Completed(message=f"batch {stats.batch_id} completed", data=stats)


def failed_run(name: str, err: Exception) -> State:
    """Log the failure redacted (for a bug, with where it happened) and end the run with
    it; the CLI gets the full error from the state's data."""
    summary = f"import of {name} failed: {redacted(err)}"
    if isinstance(err, ContactsError):
        get_run_logger().error(summary)
    else:
        where = "".join(traceback.format_tb(err.__traceback__))
        get_run_logger().error("%s, in:\n%s", summary, where.rstrip())
    return Failed(message=summary, data=err)
