"""The `import_contacts` flow: read -> plan -> commit -> report, each a task.

Expected failures (an unreadable file, no phone column, a busy database) end the run
in a Failed state carrying the error, without a traceback in the logs; the CLI turns
that state back into the error.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed, State

from contacts.errors import ContactsError
from contacts.importer import (
    ImportOptions,
    ImportPlan,
    check_options,
    commit_import,
    plan_import,
    read_and_map,
)
from contacts.outputs import write_outputs
from contacts.readers import SourceTable
from contacts.stats import BatchStats
from store.db import Store, now
from transforms.mapping import ColumnMapping

# Frames and connections pass between tasks in memory: no hashing, no pickles.
TASK_OPTIONS = {"cache_policy": NO_CACHE, "persist_result": False}


@task(name="read-source", **TASK_OPTIONS)
def read_source_task(options: ImportOptions) -> tuple[SourceTable, ColumnMapping]:
    return read_and_map(options)


@task(name="plan-batch", **TASK_OPTIONS)
def plan_batch_task(
    options: ImportOptions,
    source: SourceTable,
    mapping: ColumnMapping,
    store: Store,
    started_at: datetime,
) -> ImportPlan:
    return plan_import(options, source, mapping, store, started_at)


@task(name="commit-batch", **TASK_OPTIONS)
def commit_batch_task(store: Store, plan: ImportPlan, options: ImportOptions) -> BatchStats:
    return commit_import(store, plan, options)


@task(name="write-report", **TASK_OPTIONS)
def write_report_task(plan: ImportPlan, stats: BatchStats, data_dir: Path) -> None:
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
) -> State:
    """Import one contact file into the database; returns the batch stats as a dict."""
    logger = get_run_logger()
    started_at = now()
    try:
        options = check_options(
            ImportOptions(
                path=Path(path), db=Path(db), data_dir=Path(data_dir), region=region,
                overrides=overrides or {}, campaign=campaign, on_duplicate=on_duplicate,
                encoding=encoding, sheet=sheet,
            )
        )  # fmt: skip
        source, mapping = read_source_task(options)
        logger.info("read %d records, %d columns", source.frame.height, len(source.columns))
        with Store.open(options.db) as store:
            plan = plan_batch_task(options, source, mapping, store, started_at)
            stats = commit_batch_task(store, plan, options)
        write_report_task(plan, stats, options.data_dir)
    except ContactsError as err:
        logger.error("import failed: %s", err)
        return Failed(message=str(err), data=err)
    logger.info(
        "batch %s: %d rows, %d imported, %d updated, %d duplicates, %d invalid, %d dnc",
        stats.batch_id, stats.rows_total, stats.imported, stats.updated,
        stats.duplicates_skipped, stats.invalid, stats.dnc,
    )  # fmt: skip
    return Completed(message=f"batch {stats.batch_id} completed", data=stats)
