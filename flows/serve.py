"""The served deployments: the inbox scan on an interval, the DNC export on a cron."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron

from flows.dnc import export_dnc_suppression
from flows.inbox import scan_inbox


@dataclass(frozen=True)
class ServeConfig:
    db: Path
    data_dir: Path
    inbox: Path
    interval_seconds: float = 60.0
    settle_seconds: float = 10.0
    region: str = "US"
    export_cron: str = "0 2 * * *"
    export_timezone: str = "UTC"
    export_out: Path | None = None

    @property
    def export_path(self) -> Path:
        return self.export_out or self.data_dir / "exports" / "dnc_suppression.csv"


def build_deployments(config: ServeConfig) -> list[RunnerDeployment]:
    """The two scheduled deployments `contacts serve` runs."""
    inbox = scan_inbox.to_deployment(
        name="inbox",
        interval=timedelta(seconds=config.interval_seconds),
        parameters={
            "inbox": str(config.inbox),
            "db": str(config.db),
            "data_dir": str(config.data_dir),
            "region": config.region,
            "settle_seconds": config.settle_seconds,
        },
        description="Import each new file dropped in the inbox exactly once.",
    )
    nightly = export_dnc_suppression.to_deployment(
        name="nightly-dnc-export",
        schedule=Cron(config.export_cron, timezone=config.export_timezone),
        parameters={"db": str(config.db), "out": str(config.export_path)},
        description="Full DNC suppression list, delta and manifest for dialers.",
    )
    return [inbox, nightly]


def serve_forever(config: ServeConfig) -> None:
    """Serve until interrupted; schedules stay active across restarts."""
    from prefect import serve

    config.inbox.mkdir(parents=True, exist_ok=True)
    serve(*build_deployments(config), pause_on_shutdown=False)
