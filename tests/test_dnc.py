"""The DNC ledger: sources, the five-year guard, registry files, exports, no leaks."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from examples_scale import scaled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from older_databases import database_at_migration

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
from store.contacts import delete_contacts, dnc_sources_now
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


def test_other_scripts_digits_are_read_as_the_digits_they_stand_for(workspace, tmp_path):
    """A registry line in Arabic-Indic digits was once taken as a registry shape and its
    digits kept as they were: a number no contact has, so a leak. Now the normalizer
    reads it."""
    listing = tmp_path / "numbers.txt"
    listing.write_text("2125550124\n212555\u0660\u0661\u0662\u0665\n", encoding="utf-8")
    load = load_dnc_file(workspace.db, listing, source="registry")
    assert (load.added, load.malformed) == (2, 0)
    assert suppressed(workspace.db) == {"+12125550124", "+12125550125"}


# Parts of registry lines, right and near misses: every combination is one test line.
LINE_PARTS = (
    ["", " ", "+1", "1", "1-", "(", "+"],
    ["212", "112", "012", "650", "99"],
    ["", ",", ", ", "-", ") ", " ", ",,"],
    ["555", "155", "055", "736", "55"],
    ["", "-", " ", "."],
    ["0123", "5000", "01234", "012"],
    ["", " ", ",A", ",d,2026-01-02", ",x", ",", "\u0665"],
)


def assert_short_cut_agrees(texts: list[str]) -> None:
    from polars.testing import assert_frame_equal

    from transforms.dnc_lines import LINE_SCHEMA, parse_any_registry_lines, parse_registry_lines

    lines = pl.DataFrame({"line": range(1, len(texts) + 1), "text": texts}, schema=LINE_SCHEMA)
    quick, whole = parse_registry_lines(lines), parse_any_registry_lines(lines)
    assert_frame_equal(quick[0], whole[0])
    assert_frame_equal(quick[1], whole[1])


def test_the_full_lists_short_cut_answers_as_the_whole_parse():
    """On every combination of LINE_PARTS (137,200 lines)."""
    assert_short_cut_agrees(["".join(parts) for parts in itertools.product(*LINE_PARTS)])


@settings(max_examples=scaled(200), deadline=None)
@given(
    texts=st.lists(
        st.text(alphabet='0123456789,()+-. ADad\u0660\u0665\uff15x"\t', max_size=16),
        max_size=25,
    )
)
def test_the_short_cut_answers_as_the_whole_parse_on_any_text(texts):
    assert_short_cut_agrees(texts)


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
    add_numbers(workspace.db, ["6502530000"])  # back, after its removal was exported
    third = export_suppression(workspace.db, out)
    assert (third["numbers"], third["added"], third["removed"]) == (3, 1, 0)
    unchanged = export_suppression(workspace.db, out)
    assert (unchanged["numbers"], unchanged["added"], unchanged["removed"]) == (3, 0, 0)
    with Store.open(workspace.db, read_only=True) as store:  # the snapshot moved by deltas
        snapshot = store.frame("SELECT phone FROM dnc_export_snapshot ORDER BY phone")
    assert snapshot["phone"].to_list() == out.read_text().splitlines()[1:]


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


# --- property: dnc_current, kept up to date per append, equals the ledger recomputed ---

# A pair's latest event: the greatest (occurred_at, id). arg_max_null, not max_by: max_by
# skips NULL values, so it would give an older event's reason when the latest has none.
LATEST = "arg_max_null({}, (occurred_at, id))"
LEDGER_LATEST = (
    f"SELECT phone, source, {LATEST.format('action')}, max(occurred_at), "
    f"{LATEST.format('reason')}, {LATEST.format('actor')}, {PHONE_KEY.format('phone')} "
    "FROM dnc_events GROUP BY phone, source"
)
CURRENT = "SELECT phone, source, action, occurred_at, reason, actor, phone_key FROM dnc_current"


def current_drift(store: Store) -> int:
    """Rows in dnc_current or in the ledger's latest event per pair, but not in both."""
    return store.run(
        f"SELECT (SELECT count(*) FROM (({CURRENT}) EXCEPT ALL ({LEDGER_LATEST}))) + "
        f"(SELECT count(*) FROM (({LEDGER_LATEST}) EXCEPT ALL ({CURRENT})))"
    )[0][0]


