"""Country cells to phonenumbers region codes ('United Kingdom', 'GBR', '+44' -> 'GB')."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

import phonenumbers

if TYPE_CHECKING:  # polars is imported where frames are made
    import polars as pl

# fmt: off
COUNTRY_NAMES = {
    "united states": "US", "united states of america": "US", "usa": "US", "us": "US",
    "u s": "US", "u s a": "US", "america": "US", "estados unidos": "US", "etats unis": "US",
    "vereinigte staaten": "US", "stati uniti": "US",
    "canada": "CA", "kanada": "CA", "mexico": "MX", "mexiko": "MX", "mexique": "MX",
    "united kingdom": "GB", "uk": "GB", "great britain": "GB", "britain": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "royaume uni": "GB", "reino unido": "GB", "grossbritannien": "GB", "regno unito": "GB",
    "ireland": "IE", "irland": "IE", "irlande": "IE", "irlanda": "IE",
    "germany": "DE", "deutschland": "DE", "allemagne": "DE", "alemania": "DE",
    "germania": "DE", "duitsland": "DE", "alemanha": "DE",
    "france": "FR", "frankreich": "FR", "francia": "FR", "frankrijk": "FR", "franca": "FR",
    "spain": "ES", "espana": "ES", "spanien": "ES", "espagne": "ES", "spagna": "ES",
    "italy": "IT", "italia": "IT", "italien": "IT", "italie": "IT",
    "portugal": "PT", "netherlands": "NL", "the netherlands": "NL", "holland": "NL",
    "nederland": "NL", "niederlande": "NL", "pays bas": "NL", "paises bajos": "NL",
    "belgium": "BE", "belgique": "BE", "belgien": "BE", "belgie": "BE", "belgica": "BE",
    "switzerland": "CH", "schweiz": "CH", "suisse": "CH", "svizzera": "CH", "suiza": "CH",
    "austria": "AT", "osterreich": "AT", "autriche": "AT",
    "sweden": "SE", "sverige": "SE", "norway": "NO", "norge": "NO", "denmark": "DK",
    "danmark": "DK", "finland": "FI", "suomi": "FI", "iceland": "IS", "poland": "PL",
    "polska": "PL", "czech republic": "CZ", "czechia": "CZ", "hungary": "HU",
    "romania": "RO", "greece": "GR", "turkey": "TR", "turkiye": "TR", "russia": "RU",
    "ukraine": "UA", "israel": "IL", "united arab emirates": "AE", "uae": "AE",
    "saudi arabia": "SA", "egypt": "EG", "south africa": "ZA", "nigeria": "NG",
    "kenya": "KE", "morocco": "MA", "india": "IN", "pakistan": "PK", "bangladesh": "BD",
    "china": "CN", "hong kong": "HK", "taiwan": "TW", "japan": "JP", "south korea": "KR",
    "korea": "KR", "republic of korea": "KR", "singapore": "SG", "malaysia": "MY",
    "indonesia": "ID", "philippines": "PH", "thailand": "TH", "vietnam": "VN",
    "viet nam": "VN", "australia": "AU", "new zealand": "NZ", "brazil": "BR",
    "brasil": "BR", "argentina": "AR", "chile": "CL", "colombia": "CO", "peru": "PE",
    "venezuela": "VE", "puerto rico": "PR", "dominican republic": "DO", "jamaica": "JM",
    "costa rica": "CR", "guatemala": "GT", "panama": "PA", "ecuador": "EC",
    # ISO 3166 alpha-3 codes seen in CRM exports
    "gbr": "GB", "deu": "DE", "fra": "FR", "esp": "ES", "ita": "IT", "can": "CA",
    "mex": "MX", "aus": "AU", "ind": "IN", "bra": "BR", "nld": "NL", "che": "CH",
    "irl": "IE", "prt": "PT", "bel": "BE", "aut": "AT", "swe": "SE", "nor": "NO",
    "dnk": "DK", "pol": "PL", "jpn": "JP", "chn": "CN", "sgp": "SG", "nzl": "NZ",
    "zaf": "ZA", "arg": "AR", "col": "CO", "chl": "CL", "isr": "IL", "are": "AE",
}
# fmt: on


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


def region_for_country(value: str | None) -> str | None:
    """ISO region for a country cell, or None when it names no country we know."""
    if value is None or not value.strip():
        return None
    folded = _fold(value)
    if folded in COUNTRY_NAMES:
        return COUNTRY_NAMES[folded]
    upper = folded.upper()
    if len(upper) == 2 and upper in phonenumbers.SUPPORTED_REGIONS:
        return upper
    digits = value.strip().lstrip("+").replace(" ", "")
    if digits.isdigit() and 1 <= len(digits) <= 3:
        region = phonenumbers.region_code_for_country_code(int(digits))
        return None if region == "ZZ" else region
    return None


def with_regions(frame: pl.DataFrame, default_region: str) -> pl.DataFrame:
    """Add `region` (per-row country, else the default) and `country_unknown` columns."""
    import polars as pl

    countries = frame.get_column("country").unique().drop_nulls()
    known = pl.DataFrame(
        {
            "country": countries,
            "_region": [region_for_country(c) for c in countries.to_list()],
        },
        schema={"country": pl.String, "_region": pl.String},
    )
    joined = frame.join(known, on="country", how="left", maintain_order="left")
    return joined.with_columns(
        pl.col("_region").fill_null(default_region).alias("region"),
        (pl.col("country").is_not_null() & pl.col("_region").is_null()).alias("country_unknown"),
    ).drop("_region")
