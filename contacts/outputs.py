"""Batch output files: batches/<id>/report.json and the re-importable rejects.csv; and
`write_atomically`, how every file the product hands on (reports, exports) is written."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar

import polars as pl

from contacts.errors import ContactsError
from contacts.stats import BatchStats
from schemas.aliases import REJECT_COLUMNS, normalize_header

if TYPE_CHECKING:
    from contacts.importer import ImportPlan

ROW = "_row"
Written = TypeVar("Written")
WARNING_SAMPLE = 50


def batch_dir(data_dir: Path, batch_id: str) -> Path:
    return data_dir / "batches" / batch_id


def write_outputs(plan: ImportPlan, stats: BatchStats, data_dir: Path) -> Path:
    """Write rejects.csv then report.json (each via a temporary file and a rename)."""
    folder = batch_dir(data_dir, plan.batch_id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        rejects_path = folder / "rejects.csv"
        write_atomically(rejects_path, plan.rejects.write_to)
        stats.rejects_file = str(rejects_path)
        report = stats.as_report()
        report["warning_samples"] = plan.warning_samples[:WARNING_SAMPLE]
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
        write_atomically(folder / "report.json", lambda handle: handle.write(text.encode()))
    except OSError as err:
        raise ContactsError(
            f"batch {plan.batch_id} was saved, but its report could not be written to "
            f"{folder}: {err.strerror or err}"
        ) from err
    return folder


ADDED_COLUMNS = ("row", "reason", "message", "suggested_phone")


def rejects_frame(source_columns: list[str], outcomes: pl.DataFrame) -> pl.DataFrame:
    """Original columns (as read) plus row, reason, message, suggested_phone.

    `outcomes` are a batch's reject rows with their `original` cells (a struct with a
    field per source column). Re-importing a rejects.csv replaces its old outcome
    columns; any other source column with one of those names is kept, renamed
    '<name> (original)'.
    """
    keys = {c: normalize_header(c) for c in source_columns}
    is_rejects_file = set(keys.values()) >= REJECT_COLUMNS
    cells = [  # the struct has a field per source column, in order
        pl.col("original").struct[i].alias(f"{c} (original)" if c in ADDED_COLUMNS else c)
        for i, c in enumerate(source_columns)
        if not (is_rejects_file and keys[c] in REJECT_COLUMNS)
    ]
    return outcomes.select(*cells, pl.col(ROW).alias("row"), *ADDED_COLUMNS[1:])


def write_atomically(path: Path, write: Callable[[BinaryIO], Written]) -> Written:
    """`path` written by `write` into a temporary file beside it, flushed to disk, then
    renamed into place, so a reader (a dialer, a scheduled job) never sees a half-written
    file, even after a crash; what `write` returned. The handle is also readable (to
    checksum what was written). The temporary file is removed if anything fails."""
    partial = path.with_suffix(path.suffix + ".partial")
    try:
        with partial.open("w+b") as handle:
            written = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        return written
    except BaseException:
        with suppress(OSError):
            partial.unlink()
        raise
