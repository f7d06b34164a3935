"""`contacts dnc import`: load a DNC file into the ledger; malformed lines are reported.

Shapes: FTC registry full lists ('2125551234' or '212,5551234' a line), FTC change
lists (a line per addition or deletion), one number a line in any format, or a CSV
with a header whose phone columns are found like a contact import's.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl

from contacts.dnc import check_source
from contacts.errors import SourceFileError
from contacts.readers import file_sha256, read_source
from store import dnc as ledger
from store.db import Store, now
from transforms.dnc_lines import LINE_SCHEMA, parse_registry_lines, plan_changes
from transforms.mapping import map_columns
from transforms.phones import phone_lookup
from transforms.regions import region_for_country

REASONS = {
    "full_list": "in the FTC registry",
    "change_list": "FTC registry change list",
    "numbers": "DNC file",
}


@dataclass
class DncLoad:
    load_id: str
    source: str
    file: str
    kind: str
    lines_total: int
    added: int
    removed: int
    unchanged: int
    malformed: int
    malformed_samples: list[dict[str, object]]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        lines = [
            f"Loaded {self.file} into DNC source '{self.source}' ({self.kind}), "
            f"load {self.load_id}",
            f"  lines      {self.lines_total:>11,}",
            f"  added      {self.added:>11,}",
            f"  removed    {self.removed:>11,}",
            f"  unchanged  {self.unchanged:>11,}",
            f"  malformed  {self.malformed:>11,}",
        ]
        lines += [
            f"    line {s['line']}: {s['reason']} ({s['text']!r})" for s in self.malformed_samples
        ]
        return "\n".join(lines)


def load_dnc_file(
    db: Path, path: Path, *, source: str = "file", region: str = "US", actor: str | None = None
) -> DncLoad:
    """Parse the file, work out the events for `source`, and append them atomically."""
    check_source(source)
    parsed, malformed, lines_total = parse_dnc_file(path, region)
    kind = (
        "change_list"
        if parsed.get_column("action").is_not_null().any()
        else ("full_list" if source == "registry" else "numbers")
    )
    load_id = f"dnc-{now():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    with Store.open(db) as store:
        ledger.begin_load(
            store,
            {
                "id": load_id,
                "source": source,
                "file": str(path),
                "sha256": file_sha256(path),
                "kind": kind,
                "started_at": now(),
            },
        )
        try:
            with store.transaction():
                active = ledger.active_phones(store, source)
                adds, removes, unchanged = plan_changes(parsed, active, kind)
                del parsed, active  # ~0.9 GB at 20M lines, no longer needed
                at = now()
                for frame, action in ((adds, "add"), (removes, "remove")):
                    ledger.append_events(
                        store, _events(frame, action, source, kind, actor, at, load_id)
                    )
                ledger.record_load_rejects(store, load_id, malformed)
                counts = {
                    "lines_total": lines_total,
                    "added": adds.height,
                    "removed": removes.height,
                    "unchanged": unchanged,
                    "malformed": malformed.height,
                }
                ledger.finish_load(store, load_id, counts, now())
        except Exception as err:
            ledger.fail_load(store, load_id, f"{type(err).__name__}: {err}", now())
            raise
    return DncLoad(
        load_id=load_id,
        source=source,
        file=str(path),
        kind=kind,
        **counts,
        malformed_samples=malformed.head(20).to_dicts(),
    )


def parse_dnc_file(path: Path, region: str) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(parsed: line, phone, action; malformed: line, text, reason; non-blank line count)."""
    code = region_for_country(region) or "US"
    lines = _read_lines(path)
    first = lines.head(1)
    if first.height and not any(ch.isdigit() for ch in first.item(0, "text")):
        if any(sep in first.item(0, "text") for sep in ",;\t|"):
            return _parse_with_header(path, code)
        lines = lines.slice(1)  # a one-column header such as 'phone'
    parsed, leftover = parse_registry_lines(lines)
    pairs = leftover.select(
        "line", pl.col("text").str.strip_chars().alias("raw"), pl.lit(code).alias("region")
    )
    answered = pairs.join(phone_lookup(pairs.select("raw", "region")), on=["raw", "region"])
    other = answered.filter(pl.col("e164").is_not_null()).select(
        "line", pl.col("e164").alias("phone"), pl.lit(None, pl.String).alias("action")
    )
    malformed = answered.filter(pl.col("e164").is_null()).select(
        "line", pl.col("raw").alias("text"), "reason"
    )
    return pl.concat([parsed, other]).sort("line"), malformed, lines.height


def _read_lines(path: Path) -> pl.DataFrame:
    """Non-blank lines with their 1-based numbers; fast enough for tens of millions."""
    if not path.exists():
        raise SourceFileError(str(path), "no such file", "check the path")
    try:
        raw = pl.read_csv(
            path,
            has_header=False,
            separator="\x1f",
            quote_char=None,
            schema={"text": pl.String},
            encoding="utf8-lossy",
            raise_if_empty=False,
        )
    except (pl.exceptions.PolarsError, OSError) as err:
        raise SourceFileError(str(path), f"cannot be read ({err})") from err
    lines = raw.with_row_index("line", offset=1).with_columns(
        pl.col("line").cast(pl.Int64), pl.col("text").str.strip_chars("\r\n\t \ufeff")
    )
    return lines.filter(pl.col("text").is_not_null() & (pl.col("text") != "")).select(
        list(LINE_SCHEMA)
    )


def _parse_with_header(path: Path, region: str) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """A CSV with a header: every valid number in any phone column is suppressed."""
    table = read_source(path)
    mapping = map_columns(table.columns, sample=table.frame.head(1000))
    cells = (
        pl.concat(
            [
                table.frame.select(pl.col("_row").alias("line"), pl.col(p.column).alias("raw"))
                for p in mapping.phones
            ]
        )
        .filter(pl.col("raw").is_not_null())
        .with_columns(pl.lit(region).alias("region"))
    )
    answered = cells.join(phone_lookup(cells.select("raw", "region")), on=["raw", "region"])
    parsed = answered.filter(pl.col("e164").is_not_null()).select(
        "line", pl.col("e164").alias("phone"), pl.lit(None, pl.String).alias("action")
    )
    bad = answered.filter(pl.col("e164").is_null())
    malformed = bad.join(parsed.select("line"), on="line", how="anti").select(
        "line", pl.col("raw").alias("text"), "reason"
    )
    return parsed, malformed.unique("line", keep="first"), table.frame.height


def _events(
    phones: pl.DataFrame,
    action: str,
    source: str,
    kind: str,
    actor: str | None,
    at: object,
    load_id: str,
) -> pl.DataFrame:
    reason = REASONS[kind] if action == "add" else f"removed by {REASONS[kind]}"
    return phones.select(
        "phone",
        pl.lit(action).alias("action"),
        pl.lit(source).alias("source"),
        pl.lit(reason).alias("reason"),
        pl.lit(actor or "dnc import").alias("actor"),
        pl.lit(at).alias("occurred_at"),
        pl.lit(load_id).alias("batch_id"),
    )
