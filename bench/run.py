"""Side-by-side import benchmark: the floor, the pandas baseline and the product.

    .venv/bin/python bench/run.py                                # 100,000 and 1,000,000 rows
    .venv/bin/python bench/run.py --rows 1000000 --existing 10000000 --json-out bench.json
    .venv/bin/python bench/run.py --rows 1000000 --rounds 3      # ratios of each round
    .venv/bin/python bench/run.py --rows 10 --steps empty-flow product  # fixed costs

Each step runs as its own child process (wall time and peak RSS measured by
bench/measure.py) against a fresh copy of its database. `floor-flow` is the floor's
work inside a Prefect flow run (bench/floor_in_flow.py), and `empty-flow` a flow run
doing nothing: what Prefect alone adds. With --existing N, each
database first holds the contacts of an N-row file of another seed, and the measured
file shares --overlap of its rows with it. Markdown goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl
from measure import Measurement, measure

BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
GENERATOR_SOURCES = ("generate.py", "rows.py", "phone_space.py", "pools.py", "countries.py")
STEPS = ("floor", "floor-flow", "baseline", "product", "empty-flow")
DEFAULT_STEPS = ("floor", "floor-flow", "baseline", "product")
LABELS = {
    "floor": "floor (polars read + DuckDB anti-join insert)",
    "floor-flow": "floor's work in a Prefect flow run",
    "empty-flow": "an empty Prefect flow run",
    "baseline": "baseline (pandas + phonenumbers, cached)",
    "product": "product (`contacts import --json`)",
}
COUNT_KEYS = ("rows_total", "imported", "duplicates_in_file", "duplicates_existing", "invalid")


@dataclass
class DataFile:
    csv: Path
    truth: Path
    rows: int


@dataclass
class StepResult:
    rows: int
    existing: int
    step: str
    status: str
    wall_s: float | None = None
    rows_per_s: float | None = None
    peak_rss_mb: float | None = None
    tree_rss_mb: float | None = None
    cpu_s: float | None = None
    output: dict[str, object] = field(default_factory=dict)


@dataclass
class Databases:
    """Starting state of each step: None means an empty database."""

    floor: Path | None = None
    baseline: Path | None = None
    product: Path | None = None
    product_data: Path | None = None

    def for_step(self, step: str) -> Path | None:
        """The database `step` starts from: the floor's for the floor in a flow."""
        if step == "empty-flow":
            return None
        return getattr(self, "floor" if step == "floor-flow" else step)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def generator_version() -> str:
    digest = hashlib.sha256()
    for name in GENERATOR_SOURCES:
        digest.update((BENCH / name).read_bytes())
    return digest.hexdigest()[:8]


def ensure_file(
    workdir: Path, rows: int, seed: int, overlap_seed: int | None = None, overlap: float = 0.0
) -> DataFile:
    """Generate (or reuse, same generator version) a messy file and its answers."""
    name = f"contacts_{rows}_s{seed}"
    if overlap_seed is not None:
        name += f"_o{overlap_seed}x{overlap:g}"
    stem = f"{name}_{generator_version()}"
    csv, truth = workdir / f"{stem}.csv", workdir / f"{stem}.truth.parquet"
    if not (csv.exists() and truth.exists()):
        log(f"generating {csv.name}")
        command = [PYTHON, str(BENCH / "generate.py"), "--rows", str(rows), "--seed", str(seed)]
        command += ["--out", str(csv), "--truth", str(truth)]
        if overlap_seed is not None:
            command += ["--overlap-with-seed", str(overlap_seed), "--overlap", str(overlap)]
        result = measure(command)
        if not result.ok:
            raise RuntimeError(f"generator failed: {result.stderr.strip()}")
    return DataFile(csv, truth, rows)


