"""The suppression export dialers load: full list, delta since the last export, manifest.

Each file is written to a temporary name, flushed to disk and renamed into place, so a
dialer never reads a half-written file; the manifest goes last and names both files'
checksums.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from contacts.errors import ContactsError
from contacts.outputs import write_atomically
from store import dnc as ledger
from store.db import Store, now


def export_paths(out: Path) -> tuple[Path, Path, Path]:
    """'x/dnc.csv' -> (x/dnc.csv, x/dnc.delta.csv, x/dnc.manifest.json)."""
    return out, out.with_name(f"{out.stem}.delta.csv"), out.with_name(f"{out.stem}.manifest.json")


def export_suppression(db: Path, out: Path) -> dict[str, Any]:
    """Write every suppressed E.164 number and the delta; return the manifest."""
    full_path, delta_path, manifest_path = export_paths(out)
    with Store.open(db) as store:
        current = ledger.suppression_set(store)
        previous = ledger.previous_export_set(store)
        added = current.join(previous, on="phone", how="anti").sort("phone")
        removed = previous.join(current, on="phone", how="anti").sort("phone")
        delta = pl.concat(
            [
                added.select(pl.lit("added").alias("change"), "phone"),
                removed.select(pl.lit("removed").alias("change"), "phone"),
            ]
        )
        exported_at = now()
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            full_sha = _write_atomically(current, full_path)
            delta_sha = _write_atomically(delta, delta_path)
            manifest = {
                "export_id": f"dnc-export-{exported_at:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}",
                "exported_at": exported_at.isoformat(),
                "numbers": current.height,
                "added": added.height,
                "removed": removed.height,
                "full_file": full_path.name,
                "full_sha256": full_sha,
                "delta_file": delta_path.name,
                "delta_sha256": delta_sha,
            }
            text = json.dumps(manifest, indent=2) + "\n"
            write_atomically(manifest_path, lambda handle: handle.write(text.encode()))
        except OSError as err:
            raise ContactsError(f"cannot write the suppression export to {out}: {err}") from err
        ledger.record_export(
            store,
            {"id": manifest["export_id"], "exported_at": exported_at,
             "full_file": str(full_path), "delta_file": str(delta_path),
             "numbers": current.height, "added": added.height, "removed": removed.height,
             "sha256": full_sha},
            added,
            removed,
        )  # fmt: skip
    return manifest


def _write_atomically(frame: pl.DataFrame, path: Path) -> str:
    """Write `frame` as CSV to `path` atomically; its sha256."""

    def write(handle: BinaryIO) -> str:
        frame.write_csv(handle)
        handle.seek(0)
        return hashlib.file_digest(handle, "sha256").hexdigest()

    return write_atomically(path, write)
