"""Contacts management (PRODUCT.md section 6): search, show, edit, delete and export
filters, through the CLI (exit codes and exact messages) and the library.

The database is set up through the library (no Prefect); calls are inserted with SQL.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contacts import exporting, manage
from contacts.dnc import add_numbers, remove_numbers
from contacts.errors import UsageError
from contacts.exporting import ExportFilters, selection_frame
from store import contacts as store_contacts
from store.db import MATCHING_KEY, PHONE_KEY, Store, phone_key
from transforms.export import neutralize_formulas

FIXTURES = Path(__file__).parent / "fixtures"
JOSE, ZOE, FRANCOIS, LUKASZ = "+16502530000", "+12127365000", "+442079460000", "+16172531000"
ALL = {JOSE, ZOE, FRANCOIS, LUKASZ}


@pytest.fixture(scope="module")
def four_template(tmp_path_factory) -> Path:
    """Imported once per module; each test gets its own copy (an import costs ~0.3 s)."""
    from contacts.importer import ImportOptions, run_import

    root = tmp_path_factory.mktemp("four")
    db = root / "contacts.duckdb"
    run_import(ImportOptions(path=FIXTURES / "utf8.csv", db=db, data_dir=root, campaign="spring"))
    return db


@pytest.fixture
def four(workspace, four_template):
    """utf8.csv imported into campaign 'spring': ids 1-4 = José (650, Los Angeles),
    Zoë (212, New York), François (London, no email), Łukasz (617, New York)."""
    shutil.copyfile(four_template, workspace.db)
    return workspace


def add_call(db: Path, call_id: str, phone: str, started: str, **fields: object) -> None:
    values = {
        "direction": "outbound", "outcome": "completed", "sentiment": "positive",
        "duration_seconds": 125.0, "recording_url": f"https://rec.example/{call_id}.mp3",
        "transcript": "Agent: Hello! Callee: Hi.", "summary": "Booked a demo.",
        "campaign": "spring", "caller_id": "+18005550100", "contact_id": None, **fields,
    }  # fmt: skip
    with Store.open(db) as store:
        store.run(
            "INSERT INTO calls (id, phone, contact_id, direction, started_at, duration_seconds, "
            "outcome, sentiment, recording_url, transcript, summary, campaign, caller_id, "
            "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
            [call_id, phone, values["contact_id"], values["direction"], started,
             values["duration_seconds"], values["outcome"], values["sentiment"],
             values["recording_url"], values["transcript"], values["summary"],
             values["campaign"], values["caller_id"]],
        )  # fmt: skip


def search_phones(db: Path, text: str, region: str = "US") -> set[str]:
    """The library behind `contacts search` (the tables below run it 30 times: no CLI)."""
    page = manage.search(db, manage.Filters(text, region=region), limit=100)
    return {row["phone"] for row in page.contacts}


def found(cli, *args: str) -> list[str]:
    result = cli("search", *args, "--json")
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    return [row["phone"] for row in json.loads(result.stdout)["contacts"]]


def stored(db: Path, contact_id: int) -> dict:
    """One stored contact, its attributes decoded from their JSON text."""
    with Store.open(db, read_only=True) as store:
        row = store.frame("SELECT * FROM contacts_view WHERE id = ?", [contact_id]).row(
            0, named=True
        )
    return {**row, "attributes": json.loads(row["attributes"])}


def phones(db: Path) -> set[str]:
    with Store.open(db, read_only=True) as store:
        return {phone for (phone,) in store.run("SELECT phone FROM contacts")}


def members(db: Path) -> set[tuple[str, str]]:
    with Store.open(db, read_only=True) as store:
        return set(
            store.run(
                "SELECT m.campaign_id, c.phone FROM campaign_members m "
                "JOIN contacts c ON c.id = m.contact_id"
            )
        )


def dnc_events(db: Path) -> list[tuple[str, str, str]]:
    with Store.open(db, read_only=True) as store:
        return store.run("SELECT phone, action, source FROM dnc_events ORDER BY id")


# --- search ----------------------------------------------------------------------------

PHONE_FORMATS = [
    ("e164", "+16502530000", "US", {JOSE}),
    ("international_dashes", "+1 650-253-0000", "US", {JOSE}),
    ("national_parentheses", "(650) 253-0000", "US", {JOSE}),
    ("dots", "650.253.0000", "US", {JOSE}),
    ("spaces", "650 253 0000", "US", {JOSE}),
    ("ten_digits", "6502530000", "US", {JOSE}),
    ("eleven_digits", "16502530000", "US", {JOSE}),
    ("one_dash", "1-650-253-0000", "US", {JOSE}),
    ("with_extension", "+1 (650) 253-0000 ext. 12", "US", {JOSE}),
    ("us_idd_prefix", "011 1 650 253 0000", "US", {JOSE}),
    ("tel_uri", "tel:+1-650-253-0000", "US", {JOSE}),
    ("padded", "  650-253-0000  ", "US", {JOSE}),
    ("gb_international", "+44 20 7946 0000", "US", {FRANCOIS}),
    ("gb_trunk_in_parentheses", "+44 (0)20 7946 0000", "US", {FRANCOIS}),
    ("gb_national_with_region", "020 7946 0000", "GB", {FRANCOIS}),
    ("gb_idd_with_region", "0044 20 7946 0000", "GB", {FRANCOIS}),
    ("partial_digits", "253-0000", "US", {JOSE}),
    ("partial_last_four", "0000", "US", {JOSE, FRANCOIS}),
    ("partial_area_code_and_exchange", "(617) 253", "US", {LUKASZ}),
    ("three_digits_match_no_phone", "650", "US", set()),
]


@pytest.mark.parametrize(("text", "region", "expected"), [p[1:] for p in PHONE_FORMATS],
                         ids=[p[0] for p in PHONE_FORMATS])  # fmt: skip
def test_search_finds_the_e164_contact_from_any_phone_format(four, text, region, expected):
    assert search_phones(four.db, text, region) == expected


TEXT_QUERIES = [
    ("last_name_any_case", "MÜLLER", {JOSE}),
    ("first_and_last", "josé müller", {JOSE}),
    ("last_then_first_with_comma", "Müller, José", {JOSE}),
    ("email", "zoe@example.com", {ZOE}),
    ("email_domain", "example.com", {JOSE, ZOE, LUKASZ}),
    ("company", "øresund", {ZOE}),
    ("company_non_latin", "東京", {LUKASZ}),
    ("word_in_two_fields", "lukasz 東京商事", {LUKASZ}),
    ("apostrophe", "o'brien", {ZOE}),
    ("percent_is_literal", "%", set()),
    ("underscore_is_literal", "_", set()),
    ("no_match", "nobody", set()),
]


@pytest.mark.parametrize(("text", "expected"), [q[1:] for q in TEXT_QUERIES],
                         ids=[q[0] for q in TEXT_QUERIES])  # fmt: skip
def test_search_by_name_email_or_company(four, text, expected):
    assert search_phones(four.db, text) == expected


def test_search_by_phone_and_name_through_the_cli(cli, four):
    assert found(cli, "020 7946 0000", "--region", "GB") == [FRANCOIS]
    assert found(cli, "(617) 253-1000") == [LUKASZ]
    assert found(cli, "Müller, José") == [JOSE]


def test_search_filters_status_campaign_and_last_called_dates(cli, four):
    add_numbers(four.db, ["212.736.5000"], reason="asked")
    workspace = four
    workspace.run_import(FIXTURES / "leading_zeros.csv", region="GB")  # not in 'spring'
    add_call(four.db, "c1", JOSE, "2026-03-01T10:00:00Z")
    add_call(four.db, "c2", JOSE, "2026-03-10T23:30:00Z")  # last call: 10 March
    add_call(four.db, "c3", LUKASZ, "2026-02-20T09:00:00Z")
    assert set(found(cli, "--status", "dnc")) == {ZOE}
    assert set(found(cli, "--status", "active", "--campaign", "spring")) == {
        JOSE, FRANCOIS, LUKASZ
    }  # fmt: skip
    assert len(found(cli, "--campaign", "spring")) == 4
    assert len(found(cli)) == 6  # leading_zeros.csv repeats François
    assert found(cli, "--called-from", "2026-03-10") == [JOSE]
    assert found(cli, "--called-to", "2026-03-09") == [LUKASZ]  # José's last call is later
    assert found(cli, "--called-from", "2026-02-01", "--called-to", "2026-02-28") == [LUKASZ]
    assert found(cli, "--called-to", "2026-03-10") == [JOSE, LUKASZ]  # the whole day is in
    assert found(cli, "--called-to", "2026-03-10T23:00:00Z") == [LUKASZ]
    assert found(cli, "example", "--called-from", "2026-01-01", "--status", "active") == [
        JOSE, LUKASZ
    ]  # fmt: skip


def test_search_results_show_status_calls_and_campaigns(cli, four):
    add_numbers(four.db, [ZOE])
    add_call(four.db, "c1", JOSE, "2026-03-01T10:00:00Z")
    add_call(four.db, "c2", JOSE, "2026-03-02T10:00:00Z")
    page = json.loads(cli("search", "example.com", "--json").stdout)
    assert (page["total"], page["more"]) == (3, False)
    jose, zoe, _ = page["contacts"]
    assert jose == {
        "id": 1, "phone": JOSE, "first_name": "José", "last_name": "Müller",
        "email": "jose@example.com", "company": "Café Núñez", "title": None,
        "status": "active", "last_called_at": "2026-03-02T10:00:00+00:00", "call_count": 2,
        "campaigns": ["spring"],
    }  # fmt: skip
    assert (zoe["status"], zoe["call_count"], zoe["campaigns"]) == ("dnc", 0, ["spring"])
    text = cli("search", "müller").stdout.splitlines()
    assert text[0].split() == [
        "id", "phone", "name", "email", "company", "status", "calls", "last", "called",
        "campaigns",
    ]  # fmt: skip
    assert text[1].split() == [
        "1", JOSE, "José", "Müller", "jose@example.com", "Café", "Núñez", "active", "2",
        "2026-03-02", "spring",
    ]  # fmt: skip
    assert text[2] == "Contacts 1-1 of 1"


def test_search_pages(cli, four):
    first = json.loads(cli("search", "example", "--limit", "2", "--json").stdout)
    # more pages follow, so the total is not counted (a full scan on a big database)
    assert (first["total"], first["more"], first["offset"], first["limit"]) == (None, True, 0, 2)
    assert [row["id"] for row in first["contacts"]] == [1, 2]
    counted = json.loads(cli("search", "example", "--limit", "2", "--count", "--json").stdout)
    assert (counted["total"], counted["more"]) == (3, True)
    last = json.loads(cli("search", "example", "--limit", "2", "--offset", "2", "--json").stdout)
    assert [row["id"] for row in last["contacts"]] == [4]
    assert (last["total"], last["more"]) == (3, False)  # the last page knows the total
    everyone = json.loads(cli("search", "--limit", "2", "--json").stdout)
    assert (everyone["total"], everyone["more"]) == (4, True)  # no filter: counted for free
    past = json.loads(cli("search", "example", "--offset", "10", "--json").stdout)
    assert (past["total"], past["more"], past["contacts"]) == (3, False, [])
    assert cli("search", "example", "--limit", "2").stdout.splitlines()[-1] == (
        "Contacts 1-2; next page: --offset 2 (how many in all: --count)"
    )
    assert cli("search", "--limit", "2").stdout.splitlines()[-1] == (
        "Contacts 1-2 of 4; next page: --offset 2"
    )
    assert cli("search", "--offset", "10").stdout == "No contacts past 10 (there are 4)\n"
    assert cli("search", "nobody").stdout == "No contacts match\n"


SEARCH_USAGE = [
    (["--status", "gone"], "--status 'gone' is not one of active, dnc"),
    (["--called-from", "yesterday"],
     "--called-from 'yesterday' is not a date (2026-03-10) or an ISO 8601 time"),
    (["--called-from", "2026-03-10", "--called-to", "2026-03-01"],
     "--called-from 2026-03-10 is after --called-to 2026-03-01"),
    (["--region", "Narnia"], "--region 'Narnia' is not a known region; use e.g. US, GB"),
    (["--campaign", " "], "--campaign needs a name"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), SEARCH_USAGE)
def test_search_usage_errors_exit_2(cli, four, args, message):
    result = cli("search", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {message}\n")


def test_search_limit_below_one_is_a_usage_error(cli, four):
    result = cli("search", "--limit", "0")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Invalid value for '--limit'")


def test_an_unknown_campaign_is_an_error_not_an_empty_result(cli, four):
    result = cli("search", "--campaign", "sprng")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: no campaign 'sprng'; campaigns: spring\n"


def test_search_before_any_import_finds_nothing_and_creates_no_database(cli, workspace):
    assert cli("search", "ann").stdout == "No contacts match\n"
    assert not workspace.db.exists()


# --- show ------------------------------------------------------------------------------


def test_show_by_id_or_any_phone_format_names_the_same_contact(cli, four):
    for ref in ("1", "id:1", JOSE, "(650) 253-0000", "650.253.0000"):
        result = cli("show", ref, "--json")
        assert (result.exit_code, result.stderr) == (0, ""), ref
        assert json.loads(result.stdout)["id"] == 1
    assert json.loads(cli("show", "020 7946 0000", "--region", "GB", "--json").stdout)["id"] == 3


# mostly digits after a '+', sometimes a character that only looks like a digit or part
# of a number (Arabic-Indic three, space, dash, newline)
PHONE_LIKE = st.builds(
    str.__add__,
    st.sampled_from(["+", "", "++", " +"]),
    st.text(alphabet=st.sampled_from([*"0123456789" * 4, "\u0663", " ", "-", "\n"]), max_size=18),
) | st.text(max_size=20)


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(PHONE_LIKE, min_size=1, max_size=30))
def test_phone_keys_in_python_and_sql_agree(texts):
    """show, edit and delete key a phone in Python (`phone_key`), imports and call records
    in SQL (MATCHING_KEY): the same key, or none, for any text; an E.164 phone's key is
    the one stored with it (PHONE_KEY)."""
    matching = f"SELECT {MATCHING_KEY.format('t')} FROM (SELECT ?::VARCHAR AS t)"
    stored = f"SELECT {PHONE_KEY.format('t')} FROM (SELECT ?::VARCHAR AS t)"
    with duckdb.connect() as con:
        for text in texts:
            key = phone_key(text)
            assert con.execute(matching, [text]).fetchone() == (key,), text
            if key is not None:
                assert con.execute(stored, [text]).fetchone() == (key,)
    assert phone_key("+16502530000") == 16502530000
    assert [phone_key(t) for t in ("+06502530000", "16502530000", "+1650253000012345")] == [
        None, None, None
    ]  # fmt: skip


def test_show_lists_fields_lineage_dnc_history_calls_and_campaigns(cli, four):
    stats_row = stored(four.db, 2)
    add_numbers(four.db, ["(212) 736-5000"], reason="asked on the phone", actor="ops")
    remove_numbers(four.db, [ZOE], reason="consent on file", actor="lead")
    add_numbers(four.db, [ZOE], source="registry", actor="ftc")
    add_call(four.db, "c1", ZOE, "2026-03-01T10:00:00Z", contact_id=2)
    add_call(
        four.db, "c2", ZOE, "2026-03-05T10:00:00Z", contact_id=2, direction="inbound",
        outcome="dnc_request", sentiment="negative", transcript="Please stop calling.",
    )  # fmt: skip
    detail = json.loads(cli("show", "212-736-5000", "--json").stdout)
    assert {key: detail[key] for key in (
        "id", "phone", "first_name", "last_name", "email", "company", "title", "status",
        "phone_region", "line_type", "time_zones", "call_count", "last_called_at",
        "created_row", "created_batch_source", "attributes",
    )} == {
        "id": 2, "phone": ZOE, "first_name": "Zoë", "last_name": "O'Brien",
        "email": "zoe@example.com", "company": "Øresund AB", "title": None, "status": "dnc",
        "phone_region": "US", "line_type": "fixed_line_or_mobile",
        "time_zones": ["America/New_York"], "call_count": 2,
        "last_called_at": "2026-03-05T10:00:00+00:00", "created_row": 2,
        "created_batch_source": str(FIXTURES / "utf8.csv"), "attributes": {},
    }  # fmt: skip
    assert detail["created_batch_id"] == detail["last_batch_id"] == stats_row["created_batch_id"]
    assert [(s["source"], s["actor"]) for s in detail["dnc_sources"]] == [("registry", "ftc")]
    assert [(e["action"], e["source"], e["reason"]) for e in detail["dnc_history"]] == [
        ("add", "manual", "asked on the phone"),
        ("remove", "manual", "consent on file"),
        ("add", "registry", None),
    ]
    assert [c["call_id"] for c in detail["calls"]] == ["c2", "c1"]  # newest first
    assert {key: detail["calls"][0][key] for key in (
        "direction", "outcome", "sentiment", "recording_url", "transcript", "campaign",
    )} == {
        "direction": "inbound", "outcome": "dnc_request", "sentiment": "negative",
        "recording_url": "https://rec.example/c2.mp3", "transcript": "Please stop calling.",
        "campaign": "spring",
    }  # fmt: skip
    assert [c["campaign"] for c in detail["campaigns"]] == ["spring"]

    text = cli("show", "2").stdout
    assert text.startswith("Contact 2: Zoë O'Brien\n  phone        +12127365000\n")
    assert "  status       dnc (suppressed by registry)\n" in text
    assert "\nDNC history\n" in text and "remove manual   consent on file (by lead)" in text
    assert "inbound  dnc_request    negative 2m05s  campaign spring" in text
    assert "      transcript Please stop calling.\n" in text
    assert "\nCampaigns\n  spring  added " in text


def test_show_a_contact_with_nothing_attached(cli, four):
    text = cli("show", "3").stdout
    assert "  email        -\n" in text
    for section in ("Attributes: none", "DNC history: none", "Calls: none"):
        assert f"\n{section}\n" in text or text.endswith(f"\n{section}\n")


REF_ERRORS = [
    ("show", "99", 1, "no contact with id 99; find it with 'contacts search'"),
    ("show", "(415) 555-2671", 1, "no contact with phone +14155552671; find it with "
                                   "'contacts search'"),
    ("show", "4155552671", 1, "no contact with id 4155552671 or phone +14155552671; find it "
                               "with 'contacts search'"),
    ("show", "id:99", 1, "no contact with id 99; find it with 'contacts search'"),
    ("show", "not-a-phone", 2, "'not-a-phone' is not a contact id or a valid phone number "
                               "(not_a_number)"),
    ("show", "+1 555", 2, "'+1 555' is not a contact id or a valid phone number (too_short)"),
]  # fmt: skip


@pytest.mark.parametrize(("command", "ref", "code", "message"), REF_ERRORS)
def test_a_contact_that_cannot_be_named_exits_with_one_line(cli, four, command, ref, code, message):
    result = cli(command, ref)
    assert (result.exit_code, result.stdout, result.stderr) == (code, "", f"Error: {message}\n")


# --- edit ------------------------------------------------------------------------------


def test_edit_sets_clears_and_keeps_fields(cli, four):
    result = cli("edit", "(650) 253-0000", "--first-name", " Pepe ", "--title", "CTO",
                 "--company", "", "--attr", "Lead Source=web", "--attr", "Tier=gold")  # fmt: skip
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Updated contact 1 (+16502530000): first_name, company, title, attributes\n"
    )
    row = stored(four.db, 1)
    assert (row["first_name"], row["last_name"], row["company"], row["title"]) == (
        "Pepe", "Müller", None, "CTO"
    )  # fmt: skip
    assert row["attributes"] == {"Lead Source": "web", "Tier": "gold"}
    assert row["updated_at"] > row["created_at"]
    cli("edit", "1", "--attr", "Tier=", "--last_name", "Muller")
    row = stored(four.db, 1)
    assert (row["attributes"], row["last_name"]) == ({"Lead Source": "web"}, "Muller")
    again = cli("edit", "1", "--title", "CTO")
    assert again.stdout == "Contact 1 (+16502530000) already has these values: no change\n"


def test_edit_phone_renormalizes_and_rederives_phone_facts(cli, four):
    result = cli("edit", "1", "--phone", "020 7946 0999 ext 7", "--region", "GB", "--json")
    assert json.loads(result.stdout) == {
        "id": 1, "phone": "+442079460999", "previous_phone": JOSE, "changed": ["phone"],
        "status": "active", "dnc_sources": [], "previous_phone_dnc": [],
    }  # fmt: skip
    row = stored(four.db, 1)
    assert (row["phone"], row["phone_extension"], row["phone_region"]) == (
        "+442079460999", "7", "GB"
    )  # fmt: skip
    assert (row["line_type"], row["time_zones"]) == ("fixed_line", ["Europe/London"])
    assert found(cli, "020 7946 0999", "--region", "GB") == ["+442079460999"]
    assert found(cli, "650-253-0000") == []
    assert ("spring", "+442079460999") in members(four.db)  # the membership follows the contact


def test_an_import_after_a_phone_edit_knows_the_new_number_not_the_old(four, tmp_path):
    """Imports compare phones on contacts.phone_key: an edit keeps it with the phone."""
    from contacts.importer import ImportOptions, run_import

    assert manage.edit(four.db, "1", manage.Changes(phone="+44 20 7946 0999")).changed == ["phone"]
    path = tmp_path / "again.csv"
    path.write_text("Phone\n+44 20 7946 0999\n", encoding="utf-8")
    stats = run_import(ImportOptions(path=path, db=four.db, data_dir=tmp_path))
    assert (stats.duplicates_existing, stats.imported) == (1, 0)
    path.write_text("Phone\n(650) 253-0000\n", encoding="utf-8")
    stats = run_import(ImportOptions(path=path, db=four.db, data_dir=tmp_path))
    assert (stats.duplicates_existing, stats.imported) == (0, 1)
    with Store.open(four.db, read_only=True) as store:
        keys = store.run(
            "SELECT count(*) FROM contacts WHERE phone_key <> substr(phone, 2)::BIGINT"
        )
    assert keys == [(0,)]


def test_edit_phone_to_another_contacts_number_is_refused_and_changes_nothing(cli, four):
    before = stored(four.db, 1)
    result = cli("edit", "1", "--phone", "212.736.5000", "--email", "new@example.com")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: +12127365000 already belongs to contact 2 (Zoë O'Brien); edit or delete that "
        "contact first (nothing was changed)\n"
    )
    assert stored(four.db, 1) == before


def test_dnc_follows_the_number_when_a_phone_is_edited(cli, four):
    add_numbers(four.db, ["(415) 555-2671"], reason="registry hit")
    add_numbers(four.db, [JOSE], reason="asked")
    result = cli("edit", "1", "--phone", "(415) 555-2671")
    assert result.exit_code == 0
    assert result.stdout == (
        "Updated contact 1 (+14155552671): phone\n"
        "Phone +16502530000 -> +14155552671\n"
        "Note: +14155552671 is on the Do-Not-Call list (manual): the contact's status is dnc\n"
    )
    assert stored(four.db, 1)["status"] == "dnc"
    assert "+14155552671" not in selection_frame(four.db, ExportFilters(callable=True))["phone"]

    result = cli("edit", "1", "--phone", "(617) 253-9999")
    assert result.stdout.splitlines()[-1] == (
        "Note: the Do-Not-Call entry stays with +14155552671 (manual); +16172539999 is not "
        "suppressed, so the contact is now active"
    )
    assert stored(four.db, 1)["status"] == "active"
    # The numbers keep their own ledger entries: a new contact with the old number is dnc.
    four.run_import(write_csv(four.root, "Name,Phone\nNew,650-253-0000\n"))
    assert {r["phone"]: r["status"] for r in selection_frame(four.db, ExportFilters()).to_dicts()}[
        JOSE
    ] == "dnc"
    assert dnc_events(four.db) == [
        ("+14155552671", "add", "manual"), (JOSE, "add", "manual")
    ]  # fmt: skip


EDIT_USAGE = [
    (["1"], "nothing to change: pass --first-name, --last-name, --email, --company, --title, "
            "--phone or --attr KEY=VALUE"),
    (["1", "--email", "zoe@example"],
     "--email 'zoe@example' is not a valid email address; nothing was changed"),
    (["1", "--email", "two@@example.com"],
     "--email 'two@@example.com' is not a valid email address; nothing was changed"),
    (["1", "--phone", "12"], "--phone '12' is not a valid phone number (too_short); nothing was "
                             "changed"),
    (["1", "--phone", "  "], "--phone cannot be empty: the phone is the contact's identity "
                             "(delete the contact instead)"),
    (["1", "--attr", "Tier"], "--attr 'Tier' is not KEY=VALUE, e.g. --attr 'Lead Source=web'"),
    (["1", "--first-name", "x" * 501], "--first-name is longer than 500 characters"),
    (["1", "--title", "CEO", "--region", "XX"],
     "--region 'XX' is not a known region; use e.g. US, GB"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), EDIT_USAGE)
def test_edit_refuses_bad_values_with_exit_2_and_changes_nothing(cli, four, args, message):
    before = stored(four.db, 1)
    result = cli("edit", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {message}\n")
    assert stored(four.db, 1) == before


def test_edit_of_an_unknown_contact_exits_1(cli, four):
    result = cli("edit", "42", "--title", "CEO")
    assert (result.exit_code, result.stderr) == (
        1, "Error: no contact with id 42; find it with 'contacts search'\n"
    )  # fmt: skip


def test_a_bare_number_that_is_an_id_and_a_phone_must_be_disambiguated(workspace):
    # Ids never reach ten digits in practice: give contact 2 José's number as its id.
    workspace.run_import(FIXTURES / "utf8.csv")
    with Store.open(workspace.db) as store:
        store.run("UPDATE contacts SET id = 6502530000 WHERE id = 2")
        with pytest.raises(UsageError) as err:
            manage.resolve(store, "6502530000", "US")
        assert str(err.value) == (
            "'6502530000' is contact id 6502530000 and also the phone +16502530000 of contact "
            "1; pass id:6502530000 or +16502530000"
        )
        assert manage.resolve(store, "id:6502530000", "US") == 6502530000
        assert manage.resolve(store, "+1 650 253 0000", "US") == 1


def test_the_edit_email_rule_is_the_import_rule():
    from schemas.contact import EMAIL, MAX_FIELD

    assert (manage.EMAIL, manage.MAX_FIELD) == (EMAIL, MAX_FIELD)


# --- delete ----------------------------------------------------------------------------


def test_delete_one_or_many_by_id_or_phone(cli, four):
    result = cli("delete", "1", "(212) 736-5000", "--yes")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "Deleted 2 contacts; their DNC entries are kept\n"
    assert phones(four.db) == {FRANCOIS, LUKASZ}
    assert members(four.db) == {("spring", FRANCOIS), ("spring", LUKASZ)}
    assert cli("delete", "id:4", "+16172531000", "-y", "--json").stdout == '{"deleted": 1}\n'


def test_delete_by_filter(cli, four):
    add_numbers(four.db, [ZOE, LUKASZ])
    result = cli("delete", "--status", "dnc", "--search", "example", "--yes")
    assert result.stdout == "Deleted 2 contacts; their DNC entries are kept\n"
    assert phones(four.db) == {JOSE, FRANCOIS}
    assert cli("delete", "--search", "nobody", "--yes").stdout == (
        "No contacts match: nothing was deleted\n"
    )
    add_call(four.db, "c1", JOSE, "2026-03-01T10:00:00Z")
    assert cli("delete", "--called-to", "2026-03-31", "--yes").stdout.startswith("Deleted 1 ")
    assert cli("delete", "--campaign", "spring", "--yes").stdout.startswith("Deleted 1 ")
    assert phones(four.db) == set()


def test_delete_without_yes_on_a_pipe_refuses_and_deletes_nothing(cli, four):
    result = cli("delete", "--campaign", "spring")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (
        "Error: refusing to delete 4 contacts without confirmation: stdin is not a terminal; "
        "pass --yes\n"
    )
    assert phones(four.db) == ALL


class Terminal(io.StringIO):
    """A stdin that says it is a terminal and answers the prompt."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "code", "left"), [("y\n", 0, {FRANCOIS, LUKASZ}),
                                                      ("n\n", 1, ALL), ("\n", 1, ALL)])  # fmt: skip
