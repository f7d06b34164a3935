"""Batch maintenance flows: revert an import (PRODUCT 3.9)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.states import Completed, Failed, State

from contacts.errors import ContactsError
from contacts.revert import revert_import


@flow(name="revert-batch", persist_result=False)
def revert_batch_flow(
    batch_id: str, db: str, actor: str | None = None, reason: str | None = None
) -> State:
    """Delete the contacts a batch created; keep what it updated and every DNC entry."""
    logger = get_run_logger()
    try:
        result = revert_import(Path(db), batch_id, actor=actor, reason=reason)
    except ContactsError as err:
        logger.error("revert of batch %s failed: %s", batch_id, type(err).__name__)
        return Failed(message=str(err), data=err)
    logger.info("reverted batch %s: %d contacts deleted", batch_id, result.contacts_deleted)
    return Completed(message=str(result), data=result)
