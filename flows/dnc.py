"""DNC flows: load a DNC file, and the nightly suppression export."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.states import Completed, Failed, State

from contacts.dnc_export import export_suppression
from contacts.dnc_files import load_dnc_file
from contacts.errors import ContactsError


@flow(name="import-dnc", persist_result=False)
def import_dnc(path: str, db: str, source: str = "file", region: str = "US") -> State:
    """Load a DNC file (registry full or change list, plain list, CSV) into the ledger."""
    logger = get_run_logger()
    try:
        load = load_dnc_file(Path(db), Path(path), source=source, region=region)
    except ContactsError as err:
        logger.error("DNC import failed: %s", err)
        return Failed(message=str(err), data=err)
    logger.info(
        "DNC load %s (%s, %s): %d lines, %d added, %d removed, %d malformed",
        load.load_id, load.source, load.kind, load.lines_total, load.added, load.removed,
        load.malformed,
    )  # fmt: skip
    return Completed(message=f"DNC load {load.load_id} completed", data=load)


@flow(name="export-dnc-suppression", persist_result=False)
def export_dnc_suppression(db: str, out: str) -> State:
    """Write the full suppression list, the delta since the last export and a manifest."""
    logger = get_run_logger()
    try:
        manifest = export_suppression(Path(db), Path(out))
    except ContactsError as err:
        logger.error("suppression export failed: %s", err)
        return Failed(message=str(err), data=err)
    logger.info(
        "suppression export %s: %d numbers, %d added, %d removed",
        manifest["export_id"], manifest["numbers"], manifest["added"], manifest["removed"],
    )  # fmt: skip
    create_table_artifact(
        key="dnc-suppression-export",
        table=[{"field": k, "value": str(v)} for k, v in manifest.items()],
        description="Latest DNC suppression export",
    )
    return Completed(message=f"exported {manifest['numbers']} numbers", data=manifest)