def test_delete_asks_for_confirmation_on_a_terminal(cli, four, monkeypatch, answer, code, left):
    monkeypatch.setattr(sys, "stdin", Terminal(answer))
    result = cli("delete", "1", "2")
    assert result.exit_code == code
    assert result.stderr.startswith("This deletes 2 contacts for good.\nDelete 2 contacts? [y/N]")
    if code == 0:
        assert result.stdout.endswith("Deleted 2 contacts; their DNC entries are kept\n")
    else:
        assert result.stderr.endswith("Nothing was deleted.\n")
    assert phones(four.db) == left


DELETE_USAGE = [
    ([], "name the contacts to delete (ID or PHONE) or pass a filter: --status, --campaign, "
         "--search, --called-from, --called-to"),
    (["1", "--status", "dnc"], "name contacts (ID or PHONE) or pass filters, not both"),
    (["--status", "all"], "--status 'all' is not one of active, dnc"),
    (["1", "bogus"], "'bogus' is not a contact id or a valid phone number (not_a_number)"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), DELETE_USAGE)
def test_delete_usage_errors_exit_2_and_delete_nothing(cli, four, args, message):
    result = cli("delete", *args, "--yes")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {message}\n")
    assert phones(four.db) == ALL


def test_delete_naming_an_unknown_contact_deletes_none_of_them(cli, four):
    result = cli("delete", "1", "(415) 555-2671", "--yes")
    assert (result.exit_code, result.stderr) == (
        1, "Error: no contact with phone +14155552671; find it with 'contacts search'\n"
    )  # fmt: skip
    assert phones(four.db) == ALL


