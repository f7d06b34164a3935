"""Spaces of valid phone numbers, built once per process from phonenumbers metadata.

A region's space is a list of heads (country code + leading national digits) such that
every 4-digit completion is valid per `phonenumbers.is_valid_number`; number k of the
space is `heads[k // 10_000] + f"{k % 10_000:04d}"`. Display templates come from
phonenumbers' own formatting of each head, so a rendered number parses back to the
E.164 it was built from. Spaces are split into lanes so that files generated with
different seeds never share a phone by accident.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
import phonenumbers as pn
import polars as pl

SUFFIX_SPAN = 10_000
LANES = 16
RESERVED_LANE = LANES - 1  # company switchboards and digits behind invalid cells
NANP_REGIONS = ("US", "CA")
INTL_REGIONS = ("GB", "DE", "FR", "ES", "IT", "MX", "BR", "IN", "AU")
REGIONS = NANP_REGIONS + INTL_REGIONS
MAX_GROUPS = 8

# (pattern, first digit used, weight); '#' takes the next digit of "<cc><national>".
NANP_STYLES: tuple[tuple[str, int, float], ...] = (
    ("(###) ###-####", 1, 0.24),
    ("###-###-####", 1, 0.24),
    ("###.###.####", 1, 0.08),
    ("+# ###-###-####", 0, 0.10),
    ("#-###-###-####", 0, 0.05),
    ("##########", 1, 0.12),
    ("+###########", 0, 0.08),
    ("### ### ####", 1, 0.05),
    ("(###)###-####", 1, 0.04),
)
INTL_STYLES: tuple[tuple[str, float], ...] = (
    ("e164", 0.25),
    ("international", 0.35),
    ("national", 0.30),
    ("idd", 0.10),
)
NEEDS_COUNTRY = frozenset({"national", "idd"})

# Invalid renderings, applied to digits of a real number; literal words have no '#'.
INVALID_STYLES: dict[str, tuple[tuple[str, int], ...]] = {
    "too_short": (("###-###", 1), ("#####", 1), ("(###) ###-##", 1)),
    "too_long": (("###-###-####12", 1), ("+# ###-###-#### 99", 0)),
    "spreadsheet": (("#.#####E+09", 1), ("#.#####E+10", 0)),
    "plus_stripped": (("############", 0),),
    "bad_area": (("(1##) ###-####", 2), ("(0##) ###-####", 2), ("1##-###-####", 2)),
}


@dataclass(frozen=True)
class Template:
    pattern: str
    start: int

    def pieces(self) -> tuple[list[tuple[str, int, int]], str]:
        """Split into (literal, digit offset, digit count) groups and a trailing literal."""
        groups: list[tuple[str, int, int]] = []
        offset = self.start
        for literal, run in re.findall(r"([^#]*)(#+)", self.pattern):
            groups.append((literal, offset, len(run)))
            offset += len(run)
        tail = self.pattern[self.pattern.rfind("#") + 1 :]
        if len(groups) > MAX_GROUPS:
            raise ValueError(f"template {self.pattern!r} has more than {MAX_GROUPS} groups")
        return groups, tail


@dataclass(frozen=True)
class RegionSpace:
    region: str
    head_start: int  # index of this region's first head in the catalog
    n_heads: int
    styles: tuple[str, ...]
    style_weights: tuple[float, ...]
    multiplier: int
    shift: int

    @property
    def size(self) -> int:
        return self.n_heads * SUFFIX_SPAN

    @property
    def lane_capacity(self) -> int:
        return self.size // LANES

    def number_at(self, lane: int, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Catalog head and 4-digit suffix of numbers k of a lane (distinct k, distinct numbers)."""
        if k.size and int(k.max()) >= self.lane_capacity:
            raise ValueError(
                f"{self.region}: more than {self.lane_capacity} numbers per seed; "
                "use fewer rows or a smaller share for this region"
            )
        span = np.uint64(SUFFIX_SPAN)
        index = np.uint64(lane * self.lane_capacity) + k.astype(np.uint64)
        permuted = (index * np.uint64(self.multiplier) + np.uint64(self.shift)) % np.uint64(
            self.size
        )
        head = permuted // span
        # A per-head bijection of the suffix, so neighbours don't end in 0000, 0001, ...
        suffix = (permuted % span * np.uint64(7919) + head * np.uint64(2654435761) % span) % span
        return head.astype(np.int64) + self.head_start, suffix.astype(np.int64)


