"""Column mapping on the real export layouts of common tools (PRODUCT 3.2).

Each fixture in fixtures/exports/ carries a tool's header exactly as the tool writes it
(sources in fixtures/exports/SOURCES.md) and a few rows of fake data. Headers are read
with the csv module so these tests do not depend on the project's file reader.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import phonenumbers
import polars as pl
import pytest

from contacts.errors import MappingError
from transforms.mapping import ROW, apply_mapping, map_columns
from transforms.regions import region_for_country

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
MULTI_VALUE = " ::: "


def cols(text: str) -> list[str]:
    """'Vorname|Nachname' -> ['Vorname', 'Nachname']: keeps long header lists on one line."""
    return text.split("|")


def read_export(name: str, encoding: str = "utf-8-sig") -> tuple[list[str], list[list[str]]]:
    """(header, data rows): skips a preamble (LinkedIn's "Notes:") and footer lines
    (Salesforce's "Grand Totals"), i.e. any row that is not as wide as the header."""
    rows = list(csv.reader(io.StringIO((EXPORTS / name).read_bytes().decode(encoding))))
    start = next(i for i, row in enumerate(rows) if sum(bool(c.strip()) for c in row) > 1)
    header = rows[start]
    return header, [row for row in rows[start + 1 :] if len(row) == len(header)]


def as_frame(header: list[str], rows: list[list[str]]) -> pl.DataFrame:
    """Text-only frame, empty cells as null, with the _row column apply_mapping expects."""
    data = {col: [row[i] or None for row in rows] for i, col in enumerate(header)}
    frame = pl.DataFrame(data, schema=dict.fromkeys(header, pl.String))
    return frame.with_row_index(ROW, offset=1)


@dataclass(frozen=True)
class Layout:
    file: str
    fields: dict[str, str]
    phones: list[tuple[str, bool, str | None]]  # (column, mobile, label column)
    encoding: str = "utf-8-sig"


LAYOUTS = [
    Layout(
        "google_contacts.csv",
        {
            "first_name": "First Name",
            "last_name": "Last Name",
            "email": "E-mail 1 - Value",
            "company": "Organization Name",
            "title": "Organization Title",
            "country": "Address 1 - Country",
        },
        [
            ("Phone 1 - Value", False, "Phone 1 - Label"),
            ("Phone 2 - Value", False, "Phone 2 - Label"),
            ("Phone 3 - Value", False, "Phone 3 - Label"),
        ],
    ),
    Layout(
        "google_contacts_legacy.csv",
        {
            "full_name": "Name",
            "first_name": "Given Name",
            "last_name": "Family Name",
            "email": "E-mail 1 - Value",
            "company": "Organization 1 - Name",
            "title": "Organization 1 - Title",
            "country": "Address 1 - Country",
        },
        [
            ("Phone 1 - Value", False, "Phone 1 - Type"),
            ("Phone 2 - Value", False, "Phone 2 - Type"),
            ("Phone 3 - Value", False, "Phone 3 - Type"),
        ],
    ),
    *[
        Layout(
            name,
            {
                "first_name": "First Name",
                "last_name": "Last Name",
                "email": "E-mail Address",
                "company": "Company",
                "title": "Job Title",  # Outlook's "Title" is the salutation
                "country": "Business Country/Region",
            },
            [
                ("Business Phone", False, None),
                ("Business Phone 2", False, None),
                ("Callback", False, None),
                ("Car Phone", False, None),
                ("Company Main Phone", False, None),
                ("Home Phone", False, None),
                ("Home Phone 2", False, None),
                ("Mobile Phone", True, None),
                ("Other Phone", False, None),
                ("Primary Phone", False, None),
                ("Radio Phone", False, None),
            ],
            encoding=encoding,
        )
        for name, encoding in (("outlook.csv", "utf-8-sig"), ("outlook_cp1252.csv", "cp1252"))
    ],
    Layout(
        "hubspot.csv",
        {
            "first_name": "First Name",
            "last_name": "Last Name",
            "email": "Email",
            "company": "Company Name",
            "title": "Job Title",
            "country": "Country/Region",
        },
        [
            ("Mobile Phone Number", True, None),
            ("Phone Number", False, None),
            ("WhatsApp Phone Number", True, None),
        ],
    ),
    Layout(
        "salesforce_report.csv",
        {
            "first_name": "First Name",
            "last_name": "Last Name",
            "email": "Email",
            "company": "Account Name",
            "title": "Title",
            "country": "Mailing Country",
        },
        [("Phone", False, None), ("Mobile", True, None), ("Home Phone", False, None)],
    ),
    Layout(
        "salesforce_dataloader.csv",
        {
            "first_name": "FirstName",
            "last_name": "LastName",
            "full_name": "Name",
            "email": "Email",
            "company": "Account.Name",
            "title": "Title",
            "country": "MailingCountry",
        },
        [
            ("Phone", False, None),
            ("MobilePhone", True, None),
            ("HomePhone", False, None),
            ("OtherPhone", False, None),
        ],
    ),
    Layout(
        "mailchimp.csv",
        {"first_name": "First Name", "last_name": "Last Name", "email": "Email Address"},
        [("Phone Number", False, None)],
    ),
    Layout(
        "apollo.csv",
        {
            "first_name": "First Name",
            "last_name": "Last Name",
            "email": "Email",
            "company": "Company",
            "title": "Title",
            "country": "Country",
        },
        [
            ("Work Direct Phone", False, None),
            ("Home Phone", False, None),
            ("Mobile Phone", True, None),
            ("Corporate Phone", False, None),
            ("Other Phone", False, None),
            ("Company Phone", False, None),
        ],
    ),
    Layout(
        "zoho_crm.csv",
        {
            "first_name": "First Name",
            "last_name": "Last Name",
            "full_name": "Contact Name",
            "email": "Email",
            "company": "Account Name",
            "title": "Title",
            "country": "Mailing Country",
        },
        [
            ("Phone", False, None),
            ("Home Phone", False, None),
            ("Other Phone", False, None),
            ("Mobile", True, None),
        ],
    ),
    Layout(
        "pipedrive.csv",
        {
            "first_name": "Person - First name",
            "last_name": "Person - Last name",
            "full_name": "Person - Name",
            "email": "Person - Email - Work",
            "company": "Person - Organization",
            "title": "Person - Job title",
            "country": "Person - Country of Postal address",
        },
        [
            ("Person - Phone - Work", False, None),
            ("Person - Phone - Home", False, None),
            ("Person - Phone - Mobile", True, None),
            ("Person - Phone - Other", False, None),
        ],
    ),
]
LAYOUT_IDS = [layout.file.removesuffix(".csv") for layout in LAYOUTS]


def test_every_fixture_is_covered():
    covered = {layout.file for layout in LAYOUTS} | {"linkedin_connections.csv"}
    assert covered == {path.name for path in EXPORTS.glob("*.csv")}


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
def test_export_maps_fields_and_phone_columns(layout: Layout):
    header, _ = read_export(layout.file, layout.encoding)

    mapping = map_columns(header)

    assert mapping.fields == layout.fields
    assert [(p.column, p.mobile, p.label) for p in mapping.phones] == layout.phones
    assert not mapping.phone_from_content


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
def test_export_phone_cells_are_valid_numbers(layout: Layout):
    """Fixture sanity: every phone cell (first value of a multi-value) is a valid number."""
    header, rows = read_export(layout.file, layout.encoding)
    country = layout.fields.get("country")
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        region = region_for_country(cells[country]) if country else None
        for column, _, _ in layout.phones:
            raw = cells[column].split(MULTI_VALUE)[0].strip().lstrip("'")
            if raw:
                number = phonenumbers.parse(raw, region or "US")
                assert phonenumbers.is_valid_number(number), (layout.file, column, raw)


@pytest.mark.parametrize("layout", LAYOUTS, ids=LAYOUT_IDS)
def test_export_has_a_work_only_row_and_a_mobile_plus_work_row(layout: Layout):
    header, rows = read_export(layout.file, layout.encoding)
    mapping = map_columns(header)
    canonical = apply_mapping(as_frame(header, rows), mapping)

    kinds = []
    for record in canonical.iter_rows(named=True):
        present = [
            record[f"phone_mobile_{i}"]
            for i in range(len(mapping.phones))
            if record[f"phone_raw_{i}"] and record[f"phone_usable_{i}"]
        ]
        kinds.append((any(present), not all(present)))  # (has mobile, has other)
    assert (False, True) in kinds, "no row with only a work/landline phone"
    if any(mobile or label for _, mobile, label in layout.phones):  # Mailchimp has one
        assert (True, True) in kinds, "no row with both a mobile and a work phone"


def test_google_type_cells_mark_mobiles_and_drop_fax_and_pager():
    header, rows = read_export("google_contacts.csv")
    canonical = apply_mapping(as_frame(header, rows), map_columns(header))
    by_name = {row[0]: i for i, row in enumerate(rows)}

    def phones(first_name: str) -> list[tuple[str | None, bool, bool]]:
        record = canonical.row(by_name[first_name], named=True)
        return [
            (record[f"phone_raw_{i}"], record[f"phone_mobile_{i}"], record[f"phone_usable_{i}"])
            for i in range(3)
        ]

    grace = phones("Grace")
    assert grace[0] == ("+1 415-656-5000", True, True)  # "Mobile"
    assert grace[1] == ("+1 650-253-0000", False, True)  # "Work", first of two values
    assert phones("José")[1][2] is False  # "Work Fax"
    zoe = phones("Zoë")
    assert zoe[0] == ("+49 30 12345678", False, False)  # "Home Fax"
    assert zoe[1] == ("+49 151 23456789", True, True)
    assert phones("Chloé")[2][2] is False  # "Pager"


def test_google_legacy_type_cells_mark_mobiles_and_drop_fax():
    header, rows = read_export("google_contacts_legacy.csv")
    canonical = apply_mapping(as_frame(header, rows), map_columns(header))
    francois = canonical.row(1, named=True)
    assert (francois["phone_raw_0"], francois["phone_usable_0"]) == ("+33 4 78 12 34 56", False)
    assert canonical["phone_mobile_1"].to_list()[0] is True  # Margaret's "Mobile"


def test_outlook_cp1252_copy_decodes_to_the_same_export():
    assert read_export("outlook_cp1252.csv", "cp1252") == read_export("outlook.csv")
    _, rows = read_export("outlook_cp1252.csv", "cp1252")
    assert {"Renée", "Jürgen", "Siobhán", "Conceição"} <= {row[1] for row in rows}
    with pytest.raises(UnicodeDecodeError):
        (EXPORTS / "outlook_cp1252.csv").read_bytes().decode("utf-8")


def test_linkedin_connections_has_no_phone_column_and_says_so():
    header, rows = read_export("linkedin_connections.csv")
    assert header == [
        "First Name",
        "Last Name",
        "URL",
        "Email Address",
        "Company",
        "Position",
        "Connected On",
    ]

    for sample in (None, as_frame(header, rows)):  # nor do its cells look like phones
        with pytest.raises(MappingError, match="no phone column") as error:
            map_columns(header, sample=sample)
        message = str(error.value)
        assert all(repr(column) in message for column in header), message
        assert "--map" in message


def test_linkedin_maps_its_other_columns_once_a_phone_is_named():
    header, _ = read_export("linkedin_connections.csv")
    mapping = map_columns([*header, "Phone"])
    assert mapping.fields == {
        "first_name": "First Name",
        "last_name": "Last Name",
        "email": "Email Address",
        "company": "Company",
        "title": "Position",
    }


# ------------------------------------------------------------- header variants


@pytest.mark.parametrize(
    ("columns", "fields", "phones"),
    [
        pytest.param(
            ["Vorname", "Nachname", "Firma", "Position", "E-Mail", "Telefon", "Handy", "Land"],
            {
                "first_name": "Vorname",
                "last_name": "Nachname",
                "company": "Firma",
                "title": "Position",
                "email": "E-Mail",
                "country": "Land",
            },
            [("Telefon", False), ("Handy", True)],
            id="de",
        ),
        pytest.param(
            cols(
                "Vorname|Nachname|E-Mail-Adresse|Telefon geschäftlich|Mobiltelefon|"
                "Fax geschäftlich|Telefon Assistent|Pager"
            ),
            {"first_name": "Vorname", "last_name": "Nachname", "email": "E-Mail-Adresse"},
            [("Telefon geschäftlich", False), ("Mobiltelefon", True)],
            id="de-outlook",
        ),
        pytest.param(
            ["Name", "Vorname", "Telefonnummer", "Handynummer"],
            {"first_name": "Vorname", "last_name": "Name"},
            [("Telefonnummer", False), ("Handynummer", True)],
            id="de-name-is-surname",
        ),
        pytest.param(
            cols("Prénom|Nom|Société|Fonction|Courriel|Téléphone|Portable|Télécopie|Pays"),
            {
                "first_name": "Prénom",
                "last_name": "Nom",
                "company": "Société",
                "title": "Fonction",
                "email": "Courriel",
                "country": "Pays",
            },
            [("Téléphone", False), ("Portable", True)],
            id="fr",
        ),
        pytest.param(
            cols(
                "Nombre|Apellidos|Empresa|Cargo|Correo electrónico|Teléfono|Móvil|"
                "Teléfono del asistente|País"
            ),
            {
                "first_name": "Nombre",
                "last_name": "Apellidos",
                "company": "Empresa",
                "title": "Cargo",
                "email": "Correo electrónico",
                "country": "País",
            },
            [("Teléfono", False), ("Móvil", True)],
            id="es",
        ),
        pytest.param(
            ["Nombre y apellidos", "Compañía", "Teléfono móvil"],
            {"full_name": "Nombre y apellidos", "company": "Compañía"},
            [("Teléfono móvil", True)],
            id="es-full-name",
        ),
        pytest.param(
            ["Nombre", "Teléfono"],
            {"full_name": "Nombre"},
            [("Teléfono", False)],
            id="es-nombre-alone-is-full-name",
        ),
        pytest.param(
            ["Nome", "Sobrenome", "Empresa", "Cargo", "E-mail", "Telefone", "Celular", "País"],
            {
                "first_name": "Nome",
                "last_name": "Sobrenome",
                "company": "Empresa",
                "title": "Cargo",
                "email": "E-mail",
                "country": "País",
            },
            [("Telefone", False), ("Celular", True)],
            id="pt-br",
        ),
        pytest.param(
            ["Primeiro nome", "Apelido", "Empresa", "Email", "Telefone", "Telemóvel"],
            {
                "first_name": "Primeiro nome",
                "last_name": "Apelido",
                "company": "Empresa",
                "email": "Email",
            },
            [("Telefone", False), ("Telemóvel", True)],
            id="pt-pt",
        ),
        pytest.param(
            cols("Nome|Cognome|Azienda|Ruolo|Email|Telefono|Cellulare|Fax|Paese"),
            {
                "first_name": "Nome",
                "last_name": "Cognome",
                "company": "Azienda",
                "title": "Ruolo",
                "email": "Email",
                "country": "Paese",
            },
            [("Telefono", False), ("Cellulare", True)],
            id="it",
        ),
        pytest.param(
            cols(
                "Nome e cognome|Ragione sociale|Qualifica|Indirizzo email|Telefono|"
                "Telefono assistente|Cellulare"
            ),
            {
                "full_name": "Nome e cognome",
                "company": "Ragione sociale",
                "title": "Qualifica",
                "email": "Indirizzo email",
            },
            [("Telefono", False), ("Cellulare", True)],
            id="it-full-name",
        ),
        pytest.param(
            cols(
                "Voornaam|Achternaam|Bedrijf|Functie|E-mailadres|Telefoonnummer|Mobiel nummer|"
                "Fax|Land"
            ),
            {
                "first_name": "Voornaam",
                "last_name": "Achternaam",
                "company": "Bedrijf",
                "title": "Functie",
                "email": "E-mailadres",
                "country": "Land",
            },
            [("Telefoonnummer", False), ("Mobiel nummer", True)],
            id="nl",
        ),
        pytest.param(
            cols(
                "ID|FIRSTNAME|LASTNAME|NAME|TITLE|ACCOUNT.NAME|EMAIL|PHONE|MOBILEPHONE|"
                "HOMEPHONE|ASSISTANTPHONE|FAX|MAILINGCOUNTRY|DONOTCALL|HASOPTEDOUTOFFAX"
            ),
            {
                "first_name": "FIRSTNAME",
                "last_name": "LASTNAME",
                "full_name": "NAME",
                "title": "TITLE",
                "company": "ACCOUNT.NAME",
                "email": "EMAIL",
                "country": "MAILINGCOUNTRY",
            },
            [("PHONE", False), ("MOBILEPHONE", True), ("HOMEPHONE", False)],
            id="salesforce-dataloader-uppercase",
        ),
        pytest.param(
            cols(
                "hs_object_id|firstname|lastname|email|company|jobtitle|phone|mobilephone|"
                "hs_whatsapp_phone_number|fax|country"
            ),
            {
                "first_name": "firstname",
                "last_name": "lastname",
                "email": "email",
                "company": "company",
                "title": "jobtitle",
                "country": "country",
            },
            [("phone", False), ("mobilephone", True), ("hs_whatsapp_phone_number", True)],
            id="hubspot-api-names",
        ),
    ],
)
def test_header_variants(columns, fields, phones):
    mapping = map_columns(columns)
    assert mapping.fields == fields
    assert [(p.column, p.mobile) for p in mapping.phones] == phones


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("FIRST_NAME", "first_name"),
        ("first-name", "first_name"),
        ("firstName", "first_name"),
        ("FirstName", "first_name"),
        ("First.Name", "first_name"),
        ("  first name  ", "first_name"),
        ("LAST_NAME", "last_name"),
        ("Last-Name", "last_name"),
        ("SURNAME", "last_name"),
        ("E-Mail", "email"),
        ("EMAIL_ADDRESS", "email"),
        ("e_mail", "email"),
        ("EmailAddress", "email"),
        ("Company_Name", "company"),
        ("JOB-TITLE", "title"),
        ("country/region", "country"),
    ],
)
def test_any_case_and_punctuation(header: str, target: str):
    assert map_columns([header, "Phone"]).fields == {target: header}