def write_csv(folder: Path, text: str, name: str = "again.csv") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("typed", ["212-736-5000", "+1 (212) 736 5000"])
def test_delete_then_reimport_keeps_the_number_suppressed(cli, four, typed):
    add_numbers(four.db, ["(212) 736-5000"], reason="asked not to be called")
    assert cli("delete", ZOE, "--yes").exit_code == 0
    assert ZOE not in phones(four.db)
    assert dnc_events(four.db) == [(ZOE, "add", "manual")]  # the ledger is keyed by phone
    stats = four.run_import(write_csv(four.root, f"Name,Phone\nZoë,{typed}\n"), campaign="spring")
    assert (stats.imported, stats.dnc, stats.campaign_excluded_dnc) == (1, 1, 1)
    zoe = json.loads(cli("show", ZOE, "--json").stdout)
    assert (zoe["status"], zoe["campaigns"]) == ("dnc", [])
    assert ZOE not in selection_frame(four.db, ExportFilters(callable=True))["phone"].to_list()
    assert found(cli, "--status", "dnc") == [ZOE]


# --- export filters --------------------------------------------------------------------


def export(cli, workspace, *args: str) -> tuple[list[str], list[str]]:
    out = workspace.root / "out.csv"
    result = cli("export", "--out", str(out), *args)
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    with out.open(newline="", encoding="utf-8") as handle:
        exported = [row["phone"] for row in csv.DictReader(handle)]
    return exported, result.stdout.splitlines()


