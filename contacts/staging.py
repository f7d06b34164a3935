"""Text an import keeps until it ends: in memory, then on disk.

An import writes each chunk of a file as soon as it is judged, but its `rejects.csv`
is written after the commit, from the rejects of every chunk. Their CSV text is staged
here as each chunk is written: kept in memory while the area's total stays under its
budget, written to files after that. So a file with millions of rejects costs disk
space, not gigabytes of memory, a small file never touches the disk, and the report
only copies text once the batch is committed.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

import polars as pl

from contacts.errors import DiskFull, StoreError
from store.db import is_disk_full

# Bytes of staged text held in memory by one import before the rest goes to disk: a
# 1M-row bench file has ~107k rejects (rows not imported), 17 MB as CSV with their cells.
MEMORY_BUDGET = 128 * 1024 * 1024
# Bytes copied at a time from a staged file into the report's.
COPY_BYTES = 1 << 22


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
    """A memory budget for staged bytes and, once it is spent, a private folder of
    files."""

    def __init__(self, parent: Path | None = None, budget: int | None = None) -> None:
        self.parent = parent
        self.budget = MEMORY_BUDGET if budget is None else budget
        self.held = 0  # bytes kept in memory
        self._folder: Path | None = None
        self._files = 0

    def staged(self) -> StagedCsv:
        return StagedCsv(self)

    def keep(self, data: bytes) -> bytes | Path:
        """`data` itself while the budget allows, else the file it went to."""
        if self.held + len(data) <= self.budget:
            self.held += len(data)
            return data
        try:
            if self._folder is None:
                if self.parent is not None:
                    self.parent.mkdir(parents=True, exist_ok=True)
                self._folder = Path(tempfile.mkdtemp(prefix="import-", dir=self.parent))
            self._files += 1
            path = self._folder / f"{self._files:06d}.part"
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
        """Forget the staged bytes and remove the files; safe to call twice."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
            if self.parent is not None:
                with suppress(OSError):  # kept while another import stages there
                    self.parent.rmdir()
        self.held = 0


class StagedCsv:
    """Frames of one schema as one CSV text: the first frame's header, then every
    frame's rows in the order they were added. `write_to` copies it, any number of
    times.

    Kept as text, not as frames: a frame filtered from a chunk shares the chunk's
    string buffers (Arrow string views), which would live as long as the frame (kept
    frames pinned whole chunks: a 10M-row plan grew ~100 MB per million rows), and the
    text is what the report writes anyway.
    """

    def __init__(self, area: StagingArea) -> None:
        self.area = area
        self.header: bytes | None = None  # from the first frame, even an empty one
        self.parts: list[bytes | Path] = []
        self.rows = 0

    def add(self, frame: pl.DataFrame) -> None:
        if self.header is None:
            self.header = frame.head(0).write_csv().encode()
        if frame.height == 0:
            return
        self.parts.append(self.area.keep(frame.write_csv(include_header=False).encode()))
        self.rows += frame.height

    def write_to(self, handle: BinaryIO) -> None:
        """The CSV text: nothing at all when no frame was added."""
        if self.header is None:
            return
        handle.write(self.header)
        for part in self.parts:
            if isinstance(part, bytes):
                handle.write(part)
            else:
                with part.open("rb") as source:
                    shutil.copyfileobj(source, handle, COPY_BYTES)
