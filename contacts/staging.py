"""Frames an import keeps until it ends: in memory, then on disk.

An import writes each chunk of a file as soon as it is judged, but its `rejects.csv`
is written after the commit, from the rejects of every chunk. Those are staged here:
kept in memory while the area's total stays under its budget, written to Arrow IPC
files after that. So a file with millions of rejects costs disk space, not gigabytes
of memory, and a small file never touches the disk.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import polars as pl

from contacts.errors import DiskFull, StoreError
from store.db import is_disk_full

# Bytes of staged frames held in memory by one import before the rest goes to disk: a
# 1M-row bench file has ~107k rejects (rows not imported), stored with their cells.
MEMORY_BUDGET = 128 * 1024 * 1024


# A staging folder this old is a leftover of a killed process (imports take minutes).
STALE_SECONDS = 24 * 3600


def remove_stale(parent: Path, older_than: float = STALE_SECONDS) -> None:
    """Remove staging folders under `parent` left by processes that were killed."""
    if not parent.is_dir():
        return
    cutoff = time.time() - older_than
    for folder in parent.glob("import-*"):
        with suppress(OSError):
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)


class StagingArea:
    """A memory budget for serialized frames and, once it is spent, a private folder of
    IPC files."""

    def __init__(self, parent: Path | None = None, budget: int | None = None) -> None:
        self.parent = parent
        self.budget = MEMORY_BUDGET if budget is None else budget
        self.held = 0  # bytes of serialized frames kept in memory
        self._folder: Path | None = None
        self._files = 0

    def staged(self) -> Staged:
        return Staged(self)

    def keep(self, frame: pl.DataFrame) -> bytes | Path:
        """`frame` as IPC bytes while the budget allows, else the file they went to.

        Never the frame itself: a frame filtered from a chunk shares the chunk's string
        buffers (Arrow string views), which `estimated_size` does not count and which
        would live as long as the frame. Kept frames pinned whole chunks: a 10M-row plan
        grew ~100 MB per million rows. Serialized, a frame holds only its own bytes.
        """
        buffer = io.BytesIO()
        frame.write_ipc(buffer, compression="lz4")
        data = buffer.getvalue()
        if self.held + len(data) <= self.budget:
            self.held += len(data)
            return data
        try:
            if self._folder is None:
                if self.parent is not None:
                    self.parent.mkdir(parents=True, exist_ok=True)
                self._folder = Path(tempfile.mkdtemp(prefix="import-", dir=self.parent))
            self._files += 1
            path = self._folder / f"{self._files:06d}.arrow"
            path.write_bytes(data)
        except OSError as err:
            where = self._folder or self.parent or Path(tempfile.gettempdir())
            full = is_disk_full(err)
            reason = "the disk is full" if full else str(err).splitlines()[0]
            raise (DiskFull if full else StoreError)(
                f"cannot stage the import's rows in {where}: {reason}; free some space or "
                "pass another --data-dir"
            ) from err
        return path

    @property
    def spilled(self) -> bool:
        return self._folder is not None

    def close(self) -> None:
        """Forget the frames and remove the files; safe to call twice."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
            if self.parent is not None:
                with suppress(OSError):  # kept while another import stages there
                    self.parent.rmdir()
        self.held = 0


class Staged:
    """An ordered sequence of frames of one schema, iterable any number of times."""

    def __init__(self, area: StagingArea) -> None:
        self.area = area
        self.parts: list[bytes | Path] = []
        self.rows = 0

    def add(self, frame: pl.DataFrame) -> None:
        if frame.height == 0 and self.parts:
            return  # the first frame, even empty, keeps the schema
        self.parts.append(self.area.keep(frame))
        self.rows += frame.height

    def __iter__(self) -> Iterator[pl.DataFrame]:
        for part in self.parts:
            yield pl.read_ipc(part if isinstance(part, Path) else io.BytesIO(part))
