"""Batch output files: batches/<id>/report.json and the re-importable rejects.csv."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from contacts.errors import ContactsError
from contacts.stats import BatchStats
from schemas.aliases import REJECT_COLUMNS

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
            f"{folder}: {err.strerror}"
        ) from err
    return folder


def rejects_frame(plan: ImportPlan) -> pl.DataFrame:
    """Original columns (as read) plus row, reason, message, suggested_phone."""
    columns = [c for c in plan.source.columns if c.strip().lower() not in REJECT_COLUMNS]
    outcomes = plan.write.rejects.select(ROW, "reason", "message", "suggested_phone")
    original = plan.source.frame.select(ROW, *columns)
    return outcomes.join(original, on=ROW, how="left").select(
        *columns, pl.col(ROW).alias("row"), "reason", "message", "suggested_phone"
    )


def _atomic_csv(frame: pl.DataFrame, path: Path) -> None:
    partial = path.with_suffix(".csv.partial")
    frame.write_csv(partial)
    os.replace(partial, path)


def _atomic_text(text: str, path: Path) -> None:
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text + "\n", encoding="utf-8")
    os.replace(partial, path)
