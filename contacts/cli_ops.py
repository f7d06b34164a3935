"""Commands: serve (the scheduled deployments) and batch revert."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from contacts.cli_app import (
    RegionOption,
    Settings,
    app,
    batch_app,
    fail,
    loading_flows,
    run_flow,
    user,
)
from contacts.errors import ContactsError, UsageError


@batch_app.command("revert")
def batch_revert_command(
    ctx: typer.Context,
    batch_id: Annotated[str, typer.Argument(help="The batch to revert.")],
    reason: Annotated[str | None, typer.Option(help="Why (recorded).")] = None,
) -> None:
    """Delete the contacts a batch created (not those it updated); DNC entries stay."""
    settings: Settings = ctx.obj
    try:
        with loading_flows(settings.verbose):
            from flows.batches import revert_batch_flow

        result = run_flow(
            revert_batch_flow, batch_id=batch_id, db=str(settings.db), actor=user(), reason=reason
        )
    except ContactsError as err:
        raise fail(err) from None
    typer.echo(str(result))


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    inbox: Annotated[Path, typer.Option(help="Drop folder scanned for new files.")] = Path(
        "data/inbox"
    ),
    interval: Annotated[float, typer.Option(help="Seconds between inbox scans.")] = 60.0,
    settle: Annotated[
        float, typer.Option(help="Seconds a file must be unchanged before it is imported.")
    ] = 10.0,
    region: RegionOption = "US",
    export_cron: Annotated[
        str, typer.Option(help="Cron for the DNC suppression export.")
    ] = "0 2 * * *",
    export_timezone: Annotated[str, typer.Option(help="Time zone of the cron.")] = "UTC",
    export_out: Annotated[
        Path | None, typer.Option(help="Suppression file [default: DATA_DIR/exports/...].")
    ] = None,
) -> None:
    """Serve the inbox import (interval) and the nightly DNC export (cron) until stopped."""
    settings: Settings = ctx.obj
    if interval <= 0 or settle < 0:
        raise fail(UsageError("--interval must be positive and --settle not negative"))
    with loading_flows(settings.verbose):
        from flows.serve import ServeConfig, serve_forever

    config = ServeConfig(
        db=settings.db,
        data_dir=settings.data_dir,
        inbox=inbox,
        interval_seconds=interval,
        settle_seconds=settle,
        region=region,
        export_cron=export_cron,
        export_timezone=export_timezone,
        export_out=export_out,
    )
    typer.echo(
        f"Serving: inbox {inbox} every {interval:g}s; DNC export '{export_cron}' "
        f"({export_timezone}) to {config.export_path}. Ctrl-C stops."
    )
    serve_forever(config)
