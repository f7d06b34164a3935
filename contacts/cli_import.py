"""Commands: import, export, batches, batch show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from contacts.cli_app import Settings, app, batch_app, fail, loading_flows, run_flow
from contacts.cli_process import gc_paused
from contacts.errors import ContactsError
from contacts.progress import show_progress

if TYPE_CHECKING:
    from contacts.importer import ImportOptions
    from contacts.stats import BatchStats


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .csv, .tsv, .txt or .xlsx contact list.")],
    region: Annotated[str, typer.Option(help="Region for numbers without a country code.")] = "US",
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="Override the mapping: 'Column=field' (repeatable)."),
    ] = None,
    campaign: Annotated[str | None, typer.Option(help="Add the batch's contacts to it.")] = None,
    on_duplicate: Annotated[
        str, typer.Option(help="skip | update | fill, for phones already stored.")
    ] = "skip",
    encoding: Annotated[str | None, typer.Option(help="Override the detected encoding.")] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet (default: the first).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show mapping and counts only.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Import a contact file: map, validate, normalize, dedupe, store."""
    settings: Settings = ctx.obj
    with gc_paused():
        from contacts.importer import ImportOptions, check_options, run_import
        from transforms.mapping import parse_overrides

    try:
        options = check_options(
            ImportOptions(
                path=file,
                db=settings.db,
                data_dir=settings.data_dir,
                region=region,
                overrides=parse_overrides(map_ or []),
                campaign=campaign,
                on_duplicate=on_duplicate,
                encoding=encoding,
                sheet=sheet,
            )
        )
        with show_progress(not as_json and not settings.verbose):
            if dry_run:
                stats = run_import(options, dry_run=True)
            else:
                stats = _run_import_flow(options, settings.verbose)
    except ContactsError as err:
        raise fail(err) from None
    if as_json:
        typer.echo(json.dumps(stats.as_dict(), ensure_ascii=False))
    else:
        typer.echo(str(stats))


def _run_import_flow(options: ImportOptions, verbose: bool) -> BatchStats:
    """The import flow, with the file read and its first chunk prepared while Prefect
    loads (`contacts.readahead.prefetching`)."""
    from contacts.readahead import prefetching

    with prefetching(options):
        with loading_flows(verbose):
            from flows.import_contacts import import_contacts

        return run_flow(
            import_contacts,
            path=str(options.path),
            db=str(options.db),
            data_dir=str(options.data_dir),
            region=options.region,
            overrides=options.overrides,
            campaign=options.campaign,
            on_duplicate=options.on_duplicate,
            encoding=options.encoding,
            sheet=options.sheet,
        )


@app.command("export")
def export_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    status: Annotated[str | None, typer.Option(help="active | dnc")] = None,
    campaign: Annotated[
        str | None,
        typer.Option(help="Members of this campaign (suppressed numbers always left out)."),
    ] = None,
    search: Annotated[str | None, typer.Option(help="Name, email, company or phone.")] = None,
    called_from: Annotated[
        str | None, typer.Option(help="Last called on or after (date or ISO time, UTC).")
    ] = None,
    called_to: Annotated[
        str | None, typer.Option(help="Last called on or before (date or ISO time).")
    ] = None,
    callable_: Annotated[
        bool, typer.Option("--callable", help="Only active, unsuppressed contacts.")
    ] = False,
    calling_window: Annotated[
        str | None,
        typer.Option(help="Only numbers whose every time zone is inside, e.g. 08:00-21:00."),
    ] = None,
    window_at: Annotated[
        str | None,
        typer.Option(help="Instant for the calling window (ISO time; default now)."),
    ] = None,
    region: Annotated[str, typer.Option(help="Region for a phone typed in --search.")] = "US",
) -> None:
    """Export contacts to CSV (spreadsheet formulas neutralized).

    --calling-window or --window-at keep only the numbers callable at that instant: every
    candidate time zone inside the window (federal default 08:00-21:00); numbers with no
    known zone are left out.
    """
    settings: Settings = ctx.obj
    from contacts.exporting import ExportFilters, export_contacts

    filters = ExportFilters(
        status=status,
        search=search,
        callable=callable_,
        region=region,
        campaign=campaign,
        called_from=called_from,
        called_to=called_to,
        calling_window=calling_window,
        window_at=window_at,
    )
    try:
        result = export_contacts(settings.db, out, filters)
    except ContactsError as err:
        raise fail(err) from None
    typer.echo(f"Exported {result.rows:,} contacts to {out}")
    if result.suppressed_members:
        count = result.suppressed_members
        typer.echo(
            f"Left out {count:,} {'member' if count == 1 else 'members'} of campaign "
            f"{campaign} whose numbers are suppressed (Do-Not-Call)"
        )
    if result.window is not None:
        typer.echo(
            f"Left out {result.outside_window:,} outside the calling window "
            f"({result.window}) and {result.no_time_zone:,} with no known time zone"
        )


@app.command("batches")
def batches_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    limit: Annotated[int, typer.Option(help="Most recent N batches.")] = 50,
) -> None:
    """List import batches, newest first."""
    settings: Settings = ctx.obj
    from contacts.batches import batch_rows, format_batches

    try:
        rows = batch_rows(settings.db, limit)
    except ContactsError as err:
        raise fail(err) from None
    typer.echo(json.dumps(rows, default=str) if as_json else format_batches(rows))


@batch_app.command("show")
def batch_show_command(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument(help="The batch id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Show one batch: its counts, mapping and error."""
    settings: Settings = ctx.obj
    from contacts.batches import batch_detail

    try:
        detail = batch_detail(settings.db, batch_id)
    except ContactsError as err:
        raise fail(err) from None
    if as_json:
        typer.echo(json.dumps(detail, default=str))
    else:
        typer.echo("\n".join(f"{key:22} {value}" for key, value in detail.items()))
