"""From a read source to a prepared batch: every non-blank row in exactly one bucket.

    contacts (valid, first in file)  +  duplicates_in_file  +  rejects  ==  rows_total

Nothing here touches the database; comparing with known contacts is `dedupe`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from schemas.contact import CleanContacts, failure_rows, raw_schema
from transforms.fields import blank_malformed_fields, split_full_names
from transforms.mapping import ATTRIBUTES, ROW, ColumnMapping, apply_mapping
from transforms.phones import MISSING, SPREADSHEET_DAMAGED, phone_answers
from transforms.regions import with_regions

CONTACT_COLUMNS = (
    ROW, "phone", "phone_extension", "first_name", "last_name", "email", "company", "title",
    ATTRIBUTES, "phone_region", "line_type", "zone_set",
)  # fmt: skip
REJECT_SCHEMA = {
    ROW: pl.Int64,
    "reason": pl.String,
    "message": pl.String,
    "suggested_phone": pl.String,
    "phone": pl.String,
}


# Rows prepared at a time: the phone and validation steps hold several frames per row
# at once, so the whole file in one pass costs gigabytes per million rows.
CHUNK_ROWS = 250_000


@dataclass(frozen=True)
class PreparedBatch:
    contacts: pl.DataFrame  # CONTACT_COLUMNS, unique phone, first occurrence in the file
    duplicates_in_file: pl.DataFrame  # REJECT_SCHEMA with reason duplicate_in_file
    rejects: pl.DataFrame  # REJECT_SCHEMA: invalid and malformed rows
    warnings: pl.DataFrame  # _row, column, value, reason: imported with the cell blanked
    rows_total: int
    blank_rows: int


@dataclass(frozen=True)
class PreparedRows:
    """One chunk's rows, each judged on its own: no row's answer depends on another's."""

    valid: pl.DataFrame  # CONTACT_COLUMNS, duplicates included
    rejects: pl.DataFrame
    warnings: pl.DataFrame
    rows: int
    blank_rows: int


