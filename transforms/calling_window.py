"""Local-time calling windows: may a number be called at a given instant?

A number is inside the window only when the local time of EVERY candidate time zone
(`phonenumbers` gives several for a toll-free or an ambiguous number) is inside it; a
number with no known zone is never inside. The per-zone answer is computed once per
distinct zone, then mapped onto the rows with polars.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

FEDERAL_WINDOW = (time(8, 0), time(21, 0))  # 47 CFR 64.1200(c)(1): no calls before 8am or after 9pm
WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_window(text: str) -> tuple[time, time]:
    """'08:00-21:00' -> (08:00, 21:00). The start is inside, the end is not.

    A window may wrap past midnight ('22:00-06:00'); raises ValueError when malformed.
    """
    match = WINDOW.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a window like 08:00-21:00")
    hours_start, minutes_start, hours_end, minutes_end = (int(part) for part in match.groups())
    if hours_start > 23 or hours_end > 24 or minutes_start > 59 or minutes_end > 59:
        raise ValueError(f"{text!r} is not a window like 08:00-21:00")
    start = time(hours_start, minutes_start)
    end = time.max if (hours_end, minutes_end) >= (24, 0) else time(hours_end, minutes_end)
    if start == end:
        raise ValueError(f"{text!r} is an empty window")
    return start, end


def local_time_inside(local: time, window: tuple[time, time]) -> bool:
    start, end = window
    if start < end:
        return start <= local < end
    return local >= start or local < end  # wraps past midnight


def zones_inside(zones: list[str], at: datetime, window: tuple[time, time]) -> dict[str, bool]:
    """For each zone name: is the local time at `at` inside the window? Unknown zone: False."""
    if at.tzinfo is None:
        raise ValueError("the instant must be timezone-aware")
    answers = {}
    for zone in zones:
        try:
            local = at.astimezone(ZoneInfo(zone)).time()
        except (ZoneInfoNotFoundError, ValueError):
            answers[zone] = False
            continue
        answers[zone] = local_time_inside(local, window)
    return answers


def inside_window(
    zones: pl.Series, at: datetime, window: tuple[time, time] = FEDERAL_WINDOW
) -> pl.Series:
    """Boolean per row of a List(String) series of candidate zones (null/empty: False)."""
    distinct = zones.explode().drop_nulls().unique().to_list()
    answers = zones_inside(distinct, at, window)
    every_zone = zones.list.eval(
        pl.element().replace_strict(answers, default=False, return_dtype=pl.Boolean)
    ).list.all()
    return (every_zone & (zones.list.len() > 0)).fill_null(False).alias("inside_window")


def within_calling_window(
    frame: pl.DataFrame,
    at: datetime,
    window: tuple[time, time] = FEDERAL_WINDOW,
    zones: str = "time_zones",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split `frame` into (rows callable at `at`, rows that are not).

    `zones` names a List(String) column of candidate time zones. At 13:30 UTC in January
    a New York number (08:30) is callable and a Los Angeles one (05:30) is not.
    """
    mask = inside_window(frame.get_column(zones), at, window)
    return frame.filter(mask), frame.filter(~mask)
