"""The `contacts` command line: thin wrappers over the library and the flows.

Exit codes: 0 success, 1 the work failed (one line on stderr), 2 usage error.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from contacts.errors import ContactsError, UsageError

if TYPE_CHECKING:
    from contacts.importer import ImportOptions
    from contacts.stats import BatchStats

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
    _quiet_prefect(verbose)
    from flows.import_contacts import import_contacts

    return _run_flow(
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


def _run_flow(flow_function: Any, **parameters: Any) -> Any:
    """Run a flow; turn its Failed state back into the error it carries."""
    state = flow_function(**parameters, return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, ContactsError):
        raise result
    if isinstance(result, BaseException):
        raise ContactsError(f"import failed: {type(result).__name__}: {result}")
    return result


def _quiet_prefect(verbose: bool) -> None:
    """Prefect's console logs stay off unless --verbose; the API still gets them."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
        os.environ.setdefault("PREFECT_LOGGING_SERVER_LEVEL", "CRITICAL")
        os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")


@app.command("export")
def export_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    status: Annotated[str | None, typer.Option(help="active | dnc")] = None,
    search: Annotated[str | None, typer.Option(help="Name, email, company or phone.")] = None,
    callable_: Annotated[
        bool, typer.Option("--callable", help="Only active, unsuppressed contacts.")
    ] = False,
    region: Annotated[str, typer.Option(help="Region for a phone typed in --search.")] = "US",
) -> None:
    """Export contacts to CSV (spreadsheet formulas neutralized)."""
    settings: Settings = ctx.obj
    from contacts.exporting import ExportFilters, export_contacts

    try:
        count = export_contacts(
            settings.db,
            out,
            ExportFilters(status=status, search=search, callable=callable_, region=region),
        )
    except ContactsError as err:
        raise fail(err) from None
    typer.echo(f"Exported {count:,} contacts to {out}")


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


dnc_app = typer.Typer(no_args_is_help=True, help="Do-Not-Call: the suppression ledger.")
app.add_typer(dnc_app, name="dnc")
SourceOption = Annotated[str, typer.Option(help="manual | call | api | registry | state | file")]
RegionOption = Annotated[str, typer.Option(help="Region for numbers without a country code.")]


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
            actor=actor or _user(),
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
            actor=actor or _user(),
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
        result = check_number(settings.db, phone, region=region, at=_parse_time(at))
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
            f"{row.source:9} {row.numbers:>11,}  {_when(row.last_event):25}  {_when(row.last_load)}"
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
        _quiet_prefect(settings.verbose)
        from flows.dnc import import_dnc

        load = _run_flow(
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
        _quiet_prefect(settings.verbose)
        from flows.dnc import export_dnc_suppression

        manifest = _run_flow(export_dnc_suppression, db=str(settings.db), out=str(out))
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


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as err:
        raise UsageError(f"--at {text!r} is not an ISO 8601 time") from err
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else "never"


def _user() -> str:
    return os.environ.get("USER") or os.environ.get("USERNAME") or "cli"


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