@pytest.mark.parametrize(
    ("header", "mobile"),
    [
        ("PHONE_NUMBER", False),
        ("phone-number", False),
        ("PhoneNumber", False),
        ("Tel.", False),
        ("Tél.", False),
        ("Phone #", False),
        ("Mobile_Phone", True),
        ("MOBILEPHONE", True),
        ("cell#", True),
        ("Handy-Nr.", True),
        ("Natel", True),
        ("WhatsApp Number", True),
    ],
)
def test_phone_headers_in_any_case_and_punctuation(header: str, mobile: bool):
    assert [(p.column, p.mobile) for p in map_columns(["Name", header]).phones] == [
        (header, mobile)
    ]


NEVER_PHONES = [
    "Fax",
    "Business Fax",
    "Home Fax",
    "Fax Number",
    "FAX_NUMBER",
    "Faxnummer",
    "Telefax",
    "Fax geschäftlich",
    "Télécopie",
    "Pager",
    "Pager Number",
    "Telex",
    "Assistant's Phone",
    "Assistant Phone",
    "AssistantPhone",
    "ASSISTANTPHONE",
    "Asst. Phone",
    "Asst Phone",
    "Telefon Assistent",
    "Teléfono del asistente",
    "Telefono assistente",
    "Téléphone de l'assistante",
    "TTY/TDD Phone",
    "Phone 1 - Type",
    "Phone 1 - Label",
    "Phonetic First Name",
    "Phone Country Code",
]


@pytest.mark.parametrize("header", NEVER_PHONES)
def test_fax_pager_telex_assistant_columns_are_never_phones(header: str):
    mapping = map_columns(["Name", header, "Phone"])
    assert [p.column for p in mapping.phones] == ["Phone"]
    with pytest.raises(MappingError):  # and alone they do not make a file importable
        map_columns(["Name", header])


@pytest.mark.parametrize("header", ["Fax", "Telex", "Assistant Phone"])
def test_excluded_columns_are_not_picked_from_content_either(header: str):
    sample = pl.DataFrame({"Name": ["Ada", "Alan"], header: ["+1 650-253-0001", "(212) 736-5001"]})
    with pytest.raises(MappingError):
        map_columns(["Name", header], sample=sample)
