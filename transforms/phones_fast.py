"""What `phonenumbers` would answer for common phone shapes, computed for a whole batch.

`answer_in_place(pairs)` answers the (raw, region) rows whose shape it fully understands
(national numbers with `()-. /` punctuation, `+CC` and IDD prefixes, extensions ` x12`,
` ext. 12`, ` #12`, `;ext=12`) and says which rows it leaves to the library
(`parse_common` splits the two). Answers follow the library step by step (`parse`,
`region_code_for_number`, `number_type`, `is_possible_number_with_reason`,
`time_zones_for_number`) with the installed library's own metadata, turned into automata
over digits (`transforms.phone_automata`): every row of a batch walks them at once, one
digit position per numpy step, whatever its country, so a batch costs about the same
with one country as with fifty. A cell's digits are read straight from its bytes. A few
private helpers of the pinned version are used (`_test_number_length`,
`_GEO_MOBILE_COUNTRIES`, `_country_level_time_zones_for_number`). Exactness is checked
by tests/test_phones_fast.py, tests/test_phone_automata.py and
bench/phones_agreement.py; re-run them when bumping phonenumbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import phonenumbers
import polars as pl
import pyarrow as pa
from phonenumbers import (
    COUNTRY_CODE_TO_REGION_CODE,
    NumberParseException,
    PhoneMetadata,
    PhoneNumberType,
    ValidationResult,
)
from phonenumbers.phonenumberutil import _GEO_MOBILE_COUNTRIES, _test_number_length
from phonenumbers.timezone import TIMEZONE_DATA, _country_level_time_zones_for_number

from transforms.phone_automata import (
    FULL,
    PREFIX,
    Automaton,
    FirstMatch,
    Unsupported,
    ZonePrefixes,
    automaton,
    first_match,
    run,
    zone_prefixes,
)

# Leading '(' or spaces, an optional '+', the number (digits first), an optional extension.
# Anything else (letters, other punctuation, several '+') is left to the library.
SHAPE = (
    r"^ *\(? *(\+)?[ (]*([0-9][0-9 ().\-/]*?)"
    r"(?: *(?:(?:[eE][xX][tT][nN]?|[xX]|#)[.:]?[ \-]*|;[eE][xX][tT]=)([0-9]{1,9}))? *$"
)
EXTENSION = r"(?:[eE][xX][tT][nN]?|[xX]|#|;[eE][xX][tT]=)[.:]?[ \-]*([0-9]{1,9}) *$"
MAX_RAW_LENGTH = 80  # far below the library's 250; longer cells are left to it
MIN_DIGITS = 3  # with 3 digits a cell of this shape is always "viable" to the library
MAX_NSN_LENGTH = 17
UNKNOWN = PhoneNumberType.UNKNOWN
TYPED_DESCS = (  # _number_type_helper's order, before fixed line and mobile
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)
KEEPS_STRIPPED = (ValidationResult.IS_POSSIBLE, ValidationResult.TOO_LONG)
GEOGRAPHICAL = (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
ANSWER_SCHEMA = {
    "raw": pl.String,
    "region": pl.String,
    "e164": pl.String,  # valid numbers only
    "extension": pl.String,
    "parse_error": pl.Int8,  # NumberParseException error type when parse() raises
    "possible": pl.Int8,  # is_possible_number_with_reason of a parsed, invalid number
    "phone_region": pl.String,
    "number_type": pl.Int8,
    "zone_set": pl.UInt16,  # time_zones_for_number without 'Etc/Unknown', as a ZoneSets id
}
LENGTHS = 128  # length tables cover 0..LENGTHS-1 digits; longer is TOO_LONG everywhere
NO_ERROR = -1


# --- the metadata, as tables --------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """One region's parsing rules, in the form the batch steps use."""

    region: str
    country_code: int
    idd: FirstMatch | None  # international_prefix
    national_prefix: FirstMatch | None  # national_prefix_for_parsing
    transform: tuple[str, int] | None  # national_prefix_transform_rule: literal + group
    general: Automaton | None  # the general description, matched in full
    length_check: np.ndarray  # (LENGTHS,) int8: _test_number_length by length


def _transform(rule: str | None, groups: int) -> tuple[str, int] | None:
    """A transform rule as (literal, group index): every rule of the metadata is digits
    followed by one group reference."""
    if not rule:
        return None
    literal, _, group = rule.partition("\\")
    if (not literal.isdigit() and literal) or not group.isdigit() or not 1 <= int(group) <= groups:
        raise Unsupported(f"transform rule {rule!r}")
    return literal, int(group) - 1


def _metadata(region: str) -> phonenumbers.PhoneMetadata | None:
    return PhoneMetadata.metadata_for_region(region, None)


@cache
def _full_match(pattern: str) -> Automaton:
    return automaton([(pattern, FULL)])


