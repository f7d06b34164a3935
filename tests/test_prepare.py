"""prepare_batch and the dedupe transforms: every row in exactly one bucket."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from examples_scale import scaled
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import phones
from transforms.dedupe import merge_known, split_known
from transforms.mapping import ROW, map_columns, struct_entries
from transforms.prepare import PreparedBatch, SeenPhones, prepare_batch


def prepare(rows: list[dict[str, str | None]], region: str = "US") -> PreparedBatch:
    columns = list(rows[0])
    frame = pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String)).with_row_index(
        ROW, offset=1
    )
    frame = frame.with_columns(pl.col(ROW).cast(pl.Int64))
    return prepare_batch(frame, columns, map_columns(columns), region)


def outcome(batch: PreparedBatch, row: int) -> str:
    for name, frame in (
        ("contact", batch.contacts),
        ("duplicate", batch.duplicates_in_file),
        ("reject", batch.rejects),
    ):
        if row in frame.get_column(ROW).to_list():
            return name
    return "none"


def test_mobile_column_wins_over_earlier_work_column():
    batch = prepare([{"Work Phone": "(212) 736-5000", "Mobile": "(650) 253-0000"}])
    assert batch.contacts.get_column("phone").to_list() == ["+16502530000"]


def test_first_valid_number_in_column_order_when_mobile_is_invalid():
    batch = prepare([{"Home": "12", "Work Phone": "(212) 736-5000", "Cell": "n/a"}])
    assert batch.contacts.get_column("phone").to_list() == ["+12127365000"]


def test_google_type_labels_pick_the_mobile_and_skip_fax():
    row = {
        "Name": "Ann Lee",
        "Phone 1 - Type": "Work Fax",
        "Phone 1 - Value": "(212) 736-5000",
        "Phone 2 - Type": "Work",
        "Phone 2 - Value": "(415) 555-2671",
        "Phone 3 - Type": "Mobile",
        "Phone 3 - Value": "+1 650-253-0000 ::: +1 212-736-5000",
    }
    batch = prepare([row])
    assert batch.contacts.select("phone", "first_name", "last_name").row(0) == (
        "+16502530000",
        "Ann",
        "Lee",
    )


def test_fax_only_row_is_rejected_as_missing():
    batch = prepare([{"Name": "A", "Phone": None, "Business Fax": "(212) 736-5000"}])
    assert batch.rejects.select("reason").item() == "missing"


def test_per_row_country_sets_the_region():
    batch = prepare(
        [
            {"Phone": "020 7946 0000", "Country": "United Kingdom"},
            {"Phone": "06 12 34 56 78", "Country": "FR"},
            {"Phone": "(650) 253-0000", "Country": None},
            {"Phone": "(212) 736-5000", "Country": "Atlantis"},
        ]
    )
    assert batch.contacts.get_column("phone").to_list() == [
        "+442079460000",
        "+33612345678",
        "+16502530000",
        "+12127365000",
    ]
    assert batch.warnings.select("reason", "value").rows() == [("unknown_country", "Atlantis")]


def test_extension_from_number_or_from_its_own_column():
    batch = prepare(
        [
            {"Phone": "(650) 253-0000 x12", "Ext": None},
            {"Phone": "(212) 736-5000", "Ext": "ext. 7"},
        ]
    )
    assert batch.contacts.get_column("phone_extension").to_list() == ["12", "7"]


def test_malformed_email_is_blanked_with_a_warning_and_the_row_imports():
    batch = prepare([{"Phone": "(650) 253-0000", "Email": "ann@"}])
    assert batch.contacts.select("email").item() is None
    assert batch.warnings.select(ROW, "column", "value", "reason").row(0) == (
        1,
        "email",
        "ann@",
        "invalid_email",
    )


def test_full_name_split_both_orders_and_honorific():
    batch = prepare(
        [
            {"Full Name": "Dr. Ann Marie Lee", "Phone": "(650) 253-0000"},
            {"Full Name": "Lee, Bo", "Phone": "(212) 736-5000"},
        ]
    )
    assert batch.contacts.select("first_name", "last_name").rows() == [
        ("Ann", "Marie Lee"),
        ("Bo", "Lee"),
    ]


def test_in_file_duplicates_in_other_formats_point_at_the_first_row():
    batch = prepare(
        [
            {"Phone": "(650) 253-0000"},
            {"Phone": "+1 650.253.0000"},
            {"Phone": "16502530000"},
        ]
    )
    assert batch.contacts.get_column(ROW).to_list() == [1]
    assert batch.duplicates_in_file.get_column("message").to_list() == [
        "same phone as row 1",
        "same phone as row 1",
    ]


POOL = [
    "(650) 253-0000", "650.253.0000", "+1 212 736 5000", "(212) 736-5000 x9",
    "020 7946 0000", "+44 20 7946 0000", "12", "n/a", "4.41E+11", "", None,
    "+33 6 12 34 56 78", "447911123456", "1-800-FLOWERS",
]  # fmt: skip
cells = st.one_of(st.sampled_from(POOL), st.text(max_size=12))
rows = st.lists(
    st.fixed_dictionaries(
        {
            "Name": st.one_of(st.none(), st.text(max_size=10)),
            "Mobile": cells,
            "Phone": cells,
            "Email": st.one_of(st.none(), st.sampled_from(["a@b.co", "bad@", "x@y.org"])),
            "Country": st.one_of(st.none(), st.sampled_from(["US", "GB", "Narnia", "fr"])),
        }
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=scaled(60), deadline=None)
@given(rows=rows)
def test_every_row_lands_in_exactly_one_bucket(rows: list[dict[str, str | None]]):
    batch = prepare(rows)
    buckets = [batch.contacts, batch.duplicates_in_file, batch.rejects]
    assert sum(b.height for b in buckets) == batch.rows_total
    assert batch.rows_total + batch.blank_rows == len(rows)
    seen = pl.concat([b.select(ROW) for b in buckets]).get_column(ROW)
    assert seen.n_unique() == seen.len()
    assert batch.contacts.get_column("phone").is_unique().all()
    assert batch.contacts.get_column("phone").str.contains(r"^\+[1-9]\d{6,14}$").all()


@settings(max_examples=scaled(40), deadline=None)
@given(rows=rows, chunk_rows=st.integers(1, 8))
def test_preparing_in_chunks_gives_the_same_batch(
    rows: list[dict[str, str | None]], chunk_rows: int
):
    columns = list(rows[0])
    frame = pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String))
    frame = frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    mapping = map_columns(columns)
    whole = prepare_batch(frame, columns, mapping, "US")
    chunked = prepare_batch(frame, columns, mapping, "US", chunk_rows=chunk_rows)
    for name in ("contacts", "duplicates_in_file", "rejects", "warnings"):
        assert getattr(chunked, name).equals(getattr(whole, name)), name
    assert (chunked.rows_total, chunked.blank_rows) == (whole.rows_total, whole.blank_rows)


@settings(max_examples=scaled(40), deadline=None)
@given(rows=rows)
def test_bulk_phone_path_gives_the_same_batch(rows: list[dict[str, str | None]]):
    """Files of BULK_MIN cells or more take the bulk phone path: same contacts,
    duplicates, rejects and warnings as asking the library for each cell."""
    by_library = prepare(rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(phones, "BULK_MIN", 0)
        in_bulk = prepare(rows)
    for name in ("contacts", "duplicates_in_file", "rejects", "warnings"):
        assert getattr(in_bulk, name).equals(getattr(by_library, name)), name


@settings(max_examples=scaled(40), deadline=None)
@given(rows=rows, stored_share=st.floats(0, 1), policy=st.sampled_from(["skip", "update", "fill"]))
def test_dedupe_against_stored_never_adds_rows(
    rows: list[dict[str, str | None]], stored_share: float, policy: str
):
    batch = prepare(rows)
    contacts = batch.contacts
    stored = contacts.head(int(contacts.height * stored_share)).select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("id"),
        "phone",
        "phone_extension",
        pl.lit("Stored").alias("first_name"),
        "last_name",
        "email",
        "company",
        "title",
        struct_entries("attributes"),  # the store returns {key, value} lists
    )
    new, matched = split_known(contacts, stored)
    assert new.height + matched.height == contacts.height
    assert set(new["phone"]).isdisjoint(stored["phone"])
    changed, unchanged = merge_known(matched, policy)
    assert changed.height + unchanged.height == matched.height
    if policy == "skip":
        assert changed.height == 0
    if policy == "fill":  # a stored non-empty value is never overwritten
        assert (changed.get_column("first_name") == "Stored").all()


def test_update_and_fill_policies_merge_fields_and_attributes():
    batch = prepare([{"Phone": "(650) 253-0000", "First Name": "Ann", "Notes": "vip"}])
    entry = [{"key": "Notes", "value": "old"}, {"key": "Team", "value": "A"}]
    stored = pl.DataFrame(
        {
            "id": [7], "phone": ["+16502530000"], "phone_extension": [None],
            "first_name": [None], "last_name": ["Lee"], "email": [None], "company": [None],
            "title": [None], "attributes": [entry],
        },
        schema_overrides={n: pl.String for n in ("phone_extension", "first_name", "email",
                                                  "company", "title")},
    )  # fmt: skip
    _, matched = split_known(batch.contacts, stored)
    updated, _ = merge_known(matched, "update")
    assert updated.select("contact_id", "first_name", "last_name").row(0) == (7, "Ann", "Lee")
    assert updated.select("attributes").item().to_list() == [
        {"key": "Notes", "value": "vip"},
        {"key": "Team", "value": "A"},
    ]
    filled, _ = merge_known(matched, "fill")
    assert filled.select("attributes").item().to_list() == [
        {"key": "Notes", "value": "old"},
        {"key": "Team", "value": "A"},
    ]


def test_second_email_column_fills_the_field_when_the_first_is_empty():
    batch = prepare(
        [
            {"Phone": "(650) 253-0000", "E-mail 1 - Value": None, "E-mail 2 - Value": "a@b.co"},
            {"Phone": "(212) 736-5000", "E-mail 1 - Value": "c@d.co", "E-mail 2 - Value": "e@f.co"},
        ]
    )
    assert batch.contacts.get_column("email").to_list() == ["a@b.co", "c@d.co"]
    second = batch.contacts.get_column("attributes").to_list()[1]
    assert second["E-mail 2 - Value"] == "e@f.co"  # nothing is lost


def test_outlook_salutation_never_fills_an_empty_job_title():
    batch = prepare([{"Phone": "(650) 253-0000", "Title": "Dr.", "Job Title": None}])
    assert batch.contacts.select("title").item() is None
    assert batch.contacts["attributes"].to_list()[0]["Title"] == "Dr."


# --- merge_known only merges rows that may change: same answers as merging them all ---

KEYS = ["Notes", "notes", "Tier", "City"]
VALUES = st.one_of(st.none(), st.sampled_from(["", "a", "b", "gold"]))
matched_rows = st.lists(
    st.fixed_dictionaries(
        {
            "first_name": VALUES,
            "stored_first_name": VALUES,
            "email": VALUES,
            "stored_email": VALUES,
            "incoming": st.fixed_dictionaries({key: VALUES for key in KEYS}),
            "stored": st.one_of(
                st.none(), st.dictionaries(st.sampled_from(KEYS), st.sampled_from(["a", "b", ""]))
            ),
        }
    ),
    min_size=1,
    max_size=12,
)


def _matched_frame(rows: list[dict]) -> pl.DataFrame:
    from transforms.dedupe import MERGED_FIELDS

    entry = pl.Struct({"key": pl.String, "value": pl.String})
    data: dict[str, list] = {ROW: list(range(1, len(rows) + 1))}
    data["contact_id"] = [100 + i for i in range(len(rows))]
    data["phone"] = [f"+1650253{i:04d}" for i in range(len(rows))]
    for name in MERGED_FIELDS:
        data[name] = [row.get(name) for row in rows]
        data[f"stored_{name}"] = [row.get(f"stored_{name}") for row in rows]
    frame = pl.DataFrame(data, schema_overrides={n: pl.String for n in data if n != ROW
                                                 and n != "contact_id"})  # fmt: skip
    incoming = pl.DataFrame(
        [row["incoming"] for row in rows], schema=dict.fromkeys(KEYS, pl.String)
    )
    stored = pl.Series(
        "stored_attributes",
        [None if row["stored"] is None else
         [{"key": k, "value": v} for k, v in sorted(row["stored"].items())] for row in rows],
        pl.List(entry),
    )  # fmt: skip
    return frame.with_columns(pl.Series(ROW, data[ROW]).cast(pl.Int64), incoming.to_struct(
        "attributes"), stored)  # fmt: skip


def _merge_all(matched: pl.DataFrame, policy: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The merge without the candidate filter: every matched row goes through it."""
    from transforms import dedupe

    listed = matched.with_columns(struct_entries("attributes"))
    merged = listed.with_columns(
        *(dedupe._merge_field(name, policy) for name in dedupe.MERGED_FIELDS),
        dedupe._merge_attributes(policy),
    )
    differs = pl.any_horizontal(
        pl.col(name).ne_missing(pl.col(f"stored_{name}")) for name in dedupe.MERGED_FIELDS
    ) | dedupe._attribute_key("attributes").ne_missing(dedupe._attribute_key("stored_attributes"))
    changed = merged.filter(differs).select(
        ROW, "contact_id", "phone", *dedupe.MERGED_FIELDS, "attributes"
    )
    return changed, matched.filter(~pl.col(ROW).is_in(changed.get_column(ROW).implode()))