@dataclass(frozen=True)
class PhoneCatalog:
    spaces: dict[str, RegionSpace]
    heads: pl.Series  # digit strings "<cc><leading national digits>"
    head_templates: np.ndarray  # (n_heads, max styles) template id, -1 = unavailable
    templates: tuple[Template, ...]
    invalid_templates: dict[str, tuple[int, ...]]

    @cached_property
    def template_frame(self) -> pl.DataFrame:
        """One row per template id: lit0, off0, len0, ... lit7, off7, len7, tail."""
        data: dict[str, list[object]] = {}
        for g in range(MAX_GROUPS):
            data[f"lit{g}"], data[f"off{g}"], data[f"len{g}"] = [], [], []
        data["tail"] = []
        for template in self.templates:
            groups, tail = template.pieces()
            groups += [("", 0, 0)] * (MAX_GROUPS - len(groups))
            for g, (literal, offset, count) in enumerate(groups):
                data[f"lit{g}"].append(literal)
                data[f"off{g}"].append(offset)
                data[f"len{g}"].append(count)
            data["tail"].append(tail)
        schema = {k: (pl.String if k.startswith(("lit", "tail")) else pl.Int64) for k in data}
        return pl.DataFrame(data, schema=schema)


def render_expr(digits: str = "digits") -> pl.Expr:
    """Expression filling per-row template columns (from template_frame) with digits."""
    parts: list[pl.Expr] = []
    for g in range(MAX_GROUPS):
        parts.append(pl.col(f"lit{g}"))
        parts.append(pl.col(digits).str.slice(pl.col(f"off{g}"), pl.col(f"len{g}")))
    parts.append(pl.col("tail"))
    return pl.concat_str(parts)


def _parse_valid(e164_digits: str, region: str) -> pn.PhoneNumber | None:
    number = pn.parse("+" + e164_digits)
    ok = pn.is_valid_number(number) and pn.region_code_for_number(number) == region
    return number if ok else None


def _derive_pattern(formatted: str, national: str) -> str | None:
    """Replace the national digits at the end of a formatted number by '#'."""
    positions = [i for i, ch in enumerate(formatted) if ch.isdigit()]
    if len(positions) < len(national) or "#" in formatted:
        return None
    tail = positions[len(positions) - len(national) :]
    if "".join(formatted[i] for i in tail) != national:
        return None
    chars = list(formatted)
    for i in tail:
        chars[i] = "#"
    return "".join(chars)


def _intl_patterns(region: str, number: pn.PhoneNumber) -> dict[str, str | None]:
    national = pn.national_significant_number(number)
    fmt = pn.PhoneNumberFormat
    international = _derive_pattern(pn.format_number(number, fmt.INTERNATIONAL), national)
    idd_ok = re.fullmatch(
        pn.PhoneMetadata.metadata_for_region(region).international_prefix or "", "00"
    )
    return {
        "e164": f"+{number.country_code}" + "#" * len(national),
        "international": international,
        "national": _derive_pattern(pn.format_number(number, fmt.NATIONAL), national),
        "idd": "00" + international[1:] if idd_ok and international else None,
    }


def _nanp_heads(region: str, rng: np.random.Generator) -> list[str]:
    """NPA-NXX heads of a NANP region: area codes where every sampled exchange is valid."""
    heads: list[str] = []
    for npa in range(200, 1000):
        exchanges = rng.integers(200, 1000, size=16)
        suffixes = rng.integers(0, SUFFIX_SPAN, size=16)
        samples = zip(exchanges, suffixes, strict=True)
        if all(_parse_valid(f"1{npa}{x}{s:04d}", region) for x, s in samples):
            heads.extend(f"1{npa}{x}" for x in range(200, 1000))
    return heads


