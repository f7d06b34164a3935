"""DNC files, line by line: FTC registry lists, change lists, and plain number lists.

    parse_registry_lines(lines)          -> (parsed, leftover)  registry shapes, vectorized
    plan_changes(parsed, active, kind)   -> (adds, removes, unchanged)

Registry shapes (US numbers only, so E.164 is '+1' and the 10 digits):
  full list       '2125551234'  or  '212,5551234'
  change list     '212,5551234,A[,date]'  /  '2125551234,D'  (A/Add/D/Delete... any case)
Lines in no registry shape are left for the phone normalizer (any format, any region).
"""

from __future__ import annotations

import polars as pl

LINE_SCHEMA = {"line": pl.Int64, "text": pl.String}
PARSED_SCHEMA = {"line": pl.Int64, "phone": pl.String, "action": pl.String}
ADD_FLAGS = ("a", "add", "added", "addition", "additions", "i", "insert")
REMOVE_FLAGS = ("d", "del", "delete", "deleted", "deletion", "deletions", "r", "remove")
# NPA and NXX never start with 0 or 1. [0-9], not \d: polars' \d also takes other
# scripts' digits, which the phone normalizer reads as the digits they stand for.
NANP = r"^[2-9][0-9]{2}[2-9][0-9]{6}$"
# The full list's own shapes, '2125551234' and '212,5551234': nothing to pick apart.
PLAIN_LINE = r"^[2-9][0-9]{2},?[2-9][0-9]{6}$"
REGISTRY_LINE = (
    r"^\+?(?:1[\s.-]?)?\(?([0-9]{3})\)?[\s,.-]?\s*([0-9]{3})[\s.-]?([0-9]{4})\s*((?:,.*)?)$"
)
FLAG = r"^,\s*\"?([A-Za-z]+)\"?\s*(?:,.*)?$"


def parse_registry_lines(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split lines into registry-shaped ones (phone, action or null) and the rest.

    Lines in PLAIN_LINE's shapes (nearly all of a full list) take a short cut: one
    regex test and the comma dropped, instead of REGISTRY_LINE's groups (5M lines:
    6.9 s). The answers are those of `parse_any_registry_lines` (a property test).
    """
    text = pl.col("text").str.strip_chars()
    plain = text.str.contains(PLAIN_LINE)
    split = lines.with_columns(plain.alias("plain"))
    quick = split.filter("plain").select(
        "line",
        ("+1" + text.str.replace(",", "", literal=True)).alias("phone"),
        pl.lit(None, pl.String).alias("action"),
    )
    parsed, leftover = parse_any_registry_lines(split.filter(~pl.col("plain")).drop("plain"))
    return quick.merge_sorted(parsed, key="line"), leftover


def parse_any_registry_lines(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """parse_registry_lines without the short cut: every registry shape, change lists'
    flags included. `lines` in line order; both results keep it."""
    parts = pl.col("text").str.strip_chars().str.extract_groups(REGISTRY_LINE)
    digits = parts.struct.field("1") + parts.struct.field("2") + parts.struct.field("3")
    rest = parts.struct.field("4")
    flag = rest.str.extract(FLAG, 1).str.to_lowercase()
    action = (
        pl.when(rest == "")
        .then(pl.lit(None, pl.String))
        .when(flag.is_in(ADD_FLAGS))
        .then(pl.lit("add"))
        .when(flag.is_in(REMOVE_FLAGS))
        .then(pl.lit("remove"))
        .otherwise(pl.lit("unknown"))
    )
    registry = pl.col("digits").str.contains(NANP).fill_null(False) & (
        pl.col("action") != "unknown"
    ).fill_null(True)
    shaped = lines.with_columns(digits.alias("digits"), action.alias("action")).with_columns(
        registry.alias("registry")
    )
    parsed = shaped.filter("registry").select(
        "line", ("+1" + pl.col("digits")).alias("phone"), "action"
    )
    return parsed, shaped.filter(~pl.col("registry")).select(list(lines.columns))


def plan_changes(
    parsed: pl.DataFrame, active: pl.DataFrame, kind: str
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Events a load implies for one source, given the numbers that source suppresses now.

    `parsed`: line, phone, action (null: a plain listing). `active`: phone.
    - 'numbers' / 'full_list' add every listed number not yet active;
    - 'full_list' also removes active numbers of the area codes it covers that it no
      longer lists (a partial download never touches other area codes);
    - 'change_list' applies each line's add or remove; the last line for a number wins.
    Returns (adds: phone, removes: phone, unchanged count).
    """
    active = active.select("phone").unique()
    if kind == "change_list":
        last = parsed.sort("line").unique("phone", keep="last", maintain_order=True)
        wanted_add = last.filter(pl.col("action") != "remove").select("phone")
        wanted_remove = last.filter(pl.col("action") == "remove").select("phone")
        adds = wanted_add.join(active, on="phone", how="anti")
        removes = wanted_remove.join(active, on="phone", how="semi")
        return adds, removes, last.height - adds.height - removes.height
    listed = parsed.select("phone").unique(maintain_order=True)
    adds = listed.join(active, on="phone", how="anti")
    removes = pl.DataFrame(schema={"phone": pl.String})
    if kind == "full_list":
        area = pl.col("phone").str.slice(0, 5)  # '+1' and the area code
        covered = listed.select(area.alias("area")).unique()
        in_scope = active.with_columns(area.alias("area")).join(covered, on="area", how="semi")
        removes = in_scope.select("phone").join(listed, on="phone", how="anti")
    return adds, removes, listed.height - adds.height
