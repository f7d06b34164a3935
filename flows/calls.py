"""The `import_calls` flow: read -> plan -> commit -> report, each a task.

Expected failures (a missing or unreadable file, no call_id column, a busy database)
end the run in a Failed state carrying the error; the CLI turns it back into the error.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed, State

from contacts.calls import (
    CallImportPlan,
    CallImportStats,
    CallSource,
    check_region,
    commit_call_import,
    plan_call_import,
    read_calls,
    write_call_outputs,
)
from contacts.errors import ContactsError
from store.db import Store, now

# Frames and connections pass between tasks in memory: no hashing, no pickles.
TASK_OPTIONS = {"cache_policy": NO_CACHE, "persist_result": False}


@task(name="read-calls", **TASK_OPTIONS)
def read_calls_task(path: Path, encoding: str | None) -> CallSource:
    return read_calls(path, encoding)


@task(name="plan-calls", **TASK_OPTIONS)
def plan_calls_task(
    source: CallSource, store: Store, region: str, started_at: datetime
) -> CallImportPlan:
    return plan_call_import(source, store, region=region, started_at=started_at)


@task(name="commit-calls", **TASK_OPTIONS)
def commit_calls_task(store: Store, plan: CallImportPlan) -> CallImportStats:
    return commit_call_import(store, plan)


@task(name="write-calls-report", **TASK_OPTIONS)
def write_report_task(plan: CallImportPlan, stats: CallImportStats, data_dir: Path) -> None:
    write_call_outputs(plan, stats, data_dir)
    create_table_artifact(
        key=stats.import_id.lower(),
        table=[{"stat": key, "value": str(value)} for key, value in stats.as_dict().items()],
        description=f"Calls import {stats.import_id}",
    )


@flow(name="import-calls", log_prints=False, persist_result=False)
def import_calls(
    path: str, db: str, data_dir: str, region: str = "US", encoding: str | None = None
) -> State:
    """Import a CSV or JSON Lines file of call records; idempotent by call_id."""
    logger = get_run_logger()
    started_at = now()
    try:
        region = check_region(region)
        source = read_calls_task(Path(path), encoding)
        logger.info("read %d call rows (%s)", source.frame.height, source.format)
        with Store.open(Path(db)) as store:
            plan = plan_calls_task(source, store, region, started_at)
            stats = commit_calls_task(store, plan)
        write_report_task(plan, stats, Path(data_dir))
    except ContactsError as err:
        logger.error("calls import failed: %s", err)
        return Failed(message=str(err), data=err)
    logger.info(
        "calls import %s: %d rows, %d inserted, %d already present, %d rejected, "
        "%d dnc requests",
        stats.import_id, stats.rows_total, stats.inserted, stats.already_present,
        stats.rejected, stats.dnc_requests,
    )  # fmt: skip
    return Completed(message=f"calls import {stats.import_id} completed", data=stats)
