"""Column mapping: decide which source columns feed which contact fields, then apply it.

`map_columns` looks only at headers (and, when no header names a phone, at a sample
of cells); `apply_mapping` turns a source frame into the canonical frame the rest of
the pipeline works on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from contacts.errors import MappingError, UnknownFieldError, UsageError
from schemas.aliases import (
    ALIASES,
    EXCLUDED_LABEL,
    FIELDS,
    IGNORE,
    MOBILE_LABEL,
    MOBILE_STEMS,
    MOBILE_TOKENS,
    NOT_A_PHONE_TOKENS,
    PHONE_STEMS,
    PHONE_TOKENS,
    REJECT_COLUMNS,
    WEAK_PHONE_TOKENS,
    normalize_header,
    strip_entity_prefix,
)

ROW = "_row"
ATTRIBUTES = "attributes"
MULTI_VALUE = " ::: "  # Google Contacts joins several values in one cell with this
FIRST_OF_MANY = r"(?s) ::: .*$"  # everything after the first value
WEAK_COMPANIONS = frozenset({"contact", "de", "du", "of", "the", "main", "primary", "principal"})
AMBIGUOUS_FIRST_NAMES = frozenset({"nombre", "nome"})  # often the whole name in hand-made sheets
PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]{7,24}(\s*(x|ext\.?|#)\s*\d{1,6})?$", re.I)


@dataclass(frozen=True)
class PhoneSource:
    """A column that may hold the contact's phone; `label` names a sibling type column."""

    column: str
    mobile: bool = False
    label: str | None = None


@dataclass(frozen=True)
class ColumnMapping:
    columns: tuple[str, ...]  # every source column, in file order
    fields: dict[str, str]  # contact field -> source column (phone excluded)
    phones: tuple[PhoneSource, ...]
    attributes: tuple[str, ...]
    fallbacks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()
    phone_from_content: bool = False
    notes: tuple[str, ...] = field(default=())

    def as_report(self) -> dict[str, str]:
        """{source column: field} for every column, in the shape of the --json output."""
        report = {column: name for name, column in self.fields.items()}
        for source in self.phones:
            report[source.column] = "phone"
            if source.label:
                report[source.label] = "phone_label"
        report.update({column: "attribute" for column in self.attributes})
        for name, columns in self.fallbacks.items():
            report.update({column: name for column in columns})
        report.update({column: IGNORE for column in self.ignored})
        return {column: report[column] for column in self.columns if column in report}


def parse_overrides(specs: list[str]) -> dict[str, str]:
    """['Cell=phone', 'Org=company'] -> {'Cell': 'phone', 'Org': 'company'}."""
    overrides: dict[str, str] = {}
    for spec in specs:
        column, sep, target = spec.rpartition("=")
        target = target.strip().lower()
        if not sep or not column.strip() or not target:
            raise UsageError(f"--map {spec!r} is not COLUMN=FIELD, e.g. --map 'Cell=phone'")
        if target not in (*FIELDS, "attribute", IGNORE):
            choices = ", ".join((*FIELDS, "attribute", IGNORE))
            raise UnknownFieldError(
                f"--map {spec!r}: unknown field {target!r}; use one of {choices}"
            )
        overrides[column.strip()] = target
    return overrides


