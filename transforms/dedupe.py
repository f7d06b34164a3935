"""Compare a prepared batch with the contacts already stored, under a duplicate policy.

    split_known(batch, known)        -> (new, matched)        partition of the batch
    merge_known(matched, policy)     -> (changed, unchanged)  partition of matched

`skip` leaves stored contacts alone; `update` lets non-empty incoming values overwrite;
`fill` only fills empty stored fields. A matched row that would change nothing counts
as a duplicate, so re-importing a file is a no-op under every policy.
"""

from __future__ import annotations

import polars as pl

from transforms.mapping import ATTRIBUTES, ROW, struct_entries

POLICIES = ("skip", "update", "fill")
MERGED_FIELDS = ("phone_extension", "first_name", "last_name", "email", "company", "title")


def split_known(batch: pl.DataFrame, known: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows whose phone is new, rows matched with their stored contact's `stored_*` fields).

    `known` may hold only id and phone (the `skip` policy needs no stored fields).
    """
    stored = known.select(
        "phone",
        pl.col("id").alias("contact_id"),
        *(
            pl.col(name).alias(f"stored_{name}")
            for name in (*MERGED_FIELDS, ATTRIBUTES)
            if name in known.columns
        ),
    )
    matched = batch.join(stored, on="phone", how="inner", maintain_order="left")
    if matched.height == 0:  # a first import: no copy of the whole batch
        return batch, matched
    new = batch.join(stored.select("phone"), on="phone", how="anti", maintain_order="left")
    return new, matched


def merge_known(matched: pl.DataFrame, policy: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(contacts to update: contact_id + merged fields, rows that change nothing)."""
    if policy not in POLICIES:
        raise ValueError(f"unknown duplicate policy {policy!r}")
    if policy == "skip" or matched.height == 0:
        return _empty_changes(), matched
    # The list merge below costs seconds per million rows: run it only on rows whose
    # fields change, or with an incoming attribute the stored map may not already hold.
    fields_change = pl.any_horizontal(
        _merge_field(name, policy).ne_missing(pl.col(f"stored_{name}")) for name in MERGED_FIELDS
    )
    maybe = (
        fields_change
        | pl.col(ATTRIBUTES).is_null()
        | pl.col(f"stored_{ATTRIBUTES}").is_null()
        | pl.col(ROW).is_in(_attribute_candidates(matched, policy).implode())
    )
    candidates = matched.filter(maybe)
    if isinstance(candidates.schema[ATTRIBUTES], pl.Struct):
        candidates = candidates.with_columns(struct_entries(ATTRIBUTES))
    merged = candidates.with_columns(
        *(_merge_field(name, policy) for name in MERGED_FIELDS),
        _merge_attributes(policy),
    )
    differs = pl.any_horizontal(
        pl.col(name).ne_missing(pl.col(f"stored_{name}")) for name in MERGED_FIELDS
    ) | _attribute_key(ATTRIBUTES).ne_missing(_attribute_key(f"stored_{ATTRIBUTES}"))
    changed = merged.filter(differs).select(ROW, "contact_id", "phone", *MERGED_FIELDS, ATTRIBUTES)
    return changed, matched.filter(~pl.col(ROW).is_in(changed.get_column(ROW).implode()))


def _attribute_candidates(matched: pl.DataFrame, policy: str) -> pl.Series:
    """ROWs with an incoming attribute that could change the stored map: under `update`
    one whose stored value differs or is missing, under `fill` one missing from it.
    Every row the merge would change is among them (more are harmless)."""
    incoming = _entries_long(matched, ATTRIBUTES)
    stored = _entries_long(matched, f"stored_{ATTRIBUTES}").rename({"value": "stored"})
    paired = incoming.join(stored, on=[ROW, "key"], how="left")
    if policy == "update":
        hit = pl.col("value").ne_missing(pl.col("stored"))
    else:
        hit = pl.col("stored").is_null()
    return paired.filter(hit).get_column(ROW).unique()


def _entries_long(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """(ROW, key, value) for each non-empty entry of a cells struct or {key, value} list."""
    if isinstance(frame.schema[column], pl.Struct):
        fields = frame.schema[column].fields  # type: ignore[union-attr]
        if not fields:
            return pl.DataFrame(schema={ROW: pl.Int64, "key": pl.String, "value": pl.String})
        cells = frame.select(ROW, pl.col(column).struct.unnest())
        long = cells.unpivot(index=ROW, variable_name="key", value_name="value")
    else:
        long = frame.select(ROW, pl.col(column)).explode(column).unnest(column)
    return long.filter(pl.col("value").is_not_null()).select(
        pl.col(ROW).cast(pl.Int64), pl.col("key").cast(pl.String), pl.col("value").cast(pl.String)
    )


def _merge_field(name: str, policy: str) -> pl.Expr:
    incoming, stored = pl.col(name), pl.col(f"stored_{name}")
    if policy == "update":
        return pl.coalesce(incoming, stored).alias(name)
    return pl.coalesce(stored.replace("", None), incoming).alias(name)


def _merge_attributes(policy: str) -> pl.Expr:
    """Key-wise merge of {key, value} lists; the winning side's value stays."""
    stored = pl.col(f"stored_{ATTRIBUTES}")
    incoming = pl.col(ATTRIBUTES)
    ordered = (
        pl.concat_list(stored, incoming) if policy == "update" else pl.concat_list(incoming, stored)
    )
    return (
        ordered.list.eval(pl.element().filter(pl.element().struct.field("key").is_last_distinct()))
        .list.eval(pl.element().sort_by(pl.element().struct.field("key")))
        .alias(ATTRIBUTES)
    )


def _attribute_key(column: str) -> pl.Expr:
    """A comparable text form of an attribute list (order-independent)."""
    entry = pl.element().struct.field("key") + pl.lit("\x1f") + pl.element().struct.field("value")
    return pl.col(column).list.eval(entry.sort()).list.join("\x1e")


def _empty_changes() -> pl.DataFrame:
    entry = pl.Struct({"key": pl.String, "value": pl.String})
    return pl.DataFrame(
        schema={
            ROW: pl.Int64,
            "contact_id": pl.Int64,
            "phone": pl.String,
            **{name: pl.String for name in MERGED_FIELDS},
            ATTRIBUTES: pl.List(entry),
        }
    )
