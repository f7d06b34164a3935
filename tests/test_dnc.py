"""The DNC ledger: sources, the five-year guard, registry files, exports, no leaks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from examples_scale import scaled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contacts import dnc_export
from contacts.dnc import (
    ConsumerRequestGuard,
    add_numbers,
    check_number,
    dnc_status,
    record_call_request,
    remove_numbers,
)
from contacts.dnc_export import export_suppression
from contacts.dnc_files import load_dnc_file
from contacts.errors import UsageError
from contacts.exporting import ExportFilters, selection_frame
from store.contacts import delete_contacts
from store.db import PHONE_KEY, Store

FIXTURES = Path(__file__).parent / "fixtures"

DNC = FIXTURES / "dnc"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def suppressed(db: Path) -> set[str]:
    with Store.open(db, read_only=True) as store:
        return set(store.frame("SELECT phone FROM dnc_suppressed")["phone"].to_list())


def test_add_in_any_format_then_check_names_the_source(workspace):
    change = add_numbers(workspace.db, ["(212) 736-5000", "n/a"], reason="email", actor="ops")
    assert change.changed == ["+12127365000"]
    assert change.invalid == [("n/a", "not_a_number")]
    result = check_number(workspace.db, "212.736.5000")
    assert result.suppressed
    assert [(s["source"], s["reason"], s["actor"]) for s in result.sources] == [
        ("manual", "email", "ops")
    ]
    again = add_numbers(workspace.db, ["+1 212 736 5000"])
    assert (again.changed, again.unchanged) == ([], ["+12127365000"])


def test_remove_needs_a_reason_and_is_an_event(workspace):
    add_numbers(workspace.db, ["2127365000"], at=T0)
    with pytest.raises(UsageError, match="needs --reason"):
        remove_numbers(workspace.db, ["2127365000"], reason=" ")
    remove_numbers(workspace.db, ["2127365000"], reason="customer opted in", at=T0 + timedelta(1))
    assert suppressed(workspace.db) == set()
    with Store.open(workspace.db, read_only=True) as store:
        actions = store.frame("SELECT action FROM dnc_events ORDER BY id")["action"].to_list()
    assert actions == ["add", "remove"]  # append-only: nothing was deleted


def test_check_at_answers_for_a_past_time(workspace):
    add_numbers(workspace.db, ["2127365000"], source="manual", at=T0)
    add_numbers(workspace.db, ["2127365000"], source="registry", at=T0 + timedelta(days=10))
    remove_numbers(workspace.db, ["2127365000"], reason="ok", at=T0 + timedelta(days=20))
    assert not check_number(workspace.db, "2127365000", at=T0 - timedelta(days=1)).suppressed
    mid = check_number(workspace.db, "2127365000", at=T0 + timedelta(days=15))
    assert [s["source"] for s in mid.sources] == ["manual", "registry"]
    assert not check_number(workspace.db, "2127365000", at=T0 + timedelta(days=30)).suppressed


def test_consumer_request_younger_than_five_years_needs_an_override(workspace):
    now = datetime.now(UTC)
    record_call_request(workspace.db, "(650) 253-0000", call_id="c-1", at=now - timedelta(days=400))
    with pytest.raises(ConsumerRequestGuard, match=r"\+16502530000: the consumer asked"):
        remove_numbers(workspace.db, ["6502530000"], reason="wrong number")
    assert suppressed(workspace.db) == {"+16502530000"}
    remove_numbers(
        workspace.db, ["6502530000"], reason="consumer re-consented in writing",
        override_consumer_request=True,
    )  # fmt: skip
    assert suppressed(workspace.db) == set()


def test_consumer_request_older_than_five_years_can_be_removed(workspace):
    old = datetime.now(UTC) - timedelta(days=5 * 366)
    record_call_request(workspace.db, "6502530000", call_id="c-2", at=old)
    remove_numbers(workspace.db, ["6502530000"], reason="expired request")
    assert suppressed(workspace.db) == set()


@pytest.mark.parametrize(
    ("name", "added", "malformed"),
    [("ftc_full_10digit.txt", 2, 2), ("ftc_full_area_comma.txt", 2, 2)],
)
def test_ftc_full_lists_in_both_shapes(workspace, name, added, malformed):
    load = load_dnc_file(workspace.db, DNC / name, source="registry")
    assert (load.kind, load.added, load.malformed) == ("full_list", added, malformed)
    assert suppressed(workspace.db) == {"+12127365000", "+16502530000"}
    assert all(sample["line"] > 2 for sample in load.malformed_samples)
    assert dnc_status(workspace.db)[0].warning is None  # fresh registry copy


def test_change_list_deletion_removes_only_the_registry_source(workspace):
    load_dnc_file(workspace.db, DNC / "ftc_full_10digit.txt", source="registry")
    record_call_request(workspace.db, "6502530000", call_id="c-3", at=datetime.now(UTC))
    load = load_dnc_file(workspace.db, DNC / "ftc_change_list.txt", source="registry")
    assert (load.kind, load.added, load.removed, load.malformed) == ("change_list", 1, 1, 1)
    sources = check_number(workspace.db, "6502530000").sources
    assert [s["source"] for s in sources] == ["call"]  # the consumer's own request stays
    assert "+13125550123" in suppressed(workspace.db)


def test_full_list_only_replaces_the_area_codes_it_covers(workspace, tmp_path):
    load_dnc_file(workspace.db, DNC / "ftc_full_10digit.txt", source="registry")
    only_212 = tmp_path / "area_212.txt"
    only_212.write_text("2125550199\n")
    load = load_dnc_file(workspace.db, only_212, source="registry")
    assert (load.added, load.removed) == (1, 1)  # 212-736-5000 left the registry
    assert suppressed(workspace.db) == {"+12125550199", "+16502530000"}


def test_csv_with_a_phone_column_any_region(workspace):
    load = load_dnc_file(workspace.db, DNC / "company_list.csv", source="file")
    assert (load.kind, load.added, load.malformed) == ("numbers", 2, 1)
    assert suppressed(workspace.db) == {"+442079460000", "+16502530000"}


def test_stale_registry_is_a_warning(workspace):
    load_dnc_file(workspace.db, DNC / "ftc_full_10digit.txt", source="registry")
    report = dnc_status(workspace.db, at=datetime.now(UTC) + timedelta(days=40))
    registry = next(row for row in report if row.source == "registry")
    assert registry.numbers == 2
    assert registry.warning.startswith("registry copy is 40 days old")


def test_export_writes_full_delta_and_manifest(workspace, tmp_path):
    out = tmp_path / "exports" / "dnc.csv"
    add_numbers(workspace.db, ["2127365000", "6502530000"])
    first = export_suppression(workspace.db, out)
    assert (first["numbers"], first["added"], first["removed"]) == (2, 2, 0)
    remove_numbers(workspace.db, ["6502530000"], reason="opt-in")
    add_numbers(workspace.db, ["+44 20 7946 0000"])
    second = export_suppression(workspace.db, out)
    assert (second["numbers"], second["added"], second["removed"]) == (2, 1, 1)
    assert out.read_text().splitlines() == ["phone", "+12127365000", "+442079460000"]
    delta = (tmp_path / "exports" / "dnc.delta.csv").read_text().splitlines()
    assert delta == ["change,phone", "added,+442079460000", "removed,+16502530000"]
    manifest = json.loads((tmp_path / "exports" / "dnc.manifest.json").read_text())
    assert manifest == second


def test_a_crash_mid_export_leaves_the_previous_files(workspace, tmp_path, monkeypatch):
    out = tmp_path / "dnc.csv"
    add_numbers(workspace.db, ["2127365000"])
    export_suppression(workspace.db, out)
    before = out.read_bytes(), (tmp_path / "dnc.manifest.json").read_bytes()
    add_numbers(workspace.db, ["6502530000"])

    def crash(frame: pl.DataFrame, path: Path) -> str:
        path.with_name(f".{path.name}.partial").write_text("phone\n+1212")  # half a file
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(dnc_export, "_write_atomically", crash)
    with pytest.raises(Exception, match="No space left"):
        export_suppression(workspace.db, out)
    assert (out.read_bytes(), (tmp_path / "dnc.manifest.json").read_bytes()) == before
    monkeypatch.undo()
    assert export_suppression(workspace.db, out)["added"] == 1  # delta vs the last good export


# --- property: no suppressed number is ever callable; status always equals the ledger ---

NUMBERS = ["+16502530000", "+12127365000", "+442079460000", "+33612345678"]
FORMATS = {
    "+16502530000": ["(650) 253-0000", "650.253.0000", "+1 650 253 0000"],
    "+12127365000": ["212-736-5000", "1 (212) 736 5000"],
    "+442079460000": ["+44 20 7946 0000", "+44 (0)20 7946 0000"],
    "+33612345678": ["+33 6 12 34 56 78", "+33612345678"],
}
operations = st.lists(
    st.one_of(
        st.tuples(st.just("import"), st.sampled_from(NUMBERS), st.integers(0, 2)),
        st.tuples(st.just("add"), st.sampled_from(NUMBERS),
                  st.sampled_from(["manual", "call", "api", "registry", "state", "file"])),
        st.tuples(st.just("remove"), st.sampled_from(NUMBERS), st.none()),
        st.tuples(st.just("delete"), st.sampled_from(NUMBERS), st.none()),
    ),
    min_size=1,
    max_size=12,
)  # fmt: skip


@settings(
    max_examples=scaled(25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=operations)
def test_no_suppressed_number_is_ever_callable(tmp_path_factory, steps):
    root = tmp_path_factory.mktemp("prop")
    db = root / "c.duckdb"
    from contacts.importer import ImportOptions, run_import

    ledger: dict[str, set[str]] = {}
    for index, (op, phone, arg) in enumerate(steps):
        if op == "import":
            source = root / f"in{index}.csv"
            raw = FORMATS[phone][arg % len(FORMATS[phone])]
            source.write_text(f'Name,Phone\nP{index},"{raw}"\n', encoding="utf-8")
            run_import(ImportOptions(path=source, db=db, data_dir=root, campaign="c"))
        elif op == "add":
            add_numbers(db, [phone], source=arg)
            ledger.setdefault(phone, set()).add(arg)
        elif op == "remove":
            remove_numbers(db, [phone], reason="test", override_consumer_request=True)
            ledger[phone] = set()
        else:
            with Store.open(db) as store:
                delete_contacts(store, [phone])
        expected = {p for p, sources in ledger.items() if sources}
        assert suppressed(db) == expected
        callable_now = set(selection_frame(db, ExportFilters(callable=True))["phone"].to_list())
        assert not callable_now & expected
        if any(op == "import" for op, _, _ in steps[: index + 1]):  # campaign 'c' exists
            campaign_file = selection_frame(db, ExportFilters(campaign="c"))
            assert not set(campaign_file["phone"].to_list()) & expected
        contacts = selection_frame(db, ExportFilters())
        for row in contacts.iter_rows(named=True):
            assert row["status"] == ("dnc" if row["phone"] in expected else "active")
        with Store.open(db, read_only=True) as store:
            members = store.run(
                "SELECT c.phone FROM campaign_members m JOIN contacts c ON c.id = m.contact_id "
                "JOIN dnc_suppressed s ON s.phone = c.phone WHERE m.added_at > s.since"
            )
        assert not members  # nothing suppressed was added to a campaign after its suppression
        with Store.open(db, read_only=True) as store:
            drift = store.run(
                "SELECT count(*) FROM ((SELECT phone, source, action FROM dnc_current) "
                "EXCEPT ALL (SELECT phone, source, max_by(action, (occurred_at, id)) "
                "FROM dnc_events GROUP BY phone, source))"
            )
        assert drift == [(0,)]  # the maintained state equals the ledger recomputed
        with Store.open(db, read_only=True) as store:
            off_key = store.run(
                "SELECT count(*) FROM dnc_current "
                f"WHERE phone_key IS DISTINCT FROM {PHONE_KEY.format('phone')}"
            )
        assert off_key == [(0,)]  # the key imports look suppressed numbers up by
        with Store.open(db, read_only=True) as store:
            keys = store.run(
                "SELECT count(*), count(DISTINCT phone), count(DISTINCT id) FROM contacts"
            )
        assert keys[0][0] == keys[0][1] == keys[0][2]  # kept unique by the writers (006)