def test_export_filters_campaign_search_dates_and_callable(cli, four):
    four.run_import(FIXTURES / "leading_zeros.csv", region="GB")
    add_numbers(four.db, [ZOE])
    add_call(four.db, "c1", JOSE, "2026-03-01T10:00:00Z")
    add_call(four.db, "c2", LUKASZ, "2026-02-01T10:00:00Z")
    assert set(export(cli, four, "--campaign", "spring", "--status", "active")[0]) == ALL - {ZOE}
    assert set(export(cli, four, "--campaign", "spring", "--callable")[0]) == ALL - {ZOE}
    assert export(cli, four, "--called-from", "2026-02-15")[0] == [JOSE]
    assert export(cli, four, "--called-from", "2026-01-01", "--called-to", "2026-02-01")[0] == [
        LUKASZ
    ]
    assert export(cli, four, "--search", "Müller, José", "--campaign", "spring")[0] == [JOSE]
    assert len(export(cli, four)[0]) == 6


def test_a_campaign_export_never_lists_a_number_suppressed_after_it_joined(cli, four):
    """PRODUCT section 4: a suppressed number is never in any campaign file. Zoë joined
    'spring' when she was callable; suppressed since, she is left out, and said so."""
    add_numbers(four.db, ["(212) 736-5000"], reason="asked not to be called")
    exported, lines = export(cli, four, "--campaign", "spring")
    assert set(exported) == ALL - {ZOE}
    assert lines == [
        f"Exported 3 contacts to {four.root / 'out.csv'}",
        "Left out 1 member of campaign spring whose numbers are suppressed (Do-Not-Call)",
    ]
    assert found(cli, "--campaign", "spring", "--status", "dnc") == [ZOE]  # still listed
    exported, lines = export(cli, four, "--campaign", "spring", "--window-at",
                             "2026-01-15T13:30:00Z")  # fmt: skip
    assert set(exported) == {FRANCOIS, LUKASZ}  # in the window, and not suppressed
    assert lines[1].startswith("Left out 1 member of campaign spring")
    remove_numbers(four.db, [ZOE], reason="consent given")
    exported, lines = export(cli, four, "--campaign", "spring")
    assert (set(exported), len(lines)) == (ALL, 1)  # callable again: a member again