event = st.tuples(
    st.sampled_from(["+16502530000", "+12127365000", "+442079460000"]),
    st.sampled_from(["add", "remove"]),
    st.sampled_from(["manual", "call", "registry"]),
    st.integers(0, 3),  # minutes after T0: events late, early and tied with earlier ones
    st.sampled_from(["r1", "r2", None]),
)


@settings(max_examples=scaled(40), deadline=None)
@given(appends=st.lists(st.lists(event, min_size=1, max_size=6), min_size=1, max_size=5))
def test_current_state_is_each_pairs_latest_event_after_every_append(tmp_path_factory, appends):
    from store import dnc as ledger

    db = tmp_path_factory.mktemp("current") / "c.duckdb"
    latest: dict[tuple[str, str], tuple[str, datetime, str | None, str]] = {}
    with Store.open(db) as store:
        for number, batch in enumerate(appends):
            rows = [
                {
                    "phone": phone,
                    "action": action,
                    "source": source,
                    "reason": reason,
                    "actor": f"a{number}",
                    "occurred_at": T0 + timedelta(minutes=minute),
                    "batch_id": None,
                }
                for phone, action, source, minute, reason in batch
            ]
            with store.transaction():
                ledger.append_events(
                    store,
                    pl.DataFrame(
                        rows, schema_overrides={"reason": pl.String, "batch_id": pl.String}
                    ),
                )
            for row in rows:  # in order of appending: a later event wins a tie
                pair = (row["phone"], row["source"])
                if pair not in latest or row["occurred_at"] >= latest[pair][1]:
                    latest[pair] = (row["action"], row["occurred_at"], row["reason"], row["actor"])
            current = store.run(
                "SELECT phone, source, action, occurred_at, reason, actor FROM dnc_current"
            )
            assert {(p, s): rest for p, s, *rest in current} == {
                pair: list(value) for pair, value in latest.items()
            }
            assert current_drift(store) == 0
        ledger.refresh_current(store)  # the whole rebuild gives the same rows
        assert current_drift(store) == 0


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
            assert current_drift(store) == 0  # the maintained state equals the ledger
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


def test_the_upgrade_gives_each_pair_its_latest_events_reason(workspace):
    """Release 11 kept dnc_current with max_by, which skips NULLs: an add without a
    reason after a removal with one showed the removal's reason. Migration 12 rebuilds
    the rows from the ledger."""
    con = database_at_migration(workspace.db, 11)
    for action, reason, day in (("add", "email", 1), ("remove", "opted in", 2), ("add", None, 3)):
        con.execute(
            "INSERT INTO dnc_events (phone, action, source, reason, actor, occurred_at) "
            "VALUES ('+16502530000', ?, 'manual', ?, 'ops', ?)",
            [action, reason, T0 + timedelta(days=day)],
        )
    con.execute(
        "INSERT INTO dnc_current SELECT phone, source, max_by(action, (occurred_at, id)), "
        "max(occurred_at), max_by(reason, (occurred_at, id)), max_by(actor, (occurred_at, id)), "
        "CAST(substr(phone, 2) AS BIGINT) FROM dnc_events GROUP BY phone, source"
    )
    assert con.execute("SELECT reason FROM dnc_current").fetchall() == [("opted in",)]
    con.close()
    with Store.open(workspace.db, read_only=True) as store:  # migrates, as any open does
        shown = dnc_sources_now(store, "+16502530000")  # what `contacts show` prints
        assert [(s["source"], s["reason"]) for s in shown] == [("manual", None)]
        assert current_drift(store) == 0
