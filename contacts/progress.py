"""Stage reporting for long imports: the CLI shows it, everything else ignores it.

The importer calls `stage("...")` as it moves on; by default nothing listens. The CLI
installs a listener only for a terminal (`show_progress`), so `--json`, pipes and
scheduled runs print nothing extra.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STAGES = (
    "reading the header",
    "reading, preparing and writing rows (phones, duplicates, DNC)",
    "committing the batch",
    "writing the report",
)
_listener: Callable[[str], None] | None = None


def stage(name: str) -> None:
    """Announce that the import has reached `name` (one of STAGES)."""
    if _listener is not None:
        _listener(name)


@contextmanager
def listening(listener: Callable[[str], None]) -> Iterator[None]:
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous


@contextmanager
def show_progress(enabled: bool) -> Iterator[None]:
    """A progress bar on stderr over the import's stages, when `enabled` and a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description:<50}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = progress.add_task("starting", total=len(STAGES))

    def advance(name: str) -> None:
        done = STAGES.index(name) if name in STAGES else 0
        progress.update(task, description=name, completed=done)

    with progress, listening(advance):
        yield
