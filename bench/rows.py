"""Row plans for the generator: which base contact each row shows, and how it looks.

A base contact (seed, j) is a pure function of splitmix64 hashes of (seed, j, field).
Its phone kind comes from a per-seed table of 1000 slots (`j % 1000`), which keeps the
shares exact and lets number k of each region be counted without state, so distinct
contacts of one seed never share a phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl
from countries import COUNTRY_LABELS
from phone_space import (
    INTL_STYLES,
    NANP_REGIONS,
    NANP_STYLES,
    NEEDS_COUNTRY,
    RESERVED_LANE,
    phone_catalog,
    render_expr,
)
from phone_space import REGIONS as PHONE_REGIONS
from pools import (
    CITIES,
    COMPANIES,
    FIRST_NAMES,
    FREEMAIL_DOMAINS,
    JOB_TITLES,
    LAST_NAMES,
    NOT_A_NUMBER,
    NOTES,
    ascii_fold,
)

REGIONS: tuple[str, ...] = PHONE_REGIONS
INVALID_KINDS = (
    "missing",
    "not_a_number",
    "too_short",
    "too_long",
    "spreadsheet",
    "plus_stripped",
    "bad_area",
)
INVALID_WEIGHTS = (0.20, 0.15, 0.15, 0.10, 0.15, 0.10, 0.15)
SLOTS = 1000
KINDS = ("new", "dup", "overlap")
# Layouts of the two phone columns.
MOBILE, WORK, BOTH, JUNK_MOBILE, BOTH_BAD, NONE = range(6)
VALID_LAYOUTS = ((MOBILE, 0.55), (WORK, 0.25), (BOTH, 0.15), (JUNK_MOBILE, 0.05))
INVALID_LAYOUTS = ((MOBILE, 0.70), (WORK, 0.20), (BOTH_BAD, 0.10))
EXTENSIONS = (" x", " ext. ", " ext ", " x ", " #")
EMAIL_WEIGHTS = (0.30, 0.15, 0.20, 0.13, 0.10, 0.10, 0.004, 0.004, 0.004, 0.004, 0.004)
JUNK = (*NOT_A_NUMBER, "0", "000-000-0000")  # invalid in every region
# Field ids for the hash; changing one changes every generated file.
(
    F_STYLE,
    F_FIRST,
    F_LAST,
    F_COMPANY,
    F_TITLE,
    F_EMAIL,
    F_EMAIL_NUM,
    F_CITY,
    F_NOTES,
    F_LAYOUT,
    F_COUNTRY,
    F_BLANK_COUNTRY,
    F_EXT,
    F_EXT_NUM,
    F_PAD,
    F_DIGITS,
    F_VARIANT,
    F_WORD,
    F_SOURCE,
    F_EXT_LEN,
    F_NOTES_ON,
) = range(1, 22)


@dataclass(frozen=True)
class Mix:
    dup_share: float = 0.08
    intl_share: float = 0.10
    invalid_share: float = 0.03
    overlap_share: float = 0.0
    ext_share: float = 0.03

    def check(self, seed: int, overlap_seed: int | None) -> None:
        """Raise ValueError for shares or seeds the generator cannot honour."""
        for name in ("dup_share", "intl_share", "invalid_share", "overlap_share"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1)")
        if self.dup_share + self.overlap_share >= 1.0:
            raise ValueError("dup share + overlap must be below 1")
        if self.intl_share + self.invalid_share >= 1.0:
            raise ValueError("intl share + invalid share must be below 1")
        if seed < 0 or (overlap_seed is not None and overlap_seed < 0):
            raise ValueError("seeds must be non-negative")
        if overlap_seed is not None and lane(seed) == lane(overlap_seed):
            raise ValueError(f"seeds {seed} and {overlap_seed} are equal mod {RESERVED_LANE}")

    def slot_counts(self) -> np.ndarray:
        """Slots (of 1000) per code: one per region, then one per invalid kind."""
        intl = [self.intl_share / (len(REGIONS) - 1)] * (len(REGIONS) - 1)
        us = 1.0 - self.intl_share - self.invalid_share
        shares = np.array([us, *intl, *(self.invalid_share * w for w in INVALID_WEIGHTS)])
        exact = shares * SLOTS
        counts = np.floor(exact).astype(np.int64)
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[: SLOTS - counts.sum()]] += 1
        return counts


@dataclass(frozen=True)
class SlotTable:
    codes: np.ndarray  # code of each slot
    rank: np.ndarray  # how many earlier slots share the code
    counts: np.ndarray  # slots per code


@dataclass
class RowPlan:
    kind: np.ndarray  # 0 new, 1 duplicate of an earlier row, 2 borrowed from overlap seed
    base: dict[str, np.ndarray]
    style: np.ndarray
    name_variant: np.ndarray
    email_variant: np.ndarray
    keep_notes: np.ndarray

    @property
    def size(self) -> int:
        return int(self.kind.size)

    @property
    def valid(self) -> np.ndarray:
        return self.base["code"] < len(REGIONS)

    @property
    def region(self) -> np.ndarray:
        """Region index of valid rows, -1 for invalid ones."""
        return np.where(self.valid, self.base["code"], -1)


def lane(seed: int) -> int:
    return seed % RESERVED_LANE


def _splitmix(x: np.ndarray) -> np.ndarray:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _uniform(seed: int, j: np.ndarray, field: int) -> np.ndarray:
    key = _splitmix(np.array([seed * 64 + field], dtype=np.uint64))[0]
    return (_splitmix(j.astype(np.uint64) ^ key) >> np.uint64(11)) * (1.0 / (1 << 53))


def _choice(seed: int, j: np.ndarray, field: int, n: int) -> np.ndarray:
    return np.minimum((_uniform(seed, j, field) * n).astype(np.int64), n - 1)


def _weighted(u: np.ndarray, weights: tuple[float, ...]) -> np.ndarray:
    edges = np.cumsum(weights) / sum(weights)
    return np.minimum(np.searchsorted(edges, u, side="right"), len(weights) - 1)


@cache
def slot_table(seed: int, mix: Mix) -> SlotTable:
    counts = mix.slot_counts()
    codes = np.random.default_rng([seed, 0x7AB1E]).permutation(
        np.repeat(np.arange(counts.size), counts)
    )
    rank = np.zeros(SLOTS, dtype=np.int64)
    for code in range(counts.size):
        where = np.flatnonzero(codes == code)
        rank[where] = np.arange(where.size)
    return SlotTable(codes=codes, rank=rank, counts=counts)


def _offsets(groups: list[tuple[str, ...]]) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.array([len(g) for g in groups])
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes


LABELS: tuple[str, ...] = tuple(label for r in REGIONS for label in COUNTRY_LABELS[r])
LABEL_START, LABEL_COUNT = _offsets([COUNTRY_LABELS[r] for r in REGIONS])
CITY_POOL: tuple[str, ...] = tuple(city for r in REGIONS for city in CITIES[r])
CITY_START, CITY_COUNT = _offsets([CITIES[r] for r in REGIONS])
ASCII_FIRST: tuple[str, ...] = tuple(ascii_fold(n) for n in FIRST_NAMES)
ASCII_LAST: tuple[str, ...] = tuple(ascii_fold(n) for n in LAST_NAMES)


def _phones(seed: int, j: np.ndarray, code: np.ndarray, k: np.ndarray) -> dict[str, np.ndarray]:
    """Head, suffix, style and (for invalid kinds) template of each base contact."""
    catalog = phone_catalog()
    n = j.size
    out = {
        "head": np.zeros(n, np.int64),
        "suffix": np.zeros(n, np.int64),
        "style": np.zeros(n, np.int64),
        "template": np.full(n, -1, np.int64),
    }
    for r, region in enumerate(REGIONS):
        m = code == r
        if m.any():
            space = catalog.spaces[region]
            out["head"][m], out["suffix"][m] = space.number_at(lane(seed), k[m])
            out["style"][m] = _weighted(_uniform(seed, j[m], F_STYLE), space.style_weights)
    for i, kind in enumerate(INVALID_KINDS):
        m = code == len(REGIONS) + i
        variants = catalog.invalid_templates.get(kind)
        if not m.any() or variants is None:
            continue
        sources = ("GB", "FR", "DE") if kind == "plus_stripped" else ("US",)
        source = _choice(seed, j, F_SOURCE, len(sources))
        for s, region in enumerate(sources):
            ms = m & (source == s)
            space = catalog.spaces[region]
            spot = _choice(seed, j[ms], F_DIGITS, space.lane_capacity)
            out["head"][ms], out["suffix"][ms] = space.number_at(RESERVED_LANE, spot)
        pick = _choice(seed, j[m], F_VARIANT, len(variants))
        out["template"][m] = np.asarray(variants)[pick]
    return out


def base_contacts(seed: int, j: np.ndarray, mix: Mix) -> dict[str, np.ndarray]:
    """Every field of base contacts (seed, j) as integer codes, one array per field."""
    table = slot_table(seed, mix)
    slot = j % SLOTS
    code = table.codes[slot]
    k = (j // SLOTS) * table.counts[code] + table.rank[slot]
    valid = code < len(REGIONS)
    region = np.where(valid, code, 0)
    base = {"code": code, **_phones(seed, j, code, k)}
    layout_valid = np.array([v for v, _ in VALID_LAYOUTS])[
        _weighted(_uniform(seed, j, F_LAYOUT), tuple(w for _, w in VALID_LAYOUTS))
    ]
    layout_invalid = np.array([v for v, _ in INVALID_LAYOUTS])[
        _weighted(_uniform(seed, j, F_LAYOUT), tuple(w for _, w in INVALID_LAYOUTS))
    ]
    missing = code == len(REGIONS) + INVALID_KINDS.index("missing")
    base["layout"] = np.where(valid, layout_valid, np.where(missing, NONE, layout_invalid))
    nanp = valid & np.isin(code, [REGIONS.index(r) for r in NANP_REGIONS])
    has_ext = nanp & (_uniform(seed, j, F_EXT) < mix.ext_share)
    base["ext"] = np.where(has_ext, _choice(seed, j, F_EXT, len(EXTENSIONS)), -1)
    width = 1 + _choice(seed, j, F_EXT_LEN, 4)
    base["ext_num"] = _choice(seed, j, F_EXT_NUM, 10**4) % (10**width) + 1
    base["label"] = LABEL_START[region] + _choice(seed, j, F_COUNTRY, 1 << 20) % LABEL_COUNT[region]
    base["blank_label"] = _uniform(seed, j, F_BLANK_COUNTRY) < 0.4
    base["city"] = CITY_START[region] + _choice(seed, j, F_CITY, 1 << 20) % CITY_COUNT[region]
    base["first"] = _choice(seed, j, F_FIRST, len(FIRST_NAMES))
    base["last"] = _choice(seed, j, F_LAST, len(LAST_NAMES))
    base["company"] = _choice(seed, j, F_COMPANY, len(COMPANIES))
    base["title"] = _choice(seed, j, F_TITLE, len(JOB_TITLES))
    base["email"] = _weighted(_uniform(seed, j, F_EMAIL), EMAIL_WEIGHTS)
    base["email_num"] = 1 + _choice(seed, j, F_EMAIL_NUM, 99)
    notes = _choice(seed, j, F_NOTES, len(NOTES))
    base["notes"] = np.where(_uniform(seed, j, F_NOTES_ON) < 0.7, -1, notes)
    base["word"] = _choice(seed, j, F_WORD, len(JUNK))
    base["pad"] = _uniform(seed, j, F_PAD) < 0.01
    return base


def _row_styles(plan_kind: np.ndarray, base: dict[str, np.ndarray], rng: np.random.Generator):
    """Duplicates take another style than the original row; borrowed rows take any."""
    code = base["code"]
    n_styles = np.full(code.size, len(INTL_STYLES))
    n_styles[np.isin(code, [REGIONS.index(r) for r in NANP_REGIONS])] = len(NANP_STYLES)
    shift = 1 + (rng.random(code.size) * (n_styles - 1)).astype(np.int64)
    fresh = (rng.random(code.size) * n_styles).astype(np.int64)
    style = np.where(plan_kind == 1, (base["style"] + shift) % n_styles, base["style"])
    return np.where(plan_kind == 2, fresh, style)


def plan_rows(
    seed: int,
    chunk_no: int,
    size: int,
    own_done: int,
    overlap_done: int,
    mix: Mix,
    overlap_seed: int | None,
) -> RowPlan:
    """Decide, for one chunk of rows, which base contact each row shows and how."""
    rng = np.random.default_rng([seed, 0x5EED, chunk_no])
    u = rng.random(size)
    if own_done == 0 and size:
        u[0] = 1.0  # the first row is always a new contact
    dup = u < mix.dup_share
    borrowed = ~dup & (u < mix.dup_share + mix.overlap_share) & (overlap_seed is not None)
    own = ~dup & ~borrowed
    own_before = own_done + np.cumsum(own) - own
    target = np.floor(rng.random(size) * own_before).astype(np.int64)
    j = np.where(own, own_before, target)
    j = np.where(borrowed, overlap_done + np.cumsum(borrowed) - borrowed, j)
    kind = np.where(own, 0, np.where(dup, 1, 2))
    mine = base_contacts(seed, j[~borrowed], mix)
    base = {name: np.empty(size, dtype=values.dtype) for name, values in mine.items()}
    for name, values in mine.items():
        base[name][~borrowed] = values
    if borrowed.any() and overlap_seed is not None:
        theirs = base_contacts(overlap_seed, j[borrowed], mix)
        for name, values in theirs.items():
            base[name][borrowed] = values
    is_dup = kind == 1
    return RowPlan(
        kind=kind,
        base=base,
        style=_row_styles(kind, base, rng),
        name_variant=np.where(is_dup, _weighted(rng.random(size), (0.6, 0.15, 0.1, 0.15)), 0),
        email_variant=np.where(is_dup, _weighted(rng.random(size), (0.7, 0.2, 0.1)), 0),
        keep_notes=~is_dup | (rng.random(size) < 0.5),
    )


def _pool(values: tuple[str, ...], index: np.ndarray) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(np.maximum(index, 0))


def _phone_columns(plan: RowPlan) -> pl.DataFrame:
    """Rendered identity phone, company switchboard and junk cell of each row."""
    catalog = phone_catalog()
    base = plan.base
    code = base["code"]
    valid = plan.valid
    template = base["template"].copy()
    valid_tpl = catalog.head_templates[base["head"][valid], plan.style[valid]]
    fallback = catalog.head_templates[base["head"][valid], 0]
    template[valid] = np.where(valid_tpl >= 0, valid_tpl, fallback)
    pieces = catalog.template_frame[np.maximum(template, 0)]
    suffix = pl.Series(base["suffix"]).cast(pl.String).str.zfill(4)
    digits = catalog.heads.gather(base["head"]) + suffix
    ext = pl.Series((*EXTENSIONS, ""), dtype=pl.String).gather(
        np.where(base["ext"] >= 0, base["ext"], len(EXTENSIONS))
    ) + pl.Series(base["ext_num"]).cast(pl.String)
    us = catalog.spaces["US"]
    line_head, line_suffix = us.number_at(RESERVED_LANE, np.maximum(base["company"], 0))
    line = catalog.heads.gather(line_head) + pl.Series(line_suffix).cast(pl.String).str.zfill(4)
    frame = pieces.with_columns(
        digits=digits,
        ext=ext,
        has_ext=pl.Series(base["ext"] >= 0),
        line=line,
        word=_pool(JUNK, base["word"]),
        pad=pl.Series(base["pad"]),
        code=pl.Series(code),
    )
    ext_text = pl.when(pl.col("has_ext")).then(pl.col("ext")).otherwise(pl.lit(""))
    text = pl.concat_str(render_expr("digits"), ext_text)
    text = (
        pl.when(pl.col("pad")).then(pl.concat_str(pl.lit(" "), text, pl.lit(" "))).otherwise(text)
    )
    word_code = len(REGIONS) + INVALID_KINDS.index("not_a_number")
    missing_code = len(REGIONS) + INVALID_KINDS.index("missing")
    phone = (
        pl.when(pl.col("code") == word_code)
        .then(pl.col("word"))
        .when(pl.col("code") == missing_code)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(text)
    )
    d = pl.col("line")
    switchboard = pl.concat_str(
        pl.lit("("), d.str.slice(1, 3), pl.lit(") "), d.str.slice(4, 3), pl.lit("-"), d.str.slice(7)
    )
    return frame.select(phone=phone, line=switchboard, word=pl.col("word"), digits=pl.col("digits"))


def _email(first: pl.Expr, last: pl.Expr, company_domain: pl.Expr, free: pl.Expr, num: pl.Expr):
    dom = pl.when(company_domain == "").then(free).otherwise(company_domain)
    bare = free.str.split(".").list.first()
    forms = (
        pl.concat_str(first, pl.lit("."), last, pl.lit("@"), dom),
        pl.concat_str(first.str.slice(0, 1), last, pl.lit("@"), dom),
        pl.concat_str(first, pl.lit("."), last, num, pl.lit("@"), free),
        pl.concat_str(first, last, pl.lit("@"), free),
        pl.concat_str(first, pl.lit("_"), last, pl.lit("@"), free),
        pl.lit(None, dtype=pl.String),
        pl.concat_str(first, pl.lit("."), last, pl.lit("@")),
        pl.concat_str(first, pl.lit("@@"), free),
        pl.concat_str(first, pl.lit(" "), last, pl.lit("@"), dom),
        pl.concat_str(first, pl.lit("."), last, pl.lit("."), free),
        pl.concat_str(first, pl.lit("@"), bare),
    )
    style = pl.col("email_style")
    expr = pl.when(style == 0).then(forms[0])
    for i, form in enumerate(forms[1:], start=1):
        expr = expr.when(style == i).then(form)
    return expr.otherwise(pl.lit(None, dtype=pl.String))


def render_rows(plan: RowPlan, header: tuple[str, ...]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The CSV cells of a plan (columns named as `header`) and the per-row answers."""
    base = plan.base
    phones = _phone_columns(plan)
    layout = pl.Series(base["layout"])
    cells = pl.DataFrame(
        {
            "first": _pool(FIRST_NAMES, base["first"]),
            "last": _pool(LAST_NAMES, base["last"]),
            "af": _pool(ASCII_FIRST, base["first"]),
            "al": _pool(ASCII_LAST, base["last"]),
            "company": _pool(tuple(c for c, _ in COMPANIES), base["company"]),
            "cdom": _pool(tuple(d for _, d in COMPANIES), base["company"]),
            "free": _pool(
                FREEMAIL_DOMAINS, (base["company"] + base["first"]) % len(FREEMAIL_DOMAINS)
            ),
            "num": pl.Series(base["email_num"]).cast(pl.String),
            "email_style": base["email"],
            "title": _pool(JOB_TITLES, base["title"]),
            "label": _pool(LABELS, base["label"]),
            "city": _pool(CITY_POOL, base["city"]),
            "notes": _pool(NOTES, base["notes"]),
            "has_notes": (base["notes"] >= 0) & plan.keep_notes,
            "name_variant": plan.name_variant,
            "email_variant": plan.email_variant,
            "blank_label": base["blank_label"] & _blankable(plan),
            "layout": layout,
        }
    ).hstack(phones)
    none = pl.lit(None, dtype=pl.String)
    nv = pl.col("name_variant")
    first = pl.when(nv == 1).then(pl.col("first").str.to_uppercase())
    first = first.when(nv == 2).then(pl.col("first").str.to_lowercase()).otherwise(pl.col("first"))
    last = pl.when(nv == 1).then(pl.col("last").str.to_uppercase())
    last = last.when(nv == 2).then(pl.col("last").str.to_lowercase())
    last = last.when(nv == 3).then(none).otherwise(pl.col("last"))
    email = _email(pl.col("af"), pl.col("al"), pl.col("cdom"), pl.col("free"), pl.col("num"))
    ev = pl.col("email_variant")
    email = (
        pl.when(ev == 1).then(none).when(ev == 2).then(email.str.to_uppercase()).otherwise(email)
    )
    lay = pl.col("layout")
    mobile = (
        pl.when(lay.is_in([MOBILE, BOTH, BOTH_BAD]))
        .then(pl.col("phone"))
        .when(lay == JUNK_MOBILE)
        .then(pl.col("word"))
        .otherwise(none)
    )
    work_phone = (
        pl.when(lay.is_in([WORK, JUNK_MOBILE]))
        .then(pl.col("phone"))
        .when((lay == BOTH) & (pl.col("company") != ""))
        .then(pl.col("line"))
        .when(lay == BOTH_BAD)
        .then(pl.col("word"))
        .otherwise(none)
    )
    blank_if_empty = [first, last, email, pl.col("company"), pl.col("title")]
    frame = cells.select(
        *(
            pl.when(e == "").then(none).otherwise(e).alias(h)
            for e, h in zip(blank_if_empty, header[:5], strict=True)
        ),
        mobile.alias(header[5]),
        work_phone.alias(header[6]),
        pl.when(pl.col("blank_label") | (pl.col("label") == ""))
        .then(none)
        .otherwise(pl.col("label"))
        .alias(header[7]),
        pl.when(pl.col("city") == "").then(none).otherwise(pl.col("city")).alias(header[8]),
        pl.when(pl.col("has_notes")).then(pl.col("notes")).otherwise(none).alias(header[9]),
    )
    valid = pl.col("valid")
    answers = pl.DataFrame(
        {
            "kind": _pool(KINDS, plan.kind),
            "valid": plan.valid,
            "digits": phones["digits"],
            "region": _pool(REGIONS, plan.region),
            "invalid_kind": _pool(INVALID_KINDS, plan.base["code"] - len(REGIONS)),
        }
    ).select(
        "kind",
        e164=pl.when(valid).then(pl.concat_str(pl.lit("+"), pl.col("digits"))),
        region=pl.when(valid).then(pl.col("region")),
        invalid_kind=pl.when(~valid).then(pl.col("invalid_kind")),
    )
    return frame, answers


def _blankable(plan: RowPlan) -> np.ndarray:
    """Intl rows in +CC form (self-identifying) may leave the country cell empty."""
    code = plan.base["code"]
    intl = plan.valid & ~np.isin(code, [REGIONS.index(r) for r in NANP_REGIONS])
    names = np.array([name for name, _ in INTL_STYLES])
    style_name = names[np.minimum(plan.style, len(names) - 1)]
    return intl & ~np.isin(style_name, list(NEEDS_COUNTRY))