def map_columns(
    columns: list[str],
    overrides: dict[str, str] | None = None,
    sample: pl.DataFrame | None = None,
) -> ColumnMapping:
    """Map source columns to contact fields; raise MappingError when no phone is found."""
    overrides = overrides or {}
    unknown = [c for c in overrides if c not in columns]
    if unknown:
        raise UsageError(
            f"--map names column {unknown[0]!r}, which the file does not have; "
            f"its columns are: {', '.join(columns)}"
        )
    keys = {column: normalize_header(column) for column in columns}
    # a re-imported rejects.csv: its four added columns are not contact data
    reserved = REJECT_COLUMNS if set(keys.values()) >= REJECT_COLUMNS else frozenset()
    free = [c for c in columns if c not in overrides and keys[c] not in reserved]
    ignored = [
        c
        for c in columns
        if overrides.get(c) == IGNORE or (c not in overrides and keys[c] in reserved)
    ]

    fields, fallbacks = _fields_from_aliases(free, keys)
    for column, target in overrides.items():
        if target in FIELDS and target != "phone":
            fields[target] = column
            fallbacks.pop(target, None)
    _resolve_name_columns(fields, keys, overrides)

    forced = [c for c in columns if overrides.get(c) == "phone"]
    phones: list[PhoneSource]
    if forced:
        phones = [PhoneSource(c, mobile=phone_kind(keys[c]) == "mobile") for c in forced]
    else:
        taken = set(fields.values())
        phones = _phones_from_headers([c for c in free if c not in taken], keys)
    from_content = False
    if not phones:
        taken = set(fields.values())
        unnamed = [c for c in free if c not in taken and not _never_a_phone(keys[c])]
        phones = _phone_from_content(unnamed, sample, columns)
        from_content = True

    fallbacks = {name: cols for name, cols in fallbacks.items() if name in fields}
    used = set(fields.values()) | {p.column for p in phones} | {p.label for p in phones if p.label}
    # runners-up also stay attributes: a second email is not lost when the first is set
    attributes = tuple(c for c in columns if c not in used and c not in ignored)
    notes = ()
    if from_content:
        notes = (f"no header names a phone; column {phones[0].column!r} holds phone numbers",)
    return ColumnMapping(
        columns=tuple(columns),
        fields=fields,
        fallbacks=fallbacks,
        phones=tuple(phones),
        attributes=attributes,
        ignored=tuple(ignored),
        phone_from_content=from_content,
        notes=notes,
    )


