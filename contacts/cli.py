"""The `contacts` console script: the app, its command groups, and exit codes."""

from __future__ import annotations

import sys

import typer

from contacts import (  # noqa: F401 - importing registers the commands
    cli_calls,
    cli_dnc,
    cli_import,
    cli_manage,
    cli_ops,
)
from contacts.cli_app import app
from contacts.cli_process import exiting_with, take_over_exit, tune_allocator, tune_blas
from contacts.errors import UsageError

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: usage errors exit 2 with one line."""
    take_over_exit(main)  # as the `contacts` script, skip the interpreter's teardown
    tune_allocator()  # before anything loads polars
    tune_blas()  # and numpy
    sys.exit(exiting_with(_run()))


def _run() -> int:
    try:
        code = app(standalone_mode=False)
    except UsageError as err:
        typer.echo(f"Error: {err}", err=True)
        return 2
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        return 1
    except Exception as err:  # click's usage errors (typer vendors click: match by shape)
        if hasattr(err, "format_message") and hasattr(err, "exit_code"):
            typer.echo(f"Error: {err.format_message()}", err=True)
            return err.exit_code
        raise
    return code if isinstance(code, int) else 0
