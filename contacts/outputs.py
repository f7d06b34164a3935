"""Batch output files: batches/<id>/report.json and the re-importable rejects.csv."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from contacts.errors import ContactsError
from contacts.stats import BatchStats
from schemas.aliases import REJECT_COLUMNS, normalize_header

if TYPE_CHECKING:
    from contacts.importer import ImportPlan

ROW = "_row"
WARNING_SAMPLE = 50


def batch_dir(data_dir: Path, batch_id: str) -> Path:
    return data_dir / "batches" / batch_id


def write_outputs(plan: ImportPlan, stats: BatchStats, data_dir: Path) -> Path:
    """Write rejects.csv then report.json (each via a temporary file and a rename)."""
    folder = batch_dir(data_dir, plan.batch_id)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        rejects_path = folder / "rejects.csv"
        _atomic_csv(rejects_frame(plan), rejects_path)
        stats.rejects_file = str(rejects_path)
        report = stats.as_report()
        report["warning_samples"] = plan.prepared.warnings.head(WARNING_SAMPLE).to_dicts()
        _atomic_text(json.dumps(report, indent=2, ensure_ascii=False), folder / "report.json")
    except OSError as err:
        raise ContactsError(
            f"batch {plan.batch_id} was saved, but its report could not be written to "
            f"{folder}: {err.strerror or err}"
        ) from err
    return folder


ADDED_COLUMNS = ("row", "reason", "message", "suggested_phone")


def rejects_frame(plan: ImportPlan) -> pl.DataFrame:
    """Original columns (as read) plus row, reason, message, suggested_phone.

    Re-importing a rejects.csv replaces its old outcome columns; any other source
    column with one of those names is kept, renamed '<name> (original)'.
    """
    keys = {c: normalize_header(c) for c in plan.source.columns}
    is_rejects_file = set(keys.values()) >= REJECT_COLUMNS
    columns = [
        c for c in plan.source.columns if not (is_rejects_file and keys[c] in REJECT_COLUMNS)
    ]
    outcomes = plan.write.rejects.select(ROW, "reason", "message", "suggested_phone")
    original = plan.source.frame.select(
        ROW, *(pl.col(c).alias(f"{c} (original)" if c in ADDED_COLUMNS else c) for c in columns)
    )
    return outcomes.join(original, on=ROW, how="left").select(
        *(c for c in original.columns if c != ROW), pl.col(ROW).alias("row"), *ADDED_COLUMNS[1:]
    )


def _atomic_csv(frame: pl.DataFrame, path: Path) -> None:
    partial = path.with_suffix(".csv.partial")
    frame.write_csv(partial)
    os.replace(partial, path)


def _atomic_text(text: str, path: Path) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text + "\n", encoding="utf-8")
    os.replace(partial, path)
