"""The inbox flow: import each new file in a drop folder exactly once, then file it away."""

from __future__ import annotations

import json
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from contacts.importer import lock_wait_setting
from contacts.inbox import InboxFolders, move_beside, ready_files
from contacts.outputs import batch_dir
from contacts.readers import file_sha256
from flows.import_contacts import import_contacts
from store.db import Store, now
from store.imports import completed_batch_with_sha, record_inbox_file


@task(name="find-duplicate", cache_policy=NO_CACHE, persist_result=False)
def find_duplicate(db: str, sha256: str) -> str | None:
    with Store.open(db, wait_seconds=lock_wait_setting(None)) as store:
        return completed_batch_with_sha(store, sha256)


@task(name="file-away", cache_policy=NO_CACHE, persist_result=False)
def file_away(db: str, path: Path, folder: Path, entry: dict, notes: dict[str, str]) -> Path:
    target = move_beside(path, folder, notes)
    with Store.open(db, wait_seconds=lock_wait_setting(None)) as store:
        record_inbox_file(store, {**entry, "moved_to": str(target)})
    return target


@flow(name="scan-inbox", persist_result=False)
def scan_inbox(
    inbox: str,
    db: str,
    data_dir: str,
    region: str = "US",
    settle_seconds: float = 10.0,
    on_duplicate: str = "skip",
) -> dict[str, int]:
    """Import every ready file once; move it to processed/ or failed/ with its report."""
    logger = get_run_logger()
    folders = InboxFolders(Path(inbox))
    counts = {"processed": 0, "duplicate": 0, "failed": 0}
    for path in ready_files(folders.inbox, settle_seconds):
        sha256 = file_sha256(path)
        entry = {"sha256": sha256, "name": path.name, "seen_at": now()}
        earlier = find_duplicate(db, sha256)
        if earlier:
            note = {"batch_id": earlier, "note": "same content as an earlier file: not imported"}
            file_away(db, path, folders.processed,
                      {**entry, "outcome": "duplicate", "batch_id": earlier},
                      {"report.json": json.dumps(note, indent=2)})  # fmt: skip
            counts["duplicate"] += 1
            continue
        state = import_contacts(
            path=str(path), db=db, data_dir=data_dir, region=region, on_duplicate=on_duplicate,
            return_state=True,
        )  # fmt: skip
        if state.is_completed():
            stats = state.result()
            report = (batch_dir(Path(data_dir), stats.batch_id) / "report.json").read_text()
            file_away(db, path, folders.processed,
                      {**entry, "outcome": "processed", "batch_id": stats.batch_id},
                      {"report.json": report})  # fmt: skip
            counts["processed"] += 1
        else:
            error = str(state.result(raise_on_failure=False))
            file_away(db, path, folders.failed, {**entry, "outcome": "failed", "error": error},
                      {"error.txt": error + "\n"})  # fmt: skip
            counts["failed"] += 1
    logger.info(
        "inbox scan: %d imported, %d duplicates, %d failed",
        counts["processed"], counts["duplicate"], counts["failed"],
    )  # fmt: skip
    return counts