class SeenPhones:
    """The phones of a file's contacts so far, each with the row that holds it first.

    Phones are kept as integers (the digits of the E.164 form) with their rows, 16 bytes
    per contact, so a file's chunks can be deduped in turn without keeping their rows.
    They sit in a few sorted runs, halving in size from the oldest: a chunk's phones are
    looked up by binary search in each run and become a run of their own, and two runs
    of about the same size are merged (each phone is copied ~log2(chunks) times). A
    hash join rebuilt over every phone seen cost 0.5 s per chunk at 8M phones; one
    sorted array with insertions copied all of it for each chunk.
    """

    def __init__(self) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted keys, first rows)

    def claim(self, keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The first row in the file of each key of the next chunk (rows in file order):
        an earlier chunk's, else the key's first row in this chunk. Remembers the new
        keys."""
        order = np.argsort(keys, kind="stable")  # equal keys stay in row order
        wanted, their_rows = keys[order], rows[order]
        earlier = np.full(len(wanted), -1, dtype=np.int64)
        for run_keys, run_rows in self.runs:  # a key is in one run at most
            at = np.minimum(np.searchsorted(run_keys, wanted), len(run_keys) - 1)
            earlier = np.where(run_keys[at] == wanted, run_rows[at], earlier)
        head = np.ones(len(wanted), dtype=bool)  # first of its key in the chunk
        head[1:] = wanted[1:] != wanted[:-1]
        group_head = np.maximum.accumulate(np.where(head, np.arange(len(wanted)), 0))
        first = np.where(earlier >= 0, earlier, their_rows[group_head])
        new = head & (earlier < 0)
        if new.any():
            self._add(wanted[new], their_rows[new])
        found = np.empty(len(keys), dtype=np.int64)
        found[order] = first
        return found

    def _add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        self.runs.append((keys, rows))
        while len(self.runs) > 1 and 2 * len(self.runs[-1][0]) >= len(self.runs[-2][0]):
            (older_keys, older_rows), (newer_keys, newer_rows) = self.runs[-2:]
            merged = np.concatenate([older_keys, newer_keys])
            order = np.argsort(merged, kind="stable")  # two sorted runs: a linear merge
            self.runs[-2:] = [(merged[order], np.concatenate([older_rows, newer_rows])[order])]

    @property
    def size(self) -> int:
        return sum(len(keys) for keys, _ in self.runs)


def _phone_key() -> pl.Expr:
    return pl.col("phone").str.strip_prefix("+").cast(pl.Int64, strict=True).alias("key")


def prepare_batch(
    frame: pl.DataFrame,
    columns: list[str],
    mapping: ColumnMapping,
    default_region: str,
    chunk_rows: int = CHUNK_ROWS,
) -> PreparedBatch:
    """Validate, map, normalize phones and dedupe within the file, in one batch.

    `prepare_chunk` over `chunk_rows` rows at a time: the same answers as any chunking.
    """
    seen = SeenPhones()
    starts = range(0, frame.height, chunk_rows) if frame.height else [0]
    parts = [
        prepare_chunk(frame.slice(start, chunk_rows), columns, mapping, default_region, seen)
        for start in starts
    ]
    return PreparedBatch(
        contacts=pl.concat([part.contacts for part in parts]),
        duplicates_in_file=pl.concat([part.duplicates_in_file for part in parts]),
        rejects=pl.concat([part.rejects for part in parts]),
        warnings=pl.concat([part.warnings for part in parts]),
        rows_total=sum(part.rows_total for part in parts),
        blank_rows=sum(part.blank_rows for part in parts),
    )


def prepare_chunk(
    frame: pl.DataFrame,
    columns: list[str],
    mapping: ColumnMapping,
    default_region: str,
    seen: SeenPhones,
) -> PreparedBatch:
    """Validate, map and normalize the phones of the next rows of a file, and dedupe
    them against each other and against `seen` (the file's earlier chunks; updated).

    Chunks must come in file order: the first row of each phone in the file is its
    contact, later rows are its duplicates. Every frame is in row order.
    """
    return finish_rows(prepare_rows(frame, columns, mapping, default_region), seen)


def finish_rows(part: PreparedRows, seen: SeenPhones) -> PreparedBatch:
    """prepare_chunk's in-file dedupe of `part` against `seen` (updated): chunks must
    come through here in file order."""
    contacts, duplicates, broken = _first_in_file(part.valid, seen)
    return PreparedBatch(
        contacts=contacts,
        duplicates_in_file=duplicates,
        rejects=pl.concat([part.rejects, broken]).sort(ROW),
        warnings=part.warnings.sort(ROW),
        rows_total=part.rows,
        blank_rows=part.blank_rows,
    )


def _first_in_file(
    valid: pl.DataFrame, seen: SeenPhones
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(contacts, duplicates_in_file, schema violations) from a chunk's valid rows.

    A row is a contact when its phone is neither in `seen` nor earlier in the chunk;
    only those rows are validated against the clean schema.
    """
    rows = valid.get_column(ROW)
    keys = valid.select(_phone_key()).to_series()
    first_row = pl.Series("first_row", seen.claim(keys.to_numpy(), rows.to_numpy()))
    first = first_row == rows  # the row that holds its phone first in the file
    heads = valid.filter(first)
    later = valid.select(ROW, "phone", first_row).filter(~first)
    broken, contacts = _split_schema_violations(heads)
    return contacts, _duplicates_in_file(later), broken


def prepare_rows(
    frame: pl.DataFrame, columns: list[str], mapping: ColumnMapping, default_region: str
) -> PreparedRows:
    """prepare_chunk's work that depends on no other chunk: chunks can go through it in
    any order, or side by side."""
    extras = [c for c in frame.columns if c not in columns and c != ROW]
    blank = pl.all_horizontal(pl.col(*columns, *extras).is_null()) if columns else pl.lit(True)
    rows = frame.filter(~blank)
    malformed, rows = _split_malformed(rows, columns, extras)

    canonical = apply_mapping(rows, mapping).pipe(with_regions, default_region)
    canonical = choose_phones(canonical, len(mapping.phones))
    invalid = canonical.filter(pl.col("phone").is_null())
    valid = canonical.filter(pl.col("phone").is_not_null()).pipe(split_full_names)
    valid, warnings = blank_malformed_fields(valid)
    country_warnings = valid.filter(pl.col("country_unknown")).select(
        ROW,
        pl.lit(mapping.fields.get("country")).alias("column"),
        pl.col("country").alias("value"),
        pl.lit("unknown_country").alias("reason"),
    )
    return PreparedRows(
        valid=valid.select(CONTACT_COLUMNS),
        rejects=pl.concat([malformed, _phone_rejects(invalid, mapping)]),
        warnings=pl.concat([warnings, country_warnings]),
        rows=rows.height + malformed.height,
        blank_rows=frame.height - rows.height - malformed.height,
    )


def _split_malformed(
    rows: pl.DataFrame, columns: list[str], extras: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows with cells past the header, or a cell so long it swallowed other rows."""
    failures = failure_rows(raw_schema(columns, extras), rows)
    if failures.height == 0:
        return pl.DataFrame(schema=REJECT_SCHEMA), rows
    first_failure = failures.sort(ROW).unique(ROW, keep="first", maintain_order=True)
    width = len(columns)
    # by column, not by check: pandera names a built-in check by its arguments
    # ('str_length(None, 10000)'), whatever name it was given
    rejects = first_failure.select(
        ROW,
        pl.lit("malformed_row").alias("reason"),
        pl.when(pl.col("column").is_in(extras))
        .then(pl.lit(f"row has more cells than the header's {width} columns"))
        .otherwise(pl.format("cell in column '{}' is too long (an unclosed quote?)", "column"))
        .alias("message"),
        pl.lit(None, pl.String).alias("suggested_phone"),
        pl.lit(None, pl.String).alias("phone"),
    )
    return rejects, rows.filter(~pl.col(ROW).is_in(rejects.get_column(ROW).implode()))


# what choose_phones takes from the chosen number's answer
_ANSWER_FIELDS = (
    "raw", "e164", "extension", "reason", "suggested_phone", "phone_region", "line_type",
    "zone_set",
)  # fmt: skip


def choose_phones(canonical: pl.DataFrame, sources: int) -> pl.DataFrame:
    """Per row: a valid mobile number first, else the first valid in column order.

    The phone cells of every source are answered in one batch (`phone_answers`), then
    each row takes its chosen cell's answer by position. A row with no valid number
    keeps the answer of its best candidate, so its reject says why.
    """
    present = [
        canonical.select(
            pl.col(f"phone_raw_{i}").is_not_null() & pl.col(f"phone_usable_{i}")
        ).to_series()
        for i in range(sources)
    ]
    cells = pl.concat(
        [
            canonical.filter(mask).select(pl.col(f"phone_raw_{i}").alias("raw"), "region")
            for i, mask in enumerate(present)
        ]
    )
    answers = phone_answers(cells)
    valid = answers.get_column("e164").is_not_null()
    # each row's candidates: (position in `answers` or null, rank: valid first, then
    # mobile, then column order)
    positions, ranks = [], []
    offset = 0
    for i, mask in enumerate(present):
        before = mask.cum_sum().cast(pl.Int64) - 1  # the present cells before this one
        position = pl.select(pl.when(mask).then(before + offset)).to_series()
        offset += int(mask.sum())
        positions.append(position)
        is_valid = valid.gather(position)
        ranks.append(
            pl.when(position.is_not_null()).then(
                (~is_valid).cast(pl.Int32) * (2 * sources)
                + (~pl.col(f"phone_mobile_{i}")).cast(pl.Int32) * sources
                + i
            )
        )
    chosen = pl.min_horizontal(ranks) % sources
    pick = pl.lit(None, pl.Int64)
    for i in reversed(range(sources)):
        pick = pl.when(chosen == i).then(positions[i]).otherwise(pick)
    at = canonical.select(pick.alias("at")).to_series()
    drop = [c for c in canonical.columns if c.startswith(("phone_raw_", "phone_mobile_"))]
    drop += [c for c in canonical.columns if c.startswith("phone_usable_")]
    fields = answers.select(pl.col(_ANSWER_FIELDS).gather(at))
    mapped_extension = pl.col("phone_extension").str.replace_all(r"\D", "").replace("", None)
    return (
        pl.concat([canonical.drop(drop), fields], how="horizontal")
        .with_columns(
            pl.col("e164").alias("phone"),
            pl.when(pl.col("e164").is_not_null())
            .then(pl.coalesce("extension", mapped_extension))
            .alias("phone_extension"),
            pl.col("reason").fill_null(MISSING),
        )
        .drop("e164", "extension")
    )


def _phone_rejects(invalid: pl.DataFrame, mapping: ColumnMapping) -> pl.DataFrame:
    raw, region, reason = pl.col("raw"), pl.col("region"), pl.col("reason")
    columns = ", ".join(p.column for p in mapping.phones)
    damaged = (
        pl.when(pl.col("suggested_phone").is_not_null())
        .then(pl.format("'{}' was altered by a spreadsheet; it was probably {}",
                        raw, pl.col("suggested_phone")))
        .otherwise(pl.format("'{}' was altered by a spreadsheet and its digits are lost; "
                             "re-export the column as text", raw))
    )  # fmt: skip
    message = (
        pl.when(reason == MISSING)
        .then(pl.lit(f"no phone number in {columns}"))
        .when(reason == SPREADSHEET_DAMAGED)
        .then(damaged)
        .when(reason == "not_a_number")
        .then(pl.format("'{}' is not a phone number", raw))
        .when(reason == "too_short")
        .then(pl.format("'{}' has too few digits for a {} number", raw, region))
        .when(reason == "too_long")
        .then(pl.format("'{}' has too many digits for a {} number", raw, region))
        .otherwise(pl.format("'{}' is not a valid {} number", raw, region))
    )
    return invalid.select(
        ROW,
        reason.alias("reason"),
        message.alias("message"),
        pl.col("suggested_phone"),
        pl.lit(None, pl.String).alias("phone"),
    )


def _split_schema_violations(valid: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows the clean schema refuses (never expected) become rejects, not a crash."""
    failures = failure_rows(CleanContacts, valid)
    if failures.height == 0:
        return pl.DataFrame(schema=REJECT_SCHEMA), valid
    first = failures.sort(ROW).unique(ROW, keep="first", maintain_order=True)
    broken = first.select(
        ROW,
        pl.lit("schema_violation").alias("reason"),
        pl.format("{} failed {} ('{}')", "column", "check", "failure_case").alias("message"),
        pl.lit(None, pl.String).alias("suggested_phone"),
        pl.lit(None, pl.String).alias("phone"),
    )
    return broken, valid.filter(~pl.col(ROW).is_in(broken.get_column(ROW).implode()))


def _duplicates_in_file(later: pl.DataFrame) -> pl.DataFrame:
    return later.select(
        ROW,
        pl.lit("duplicate_in_file").alias("reason"),
        pl.format("same phone as row {}", "first_row").alias("message"),
        pl.lit(None, pl.String).alias("suggested_phone"),
        pl.col("phone"),
    )