@cache
def rules_for(region: str) -> Rules | None:
    """The region's rules, or None when one of its patterns is outside the automata's
    syntax (its numbers are then left to the library)."""
    meta = _metadata(region)
    if meta is None:
        return None
    try:
        prefix = (
            first_match(meta.national_prefix_for_parsing)
            if meta.national_prefix_for_parsing
            else None
        )
        transform = _transform(meta.national_prefix_transform_rule, prefix.groups if prefix else 0)
        if transform is not None and prefix is not None and prefix.groups == 0:
            raise Unsupported("a transform rule without groups")
        general = meta.general_desc.national_number_pattern if meta.general_desc else None
        return Rules(
            region=region,
            country_code=meta.country_code,
            idd=first_match(meta.international_prefix) if meta.international_prefix else None,
            national_prefix=prefix,
            transform=transform,
            general=_full_match(general) if general else None,
            length_check=np.array(
                [_test_number_length("0" * n, meta) for n in range(LENGTHS)], dtype=np.int8
            ),
        )
    except Unsupported:
        return None


@dataclass(frozen=True)
class CodeRules:
    """What a country calling code's regions make of national significant numbers: one
    automaton over every region's leading digits and number patterns, and per final
    state and length the region that claims the number and its type."""

    country_code: int
    regions: tuple[str, ...]
    automaton: Automaton
    claimed: np.ndarray  # (states, MAX_NSN_LENGTH + 1) int16: index in `regions`, -1: none
    number_type: np.ndarray  # (states, MAX_NSN_LENGTH + 1) int8: PhoneNumberType


def _desc(meta: phonenumbers.PhoneMetadata, name: str) -> phonenumbers.PhoneNumberDesc | None:
    desc = getattr(meta, name)
    return desc if desc is not None and desc.national_number_pattern else None


