"""Commands: contacts calls import|export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from contacts.cli_app import RegionOption, Settings, app, fail, loading_flows, run_flow
from contacts.errors import ContactsError, SourceFileError

calls_app = typer.Typer(
    no_args_is_help=True, help="Call history: import call records, export the call log."
)
app.add_typer(calls_app, name="calls")


@calls_app.command("import")
def calls_import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A CSV or JSON Lines file of call records.")],
    region: RegionOption = "US",
    encoding: Annotated[str | None, typer.Option(help="Override the detected encoding.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Import call records (idempotent by call_id); dnc_request outcomes suppress the number."""
    from contacts.calls import check_region

    settings: Settings = ctx.obj
    try:
        check_region(region)
        if not file.exists():  # before paying for a flow run
            raise SourceFileError(str(file), "no such file", "check the path")
        with loading_flows(settings.verbose):
            from flows.calls import import_calls

        stats = run_flow(
            import_calls,
            path=str(file),
            db=str(settings.db),
            data_dir=str(settings.data_dir),
            region=region,
            encoding=encoding,
        )
    except ContactsError as err:
        raise fail(err) from None
    typer.echo(json.dumps(stats.as_dict(), ensure_ascii=False) if as_json else str(stats))


@calls_app.command("export")
def calls_export_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    from_: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD, UTC) or ISO time.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Last day (YYYY-MM-DD, UTC, included) or ISO time.")
    ] = None,
    campaign: Annotated[str | None, typer.Option(help="Only this campaign's calls.")] = None,
) -> None:
    """Export the call log for record keeping (calling and called number, date, time, ...)."""
    from contacts.calls import export_calls, parse_bound

    settings: Settings = ctx.obj
    try:
        count = export_calls(
            settings.db,
            out,
            start=parse_bound(from_, "--from"),
            end=parse_bound(to, "--to", end=True),
            campaign=campaign,
        )
    except ContactsError as err:
        raise fail(err) from None
    typer.echo(f"Exported {count:,} calls to {out}")