def expected_counts(data: DataFile, existing: DataFile | None) -> dict[str, int]:
    """What a correct import reports, from the generator's answers."""
    answers = pl.read_parquet(data.truth, columns=["row", "e164"])
    known = (
        pl.read_parquet(existing.truth, columns=["e164"]).drop_nulls().unique()
        if existing
        else pl.DataFrame(schema={"e164": pl.String})
    )
    valid = (
        answers.drop_nulls("e164")
        .with_columns(first=pl.col("e164").is_first_distinct())
        .join(known.with_columns(in_db=pl.lit(True)), on="e164", how="left")
        .with_columns(pl.col("in_db").fill_null(False))
    )
    return {
        "rows_total": answers.height,
        "imported": valid.filter(pl.col("first") & ~pl.col("in_db")).height,
        "duplicates_in_file": valid.filter(~pl.col("first") & ~pl.col("in_db")).height,
        "duplicates_existing": valid.filter(pl.col("in_db")).height,
        "invalid": answers.height - valid.height,
    }


def _copy_db(source: Path | None, target: Path) -> None:
    if source is None:
        return
    shutil.copy2(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copy2(wal, target.with_name(target.name + ".wal"))


def _parse_json(text: str) -> dict[str, object] | None:
    for candidate in (text.strip(), *reversed(text.strip().splitlines())):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _result(
    step: str, rows: int, existing: int, measured: Measurement, parse: bool = True
) -> StepResult:
    output = _parse_json(measured.stdout) if parse else {}
    if measured.timed_out:
        status = "timed out"
    elif measured.returncode != 0:
        last = (measured.stderr.strip().splitlines() or ["(no stderr)"])[-1]
        status = f"exit {measured.returncode}: {last[:160]}"
    elif output is None:
        status = f"no JSON on stdout: {measured.stdout.strip()[:160]!r}"
    else:
        status = "ok"
    return StepResult(
        rows=rows,
        existing=existing,
        step=step,
        status=status,
        wall_s=measured.wall_s,
        rows_per_s=rows / measured.wall_s if measured.wall_s else None,
        peak_rss_mb=measured.peak_rss_mb,
        tree_rss_mb=measured.tree_rss_mb,
        cpu_s=measured.cpu_s,
        output=output or {},
    )


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir: Path = args.workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.contacts: Path = args.contacts

    def command(self, step: str, csv: Path, db: Path, data_dir: Path) -> list[str]:
        if step == "floor":
            return [PYTHON, str(BENCH / "floor_polars_duckdb.py"), str(csv), "--db", str(db)]
        if step == "floor-flow":
            return [PYTHON, str(BENCH / "floor_in_flow.py"), str(csv), "--db", str(db)]
        if step == "empty-flow":
            return [PYTHON, str(BENCH / "floor_in_flow.py"), "--empty"]
        if step == "baseline":
            return [PYTHON, str(BENCH / "baseline_pandas.py"), str(csv), "--db", str(db)]
        paths = ["--db", str(db), "--data-dir", str(data_dir)]  # global options (spec 8)
        return [str(self.contacts), *paths, "import", str(csv), "--json"]

    def run_step(
        self, step: str, data: DataFile, start: Databases, existing: int, keep_as: Path | None
    ) -> StepResult:
        """Run one step on a fresh copy of its starting database."""
        if step == "product" and not self.contacts.exists():
            return StepResult(data.rows, existing, step, f"not run: {self.contacts} not found")
        with tempfile.TemporaryDirectory(prefix=f"{step}-", dir=self.workdir) as tmp:
            db, data_dir = Path(tmp, f"{step}.duckdb"), Path(tmp, "data")
            _copy_db(start.for_step(step), db)
            if step == "product" and start.product_data is not None:
                shutil.copytree(start.product_data, data_dir)
            data_dir.mkdir(exist_ok=True)
            log(f"{step}: {data.rows:,} rows (existing {existing:,})")
            measured = measure(self.command(step, data.csv, db, data_dir), self.args.timeout)
            result = _result(step, data.rows, existing, measured)
            log(f"  {result.status}, {measured.wall_s:.2f} s")
            if keep_as is not None and result.status == "ok":
                _copy_db(db, keep_as)
                if step == "product":
                    shutil.move(data_dir, keep_as.with_suffix(".data"))
        return result

    def prepare_existing(self, n: int) -> tuple[Databases, DataFile | None, list[StepResult]]:
        """Databases already holding the contacts of an n-row file of another seed."""
        if n == 0:
            return Databases(), None, []
        data = ensure_file(self.workdir, n, self.args.seed + 1)
        base = self.workdir / f"existing_{n}_{generator_version()}"
        if base.exists() and not self.args.reuse_existing:
            shutil.rmtree(base)
        base.mkdir(exist_ok=True)
        dbs = Databases(base / "floor.duckdb", base / "baseline.duckdb", base / "product.duckdb")
        dbs.product_data = base / "product.data"
        setup: list[StepResult] = []
        if not dbs.floor.exists():
            setup.append(self.run_step("floor", data, Databases(), 0, keep_as=dbs.floor))
        if not dbs.baseline.exists():
            log(f"baseline: prefilling {n:,} contacts from the generator's answers")
            command = [PYTHON, str(BENCH / "baseline_pandas.py"), str(data.csv)]
            command += ["--db", str(dbs.baseline), "--prefill-from-truth", str(data.truth)]
            setup.append(_result("baseline", n, 0, measure(command)))
        if "product" in self.args.steps and not dbs.product.exists():
            setup.append(self.run_step("product", data, Databases(), 0, keep_as=dbs.product))
        for result in setup:
            result.step = f"setup: {result.step}"
        dbs.floor = dbs.floor if dbs.floor.exists() else None
        dbs.baseline = dbs.baseline if dbs.baseline.exists() else None
        if not dbs.product.exists():
            dbs.product, dbs.product_data = None, None
        return dbs, data, setup

    def run(self) -> tuple[list[StepResult], list[dict[str, object]]]:
        args = self.args
        start, existing_file, results = self.prepare_existing(args.existing)
        checks: list[dict[str, object]] = []
        for rows in args.rows:
            overlap_seed = args.seed + 1 if args.existing else None
            data = ensure_file(self.workdir, rows, args.seed, overlap_seed, args.overlap)
            expected = expected_counts(data, existing_file)
            for round_ in range(1, args.rounds + 1):  # steps side by side in each round
                by_step = {
                    step: self.run_step(step, data, start, args.existing, keep_as=None)
                    for step in args.steps
                }
                results.extend(by_step.values())
                checks.append(compare(rows, args.existing, by_step, expected, round_))
        return results, checks


def _ratio(a: StepResult | None, b: StepResult | None) -> float | None:
    if a is None or b is None or a.status != "ok" or b.status != "ok":
        return None
    return a.wall_s / b.wall_s if a.wall_s and b.wall_s else None


def compare(
    rows: int,
    existing: int,
    by_step: dict[str, StepResult],
    expected: dict[str, int],
    round_: int = 1,
) -> dict[str, object]:
    """Ratios against the speed bars and the product's counts against the expected ones,
    for the steps of one round (run one after the other)."""
    product = by_step.get("product")
    counts = product.output if product and product.status == "ok" else {}
    differ = {k: (counts.get(k), v) for k, v in expected.items() if counts.get(k) != v}
    return {
        "rows": rows,
        "existing": existing,
        "round": round_,
        "product_over_floor": _ratio(product, by_step.get("floor")),
        "baseline_over_product": _ratio(by_step.get("baseline"), product),
        "floor_flow_over_floor": _ratio(by_step.get("floor-flow"), by_step.get("floor")),
        "baseline_over_floor_flow": _ratio(by_step.get("baseline"), by_step.get("floor-flow")),
        "product_peak_rss_mb": product.peak_rss_mb if counts else None,
        "product_tree_rss_mb": product.tree_rss_mb if counts else None,
        "expected_counts": expected,
        "product_counts_differ": differ if counts else None,
    }


def _num(value: float | None, digits: int = 0, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{suffix}"


def _summary(result: StepResult) -> str:
    out = result.output
    if result.status != "ok":
        return result.status
    keys = ("inserted", *COUNT_KEYS[1:])
    return "ok: " + ", ".join(f"{out[k]:,} {k}" for k in keys if isinstance(out.get(k), int))


def markdown(results: list[StepResult], checks: list[dict[str, object]]) -> str:
    lines = [
        "| rows | existing | step | wall s | CPU s | rows/s | peak RSS MB | tree RSS MB | result |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.rows:,} | {r.existing:,} | {LABELS.get(r.step, r.step)} | {_num(r.wall_s, 2)} "
            f"| {_num(r.cpu_s, 2)} | {_num(r.rows_per_s)} | {_num(r.peak_rss_mb)} "
            f"| {_num(r.tree_rss_mb)} | {_summary(r)} |"
        )
    lines += [
        "",
        "| rows | existing | round | product / floor (bar <= 3x) "
        "| baseline / product (bar >= 10x) | product peak MB (bar < 1500) "
        "| product counts vs generator | floor in a flow / floor | baseline / floor in a flow |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for c in checks:
        differ = c["product_counts_differ"]
        verdict = "n/a" if differ is None else "match" if not differ else json.dumps(differ)
        lines.append(
            f"| {c['rows']:,} | {c['existing']:,} | {c['round']} "
            f"| {_num(c['product_over_floor'], 2, 'x')} "
            f"| {_num(c['baseline_over_product'], 1, 'x')} | {_num(c['product_peak_rss_mb'])} "
            f"| {verdict} | {_num(c['floor_flow_over_floor'], 2, 'x')} "
            f"| {_num(c['baseline_over_floor_flow'], 1, 'x')} |"
        )
    return "\n".join(lines + _medians(checks))


MEDIANS = (
    ("product_over_floor", "product / floor", 2, "x"),
    ("baseline_over_product", "baseline / product", 1, "x"),
    ("floor_flow_over_floor", "floor in a flow / floor", 2, "x"),
    ("baseline_over_floor_flow", "baseline / floor in a flow", 1, "x"),
)


def _medians(checks: list[dict[str, object]]) -> list[str]:
    """A line per file measured in several rounds: the median of each round's ratios."""
    lines = []
    for rows, existing in dict.fromkeys((c["rows"], c["existing"]) for c in checks):
        rounds = [c for c in checks if (c["rows"], c["existing"]) == (rows, existing)]
        if len(rounds) < 2:
            continue
        medians = []
        for key, label, digits, suffix in MEDIANS:
            values = [c[key] for c in rounds if isinstance(c[key], float)]
            if values:
                medians.append(f"{label} {_num(statistics.median(values), digits, suffix)}")
        lines.append(
            f"\n{rows:,} rows, {existing:,} stored, {len(rounds)} rounds, medians: "
            + ", ".join(medians or ["n/a"])
        )
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--existing", type=int, default=0, help="contacts already in each db")
    parser.add_argument("--overlap", type=float, default=0.5, help="rows already known")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(DEFAULT_STEPS))
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir(), "cbench"))
    parser.add_argument(
        "--contacts", type=Path, default=Path(PYTHON).parent / "contacts", help="console script"
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per step")
    parser.add_argument(
        "--reuse-existing", action="store_true", help="keep --existing databases from a past run"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="run the steps side by side this many times"
    )
    parser.add_argument("--json-out", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    results, checks = Bench(args).run()
    print(markdown(results, checks))
    if args.json_out:
        machine = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
        payload = {
            "generator": generator_version(),
            "machine": machine,
            "results": [asdict(r) for r in results],
            "checks": checks,
        }
        args.json_out.write_text(json.dumps(payload, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
