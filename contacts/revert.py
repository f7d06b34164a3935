"""Revert an import batch (PRODUCT 3.9): its new contacts go, its updates and DNC stay."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contacts.errors import ContactsError
from store.db import Store
from store.imports import batch_row, revert_batch


@dataclass(frozen=True)
class RevertResult:
    batch_id: str
    contacts_deleted: int

    def __str__(self) -> str:
        return (
            f"Reverted batch {self.batch_id}: {self.contacts_deleted:,} contacts it created were "
            "deleted (contacts it updated and every DNC entry are kept)"
        )


def revert_import(
    db: Path, batch_id: str, *, actor: str | None = None, reason: str | None = None
) -> RevertResult:
    """Delete the contacts `batch_id` created; refuse batches that changed nothing."""
    with Store.open(db) as store:
        batch = batch_row(store, batch_id)
        if batch is None:
            raise ContactsError(f"no batch {batch_id!r}; list them with 'contacts batches'")
        if batch["status"] != "completed":
            raise ContactsError(f"batch {batch_id} {batch['status']} and changed nothing to revert")
        if batch["reverted_at"] is not None:
            raise ContactsError(f"batch {batch_id} was already reverted at {batch['reverted_at']}")
        deleted = revert_batch(store, batch_id, actor, reason)
    return RevertResult(batch_id, deleted)
