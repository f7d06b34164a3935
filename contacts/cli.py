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
from contacts.errors import UsageError

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: usage errors exit 2 with one line."""
    try:
        code = app(standalone_mode=False)
    except UsageError as err:
        typer.echo(f"Error: {err}", err=True)
        sys.exit(2)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(1)
    except Exception as err:  # click's usage errors (typer vendors click: match by shape)
        if hasattr(err, "format_message") and hasattr(err, "exit_code"):
            typer.echo(f"Error: {err.format_message()}", err=True)
            sys.exit(err.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
