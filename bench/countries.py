"""Country labels as they appear in CRM exports, and the reverse map to regions."""

from __future__ import annotations

# Region -> labels seen in real exports; "" means the cell is left empty.
COUNTRY_LABELS: dict[str, tuple[str, ...]] = {
    "US": ("", "", "US", "USA", "United States", "United States of America", "us"),
    "CA": ("Canada", "CA", "canada"),
    "GB": ("United Kingdom", "UK", "GB", "England", "Great Britain"),
    "DE": ("Germany", "Deutschland", "DE"),
    "FR": ("France", "FR", "france"),
    "ES": ("Spain", "España", "ES"),
    "IT": ("Italy", "Italia", "IT"),
    "MX": ("Mexico", "México", "MX"),
    "BR": ("Brazil", "Brasil", "BR"),
    "IN": ("India", "IN", "india"),
    "AU": ("Australia", "AU", "Aus"),
}


def _key(label: str) -> str:
    return label.strip().casefold()


REGION_BY_LABEL: dict[str, str] = {
    _key(label): region for region, labels in COUNTRY_LABELS.items() for label in labels if label
}


def region_for(label: str | None, default: str = "US") -> str:
    """Region code for a country cell: region_for(" México ") == "MX"."""
    if not label:
        return default
    return REGION_BY_LABEL.get(_key(label), default)