def test_asking_a_campaign_export_for_suppressed_numbers_is_a_usage_error(cli, four):
    out = four.root / "out.csv"
    result = cli("export", "--out", str(out), "--campaign", "spring", "--status", "dnc")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: a campaign export never lists suppressed numbers; "
        "see them with: contacts search --campaign spring --status dnc\n"
    )
    assert not out.exists()


def test_an_export_written_in_batches_is_the_whole_selection_byte_for_byte(
    four, tmp_path, monkeypatch
):
    """An export streams its rows a batch at a time, a query per range of ids (here one
    row a batch, two ids a query); the file is the same as the whole selection written
    at once, header included when no row is."""
    four.run_import(FIXTURES / "leading_zeros.csv", region="GB")
    add_numbers(four.db, [ZOE])
    monkeypatch.setattr(store_contacts, "EXPORT_BATCH_ROWS", 1)
    monkeypatch.setattr(store_contacts, "EXPORT_ID_RANGE", 2)
    batches = []

    def counted(*args, **kwargs):
        for batch in store_contacts.stream_contacts(*args, **kwargs):
            batches.append(batch.height)
            yield batch

    monkeypatch.setattr(exporting, "stream_contacts", counted)
    out = tmp_path / "out.csv"
    for filters in (
        ExportFilters(),
        ExportFilters(callable=True, campaign="spring"),
        ExportFilters(window_at="2026-01-15T13:30:00Z"),
        ExportFilters(search="nobody by this name"),
    ):
        batches.clear()
        result = exporting.export_contacts(four.db, out, filters)
        whole = neutralize_formulas(selection_frame(four.db, filters))
        assert out.read_text(encoding="utf-8") == whole.write_csv(
            datetime_format=exporting.ISO_TIMESTAMP
        )
        assert result.rows == whole.height
        assert sum(batches) == result.rows + result.outside_window + result.no_time_zone
        assert batches[0] == 0 and set(batches[1:]) <= {1}  # the header's, then a row each
        assert not out.with_name("out.csv.partial").exists()
    assert len(batches) == 1  # the last selection is empty: a header alone


