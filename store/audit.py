"""The books of the import ledger: rules that no crash, kill or bug may ever break.

Used by the kill test and bench/kill_import.py after every kill; open the database as
a writer first, so interrupted batches have been marked failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from store.db import PHONE_KEY, Store

OUTCOMES = ("imported", "updated", "duplicates_in_file", "duplicates_existing", "invalid")


@dataclass
class ImportBooks:
    status: dict[str, str] = field(default_factory=dict)  # batch id -> status
    imported: dict[str, int] = field(default_factory=dict)  # completed batch id -> imported
    contacts: int = 0
    problems: list[str] = field(default_factory=list)  # broken rules; empty when sound


def audit_imports(store: Store) -> ImportBooks:
    """Check every import batch against the contacts, rejects and warnings it left."""
    batches = [
        dict(zip(("id", "status", "rows_total", *OUTCOMES), row, strict=True))
        for row in store.run(
            "SELECT id, status, rows_total, imported, updated, duplicates_in_file, "
            "duplicates_existing, invalid FROM import_batches"
        )
    ]
    contacts, phones, off_key = store.run(
        "SELECT count(*), count(DISTINCT phone), "
        f"count(*) FILTER (WHERE phone_key IS DISTINCT FROM {PHONE_KEY.format('phone')}) "
        "FROM contacts"
    )[0]
    created = dict(store.run("SELECT created_batch_id, count(*) FROM contacts GROUP BY 1"))
    rejects = dict(store.run("SELECT batch_id, count(*) FROM import_rejects GROUP BY 1"))
    repeated = store.run(
        "SELECT count(*) - count(DISTINCT (batch_id, source_row)) FROM import_rejects"
    )[0][0]
    owners = {row[0] for row in store.run("SELECT DISTINCT last_batch_id FROM contacts")}
    owners |= {row[0] for row in store.run("SELECT DISTINCT batch_id FROM import_warnings")}

    done = [b for b in batches if b["status"] == "completed"]
    problems = []
    running = [b["id"] for b in batches if b["status"] not in ("completed", "failed")]
    if running:
        problems.append(f"batches neither completed nor failed: {running}")
    if contacts != phones:
        problems.append(f"{contacts} contacts share {phones} phones")
    if off_key:
        problems.append(f"{off_key} contacts whose phone_key is not their phone's")
    if repeated:
        problems.append(f"{repeated} reject records repeat a batch's row")
    if contacts != sum(b["imported"] for b in done):
        problems.append(f"{contacts} contacts, {sum(b['imported'] for b in done)} imported")
    for b in done:
        if b["rows_total"] != sum(b[name] for name in OUTCOMES):
            problems.append(f"batch {b['id']}: outcomes do not add up to {b['rows_total']} rows")
        if created.get(b["id"], 0) != b["imported"]:
            problems.append(f"batch {b['id']}: {created.get(b['id'], 0)} contacts created")
        if rejects.get(b["id"], 0) != b["rows_total"] - b["imported"] - b["updated"]:
            problems.append(f"batch {b['id']}: {rejects.get(b['id'], 0)} reject records")
    leftovers = (set(created) | set(rejects) | owners) - {b["id"] for b in done}
    if leftovers:
        problems.append(f"rows of failed or unknown batches: {sorted(leftovers)}")
    return ImportBooks(
        status={b["id"]: b["status"] for b in batches},
        imported={b["id"]: b["imported"] for b in done},
        contacts=contacts,
        problems=problems,
    )
