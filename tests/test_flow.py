"""The import_contacts flow under one session-scoped Prefect test server."""

from __future__ import annotations

import asyncio

import pytest

from contacts.errors import MappingError
from contacts.stats import JSON_KEYS, BatchStats
from flows.import_contacts import import_contacts

pytestmark = pytest.mark.usefixtures("prefect_server")


def read_artifact(key: str) -> list[dict]:
    from prefect.client.orchestration import get_client

    async def fetch():
        async with get_client() as client:
            artifact = await client.read_latest_artifacts()
            return [a for a in artifact if a.key == key]

    found = asyncio.run(fetch())
    return found[0].data if found else []


def test_flow_imports_and_publishes_the_stats(workspace, tmp_path):
    source = tmp_path / "c.csv"
    source.write_text("Name,Phone\nAnn Lee,(650) 253-0000\nBo,12\n", encoding="utf-8")
    state = import_contacts(
        path=str(source), db=str(workspace.db), data_dir=str(workspace.data_dir),
        return_state=True,
    )  # fmt: skip
    assert state.is_completed()
    stats = state.result()
    assert isinstance(stats, BatchStats)
    assert (stats.imported, stats.invalid, stats.status) == (1, 1, "completed")
    assert list(stats.as_dict()) == list(JSON_KEYS)
    artifact = read_artifact(f"import-{stats.batch_id.lower()}")
    assert artifact, "the flow publishes a table artifact with the batch stats"


def test_flow_fails_cleanly_on_a_file_it_cannot_import(workspace, tmp_path):
    source = tmp_path / "names.csv"
    source.write_text("Name,City\nAnn,Paris\n", encoding="utf-8")
    state = import_contacts(
        path=str(source), db=str(workspace.db), data_dir=str(workspace.data_dir),
        return_state=True,
    )  # fmt: skip
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, MappingError)
    assert not workspace.db.exists()  # nothing was written for a file that cannot import


def test_a_flow_run_sends_its_heartbeat_but_does_not_wait_for_the_thread():
    import logging
    import threading
    import time

    from prefect import flow_engine

    sent = threading.Event()

    class Engine:  # what `_send_heartbeats` uses of a FlowRunEngine
        heartbeat_seconds = 30
        flow_run = None
        logger = logging.getLogger("test")

        def _build_heartbeat_event_template(self):
            return {}, []

        def _emit_flow_run_heartbeat(self, resource, related):
            sent.set()

    started = time.monotonic()
    with flow_engine._send_heartbeats(Engine()):
        assert sent.wait(5), "the heartbeat is sent when the run starts"
    # Prefect's sync engine joins the thread, which sleeps in 1 s steps: up to 1 s more
    assert time.monotonic() - started < 0.5