@cache
def code_rules(country_code: int) -> CodeRules | None:
    """The code's rules, or None when one of its regions has none (non-geographic
    codes, or a pattern outside the automata's syntax)."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if not regions or any(r == "001" or rules_for(r) is None for r in regions):
        return None
    patterns: list[tuple[str, str]] = []
    ids: dict[tuple[str, str], int] = {}  # (region, desc name or 'leading') -> pattern id
    for region in regions:
        meta = _metadata(region)
        assert meta is not None
        if meta.leading_digits:
            ids[region, "leading"] = len(patterns)
            patterns.append((meta.leading_digits, PREFIX))
        names = ["general_desc", *(name for name, _ in TYPED_DESCS), "fixed_line", "mobile"]
        for name in names:
            desc = _desc(meta, name)
            if desc is not None:
                ids[region, name] = len(patterns)
                patterns.append((desc.national_number_pattern, FULL))
    try:
        machine = automaton(patterns)
    except Unsupported:
        return None

    def matches(matched: frozenset[int], region: str, name: str, length: int) -> bool:
        """_is_number_matching_desc: possible lengths, then the pattern."""
        desc = _desc(_metadata(region), name)  # type: ignore[arg-type]
        if desc is None or ids[region, name] not in matched:
            return False
        return not desc.possible_length or length in desc.possible_length

    def number_type(matched: frozenset[int], region: str, length: int) -> int:
        """_number_type_helper."""
        if not matches(matched, region, "general_desc", length):
            return UNKNOWN
        for name, kind in TYPED_DESCS:
            if matches(matched, region, name, length):
                return kind
        same = _metadata(region).same_mobile_and_fixed_line_pattern  # type: ignore[union-attr]
        if matches(matched, region, "fixed_line", length):
            if same or matches(matched, region, "mobile", length):
                return PhoneNumberType.FIXED_LINE_OR_MOBILE
            return PhoneNumberType.FIXED_LINE
        if not same and matches(matched, region, "mobile", length):
            return PhoneNumberType.MOBILE
        return UNKNOWN

    def claim(matched: frozenset[int], length: int) -> int:
        """region_code_for_number: the first region that claims the number."""
        if len(regions) == 1:
            return 0
        for index, region in enumerate(regions):
            if (region, "leading") in ids:
                if ids[region, "leading"] in matched:
                    return index
            elif number_type(matched, region, length) != UNKNOWN:
                return index
        return -1

    states = len(machine.matched)
    claimed = np.full((states, MAX_NSN_LENGTH + 1), -1, dtype=np.int16)
    kinds = np.full((states, MAX_NSN_LENGTH + 1), UNKNOWN, dtype=np.int8)
    answers: dict[tuple[frozenset[int], int], tuple[int, int]] = {}
    for state, matched in enumerate(machine.matched):
        for length in range(MAX_NSN_LENGTH + 1):
            key = (matched, length)
            if key not in answers:
                index = claim(matched, length)
                kind = number_type(matched, regions[index], length) if index >= 0 else UNKNOWN
                answers[key] = (index, kind)
            claimed[state, length], kinds[state, length] = answers[key]
    return CodeRules(country_code, tuple(regions), machine, claimed, kinds)


MAIN_REGION = {code: regions[0] for code, regions in COUNTRY_CODE_TO_REGION_CODE.items()}


@cache
def region_usable(region: str) -> bool:
    """Whether numbers written in this region can be answered here."""
    if region not in phonenumbers.SUPPORTED_REGIONS or rules_for(region) is None:
        return False
    return code_rules(phonenumbers.country_code_for_region(region)) is not None


@dataclass(frozen=True)
class ZoneSets:
    """time_zones_for_number's answers ('Etc/Unknown' left out) as small ids: by time
    zone key (TIMEZONE_DATA's order), by country code, and none (an empty list)."""

    by_key: np.ndarray  # (keys,) int32
    by_country: dict[int, int]  # _country_level_time_zones_for_number of a code
    unknown: int
    ids: dict[tuple[str, ...], int]
    lists: pl.Series  # List(String), one per id

    def of(self, zones: tuple[str, ...]) -> int:
        """The id of an answer of time_zones_for_number (without 'Etc/Unknown')."""
        found = self.ids.get(zones)
        if found is None:  # every answer the library can give is listed: a bug
            raise KeyError(f"time zones {zones!r} are not a known answer")
        return found


@cache
def zone_sets() -> ZoneSets:
    ids: dict[tuple[str, ...], int] = {}

    def set_id(zones: Sequence[str]) -> int:
        kept = tuple(zone for zone in zones if zone != "Etc/Unknown")
        return ids.setdefault(kept, len(ids))

    by_key = np.array([set_id(zones) for zones in TIMEZONE_DATA.values()], dtype=np.int32)
    by_country = {
        code: set_id(_country_level_time_zones_for_number(phonenumbers.PhoneNumber(code)))
        for code in COUNTRY_CODE_TO_REGION_CODE
    }
    unknown = set_id(())
    lists = pl.Series([list(zones) for zones in ids], dtype=pl.List(pl.String))
    return ZoneSets(by_key, by_country, unknown, ids, lists)


@cache
def _zone_trie() -> ZonePrefixes:
    """TIMEZONE_DATA's keys, in its order."""
    return zone_prefixes(list(TIMEZONE_DATA))


def time_zones(zone_set: pl.Series) -> pl.Series:
    """The time zone lists of ZoneSets ids."""
    return zone_sets().lists.gather(zone_set).alias("time_zones")


@cache
def _is_code() -> np.ndarray:
    """(1000,) bool: which values of 1-3 digits are country calling codes."""
    table = np.zeros(1000, dtype=bool)
    table[[code for code in COUNTRY_CODE_TO_REGION_CODE if code < 1000]] = True
    return table


# --- digits of a batch ----------------------------------------------------------------------


class _Numbers:
    """Digit strings in one buffer that only grows: a number is (start, length) into
    `digits` (values 0-9)."""

    def __init__(self, digits: np.ndarray, start: np.ndarray, length: np.ndarray) -> None:
        self.digits = digits
        self.start = start
        self.length = length

    @classmethod
    def of_cells(cls, cells: pl.Series) -> _Numbers:
        """Each cell's digits (ASCII 0-9), in order: for a SHAPE cell, its number's
        digits followed by its extension's."""
        array = cells.rechunk().to_arrow()  # large_string: offsets and bytes
        buffers = array.buffers()
        offsets = np.frombuffer(buffers[1], dtype=np.int64)[
            array.offset : array.offset + len(array) + 1
        ]
        data = (
            np.frombuffer(buffers[2], dtype=np.uint8)
            if len(buffers) > 2 and buffers[2] is not None
            else np.zeros(0, dtype=np.uint8)
        )
        first, end = offsets[:-1], offsets[1:]
        data = data[first[0] : end[-1]] if len(first) else data[:0]
        base = first[0] if len(first) else 0
        is_digit = ((data >= 48) & (data <= 57)).view(np.uint8)
        count = np.zeros(len(first), dtype=np.int64)
        filled = end > first  # reduceat gives an empty cell the next cell's first byte
        if filled.any():
            count[filled] = np.add.reduceat(is_digit, first[filled] - base, dtype=np.int64)
        start = np.cumsum(count) - count
        return cls(data[is_digit.view(bool)] - np.uint8(48), start, count)

    def head(self, start: np.ndarray, length: np.ndarray, size: int) -> np.ndarray:
        """The value of each number's first `size` digits (-1 when it is shorter)."""
        value = np.zeros(len(start), dtype=np.int64)
        enough = length >= size
        for k in range(size):
            value = value * 10 + self.digits[np.where(enough, start + k, 0)]
        return np.where(enough, value, -1)

    def digit(self, start: np.ndarray, length: np.ndarray, position: np.ndarray) -> np.ndarray:
        """Each number's digit at `position` (-1 past its end)."""
        inside = position < length
        return np.where(inside, self.digits[np.where(inside, start + position, 0)], -1)

    def add(self, pieces: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New numbers, row i made of pieces (pieces[i, j], sizes[i, j]) (start and length
        of parts of the buffer) in order; returns their (start, length)."""
        sizes = sizes.astype(np.int64)
        lengths = sizes.sum(axis=1)
        flat_sizes = sizes.reshape(-1)
        written = np.cumsum(flat_sizes) - flat_sizes  # where each piece goes
        index = np.repeat(pieces.reshape(-1) - written, flat_sizes) + np.arange(flat_sizes.sum())
        at = len(self.digits)
        self.digits = np.concatenate([self.digits, self.digits[index]])
        return at + np.cumsum(lengths) - lengths, lengths

    def literal(self, text: str) -> int:
        """Put a string of digits in the buffer; return where it starts."""
        at = len(self.digits)
        added = np.frombuffer(text.encode(), dtype=np.uint8) - np.uint8(48)
        self.digits = np.concatenate([self.digits, added])
        return at

    def text(self, start: np.ndarray, length: np.ndarray) -> pl.Series:
        """The numbers as a String series."""
        offsets = np.concatenate([[0], np.cumsum(length)]).astype(np.int64)
        index = np.repeat(start - offsets[:-1], length) + np.arange(offsets[-1])
        data = (self.digits[index] + np.uint8(48)).tobytes()
        array = pa.LargeStringArray.from_buffers(
            len(start), pa.py_buffer(offsets.tobytes()), pa.py_buffer(data)
        )
        return pl.Series(pl.from_arrow(array))


def _country_code(
    numbers: _Numbers, start: np.ndarray, length: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """_extract_country_code: (code, its digit count), 0 and 0 when none: the shortest
    leading 1-3 digits that are a code, never after a leading 0."""
    is_code = _is_code()
    code = np.zeros(len(start), dtype=np.int64)
    size = np.zeros(len(start), dtype=np.int64)
    for digits in (3, 2, 1):  # the shortest wins, so it is tested last
        head = numbers.head(start, length, digits)
        hit = (head >= 10 ** (digits - 1)) & is_code[np.maximum(head, 0)]
        code = np.where(hit, head, code)
        size = np.where(hit, digits, size)
    return code, size


# --- automata of several regions in one table ---------------------------------------------


def _stack(tables: Sequence[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """(one table holding the given `tables`, each at a state offset; each one's first
    state, -1 for a missing one)."""
    present = [table for table in tables if table is not None]
    sizes = [len(table) for table in present]
    offsets = np.cumsum([0, *sizes[:-1]]).astype(np.int32)
    starts = np.full(len(tables), -1, dtype=np.int32)
    starts[[i for i, table in enumerate(tables) if table is not None]] = offsets
    if not present:
        return np.zeros((1, 10), dtype=np.int32), starts
    return np.concatenate([t + o for t, o in zip(present, offsets, strict=True)]), starts


class _FirstMatches:
    """The FirstMatch automata of a batch's regions (one per region, or none), stacked:
    a row's match is an index into all their alternatives (-1: none)."""

    def __init__(self, machines: Sequence[FirstMatch | None]) -> None:
        present = [m for m in machines if m is not None]
        self.table, self.start = _stack([None if m is None else m.table for m in machines])
        firsts = np.cumsum([0, *(len(m.options) for m in present)])
        self.depth = np.array([0 if m is None else m.depth for m in machines], dtype=np.int64)
        self.groups = np.array([0 if m is None else m.groups for m in machines], dtype=np.int64)

        def shifted(values: np.ndarray, first: int) -> np.ndarray:
            return np.where(values >= 0, values + first, -1)

        self.at_end = np.concatenate(
            [shifted(m.at_end, f) for m, f in zip(present, firsts, strict=False)] or [[-1]]
        )
        self.unended = np.concatenate(
            [shifted(m.unended, f) for m, f in zip(present, firsts, strict=False)] or [[-1]]
        )
        options = [option for m in present for option in m.options]
        self.length = np.array([len(o.classes) for o in options] or [0], dtype=np.int64)
        groups = max((m.groups for m in present), default=0)
        self.group_start = np.full((max(len(options), 1), max(groups, 1)), -1, dtype=np.int64)
        self.group_end = self.group_start.copy()
        for index, option in enumerate(options):
            for group, span in enumerate(option.groups):
                if span is not None:
                    self.group_start[index, group], self.group_end[index, group] = span

    def match(
        self, numbers: _Numbers, region: np.ndarray, start: np.ndarray, length: np.ndarray
    ) -> np.ndarray:
        """re.match with each row's region's pattern: the alternative that matched."""
        found = np.full(len(start), -1, dtype=np.int32)
        has = self.start[region] >= 0
        if not has.any():
            return found
        which, size = region[has], length[has]
        depth = self.depth[which]
        states = run(self.table, self.start[which], numbers.digits, start[has], size,
                     limit=int(depth.max()))  # fmt: skip
        found[has] = np.where(size <= depth, self.at_end[states], self.unended[states])
        return found


class _Tables:
    """What the steps need of the batch's regions (the regions numbers are written in,
    then the main regions of the codes found in them), stacked per kind."""

    def __init__(self, regions: list[str]) -> None:
        self.regions = regions
        self.size = -1
        self.refresh()

    def index(self, region: str) -> int:
        """The region's index, adding it if new (call `refresh` before using it)."""
        if region not in self.regions:
            self.regions.append(region)
        return self.regions.index(region)

    def refresh(self) -> None:
        if len(self.regions) == self.size:
            return
        self.size = len(self.regions)
        rules = [rules_for(region) for region in self.regions]
        if any(r is None for r in rules):  # callers only add usable regions
            raise ValueError(f"no rules for a region of {self.regions}")
        self.rules: list[Rules] = rules  # type: ignore[assignment]
        self.idd = _FirstMatches([r.idd for r in self.rules])
        self.prefix = _FirstMatches([r.national_prefix for r in self.rules])
        generals = [r.general for r in self.rules]
        present = [g for g in generals if g is not None]
        self.general_table, self.general_start = _stack(
            [None if g is None else g.table for g in generals]
        )
        self.general_accepts = np.concatenate(
            [np.array([0 in m for m in g.matched], dtype=bool) for g in present] or [[False]]
        )
        self.lengths = np.stack(
            [r.length_check for r in self.rules] or [np.zeros(LENGTHS, dtype=np.int8)]
        )
        self.codes = np.array([r.country_code for r in self.rules], dtype=np.int64)
        self.code_sizes = np.array([len(str(r.country_code)) for r in self.rules])
        self.literal = [r.transform[0] if r.transform else "" for r in self.rules]
        self.rule_group = np.array([r.transform[1] if r.transform else -1 for r in self.rules])

    def general(
        self, numbers: _Numbers, region: np.ndarray, start: np.ndarray, length: np.ndarray
    ) -> np.ndarray:
        """_match_national_number(number, general_desc of the row's region)."""
        first = self.general_start[region]
        found = np.zeros(len(start), dtype=bool)
        has = first >= 0
        if has.any():
            states = run(self.general_table, first[has], numbers.digits, start[has], length[has])
            found[has] = self.general_accepts[states]
        return found

    def length_check(self, region: np.ndarray, length: np.ndarray) -> np.ndarray:
        """_test_number_length with the row's region's metadata."""
        return self.lengths[region, np.minimum(length, LENGTHS - 1)]


# --- the steps of parse() on a batch -------------------------------------------------------


def _strip_national_prefix(
    tables: _Tables, numbers: _Numbers, region: np.ndarray, start: np.ndarray, length: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """_maybe_strip_national_prefix_carrier_code with each row's region's metadata: the
    number part of its answer, as (start, length)."""
    start, length = start.copy(), length.copy()
    found = tables.prefix.match(numbers, region, start, length)
    at = np.flatnonzero((found >= 0) & (length > 0))
    if len(at) == 0:
        return start, length
    option, where, size, home = found[at], start[at], length[at], region[at]
    end = tables.prefix.length[option]
    viable = tables.general(numbers, home, where, size)
    new_start, new_length = where + end, size - end
    # a transform rule applies when the pattern's last group took part in the match
    last = np.maximum(tables.prefix.groups[home] - 1, 0)
    by_rule = np.flatnonzero(
        (tables.rule_group[home] >= 0) & (tables.prefix.group_start[option, last] >= 0)
    )
    if len(by_rule):
        rule_region = home[by_rule]
        literal_start = np.zeros(len(by_rule), dtype=np.int64)
        literal_size = np.zeros(len(by_rule), dtype=np.int64)
        for value in np.unique(rule_region):
            text = tables.literal[value]
            if text:
                pick = rule_region == value
                literal_start[pick] = numbers.literal(text)
                literal_size[pick] = len(text)
        chosen, group = option[by_rule], tables.rule_group[rule_region]
        group_from = tables.prefix.group_start[chosen, group]
        group_size = np.where(
            group_from >= 0, tables.prefix.group_end[chosen, group] - group_from, 0
        )
        base, rest = where[by_rule], end[by_rule]
        pieces = np.stack([literal_start, base + np.maximum(group_from, 0), base + rest], axis=1)
        sizes = np.stack([literal_size, group_size, size[by_rule] - rest], axis=1)
        new_start[by_rule], new_length[by_rule] = numbers.add(pieces, sizes)
    # a viable number stays whole when what is left is not viable
    keep = viable & ~tables.general(numbers, home, new_start, new_length)
    start[at] = np.where(keep, where, new_start)
    length[at] = np.where(keep, size, new_length)
    return start, length


@dataclass
class _Parsed:
    """Per row, what parse() has made of its number so far."""

    error: np.ndarray  # int8 NumberParseException type, or NO_ERROR
    unsure: np.ndarray  # bool: left to the library
    code: np.ndarray  # int64 country calling code
    meta: np.ndarray  # region index: the metadata parse() goes on with
    start: np.ndarray  # the national number so far
    length: np.ndarray

    @classmethod
    def of(cls, numbers: _Numbers, region: np.ndarray) -> _Parsed:
        n = len(region)
        return cls(
            error=np.full(n, NO_ERROR, dtype=np.int8),
            unsure=np.zeros(n, dtype=bool),
            code=np.zeros(n, dtype=np.int64),
            meta=region.copy(),
            start=numbers.start.copy(),
            length=numbers.length.copy(),
        )

    def going(self) -> np.ndarray:
        return (self.error == NO_ERROR) & ~self.unsure


def _take_code(
    tables: _Tables,
    parsed: _Parsed,
    rows: np.ndarray,
    code: np.ndarray,
    start: np.ndarray,
    length: np.ndarray,
) -> None:
    """Rows whose country code came from the number: its main region's metadata next."""
    parsed.code[rows] = code
    parsed.start[rows], parsed.length[rows] = start, length
    for value in np.unique(code).tolist():
        pick = rows[code == value]
        if code_rules(value) is None:  # e.g. non-geographic codes: left to the library
            parsed.unsure[pick] = True
        else:
            parsed.meta[pick] = tables.index(MAIN_REGION[value])


def _extract_country(
    tables: _Tables, numbers: _Numbers, region: np.ndarray, plus: np.ndarray
) -> _Parsed:
    """_maybe_extract_country_code, with parse's retry of a '+' followed by no known code:
    the country code, the national number and whose metadata comes next, or the error."""
    parsed = _Parsed.of(numbers, region)
    start, length = numbers.start, numbers.length
    # after a '+': a known code, else parse tries again without the '+'
    parsed.error[plus & (length <= 2)] = NumberParseException.TOO_SHORT_AFTER_IDD
    rows = np.flatnonzero(plus & parsed.going())
    code, size = _country_code(numbers, start[rows], length[rows])
    known = code > 0
    taken = rows[known]
    _take_code(tables, parsed, taken, code[known], start[taken] + size[known],
               length[taken] - size[known])  # fmt: skip
    retry = np.zeros(len(plus), dtype=bool)
    retry[rows[~known]] = True
    # an international prefix of the region, unless a 0 follows it
    rows = np.flatnonzero((~plus | retry) & parsed.going())
    found = tables.idd.match(numbers, region[rows], start[rows], length[rows])
    end = np.where(found >= 0, tables.idd.length[np.maximum(found, 0)], 0)
    after_idd = (found >= 0) & (numbers.digit(start[rows], length[rows], end) != 0)
    idd = rows[after_idd]
    full_start, full_length = start[idd] + end[after_idd], length[idd] - end[after_idd]
    short = full_length <= 2
    parsed.error[idd[short]] = NumberParseException.TOO_SHORT_AFTER_IDD
    idd, full_start, full_length = idd[~short], full_start[~short], full_length[~short]
    code, size = _country_code(numbers, full_start, full_length)
    known = code > 0
    parsed.error[idd[~known]] = NumberParseException.INVALID_COUNTRY_CODE
    _take_code(tables, parsed, idd[known], code[known], full_start[known] + size[known],
               full_length[known] - size[known])  # fmt: skip
    parsed.error[rows[~after_idd & retry[rows]]] = NumberParseException.INVALID_COUNTRY_CODE
    # at home: a number starting with the region's own code loses it if it fits better so
    home = rows[~after_idd & ~retry[rows]]
    home_region = region[home]
    own = tables.codes[home_region]
    parsed.code[home] = own
    own_size = tables.code_sizes[home_region]
    heads = np.full(len(home), -1, dtype=np.int64)
    for digits in np.unique(own_size).tolist():
        pick = own_size == digits
        heads[pick] = numbers.head(start[home[pick]], length[home[pick]], digits)
    prefixed = heads == own
    maybe, maybe_region, skip = home[prefixed], home_region[prefixed], own_size[prefixed]
    if len(maybe) == 0:
        return parsed
    stripped = _strip_national_prefix(
        tables, numbers, maybe_region, start[maybe] + skip, length[maybe] - skip
    )
    whole = tables.general(numbers, maybe_region, start[maybe], length[maybe])
    better = tables.general(numbers, maybe_region, *stripped)
    too_long = tables.length_check(maybe_region, length[maybe]) == ValidationResult.TOO_LONG
    switch = (~whole & better) | too_long
    moved = maybe[switch]
    parsed.start[moved], parsed.length[moved] = stripped[0][switch], stripped[1][switch]
    for value in np.unique(own[prefixed][switch]).tolist():
        parsed.meta[moved[own[prefixed][switch] == value]] = tables.index(MAIN_REGION[value])
    return parsed


def _national_significant_number(tables: _Tables, numbers: _Numbers, parsed: _Parsed) -> None:
    """parse()'s national prefix step and length checks, on the rows still going."""
    parsed.error[parsed.going() & (parsed.length < 2)] = NumberParseException.TOO_SHORT_NSN
    rows = np.flatnonzero(parsed.going())
    tables.refresh()
    meta, start, length = parsed.meta[rows], parsed.start[rows], parsed.length[rows]
    s_start, s_length = _strip_national_prefix(tables, numbers, meta, start, length)
    keep = np.isin(tables.length_check(meta, s_length), KEEPS_STRIPPED)
    parsed.start[rows] = np.where(keep, s_start, start)
    parsed.length[rows] = np.where(keep, s_length, length)
    parsed.error[rows[parsed.length[rows] > MAX_NSN_LENGTH]] = NumberParseException.TOO_LONG


@dataclass
class _Validated:
    claimed: np.ndarray  # int32 index into `names`, -1: no region
    names: list[str]
    number_type: np.ndarray  # int8 PhoneNumberType
    possible: np.ndarray  # int8 ValidationResult
    zones: np.ndarray  # int32 zone set id (ZoneSets)


def _validate(numbers: _Numbers, parsed: _Parsed) -> _Validated:
    """region_code_for_number, number_type, is_possible_number_with_reason and
    time_zones_for_number of the rows parse() accepted."""
    n = len(parsed.error)
    sets, trie = zone_sets(), _zone_trie()
    found = _Validated(
        claimed=np.full(n, -1, dtype=np.int32),
        names=[],
        number_type=np.full(n, UNKNOWN, dtype=np.int8),
        possible=np.full(n, -1, dtype=np.int8),
        zones=np.full(n, sets.unknown, dtype=np.int32),
    )
    rows = np.flatnonzero(parsed.going())
    codes = parsed.code[rows]
    distinct = np.unique(codes).tolist()
    if not distinct:
        return found
    rules = [code_rules(code) for code in distinct]
    table, offsets = _stack([r.automaton.table for r in rules])  # type: ignore[union-attr]
    which = np.searchsorted(np.array(distinct, dtype=np.int64), codes)
    start, length = parsed.start[rows], parsed.length[rows]
    states = run(table, offsets[which], numbers.digits, start, length) - offsets[which]
    for slot, (code, rule) in enumerate(zip(distinct, rules, strict=True)):
        assert rule is not None
        pick = np.flatnonzero(which == slot)
        at, state, size = rows[pick], states[pick], length[pick]
        claimed, kind = rule.claimed[state, size], rule.number_type[state, size]
        found.claimed[at] = np.where(claimed >= 0, claimed + len(found.names), -1)
        found.names.extend(rule.regions)
        found.number_type[at] = kind
        main = rules_for(rule.regions[0])
        assert main is not None
        found.possible[at] = main.length_check[np.minimum(size, LENGTHS - 1)]
        valid = kind != UNKNOWN
        geographical = np.isin(kind, GEOGRAPHICAL)
        if code in _GEO_MOBILE_COUNTRIES:
            geographical |= kind == PhoneNumberType.MOBILE
        found.zones[at[valid & ~geographical]] = sets.by_country[code]
        geo = pick[valid & geographical]
        if len(geo):
            first = 0
            for char in str(code):  # the E.164 digits: the code, then the number
                first = int(trie.table[first, ord(char) - 48])
            ends = run(trie.table, np.full(len(geo), first, dtype=np.int32), numbers.digits,
                       start[geo], length[geo])  # fmt: skip
            key = trie.longest[ends]
            found.zones[rows[geo]] = np.where(key >= 0, sets.by_key[key], sets.unknown)
    return found


# --- polars in and out --------------------------------------------------------------------


def _carried(pairs: pl.DataFrame) -> list[str]:
    """raw, region and whatever other columns `pairs` has (e.g. a row index)."""
    return ["raw", "region", *(c for c in pairs.columns if c not in ("raw", "region"))]


def parse_common(pairs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(answers in ANSWER_SCHEMA, the rows left to the library), both in the order of
    `pairs` and with its other columns (a row index, say) after the answer's."""
    answers, answered = answer_in_place(pairs)
    mask = pl.Series(answered)
    return answers.filter(mask), pairs.select(_carried(pairs)).filter(~mask)


def answer_in_place(pairs: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """(a row of ANSWER_SCHEMA, with the other columns of `pairs`, for every row of
    `pairs`, in its order; which rows it answers: the others are left to the library).

    A row is answered here when its cell has the SHAPE, at least MIN_DIGITS digits
    before any extension, at most MAX_RAW_LENGTH characters, and a region with rules.
    """
    raw = pl.col("raw")
    regions = [
        r for r in pairs.get_column("region").unique().drop_nulls().sort() if region_usable(r)
    ]
    cut = pairs.select(
        # in a SHAPE cell only the extension has a label, and no digit follows it
        raw.str.extract(EXTENSION, 1).alias("ext"),
        raw.str.contains(SHAPE).fill_null(False).alias("shape"),
        raw.str.contains("+", literal=True).fill_null(False).alias("plus"),
        raw.str.contains("/", literal=True).fill_null(False).alias("slash"),
        raw.str.len_chars().fill_null(0).alias("size"),
        pl.col("region")
        .replace_strict({r: i for i, r in enumerate(regions)}, default=-1, return_dtype=pl.Int32)
        .fill_null(-1)
        .alias("region_id"),
    )
    numbers = _Numbers.of_cells(pairs.get_column("raw"))
    ext = cut.get_column("ext")
    numbers.length -= ext.str.len_bytes().fill_null(0).to_numpy()  # the extension's digits
    region = cut.get_column("region_id").to_numpy()
    unsure = (
        ~cut.get_column("shape").to_numpy()
        | (region < 0)
        | (cut.get_column("size").to_numpy() > MAX_RAW_LENGTH)
        | (numbers.length < MIN_DIGITS)
        | (cut.get_column("slash").to_numpy() & ext.is_not_null().to_numpy())  # '/ x': 2 numbers
    )
    sure = np.flatnonzero(~unsure)
    numbers.start, numbers.length = numbers.start[sure], numbers.length[sure]
    tables = _Tables(regions)
    parsed = _extract_country(
        tables, numbers, region[sure], cut.get_column("plus").to_numpy()[sure]
    )
    _national_significant_number(tables, numbers, parsed)
    found = _validate(numbers, parsed)
    unsure[sure[parsed.unsure]] = True
    return _answers(pairs, ext, sure, numbers, parsed, found), ~unsure


def _answers(
    pairs: pl.DataFrame,
    ext: pl.Series,
    sure: np.ndarray,
    numbers: _Numbers,
    parsed: _Parsed,
    found: _Validated,
) -> pl.DataFrame:
    """Every row's answer in ANSWER_SCHEMA (rows not in `sure` get nulls)."""
    n = pairs.height

    def spread(values: np.ndarray, missing: object) -> np.ndarray:
        full = np.full(n, missing, dtype=values.dtype)
        full[sure] = values
        return full

    going = parsed.going()
    valid = going & (found.number_type != UNKNOWN)
    length = spread(np.where(valid, parsed.length, 0), 0)
    national = numbers.text(spread(parsed.start, 0), length)
    region_names = pl.Series([*found.names, None], dtype=pl.String)
    claimed = np.where(valid & (found.claimed >= 0), found.claimed, len(found.names))
    is_valid = pl.Series(spread(valid, False))
    error = pl.Series(spread(parsed.error, NO_ERROR))
    return pairs.select(
        "raw",
        "region",
        pl.when(is_valid)
        .then(
            pl.concat_str(pl.lit("+"), pl.Series(spread(parsed.code, 0)).cast(pl.String), national)
        )
        .alias("e164"),
        pl.when(is_valid).then(ext).alias("extension"),
        pl.when(error != NO_ERROR).then(error).cast(pl.Int8).alias("parse_error"),
        pl.when(pl.Series(spread(going & ~valid, False)))
        .then(pl.Series(spread(found.possible, -1)))
        .cast(pl.Int8)
        .alias("possible"),
        pl.lit(region_names.gather(spread(claimed, len(found.names)))).alias("phone_region"),
        pl.when(pl.Series(spread(going, False)))
        .then(pl.Series(spread(found.number_type, UNKNOWN)))
        .cast(pl.Int8)
        .alias("number_type"),
        pl.lit(pl.Series(spread(found.zones, zone_sets().unknown), dtype=pl.UInt16)).alias(
            "zone_set"
        ),  # none unless valid
        *(c for c in pairs.columns if c not in ("raw", "region")),
    )
