"""Preparing a file's chunks in a thread of their own, the first one ahead of time.

`ReadAhead` runs `prepare_rows` (mapping, validation, phones: the work of a chunk that
depends on no other chunk) over a source's record batches in a thread. The consumer
finishes each chunk with `finish_rows` (the in-file dedupe, which needs the chunks in
file order) in its own thread as it takes the chunk. It prepares `depth` chunks before
the consumer asks for any; after those, one more each time the consumer takes a chunk.
So at most one chunk is prepared beside the consumer's own work on the previous one
(finishing it, the lookups against the stored contacts, handing it to the writer).
Preparing is pure (no database), so it can start before anything else is ready.

`prefetching` starts it before the flow loads: the CLI imports Prefect (~1 s of
interpreter time on a fast machine, ~2 s on a slow one) while the file is read, mapped
and its first chunk prepared. The flow's read step then takes what was prefetched
(`take_prefetched`) instead of reading the file again; anything not taken is stopped
when the block ends.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from transforms.prepare import PreparedBatch, SeenPhones, finish_rows, prepare_rows

if TYPE_CHECKING:
    from contacts.importer import ImportOptions
    from contacts.readers import SourceTable
    from transforms.mapping import ColumnMapping

DEPTH = 1  # chunks prepared before the consumer takes one
_POLL_SECONDS = 0.1  # how often a blocked producer checks whether it was stopped


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_END = object()


class ReadAhead:
    """A source's chunks as (record batch, prepared chunk) pairs, in file order,
    prepared by a daemon thread. Iterate once; `close()` stops the thread (idempotent).

    A failure while reading or preparing is raised by the iteration, where the chunk
    would have come.
    """

    def __init__(
        self,
        source: SourceTable,
        mapping: ColumnMapping,
        region: str,
        depth: int = DEPTH,
    ) -> None:
        self.mapping = mapping
        self.region = region
        self._source = source
        self._queue: queue.Queue[object] = queue.Queue()
        # a permit per chunk the producer may start: `depth` at first, then one each time
        # the consumer takes a chunk
        self._permits = threading.Semaphore(max(1, depth))
        self._stopped = threading.Event()
        self._taken = False
        self._thread = threading.Thread(target=self._produce, name="contacts-read-ahead")
        self._thread.daemon = True  # never keeps a process alive; close() joins it
        self._thread.start()

    def __iter__(self) -> Iterator[tuple[pl.DataFrame, PreparedBatch]]:
        if self._taken:
            raise RuntimeError(f"{self._source.path} was already read")
        self._taken = True
        seen = SeenPhones()
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            assert isinstance(item, tuple)
            self._permits.release()  # taken: the next chunk may be prepared meanwhile
            frame, part = item
            del item
            prepared = finish_rows(part, seen)
            del part
            yield frame, prepared
            del frame, prepared  # not kept alive while the next chunk is waited for

    def close(self) -> None:
        """Stop preparing and drop what was prepared; returns once the thread ended."""
        self._stopped.set()
        while self._thread.is_alive():
            self._drain()
            self._thread.join(_POLL_SECONDS)
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def _produce(self) -> None:
        try:
            batches = self._source.batches()
            while self._permitted():
                frame = next(batches, None)
                if frame is None:
                    break
                part = prepare_rows(frame, self._source.columns, self.mapping, self.region)
                self._queue.put((frame, part))
            self._queue.put(_END)
        except BaseException as err:  # handed to the consumer, which raises it
            self._queue.put(_Failed(err))

    def _permitted(self) -> bool:
        """Wait for a permit to prepare another chunk; False once stopped."""
        while not self._stopped.is_set():
            if self._permits.acquire(timeout=_POLL_SECONDS):
                return not self._stopped.is_set()
        return False


@dataclass
class _Prefetch:
    """read_and_map's outcome for one set of options, and the read-ahead it started."""

    key: tuple[object, ...]
    done: threading.Event = field(default_factory=threading.Event)
    result: tuple[SourceTable, ColumnMapping] | None = None  # its source's read_ahead runs
    error: BaseException | None = None
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


_prefetches: dict[tuple[object, ...], _Prefetch] = {}
_registry_lock = threading.Lock()


def _key(options: ImportOptions) -> tuple[object, ...]:
    """What decides the read and the prepared chunks; the database plays no part."""
    return (
        str(options.path),
        options.encoding,
        options.sheet,
        tuple(sorted(options.overrides.items())),
        options.region,
    )


@contextmanager
def prefetching(options: ImportOptions) -> Iterator[None]:
    """Read, map and prepare `options.path` in the background while the block runs; the
    import inside the block takes it (`take_prefetched`). Stopped at the block's end."""
    from contacts.importer import read_header  # the importer imports this module

    entry = _Prefetch(_key(options))

    def run() -> None:
        try:
            source, mapping = read_header(options)
            with entry.lock:
                if not entry.closed:
                    source.read_ahead = ReadAhead(source, mapping, options.region)
                    entry.result = (source, mapping)
        except BaseException as err:
            entry.error = err
        finally:
            entry.done.set()

    with _registry_lock:
        _prefetches[entry.key] = entry
    thread = threading.Thread(target=run, name="contacts-prefetch", daemon=True)
    thread.start()
    try:
        yield
    finally:
        with _registry_lock:
            if _prefetches.get(entry.key) is entry:
                del _prefetches[entry.key]
        with entry.lock:
            entry.closed = True
        if entry.result is not None and entry.result[0].read_ahead is not None:
            entry.result[0].read_ahead.close()


def take_prefetched(options: ImportOptions) -> tuple[SourceTable, ColumnMapping] | None:
    """What `prefetching` read for these options (waiting for it), once; None if nothing
    was prefetched for them. Raises what the prefetch's read raised. The source's
    `read_ahead` is already preparing its chunks."""
    with _registry_lock:
        entry = _prefetches.pop(_key(options), None)
    if entry is None:
        return None
    entry.done.wait()
    if entry.error is not None:
        raise entry.error
    return entry.result


def prepared_chunks(source: SourceTable, mapping: ColumnMapping, region: str) -> ReadAhead:
    """The source's read-ahead when one was prefetched for this mapping and region, else
    a new one. The caller closes it."""
    started = source.read_ahead
    if started is None:
        return ReadAhead(source, mapping, region)
    if started.mapping != mapping or started.region != region:
        started.close()
        raise RuntimeError(f"{source.path} was prepared with another mapping or region")
    return started
