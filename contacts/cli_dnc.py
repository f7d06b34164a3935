"""Commands: contacts dnc add|remove|check|status|import|export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from contacts.cli_app import (
    RegionOption,
    Settings,
    app,
    fail,
    loading_flows,
    parse_time,
    run_flow,
    user,
    when,
)
from contacts.errors import ContactsError

dnc_app = typer.Typer(no_args_is_help=True, help="Do-Not-Call: the suppression ledger.")
app.add_typer(dnc_app, name="dnc")
SourceOption = Annotated[str, typer.Option(help="manual | call | api | registry | state | file")]


@dnc_app.command("add")
def dnc_add_command(
    ctx: typer.Context,
    phones: Annotated[list[str], typer.Argument(help="Numbers, in any format.")],
    source: SourceOption = "manual",
    reason: Annotated[str | None, typer.Option(help="Why (kept in the ledger).")] = None,
    actor: Annotated[str | None, typer.Option(help="Who (default: $USER).")] = None,
    region: RegionOption = "US",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Suppress numbers."""
    from contacts.dnc import add_numbers

    settings: Settings = ctx.obj
    try:
        change = add_numbers(
            settings.db,
            phones,
            source=source,
            reason=reason,
            actor=actor or user(),
            region=region,
        )
    except ContactsError as err:
        raise fail(err) from None
    _print_change(change, "suppressed", as_json)


@dnc_app.command("remove")
def dnc_remove_command(
    ctx: typer.Context,
    phones: Annotated[list[str], typer.Argument(help="Numbers, in any format.")],
    reason: Annotated[str, typer.Option(help="Why the number may be called again.")] = "",
    source: Annotated[
        str | None, typer.Option(help="Remove only this source (default: all).")
    ] = None,
    override_consumer_request: Annotated[
        bool,
        typer.Option(
            "--override-consumer-request",
            help="Also remove a consumer's own request younger than 5 years.",
        ),
    ] = False,
    actor: Annotated[str | None, typer.Option(help="Who (default: $USER).")] = None,
    region: RegionOption = "US",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Reactivate numbers (needs --reason; recorded in the ledger)."""
    from contacts.dnc import remove_numbers

    settings: Settings = ctx.obj
    try:
        change = remove_numbers(
            settings.db,
            phones,
            reason=reason,
            actor=actor or user(),
            source=source,
            region=region,
            override_consumer_request=override_consumer_request,
        )
    except ContactsError as err:
        raise fail(err) from None
    _print_change(change, "reactivated", as_json)


@dnc_app.command("check")
def dnc_check_command(
    ctx: typer.Context,
    phone: Annotated[str, typer.Argument(help="A number, in any format.")],
    at: Annotated[
        str | None, typer.Option(help="ISO time, e.g. 2026-01-31T12:00:00Z (default: now).")
    ] = None,
    region: RegionOption = "US",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Was this number suppressed (now, or at --at), and by which sources?"""
    from contacts.dnc import check_number

    settings: Settings = ctx.obj
    try:
        result = check_number(settings.db, phone, region=region, at=parse_time(at))
    except ContactsError as err:
        raise fail(err) from None
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    state = "SUPPRESSED" if result.suppressed else "not suppressed"
    typer.echo(f"{result.phone}: {state} at {result.at.isoformat()}")
    for entry in result.sources:
        typer.echo(f"  {entry['source']:9} since {entry['since']}  {entry['reason'] or ''}")


@dnc_app.command("status")
def dnc_status_command(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Size and freshness of each DNC source (registry older than 31 days: warning)."""
    from contacts.dnc import dnc_status

    settings: Settings = ctx.obj
    try:
        rows = dnc_status(settings.db)
    except ContactsError as err:
        raise fail(err) from None
    if as_json:
        typer.echo(json.dumps([row.__dict__ for row in rows], default=str))
        return
    typer.echo(f"{'source':9} {'numbers':>11}  {'last event':25}  last file load")
    for row in rows:
        typer.echo(
            f"{row.source:9} {row.numbers:>11,}  {when(row.last_event):25}  {when(row.last_load)}"
        )
    for row in rows:
        if row.warning:
            typer.echo(f"Warning: {row.warning}", err=True)


@dnc_app.command("import")
def dnc_import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Registry list, change list, list or CSV.")],
    source: SourceOption = "file",
    region: RegionOption = "US",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Load a DNC file (FTC full or change list, one number a line, or a CSV)."""
    from contacts.dnc import check_source

    settings: Settings = ctx.obj
    try:
        check_source(source)
        if not file.exists():
            raise ContactsError(f"{file}: no such file; check the path")
        with loading_flows(settings.verbose):
            from flows.dnc import import_dnc

        load = run_flow(
            import_dnc, path=str(file), db=str(settings.db), source=source, region=region
        )
    except ContactsError as err:
        raise fail(err) from None
    typer.echo(json.dumps(load.as_dict(), default=str) if as_json else str(load))


@dnc_app.command("export")
def dnc_export_command(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", help="Full list CSV; delta and manifest beside it.")
    ],
) -> None:
    """Write every suppressed number, the delta since the last export, and a manifest."""
    settings: Settings = ctx.obj
    try:
        with loading_flows(settings.verbose):
            from flows.dnc import export_dnc_suppression

        manifest = run_flow(export_dnc_suppression, db=str(settings.db), out=str(out))
    except ContactsError as err:
        raise fail(err) from None
    typer.echo(
        f"Exported {manifest['numbers']:,} suppressed numbers to {out} "
        f"(+{manifest['added']:,} / -{manifest['removed']:,} since the last export)"
    )


def _print_change(change: Any, verb: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(change.as_dict()))
        return
    typer.echo(f"{len(change.changed)} {verb}, {len(change.unchanged)} unchanged")
    for raw, reason in change.invalid:
        typer.echo(f"Skipped {raw!r}: {reason}", err=True)
