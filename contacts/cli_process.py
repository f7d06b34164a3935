"""How a CLI process spends its fixed cost: importing the heavy libraries and exiting.

Two costs of a `contacts import` that do no work for it (medians on 2 cores):

- The cyclic garbage collector while Prefect, polars, DuckDB and pandera load: they
  allocate ~400k objects that live until exit, and the collector rescans them again and
  again while they load and for a while after (~0.4 s). `gc_paused` pauses it for the
  imports; in the console script it also freezes what was imported (`gc.freeze`), so later
  collections skip those objects.
- The interpreter's teardown after a flow run (~0.5 s): clearing ~2,000 modules and
  collecting the heap they built, once every exit handler has run. By then Prefect has
  delivered its logs and events (its services drain in `threading._register_atexit` hooks,
  `prefect._internal.concurrency.services._QueueServiceBase.start`, which run before any
  `atexit` handler), the database is closed (`Store` is a context manager) and every file
  was written through a closed handle. So the console script's last exit handler flushes
  stdout and stderr and ends the process with main's exit code (`os._exit`).

Both apply only when `contacts.cli.main` runs as the installed `contacts` script and its
exit handler is the first registered (so it runs last); inside another program (tests,
`python -c`, coverage) the process exits as usual.

And one cost in memory: polars' allocator (jemalloc) keeps freed pages for 10 s by
default, so an import's peak RSS counts chunks long since dropped. `tune_allocator`
lowers that to 1 s before polars loads: about the time two chunks take, so each chunk
reuses the pages the previous one freed instead of faulting them in anew (1M rows,
alternated: 0.3-0.45 s and ~0.4 system seconds less than at 200 ms, for 60-85 MB more;
10 s: 1.25 GB; 0 ms cost 30% in time). A `_RJEM_MALLOC_CONF` already set is kept.

And one cost in CPU: numpy's OpenBLAS starts a thread per core when numpy loads, and
those threads spin before they sleep (~0.1 CPU-s per process, `blas_thread_server` in
`perf`), taking a core from Prefect's import on a two-core machine. Nothing here does
linear algebra, so `tune_blas` gives OpenBLAS one thread (no helper threads), unless
`OPENBLAS_NUM_THREADS` is already set.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path

# jemalloc's options as polars reads them (its symbols carry the _rjem_ prefix)
ALLOCATOR_ENV = "_RJEM_MALLOC_CONF"
ALLOCATOR_CONF = "dirty_decay_ms:1000,muzzy_decay_ms:0"


def tune_allocator(environ: MutableMapping[str, str] = os.environ) -> None:
    """Have polars return freed memory within 1 s; only effective before it loads."""
    environ.setdefault(ALLOCATOR_ENV, ALLOCATOR_CONF)


BLAS_THREADS_ENV = "OPENBLAS_NUM_THREADS"


def tune_blas(environ: MutableMapping[str, str] = os.environ) -> None:
    """No OpenBLAS helper threads; only effective before numpy loads."""
    environ.setdefault(BLAS_THREADS_ENV, "1")


class ProcessExit:
    """What `contacts.cli.main` knows about the end of its process."""

    owned = False  # main runs as the script and registered the last exit handler
    ran_flow = False  # a Prefect flow ran in this process
    code: int | None = None  # main's exit code, once it has one


def take_over_exit(main: Callable[[], None]) -> None:
    """Own the process's exit when `main` is the `contacts` script's entry point and no
    `atexit` handler was registered before (handlers run last-registered first)."""
    if ProcessExit.owned:
        return
    script = sys.modules.get("__main__")
    is_script = (
        getattr(script, "main", None) is main
        and Path(getattr(script, "__file__", None) or "").name == "contacts"
    )
    handlers = getattr(atexit, "_ncallbacks", None)
    if is_script and handlers is not None and handlers() == 0:
        atexit.register(_exit_without_teardown)
        ProcessExit.owned = True


def exiting_with(code: int) -> int:
    """Record main's exit code for the last exit handler; returns it."""
    ProcessExit.code = code
    return code


def _exit_without_teardown() -> None:
    if ProcessExit.code is None or not ProcessExit.ran_flow:
        gc.unfreeze()  # the interpreter tears down as usual, and collects everything
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        gc.unfreeze()
        return  # e.g. a closed pipe: let the interpreter report it as usual
    os._exit(ProcessExit.code)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around imports of the heavy libraries.

    Nothing is lost: the collector resumes afterwards and finds whatever is garbage. In
    the console script the objects alive at the end are frozen (`gc.freeze`): collections
    skip them from then on, and `_exit_without_teardown` unfreezes them when the
    interpreter is to tear down after all.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if ProcessExit.owned:
            gc.freeze()
        gc.enable()