def _fields_from_aliases(
    columns: list[str], keys: dict[str, str]
) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Best column per field (earliest alias, then leftmost), and its other slots in order.

    Other slots of the same field fill it per row when the best column is empty
    ("E-mail 2 - Value" for "E-mail 1 - Value"); other aliases never do.
    """
    ranked: dict[str, list[tuple[int, int, int, str]]] = {}
    for position, column in enumerate(columns):
        key = keys[column]
        for derived, candidate in enumerate(_alias_candidates(key)):
            for name, aliases in ALIASES.items():
                if candidate in aliases:
                    rank = (min(derived, 1), aliases.index(candidate), position, column)
                    ranked.setdefault(name, []).append(rank)
    chosen: dict[str, str] = {}
    for name, ranks in sorted(ranked.items(), key=lambda item: min(item[1])[:3]):
        for *_, column in sorted(ranks):
            if column not in chosen.values():
                chosen[name] = column
                break
    slot = {column: _slot_key(keys[column]) for column in columns}
    fallbacks = {
        name: tuple(
            dict.fromkeys(
                r[-1]
                for r in sorted(ranks)
                if r[-1] not in chosen.values() and slot[r[-1]] == slot[chosen[name]]
            )
        )
        for name, ranks in ranked.items()
        if name in chosen
    }
    return chosen, {name: columns for name, columns in fallbacks.items() if columns}


def _slot_key(key: str) -> str:
    """'e mail 2 address' and 'e mail address' are slots of one field; 'title' and
    'job title' are not (Outlook's Title is a salutation)."""
    return re.sub(r" \d+(?= |$)", "", strip_entity_prefix(key))


def _alias_candidates(key: str) -> tuple[str, ...]:
    """The key, without a CRM entity prefix, and without a slot number ('e mail 2 value')."""
    bare = strip_entity_prefix(key)
    unnumbered = re.sub(r" \d+( value| address)?$", "", bare)
    return tuple(dict.fromkeys((key, bare, unnumbered, re.sub(r" \d+ ", " ", bare))))


def _resolve_name_columns(
    fields: dict[str, str], keys: dict[str, str], overrides: dict[str, str]
) -> None:
    """German 'Vorname, Name': Name is the surname; Spanish 'Nombre' alone is a full name."""
    if "last_name" in fields or "last_name" in overrides.values():
        return
    full = fields.get("full_name")
    if "first_name" in fields and full and keys[full] == "name" and full not in overrides:
        fields["last_name"] = fields.pop("full_name")
        return
    first = fields.get("first_name")
    if (
        first
        and not full
        and first not in overrides
        and strip_entity_prefix(keys[first]) in AMBIGUOUS_FIRST_NAMES
    ):
        fields["full_name"] = fields.pop("first_name")


def _never_a_phone(key: str) -> bool:
    """Fax, pager, telex, assistant... also inside compounds ('assistantphone', 'faxnummer')."""
    return any(
        t in NOT_A_PHONE_TOKENS
        or any(t.startswith(word) for word in NOT_A_PHONE_TOKENS if len(word) >= 5)
        or t.startswith("fax")
        for t in key.split()
    )


def phone_kind(key: str) -> str | None:
    """'mobile', 'phone' or None for a normalized header key."""
    tokens = key.split()
    if not tokens or _never_a_phone(key):
        return None
    strong = [
        t
        for t in tokens
        if (t in PHONE_TOKENS and t not in WEAK_PHONE_TOKENS)
        or any(t.startswith(stem) or t.endswith(stem) for stem in PHONE_STEMS)
    ]
    if not strong:
        weak = [t for t in tokens if t in WEAK_PHONE_TOKENS]
        rest = [t for t in tokens if t not in WEAK_PHONE_TOKENS]
        if not weak or any(not (t.isdigit() or t in WEAK_COMPANIONS) for t in rest):
            return None
    mobile = any(
        t in MOBILE_TOKENS or any(t.startswith(stem) for stem in MOBILE_STEMS) for t in tokens
    )
    return "mobile" if mobile else "phone"


def _phones_from_headers(columns: list[str], keys: dict[str, str]) -> list[PhoneSource]:
    """Phone columns in column order, each paired with its 'Phone N - Type' sibling if any."""
    by_key = {keys[c]: c for c in columns}
    sources = []
    for column in columns:
        kind = phone_kind(keys[column])
        if kind is None:
            continue
        label = None
        match = re.fullmatch(r"(.*\d+) value", keys[column])
        if match:
            label = by_key.get(f"{match[1]} type") or by_key.get(f"{match[1]} label")
        sources.append(PhoneSource(column, mobile=kind == "mobile", label=label))
    return sources


def _phone_from_content(
    columns: list[str], sample: pl.DataFrame | None, all_columns: list[str]
) -> list[PhoneSource]:
    """When no header names a phone, accept the one column whose cells look like phones."""
    if sample is None or not columns:
        raise MappingError(_no_phone_message(all_columns))
    candidates = []
    for column in columns:
        values = sample.get_column(column).drop_nulls().head(500)
        if values.len() == 0:
            continue
        share = values.str.strip_chars().str.contains(PHONE_LIKE.pattern).mean()
        if share is not None and float(share) >= 0.6:
            candidates.append(column)
    if len(candidates) == 1:
        return [PhoneSource(candidates[0])]
    if candidates:
        names = ", ".join(repr(c) for c in candidates)
        raise MappingError(
            f"no header names a phone and several columns hold phone numbers ({names}); "
            f"pick one with --map '{candidates[0]}=phone'"
        )
    raise MappingError(_no_phone_message(all_columns))


def _no_phone_message(columns: list[str]) -> str:
    listed = ", ".join(repr(c) for c in columns) or "none"
    return f"no phone column found (columns: {listed}); name it with --map 'COLUMN=phone'"


def apply_mapping(frame: pl.DataFrame, mapping: ColumnMapping) -> pl.DataFrame:
    """Canonical frame: _row, phone_raw_N (+ phone_mobile_N), the contact fields, attributes.

    `frame`'s cells are as the readers give them: stripped, empty ones null. Multi-value
    cells ('a ::: b') of phone and field columns contribute their first value, stripped.
    """
    valued: list[str] = []  # the columns whose first value is taken
    _canonical(mapping, lambda column: valued.append(column) or pl.col(column))
    multi_valued = _multi_valued_columns(frame, valued)

    def first_value(column: str) -> pl.Expr:
        if column not in multi_valued:
            return pl.col(column)  # stripping again cost ~10 ms per 125k rows
        # one regex pass; splitting every cell into a list cost seconds per million rows
        return pl.col(column).str.replace(FIRST_OF_MANY, "").str.strip_chars()

    return frame.select(_canonical(mapping, first_value))


def _canonical(mapping: ColumnMapping, first_value: Callable[[str], pl.Expr]) -> list[pl.Expr]:
    """apply_mapping's columns, taking a field's value with `first_value(column)`."""
    exprs = [pl.col(ROW)]
    for index, source in enumerate(mapping.phones):
        exprs.append(first_value(source.column).alias(f"phone_raw_{index}"))
        mobile: pl.Expr = pl.lit(source.mobile)
        usable: pl.Expr = pl.lit(True)
        if source.label:
            label = pl.col(source.label).fill_null("")
            mobile = mobile | label.str.contains(MOBILE_LABEL)
            usable = ~label.str.contains(EXCLUDED_LABEL)
        exprs.append(mobile.alias(f"phone_mobile_{index}"))
        exprs.append(usable.alias(f"phone_usable_{index}"))
    for name in FIELDS:
        if name == "phone":
            continue
        column = mapping.fields.get(name)
        if column is None:
            exprs.append(pl.lit(None, pl.String).alias(name))
            continue
        sources = [column, *mapping.fallbacks.get(name, ())]
        exprs.append(pl.coalesce([first_value(c).replace("", None) for c in sources]).alias(name))
    country = mapping.fields.get("country")  # used for the region, and kept for the agent
    exprs.append(_attributes_expr(mapping.attributes + ((country,) if country else ())))
    return exprs


def _multi_valued_columns(frame: pl.DataFrame, names: list[str]) -> set[str]:
    """The text columns among `names` with a multi-value cell: only those need the regex
    (a literal search is ~3x cheaper than the replacement on every cell)."""
    schema = frame.schema
    columns = [name for name in dict.fromkeys(names) if schema.get(name) == pl.String]
    if not columns or frame.height == 0:
        return set()
    found = frame.select(pl.col(c).str.contains(MULTI_VALUE, literal=True).any() for c in columns)
    return {c for c in columns if found.get_column(c).item()}


def cell_struct(columns: tuple[str, ...] | list[str]) -> pl.Expr:
    """A row's cells of `columns` as one struct, a field per header.

    Free to build, unlike a list of {key, value} entries (seconds per million rows);
    the store turns it into a MAP of the non-empty cells in SQL.
    """
    if not columns:
        return pl.lit(None, pl.Struct({}))
    return pl.struct(pl.col(c) for c in columns)


def struct_entries(cells: pl.Expr | str) -> pl.Expr:
    """A `cell_struct` column as the list of its non-empty {key, value} entries.

    Only for a few rows (merges with stored contacts): it costs ~3 s per million.
    """
    entry = pl.Struct({"key": pl.String, "value": pl.String})
    column = pl.col(cells) if isinstance(cells, str) else cells
    return column.map_batches(
        lambda series: _entries_of(series, entry), return_dtype=pl.List(entry)
    )


def _entries_of(series: pl.Series, entry: pl.Struct) -> pl.Series:
    fields = series.struct.fields if isinstance(series.dtype, pl.Struct) else []
    if not fields:
        return pl.Series(series.name, [[]] * series.len(), pl.List(entry))
    frame = series.struct.unnest()
    pairs = pl.concat_list(
        [pl.struct(key=pl.lit(name, pl.String), value=pl.col(name)) for name in fields]
    )
    kept = pairs.list.filter(pl.element().struct.field("value").is_not_null())
    return frame.select(kept.alias(series.name)).to_series()


def _attributes_expr(columns: tuple[str, ...]) -> pl.Expr:
    return cell_struct(columns).alias(ATTRIBUTES)
