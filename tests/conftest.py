"""Shared fixtures: a scratch database, fixture paths, in-process CLI runs, Prefect."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass
class Workspace:
    """A scratch database and data folder for one test."""

    root: Path

    @property
    def db(self) -> Path:
        return self.root / "contacts.duckdb"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def options(self, path: Path, **overrides: object):
        from contacts.importer import ImportOptions

        return ImportOptions(path=path, db=self.db, data_dir=self.data_dir, **overrides)

    def run_import(self, path: Path, **overrides: object):
        """Import without Prefect (the library entry point)."""
        from contacts.importer import run_import

        return run_import(self.options(path, **overrides))


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run `contacts ARGS...` in-process against the workspace; return code and output."""
    from contacts.cli import main

    def run(*args: str) -> CliResult:
        argv = ["contacts", "--db", str(workspace.db), "--data-dir", str(workspace.data_dir)]
        monkeypatch.setattr(sys, "argv", [*argv, *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One temporary Prefect API for the whole run (about 15 s, paid once)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness():
        yield
