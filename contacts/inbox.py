"""The drop folder: which files are ready, and where a handled file goes.

A file is ready once it is a supported type, not hidden or a partial download, and
unchanged for `settle_seconds` (a copy still in progress keeps changing its mtime).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

SUPPORTED = frozenset({".csv", ".tsv", ".txt", ".xlsx"})
PARTIAL = (".part", ".partial", ".tmp", ".crdownload", ".download")


@dataclass(frozen=True)
class InboxFolders:
    inbox: Path

    @property
    def processed(self) -> Path:
        return self.inbox / "processed"

    @property
    def failed(self) -> Path:
        return self.inbox / "failed"


def ready_files(inbox: Path, settle_seconds: float, now: float | None = None) -> list[Path]:
    """Files to import now, oldest first."""
    if not inbox.is_dir():
        return []
    clock = time.time() if now is None else now
    ready = []
    for path in inbox.iterdir():
        name = path.name
        if not path.is_file() or name.startswith((".", "~$")) or name.endswith(PARTIAL):
            continue
        if path.suffix.lower() not in SUPPORTED:
            continue
        if clock - path.stat().st_mtime >= settle_seconds:
            ready.append(path)
    return sorted(ready, key=lambda p: (p.stat().st_mtime, p.name))


def move_beside(path: Path, folder: Path, notes: dict[str, str]) -> Path:
    """Move `path` into `folder` (never overwriting) and write `notes` files beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    counter = 1
    while target.exists():
        counter += 1
        target = folder / f"{path.stem}.{counter}{path.suffix}"
    shutil.move(str(path), target)
    for suffix, text in notes.items():
        (folder / f"{target.name}.{suffix}").write_text(text, encoding="utf-8")
    return target