def test_export_with_a_calling_window_at_a_fixed_time(cli, four):
    four.run_import(write_csv(four.root, "Name,Phone\nFree,(800) 275-2273\n"))
    # 13:30 UTC in January: New York 08:30 (in), Los Angeles 05:30 (out), London 13:30 (in)
    exported, lines = export(cli, four, "--window-at", "2026-01-15T13:30:00Z")
    assert set(exported) == {ZOE, FRANCOIS, LUKASZ}
    assert lines == [
        f"Exported 3 contacts to {four.root / 'out.csv'}",
        "Left out 2 outside the calling window (08:00-21:00 local time at "
        "2026-01-15T13:30:00+00:00) and 0 with no known time zone",
    ]
    exported, _ = export(cli, four, "--window-at", "2026-01-15T13:30:00Z", "--calling-window",
                         "05:00-08:00")  # fmt: skip
    assert exported == [JOSE]
    exported, _ = export(cli, four, "--window-at", "2026-01-15T23:00:00Z", "--callable")
    assert set(exported) == {JOSE, ZOE, LUKASZ, "+18002752273"}  # 22:00-00:30 UTC: all zones
    with Store.open(four.db) as store:  # a number whose zones are unknown
        store.run("UPDATE contacts SET time_zones = [] WHERE phone = ?", [JOSE])
    exported, lines = export(cli, four, "--window-at", "2026-01-15T20:00:00Z")
    assert JOSE not in exported and lines[1].endswith("and 1 with no known time zone")