def _intl_heads(region: str, rng: np.random.Generator, per_type: int = 400) -> list[str]:
    """Heads grown from the region's example mobile and fixed-line numbers."""
    cc = str(pn.country_code_for_region(region))
    found: dict[str, None] = {}
    for kind in (pn.PhoneNumberType.MOBILE, pn.PhoneNumberType.FIXED_LINE):
        example = pn.national_significant_number(pn.example_number_for_type(region, kind))
        keep = 2 if kind == pn.PhoneNumberType.MOBILE else 1
        free = len(example) - 4 - keep
        accepted = 0
        for _ in range(per_type * 25):
            if accepted >= per_type:
                break
            body = example[:keep] + "".join(map(str, rng.integers(0, 10, size=free)))
            suffixes = [0, SUFFIX_SPAN - 1, *rng.integers(0, SUFFIX_SPAN, size=4)]
            if body in found or not all(
                _parse_valid(f"{cc}{body}{s:04d}", region) for s in suffixes
            ):
                continue
            found[cc + body] = None
            accepted += 1
    return list(found)


def _coprime_near(target: int, modulus: int) -> int:
    value = max(target, 1)
    while math.gcd(value, modulus) != 1:
        value += 1
    return value


@cache
def phone_catalog(build_seed: int = 20240601) -> PhoneCatalog:
    """Build (once per process, about a second) the spaces of all REGIONS."""
    templates: dict[Template, int] = {}

    def template_id(pattern: str, start: int) -> int:
        return templates.setdefault(Template(pattern, start), len(templates))

    nanp_ids = [template_id(p, s) for p, s, _ in NANP_STYLES]
    max_styles = max(len(NANP_STYLES), len(INTL_STYLES))
    all_heads: list[str] = []
    rows: list[np.ndarray] = []
    spaces: dict[str, RegionSpace] = {}
    for region in REGIONS:
        rng = np.random.default_rng([build_seed, zlib.crc32(region.encode())])
        cc_len = len(str(pn.country_code_for_region(region)))
        if region in NANP_REGIONS:
            heads = _nanp_heads(region, rng)
            styles = tuple(p for p, _, _ in NANP_STYLES)
            weights = tuple(w for _, _, w in NANP_STYLES)
            row = np.full(max_styles, -1, dtype=np.int32)
            row[: len(nanp_ids)] = nanp_ids
            region_rows = np.tile(row, (len(heads), 1))
        else:
            heads = _intl_heads(region, rng)
            styles = tuple(name for name, _ in INTL_STYLES)
            weights = tuple(w for _, w in INTL_STYLES)
            region_rows = np.full((len(heads), max_styles), -1, dtype=np.int32)
            for h, head in enumerate(heads):
                first = _intl_patterns(region, pn.parse(f"+{head}1234"))
                second = _intl_patterns(region, pn.parse(f"+{head}8765"))
                for s, name in enumerate(styles):
                    if first[name] is not None and first[name] == second[name]:
                        region_rows[h, s] = template_id(first[name], cc_len)
        size = len(heads) * SUFFIX_SPAN
        spaces[region] = RegionSpace(
            region=region,
            head_start=len(all_heads),
            n_heads=len(heads),
            styles=styles,
            style_weights=weights,
            multiplier=_coprime_near(int(size * 0.6180339887), size),
            shift=int(size * 0.3819660113),
        )
        all_heads.extend(heads)
        rows.append(region_rows)
    invalid = {
        kind: tuple(template_id(p, s) for p, s in patterns)
        for kind, patterns in INVALID_STYLES.items()
    }
    return PhoneCatalog(
        spaces=spaces,
        heads=pl.Series("head", all_heads, dtype=pl.String),
        head_templates=np.vstack(rows),
        templates=tuple(templates),
        invalid_templates=invalid,
    )
