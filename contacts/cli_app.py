"""The typer app and what every command group shares: settings, errors, flows.

Exit codes: 0 success, 1 the work failed (one line on stderr), 2 usage error.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from contacts.cli_process import ProcessExit, gc_paused
from contacts.errors import ContactsError, UsageError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Contact-data pipeline: import, normalize, dedupe and suppress contacts.",
)
batch_app = typer.Typer(no_args_is_help=True, help="Inspect import batches.")
app.add_typer(batch_app, name="batch")


@dataclass
class Settings:
    """Configuration read once at the edge and passed down."""

    db: Path
    data_dir: Path
    verbose: bool


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[
        Path,
        typer.Option(envvar="CONTACTS_DB", help="Database file."),
    ] = Path("data/contacts.duckdb"),
    data_dir: Annotated[
        Path, typer.Option(envvar="CONTACTS_DATA_DIR", help="Folder for batch reports.")
    ] = Path("data"),
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect logs.")] = False,
) -> None:
    ctx.obj = Settings(db=db, data_dir=data_dir, verbose=verbose)


def fail(err: ContactsError) -> typer.Exit:
    typer.echo(f"Error: {err}", err=True)
    return typer.Exit(err.exit_code)


RegionOption = Annotated[str, typer.Option(help="Region for numbers without a country code.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def run_flow(flow_function: Any, **parameters: Any) -> Any:
    """Run a flow; turn its Failed state back into the error it carries."""
    ProcessExit.ran_flow = True
    state = flow_function(**parameters, return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, ContactsError):
        raise result
    if isinstance(result, BaseException):
        raise ContactsError(f"import failed: {type(result).__name__}: {result}")
    return result


def quiet_prefect(verbose: bool) -> None:
    """Prefect's console logs stay off unless --verbose; the API still gets them."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
        os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "CRITICAL")
        os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")


# Modules Prefect imports on a flow's first call (`Flow.__call__` and
# `Flow.serialize_parameters` in prefect/flows.py): imported with the flow, under `gc_paused`.
FLOW_RUN_MODULES = (
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect.utilities.visualization",
    "fastapi.encoders",
)


@contextmanager
def loading_flows(verbose: bool) -> Iterator[None]:
    """Configure Prefect (`quiet_prefect`), then import flows in the block with the
    collector paused, along with the modules their first run imports."""
    quiet_prefect(verbose)
    with gc_paused():
        yield
        for module in FLOW_RUN_MODULES:
            importlib.import_module(module)


def parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise UsageError(f"--at {text!r} is not an ISO 8601 time") from err
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "never"


def user() -> str:
    return os.environ.get("USER") or os.environ.get("USERNAME") or "cli"
