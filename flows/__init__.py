"""Prefect flows: thin orchestration over the contacts library.

Importing this package stops a synchronous flow run from waiting on its heartbeat thread.
Prefect 3.8.8's sync engine (`prefect.flow_engine.FlowRunEngine.run_context`) leaves
`_send_heartbeats(self)` with `join_on_exit=True`: it sets the thread's stop event, then
joins it for up to 2 s while the thread finishes the 1 s `time.sleep` it is in, adding
0-1 s (0.5 s on average) to every flow run, subflows included. The thread is a daemon
that stops by itself at its next tick and never emits once the run is final; Prefect's
async engine runs the same context manager with `join_on_exit=False`. Heartbeats are
still sent exactly as before (at the start of a run, then every
`PREFECT_FLOWS_HEARTBEAT_FREQUENCY` seconds).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from prefect import flow_engine


def _heartbeats_without_join(send_heartbeats: Callable[..., Any]) -> Callable[..., Any]:
    def send_heartbeats_without_join(engine: Any, join_on_exit: bool = True) -> Any:
        return send_heartbeats(engine, join_on_exit=False)

    send_heartbeats_without_join.joins_heartbeats = False  # type: ignore[attr-defined]
    return send_heartbeats_without_join


def _install() -> None:
    current = getattr(flow_engine, "_send_heartbeats", None)
    if current is None or hasattr(current, "joins_heartbeats"):
        return  # a Prefect without it (the code below would not apply), or done already
    if "join_on_exit" not in inspect.signature(current).parameters:
        return
    flow_engine._send_heartbeats = _heartbeats_without_join(current)


_install()