def test_a_window_defaults_to_now_and_the_federal_hours(workspace):
    frame = selection_frame(workspace.db, ExportFilters(calling_window="08:00-21:00"))
    assert frame.height == 0  # an empty database still exports (the header)
    from contacts.exporting import calling_window

    window = calling_window(ExportFilters(window_at="2026-01-15T13:30:00"))
    assert window is not None
    assert window.at == datetime(2026, 1, 15, 13, 30, tzinfo=UTC)  # no zone: UTC
    assert str(window) == "08:00-21:00 local time at 2026-01-15T13:30:00+00:00"


EXPORT_USAGE = [
    (["--calling-window", "8am-9pm"],
     "--calling-window: '8am-9pm' is not a window like 08:00-21:00"),
    (["--window-at", "2026-01-15"],
     "--window-at '2026-01-15' is not an ISO 8601 time; pass e.g. 2026-03-10T14:30:00Z"),
    (["--window-at", "soon"],
     "--window-at 'soon' is not an ISO 8601 time; pass e.g. 2026-03-10T14:30:00Z"),
    (["--called-to", "March"], "--called-to 'March' is not a date (2026-03-10) or an ISO 8601 "
                               "time"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), EXPORT_USAGE)
def test_export_usage_errors(cli, four, args, message):
    out = four.root / "out.csv"
    result = cli("export", "--out", str(out), *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"Error: {message}\n")
    assert not out.exists()


def test_export_of_an_unknown_campaign_fails_and_writes_no_file(cli, four):
    out = four.root / "out.csv"
    result = cli("export", "--out", str(out), "--campaign", "fall")
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: no campaign 'fall'; campaigns: spring\n",
    )
    assert not out.exists()


# --- no Prefect --------------------------------------------------------------------------


def test_interactive_commands_do_not_start_prefect(four):
    script = textwrap.dedent(
        f"""
        import sys
        from contacts.cli import main
        for args in (["search", "müller"], ["show", "1"], ["edit", "1", "--title", "CEO"],
                     ["delete", "4", "--yes"]):
            sys.argv = ["contacts", "--db", {str(four.db)!r}, *args]
            try:
                main()
            except SystemExit as done:
                assert done.code == 0, (args, done.code)
        heavy = ("prefect", "pyarrow", "pandera")
        print(sorted(name for name in sys.modules if name.split(".")[0] in heavy))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
