"""Agreement and speed of `phone_lookup` (in bulk first) against `normalize_phone` per value.

    python bench/phones_agreement.py --inputs 2000000 --workers 2 [--seed 1]
    python bench/phones_agreement.py --csv /tmp/b1m.csv      # the phone step of an import

The first form generates inputs (every supported region's example numbers with random
digits, in E.164, international, national, IDD, digits-only, damaged and extension
forms, read in their own or another region; the benchmark generator's rows; junk),
answers their distinct (raw, region) pairs both ways, and prints one JSON line: pairs,
share answered in bulk, disagreements (field by field; must be 0) and timings. The
disagreeing pairs, if any, are written to --diff-out.

The second form builds the pairs `choose_phones` looks up for a file and times the phone
step in a child process per path (`fast`: phone_lookup; `scalar`: normalize_phone per
pair), with its peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import phonenumbers as pn
import polars as pl

from transforms.phones import _library_answers, phone_lookup, vectorized_answers

BENCH_DIR = Path(__file__).parent
TYPES = [t for name, t in vars(pn.PhoneNumberType).items() if name.isupper() and isinstance(t, int)]
EXTENSIONS = (" x12", " ext. 345", " ext 7", " #88", ";ext=123", "x4", " EXT: 99", " x 12345678901")
JUNK_ALPHABET = "0123456789 +-().x#/,;:eE*abcTel\t"
SIMPLE_IDD = {"US": "011", "CA": "011", "JP": "010", "AU": "0011", "KZ": "810", "RU": "810"}


def _template(formatted: str, nsn: str) -> str | None:
    """'+44 121 234 5678' -> '+44 {} {}{}...' with the NSN's digits as fields."""
    positions = [i for i, ch in enumerate(formatted) if ch.isdigit()]
    if len(positions) < len(nsn) or "{" in formatted or "}" in formatted:
        return None
    tail = positions[len(positions) - len(nsn) :]
    if "".join(formatted[i] for i in tail) != nsn:
        return None
    chars = list(formatted)
    for i in tail:
        chars[i] = "{}"
    return "".join(chars)


