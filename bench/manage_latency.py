"""Latency of the interactive commands (search, show, edit) on a large contacts database.

    .venv/bin/python bench/manage_latency.py                  # 1,000,000 contacts
    .venv/bin/python bench/manage_latency.py --rows 100000 --runs 3 --json-out lat.json

Builds the database once (straight in DuckDB: INSERT ... SELECT from range(), realistic
US E.164 numbers with their real time zones, a DNC ledger with registry numbers, calls
and campaign memberships) and reuses it while its row count matches. Then measures each
command end to end (`contacts ...` as a child process: interpreter start included) and
in process (the library function), median of `--runs`. PRODUCT.md section 7: the
interactive commands must not start a Prefect flow run; the bar here is 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTACTS = ROOT / ".venv" / "bin" / "contacts"
BAR_SECONDS = 0.5

# Real area codes across the US time zones, plus toll-free (every US zone).
AREA_CODES = (
    212, 213, 312, 303, 602, 808, 907, 415, 650, 617, 305, 404, 206, 503, 702, 214, 713,
    512, 615, 801, 919, 704, 313, 612, 314, 816, 504, 405, 918, 505, 208, 406, 307, 701,
    605, 402, 785, 316, 319, 515, 608, 414, 317, 502, 513, 614, 216, 412, 215, 201, 973,
    516, 718, 646, 347, 860, 401, 603, 802, 207, 302, 410, 202, 703, 804, 843, 803, 865,
    901, 205, 251, 601, 228, 501, 479, 318, 225, 800, 888,
)  # fmt: skip
FIRST = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty",
    "Anthony", "Sandra", "Mark", "Margaret", "Donald", "Ashley", "Steven", "Kimberly", "Andrew",
    "Emily", "Paul", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda",
    "Brian", "Melissa", "George", "Deborah", "José", "Zoë", "François", "Łukasz", "Ana", "Luis",
    "Mei", "Hiroshi", "Fatima", "Omar", "Priya", "Raj", "Chen", "Olga", "Sven", "Ingrid"
)  # fmt: skip
LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Müller", "O'Brien", "Lefèvre",
    "Żółć", "Tanaka", "Kowalski", "Novak", "Svensson", "Rossi", "Dubois", "Silva"
)  # fmt: skip
COMPANIES = (
    "Acme Corp", "Globex", "Initech", "Umbrella", "Hooli", "Cyberdyne Systems",
    "Stark Industries", "Wayne Enterprises", "Wonka Industries", "Soylent", "Tyrell",
    "Massive Dynamic", "Aperture Science", "Vandelay Industries", "Pied Piper",
    "Dunder Mifflin", "Gringotts", "Oceanic Airlines", "Nakatomi", "Café Núñez",
)  # fmt: skip
TITLES = "CEO|CTO|Head of Growth|Sales Manager|Engineer|Analyst|Director|VP Sales|Owner|Buyer"
# Made-up names and companies from syllables give names a realistic cardinality
# (thousands of first names, tens of thousands of last names and companies), which
# decides how DuckDB compresses those columns and so how fast a text search scans them.
SYLLABLES = (
    "an", "be", "ca", "do", "el", "fa", "gi", "ho", "in", "ju", "ka", "lo", "ma", "ne",
    "or", "pa", "qu", "ri", "so", "ta", "ul", "ve", "wa", "xi", "yo", "za", "mer", "son",
    "ton", "ley", "berg", "stein", "ov", "ez", "ini", "escu", "sen", "ard", "ick", "ing",
)  # fmt: skip
SUFFIXES = ("Inc", "LLC", "Ltd", "GmbH", "Group", "Partners", "& Co", "Holdings")
DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "example.com", "corp.example")
CAMPAIGNS = ("spring", "renewals", "winback", "webinar", "q4-push")


def sql_list(values: tuple[object, ...] | list[object]) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def made_up(row: str, seed: int, syllables: int) -> str:
    """SQL for a capitalized made-up word of `syllables` syllables, a function of `row`."""
    parts = " || ".join(
        f"{sql_list(SYLLABLES)}[(1 + hash({row} * 7 + {n}, {seed}) % {len(SYLLABLES)})::BIGINT]"
        for n in range(syllables)
    )
    return f"(upper(left({parts}, 1)) || substr({parts}, 2))"


def build(db: Path, rows: int) -> None:
    """Create the database: contacts, DNC ledger, calls and campaigns, in DuckDB."""
    from store.db import Store
    from store.dnc import refresh_current
    from transforms.phones import normalize_phone

    db.parent.mkdir(parents=True, exist_ok=True)
    for path in (db, db.with_name(db.name + ".wal")):
        path.unlink(missing_ok=True)
    facts = [normalize_phone(f"+1{code}2345678", "US") for code in AREA_CODES]
    started = time.perf_counter()
    with Store.open(db) as store:
        store.run(
            "CREATE TEMP TABLE areas AS SELECT * FROM (VALUES "
            + ", ".join(
                f"({i}, '{code}', '{fact.line_type}', {sql_list(list(fact.time_zones))})"
                for i, (code, fact) in enumerate(zip(AREA_CODES, facts, strict=True))
            )
            + ") t(n, code, line_type, zones)"
        )
        count = len(AREA_CODES)
        digits = f"a.code || (2000000 + (r.i // {count}) * 2347 % 8000000)::VARCHAR"
        # local number 2000000 + k*2347 mod 8e6 is one-to-one for k < 8e6 (2347 is coprime
        # with 8e6): unique phones per area code, exchanges 200-999 like real ones.
        store.run(
            f"""
            INSERT INTO contacts (phone, first_name, last_name, email, company, title,
                attributes, phone_region, line_type, time_zones, created_batch_id,
                created_row, last_batch_id, created_at, updated_at, phone_key)
            SELECT '+1' || {digits},
                f, l,
                lower(strip_accents(f)) || '.' || lower(strip_accents(replace(l, '''', '')))
                    || (r.i % 997)::VARCHAR || '@'
                    || {sql_list(DOMAINS)}[(1 + hash(r.i, 3) % 5)::BIGINT],
                CASE WHEN hash(r.i, 4) % 10 < 3
                     THEN {sql_list(COMPANIES)}[(1 + hash(r.i, 5) % {len(COMPANIES)})::BIGINT]
                     ELSE {made_up("r.i", 6, 3)} || ' '
                          || {sql_list(SUFFIXES)}[(1 + hash(r.i, 7) % {len(SUFFIXES)})::BIGINT]
                END,
                {sql_list(TITLES.split("|"))}[(1 + hash(r.i, 8) % 10)::BIGINT],
                CAST(to_json(MAP {{'City': 'Springfield',
                                   'Lead Source': 'vendor-' || (r.i % 7)::VARCHAR}}) AS VARCHAR),
                'US', a.line_type, a.zones, 'bench-build', r.i + 1, 'bench-build',
                TIMESTAMPTZ '2026-01-05 10:00:00+00' + to_seconds(r.i),
                TIMESTAMPTZ '2026-01-05 10:00:00+00' + to_seconds(r.i),
                CAST('1' || {digits} AS BIGINT)
            FROM (SELECT range AS i,
                         CASE WHEN hash(range, 1) % 10 < 7
                              THEN {sql_list(FIRST)}[(1 + hash(range, 9) % {len(FIRST)})::BIGINT]
                              ELSE {made_up("range", 10, 2)} END AS f,
                         CASE WHEN hash(range, 2) % 10 < 4
                              THEN {sql_list(LAST)}[(1 + hash(range, 11) % {len(LAST)})::BIGINT]
                              ELSE {made_up("range", 12, 3)} END AS l
                  FROM range({rows})) r
            JOIN areas a ON a.n = r.i % {count}
            ORDER BY r.i
            """
        )
        # DNC: 5% of the contacts (manual), and registry numbers nobody imported.
        store.run(
            "INSERT INTO dnc_events (phone, action, source, reason, actor, occurred_at) "
            "SELECT phone, 'add', 'manual', 'asked', 'bench', TIMESTAMPTZ '2026-02-01 00:00:00+00' "
            "FROM contacts WHERE id % 20 = 0"
        )
        store.run(
            f"""
            INSERT INTO dnc_events (phone, action, source, reason, actor, occurred_at)
            SELECT '+1' || a.code || (2000000 + ({rows} // {count} + 1 + r.i // {count}) * 2347
                       % 8000000)::VARCHAR,
                   'add', 'registry', NULL, 'ftc', TIMESTAMPTZ '2026-03-01 00:00:00+00'
            FROM range({rows // 4}) r(i) JOIN areas a ON a.n = r.i % {count}
            """
        )
        refresh_current(store)  # the ledger's current state, as append_events keeps it
        # Calls: two for every fifth contact, in campaigns.
        store.run(
            f"""
            INSERT INTO calls (id, phone, contact_id, direction, started_at, duration_seconds,
                outcome, sentiment, recording_url, transcript, summary, campaign, caller_id,
                recorded_at)
            SELECT 'call-' || c.id || '-' || n, c.phone, c.id,
                   CASE WHEN n = 1 THEN 'outbound' ELSE 'inbound' END,
                   TIMESTAMPTZ '2026-03-01 14:00:00+00' + to_days(c.id % 60) + to_minutes(n),
                   60 + c.id % 300, 'completed', 'neutral',
                   'https://rec.example/' || c.id || '-' || n || '.mp3',
                   'Agent: Hi, is this ' || c.first_name || '? Callee: Yes, speaking.',
                   'Talked about renewal.', {sql_list(CAMPAIGNS)}[1 + c.id % 5],
                   '+18005550100', TIMESTAMPTZ '2026-03-02 00:00:00+00'
            FROM contacts c, range(1, 3) t(n) WHERE c.id % 5 = 0
            """
        )
        store.run(
            "INSERT INTO campaigns SELECT unnest(?), TIMESTAMPTZ '2026-01-05 00:00:00+00'",
            [list(CAMPAIGNS)],
        )
        store.run(
            f"INSERT INTO campaign_members SELECT {sql_list(CAMPAIGNS)}[1 + id % 5], id, "
            "created_at, 'bench-build' FROM contacts WHERE id % 3 = 0"
        )
        store.run("CHECKPOINT")
    print(f"built {db} with {rows:,} contacts in {time.perf_counter() - started:.1f} s")


def contact_count(db: Path) -> int | None:
    if not db.exists():
        return None
    import duckdb

    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute("SELECT count(*) FROM contacts").fetchone()[0]  # type: ignore[index]
    except duckdb.Error:
        return None
    finally:
        con.close()


def sample_contact(db: Path) -> tuple[int, str, str]:
    """A contact in the middle of the table: (id, E.164, the number as people type it)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        middle = con.execute("SELECT max(id) // 2 FROM contacts").fetchone()[0]  # type: ignore[index]
        contact_id, phone = con.execute(
            "SELECT id, phone FROM contacts WHERE id >= ? AND phone LIKE '+1%' ORDER BY id LIMIT 1",
            [middle],
        ).fetchone()  # type: ignore[misc]
    finally:
        con.close()
    national = phone[2:]
    return contact_id, phone, f"({national[:3]}) {national[3:6]}-{national[6:]}"


def cases(db: Path) -> list[tuple[str, list[str], Callable[[], object]]]:
    """(name, CLI arguments, the same work in process)."""
    from contacts import manage

    contact_id, phone, typed = sample_contact(db)
    flip = iter(range(10**6))
    new_phone = "+1" + phone[2:-1] + str((int(phone[-1]) + 1) % 10)

    def edit_args() -> list[str]:
        return ["edit", str(contact_id), "--title", f"Bench {next(flip)}"]

    def phone_args() -> list[str]:  # there and back: the second run restores the number
        return ["edit", str(contact_id), "--phone", new_phone if next(flip) % 2 else phone]

    return [
        ("search by name", ["search", "olga müller"],
         lambda: manage.search(db, manage.Filters("olga müller"))),
        ("search by phone", ["search", typed],
         lambda: manage.search(db, manage.Filters(typed))),
        ("search by 7 digits", ["search", phone[-7:]],
         lambda: manage.search(db, manage.Filters(phone[-7:]))),
        ("search name + status", ["search", "müller", "--status", "dnc"],
         lambda: manage.search(db, manage.Filters("müller", status="dnc"))),
        ("show", ["show", typed], lambda: manage.show(db, typed)),
        ("edit a field", edit_args,
         lambda: manage.edit(db, str(contact_id), manage.Changes(title=f"Bench {next(flip)}"))),
        ("edit the phone", phone_args,
         lambda: manage.edit(db, str(contact_id), manage.Changes(
             phone=new_phone if next(flip) % 2 else phone))),
    ]  # type: ignore[return-value]  # fmt: skip


def run_child(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one child process. On a shared, busy machine the
    CPU time (user + system, all threads) is the steadier measure of the work itself."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def summary(case: str, command: str, children: list[tuple[float, float]],
            inside: list[float]) -> dict[str, object]:  # fmt: skip
    wall, cpu = [w for w, _ in children], [c for _, c in children]
    return {
        "case": case, "command": command,
        "end_to_end_median_s": statistics.median(wall), "end_to_end_min_s": min(wall),
        "end_to_end_cpu_median_s": statistics.median(cpu),
        "in_process_median_s": statistics.median(inside) if inside else 0.0,
        "in_process_min_s": min(inside) if inside else 0.0,
    }  # fmt: skip


def measure(db: Path, runs: int) -> list[dict[str, object]]:
    imports = [sys.executable, "-c", "import contacts.cli, contacts.manage"]
    floor = [run_child(imports) for _ in range(runs)]
    results = [summary("floor: imports only", "python -c 'import contacts.cli, contacts.manage'",
                       floor, [])]  # fmt: skip
    for name, args, work in cases(db):
        children = [
            run_child([str(CONTACTS), "--db", str(db), *(args() if callable(args) else args)])
            for _ in range(runs)
        ]
        inside = []
        for _ in range(runs):
            started = time.perf_counter()
            work()
            inside.append(time.perf_counter() - started)
        command = "contacts " + " ".join(args() if callable(args) else args)
        results.append(summary(name, command, children, inside))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/cbench/manage_1m.duckdb"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--json-out", type=Path)
    options = parser.parse_args()
    if options.rebuild or contact_count(options.db) != options.rows:
        build(options.db, options.rows)
    results = measure(options.db, options.runs)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{options.rows:,} contacts, {options.runs} runs each, load average {load}")
    print(f"{'case':22} {'end to end (child process)':>26} {'in process':>17}   command")
    print(f"{'':22} {'median':>8} {'min':>8} {'cpu':>8} {'median':>8} {'min':>8}")
    for row in results:
        flag = "" if row["end_to_end_median_s"] < BAR_SECONDS else "  (over the bar)"
        print(
            f"{row['case']:22} {row['end_to_end_median_s']:8.3f} {row['end_to_end_min_s']:8.3f} "
            f"{row['end_to_end_cpu_median_s']:8.3f} {row['in_process_median_s']:8.3f} "
            f"{row['in_process_min_s']:8.3f}   {row['command']}{flag}"
        )
    if options.json_out:
        options.json_out.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
