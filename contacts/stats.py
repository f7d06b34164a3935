"""Batch statistics: one typed value behind --json, report.json and the Prefect artifact."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# The keys of `contacts import --json`, in order (PRODUCT.md section 8).
JSON_KEYS = (
    "batch_id", "source", "sha256", "status", "rows_total", "imported", "updated",
    "duplicates_in_file", "duplicates_existing", "duplicates_skipped", "invalid", "dnc",
    "campaign_excluded_dnc", "mapping", "rejects_file", "started_at", "finished_at",
)  # fmt: skip


@dataclass
class BatchStats:
    batch_id: str | None
    source: str
    sha256: str
    status: str  # completed | failed | dry_run
    rows_total: int = 0
    imported: int = 0
    updated: int = 0
    duplicates_in_file: int = 0
    duplicates_existing: int = 0
    invalid: int = 0
    dnc: int = 0
    campaign_excluded_dnc: int = 0
    warnings: int = 0
    mapping: dict[str, str] = field(default_factory=dict)
    rejects_file: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    # report.json only
    blank_rows: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    region: str = "US"
    on_duplicate: str = "skip"
    campaign: str | None = None
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def duplicates_skipped(self) -> int:
        return self.duplicates_in_file + self.duplicates_existing

    def accounted(self) -> int:
        """Rows with an outcome; equals rows_total for every sound batch (PRODUCT 3.6)."""
        return (
            self.imported
            + self.updated
            + self.duplicates_in_file
            + self.duplicates_existing
            + self.invalid
        )

    def as_dict(self) -> dict[str, object]:
        """The --json object: exactly the section 8 keys."""
        full = self.as_report()
        return {key: full[key] for key in JSON_KEYS}

    def as_report(self) -> dict[str, object]:
        """Everything, for report.json."""
        report = asdict(self)
        report["duplicates_skipped"] = self.duplicates_skipped
        return report

    def __str__(self) -> str:
        if self.status == "dry_run":
            head = f"Dry run of {self.source}: nothing was written"
        else:
            head = f"Imported {self.source} as batch {self.batch_id}: {self.status}"
        lines = [
            head,
            f"  rows        {self.rows_total:>9,}",
            f"  imported    {self.imported:>9,}   ({self.dnc:,} on the DNC list)",
            f"  updated     {self.updated:>9,}",
            f"  duplicates  {self.duplicates_skipped:>9,}   ({self.duplicates_in_file:,} within "
            f"the file, {self.duplicates_existing:,} already stored)",
            f"  invalid     {self.invalid:>9,}",
            f"  warnings    {self.warnings:>9,}   (imported with a malformed cell left empty)",
        ]
        if self.campaign:
            lines.append(
                f"  campaign    {self.campaign}   ({self.campaign_excluded_dnc:,} DNC left out)"
            )
        if self.rejects_file:
            lines.append(f"  rejects     {self.rejects_file}")
        mapped = ", ".join(
            f"{column} -> {name}" for column, name in self.mapping.items() if name != "attribute"
        )
        lines.append(f"  mapping     {mapped}")
        extra = [column for column, name in self.mapping.items() if name == "attribute"]
        if extra:
            lines.append(f"  attributes  {', '.join(extra)}")
        lines.extend(f"  note        {note}" for note in self.notes)
        if self.error:
            lines.append(f"  error       {self.error}")
        return "\n".join(lines)