def _examples() -> list[tuple[str, str, str, list[str]]]:
    """(region, country code, example NSN, format templates) per region and number type."""
    examples = []
    for region in sorted(pn.SUPPORTED_REGIONS):
        for kind in TYPES:
            number = pn.example_number_for_type(region, kind)
            if number is None:
                continue
            nsn = pn.national_significant_number(number)
            forms = [
                pn.format_number(number, pn.PhoneNumberFormat.INTERNATIONAL),
                pn.format_number(number, pn.PhoneNumberFormat.NATIONAL),
            ]
            templates = [t for t in (_template(f, nsn) for f in forms) if t]
            examples.append((region, str(number.country_code), nsn, templates))
    for code in sorted(pn.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        number = pn.example_number_for_non_geo_entity(code)
        if number is not None:
            nsn = pn.national_significant_number(number)
            examples.append(("001", str(code), nsn, []))
    return examples


def _idd(region: str) -> str:
    meta = pn.PhoneMetadata.metadata_for_region(region)
    prefix = meta.preferred_international_prefix or meta.international_prefix or "00"
    return SIMPLE_IDD.get(region, prefix if prefix.isdigit() else "00")


def _mutate(nsn: str, rng: random.Random) -> str:
    """Keep a random number of leading digits, randomize the rest; sometimes change length."""
    keep = rng.randint(0, len(nsn))
    digits = nsn[:keep] + "".join(rng.choices("0123456789", k=len(nsn) - keep))
    roll = rng.random()
    if roll < 0.05:
        return digits[:-1]
    if roll < 0.10:
        return digits + rng.choice("0123456789")
    return digits


def _render(region: str, code: str, nsn: str, templates: list[str], rng: random.Random) -> str:
    style = rng.randrange(12)
    templates = [t for t in templates if t.count("{}") == len(nsn)]
    if style < 4 and templates:
        text = rng.choice(templates).format(*nsn)
        separator = rng.choice(["", " ", " ", "-", ".", ""])
        if separator != " " and rng.random() < 0.3:
            text = text.replace(" ", separator)
    elif style == 4:
        text = f"+{code}{nsn}"
    elif style == 5:
        text = f"+{code} {nsn[:2]} {nsn[2:5]} {nsn[5:]}".strip()
    elif style == 6:
        text = nsn
    elif style == 7:
        text = "0" + nsn
    elif style == 8:
        text = code + nsn  # a '+' lost
    elif style == 9:
        text = f"{_idd(rng.choice(SOME_REGIONS))} {code} {nsn}"
    elif style == 10:
        text = f"+{code} (0){nsn}"
    else:
        text = f"({nsn[:3]}) {nsn[3:6]}-{nsn[6:]}"
    roll = rng.random()
    if roll < 0.08:
        text += rng.choice(EXTENSIONS)
    elif roll < 0.11:
        text = (code + nsn if rng.random() < 0.5 else nsn) + ".0"
    elif roll < 0.14:
        digits = code + nsn
        cut = rng.randint(1, len(digits))
        text = f"{digits[0]}.{digits[1:cut]}E+{len(digits) - 1:02d}"
    if rng.random() < 0.05:
        text = f" {text} "
    return text


SOME_REGIONS = ("US", "GB", "DE", "FR", "JP", "AU", "BR", "MX", "KZ", "IT", "IN", "CN")


def template_inputs(n: int, seed: int) -> pl.DataFrame:
    """`n` numbers from every region's example numbers, read in their region or another."""
    rng = random.Random(seed)
    examples = _examples()
    regions = sorted(pn.SUPPORTED_REGIONS)
    raws, reads = [], []
    for _ in range(n):
        region, code, nsn, templates = rng.choice(examples)
        raws.append(_render(region, code, _mutate(nsn, rng), templates, rng))
        roll = rng.random()
        if roll < 0.6 and region != "001":
            reads.append(region)
        elif roll < 0.995:
            reads.append(rng.choice(regions))
        else:
            reads.append(rng.choice([None, "ZZ", "001", "us"]))
    return pl.DataFrame(
        {"raw": raws, "region": reads}, schema={"raw": pl.String, "region": pl.String}
    )


def junk_inputs(n: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    regions = ("US", "GB", "DE", "BR", "AR", "IT", "JP", "IN")
    raws = ["".join(rng.choices(JUNK_ALPHABET, k=rng.randint(0, 18))) for _ in range(n)]
    reads = [rng.choice(regions) for _ in range(n)]
    return pl.DataFrame({"raw": raws, "region": reads})


def generator_inputs(n: int, seed: int) -> pl.DataFrame:
    """Phone cells and regions of the import benchmark's generated rows."""
    sys.path.insert(0, str(BENCH_DIR))
    from generate import HEADER
    from rows import Mix, plan_rows, render_rows

    from transforms.regions import with_regions

    frames, start = [], 0
    while start < n:
        size = min(200_000, n - start)
        plan = plan_rows(seed, start // 200_000, size, start, 0, Mix(invalid_share=0.1), None)
        frame, _ = render_rows(plan, HEADER)
        regional = with_regions(frame.rename({"Country": "country"}), "US")
        for column in ("Mobile Phone", "Work Phone"):
            frames.append(regional.select(pl.col(column).alias("raw"), "region"))
        start += size
    return pl.concat(frames).drop_nulls("raw")


def inputs(n: int, seed: int) -> pl.DataFrame:
    return pl.concat(
        [
            template_inputs(int(n * 0.7), seed),
            generator_inputs(int(n * 0.1), seed),  # two phone columns per row
            junk_inputs(n // 10, seed),
        ]
    )


def _scalar(pairs: pl.DataFrame) -> pl.DataFrame:
    return _library_answers(pairs)


def scalar_lookup(distinct: pl.DataFrame, workers: int) -> pl.DataFrame:
    """normalize_phone per pair, in `workers` spawned processes."""
    if workers <= 1:
        return _scalar(distinct)
    size = -(-distinct.height // (workers * 8))
    chunks = [distinct.slice(i, size) for i in range(0, distinct.height, size)]
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        return pl.concat(pool.map(_scalar, chunks))


def agreement(n: int, seed: int, workers: int, diff_out: Path | None) -> dict[str, object]:
    started = time.perf_counter()
    distinct = inputs(n, seed).unique()
    generated = time.perf_counter() - started
    started = time.perf_counter()
    fast = phone_lookup(distinct)
    fast_seconds = time.perf_counter() - started
    left = sum(
        vectorized_answers(distinct.slice(i, 200_000))[1].height
        for i in range(0, distinct.height, 200_000)
    )
    started = time.perf_counter()
    scalar = scalar_lookup(distinct, workers)
    scalar_seconds = time.perf_counter() - started
    key = ["raw", "region"]
    both = fast.join(scalar, on=key, how="full", suffix="_lib", nulls_equal=True, coalesce=True)
    fields = [c for c in fast.columns if c not in key]
    differs = pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"{c}_lib")) for c in fields)
    disagreements = both.filter(differs)
    if diff_out is not None and disagreements.height:
        disagreements.write_parquet(diff_out)
    for row in disagreements.head(10).iter_rows(named=True):
        print("disagreement:", row, file=sys.stderr)
    return {
        "inputs": n,
        "pairs": distinct.height,
        "answered_in_bulk": distinct.height - left,
        "share_answered_in_bulk": round(1 - left / distinct.height, 5),
        "disagreements": disagreements.height,
        "rows_compared": both.height,
        "phone_lookup_seconds": round(fast_seconds, 2),
        "normalize_phone_seconds": round(scalar_seconds, 2),
        "normalize_phone_workers": workers,
        "generate_seconds": round(generated, 2),
    }


def csv_pairs(path: Path, default_region: str) -> pl.DataFrame:
    """The (raw, region) candidates choose_phones looks up for this file."""
    from contacts.readers import read_source
    from transforms.mapping import apply_mapping, map_columns
    from transforms.regions import with_regions

    source = read_source(path)
    mapping = map_columns(source.columns, sample=source.frame.head(1000))
    canonical = apply_mapping(source.frame, mapping).pipe(with_regions, default_region)
    candidates = [
        canonical.select(
            "region", pl.col(f"phone_raw_{i}").alias("raw"), pl.col(f"phone_usable_{i}")
        ).filter(pl.col("raw").is_not_null() & pl.col(f"phone_usable_{i}"))
        for i in range(len(mapping.phones))
    ]
    return pl.concat([c.select("raw", "region") for c in candidates])


def _memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process; unlike ru_maxrss, VmHWM does not
    carry the parent's peak across fork and exec."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def step(pairs_file: Path, path: str) -> dict[str, object]:
    """Time one path of the phone step on saved candidate pairs (in this fresh process)."""
    pairs = pl.read_parquet(pairs_file)
    before = _memory_mb("VmRSS")
    started = time.perf_counter()
    answers = phone_lookup(pairs) if path == "fast" else _scalar(pairs.unique())
    seconds = time.perf_counter() - started
    peak = _memory_mb("VmHWM")
    return {
        "path": path,
        "candidates": pairs.height,
        "pairs": answers.height,
        "seconds": round(seconds, 2),
        "rss_before_mb": round(before),
        "peak_rss_mb": round(peak),
        "e164_found": int(answers.get_column("e164").is_not_null().sum()),
    }


def csv_steps(path: Path, default_region: str, paths: list[str]) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        pairs_file = Path(tmp) / "pairs.parquet"
        csv_pairs(path, default_region).write_parquet(pairs_file)
        results = []
        for name in paths:
            command = [sys.executable, __file__, "--pairs", str(pairs_file), "--path", name]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=2_000_000, help="generated inputs")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="processes for normalize_phone")
    parser.add_argument("--diff-out", type=Path, help="write disagreeing pairs here (Parquet)")
    parser.add_argument("--csv", type=Path, help="time the phone step for this file instead")
    parser.add_argument("--region", default="US", help="default region for --csv")
    parser.add_argument(
        "--paths", nargs="+", default=["fast", "scalar"], choices=["fast", "scalar"]
    )
    parser.add_argument("--pairs", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--path", choices=["fast", "scalar"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pairs is not None:
        print(json.dumps(step(args.pairs, args.path)))
        return 0
    if args.csv is not None:
        for result in csv_steps(args.csv, args.region, args.paths):
            print(json.dumps(result))
        return 0
    result = agreement(args.inputs, args.seed, args.workers, args.diff_out)
    print(json.dumps(result))
    return 0 if result["disagreements"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