@settings(max_examples=scaled(150), deadline=None)
@given(rows=matched_rows, policy=st.sampled_from(["update", "fill"]))
def test_merging_only_candidate_rows_gives_the_same_answers(rows: list[dict], policy: str):
    matched = _matched_frame(rows)
    changed, unchanged = merge_known(matched, policy)
    expected_changed, expected_unchanged = _merge_all(matched, policy)
    assert changed.equals(expected_changed)
    assert unchanged.equals(expected_unchanged)


@settings(max_examples=scaled(100), deadline=None)
@given(
    chunks=st.lists(
        st.lists(st.integers(10**6, 10**6 + 40), min_size=0, max_size=15), min_size=1, max_size=12
    )
)
def test_seen_phones_give_each_key_its_first_row(chunks: list[list[int]]):
    """Chunks of keys in file order: a key's first row is where it came first, in an
    earlier chunk or this one (merging runs along the way)."""
    seen, first_row, row = SeenPhones(), {}, 0
    for chunk in chunks:
        rows = list(range(row + 1, row + 1 + len(chunk)))
        row += len(chunk)
        for key, at in zip(chunk, rows, strict=True):
            first_row.setdefault(key, at)
        expected = [first_row[key] for key in chunk]
        got = seen.claim(np.array(chunk, dtype=np.int64), np.array(rows, dtype=np.int64))
        assert got.tolist() == expected
    assert seen.size == len(first_row)
    for keys, _ in seen.runs:
        assert (np.diff(keys) > 0).all()  # sorted, each key once
