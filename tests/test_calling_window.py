"""Local-time calling windows at fixed instants: every candidate zone must be inside."""

from __future__ import annotations

from datetime import UTC, datetime, time

import polars as pl
import pytest

from transforms.calling_window import (
    FEDERAL_WINDOW,
    inside_window,
    parse_window,
    within_calling_window,
    zones_inside,
)
from transforms.phones import normalize_phone

NEW_YORK = ["America/New_York"]
LOS_ANGELES = ["America/Los_Angeles"]
TOLL_FREE = list(normalize_phone("(800) 275-2273", "US").time_zones)  # every US zone, Guam..Adak
WINTER = datetime(2026, 1, 15, 13, 30, tzinfo=UTC)  # 08:30 in New York (EST), 05:30 in LA
SUMMER = datetime(2026, 7, 15, 12, 30, tzinfo=UTC)  # 08:30 in New York (EDT), 05:30 in LA


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def frame(*zone_lists: list[str] | None) -> pl.DataFrame:
    return pl.DataFrame(
        {"phone": [f"+1{i}" for i in range(len(zone_lists))], "time_zones": list(zone_lists)},
        schema={"phone": pl.String, "time_zones": pl.List(pl.String)},
    )


# (case, candidate zones, instant, inside the federal 08:00-21:00 window?)
CASES = [
    ("new_york_0830_winter", NEW_YORK, WINTER, True),
    ("los_angeles_0530_winter", LOS_ANGELES, WINTER, False),
    ("new_york_0830_summer_dst", NEW_YORK, SUMMER, True),
    ("los_angeles_0530_summer_dst", LOS_ANGELES, SUMMER, False),
    ("new_york_0759", NEW_YORK, at("2026-01-15T12:59:59"), False),
    ("new_york_0800_start_is_inside", NEW_YORK, at("2026-01-15T13:00:00"), True),
    ("new_york_2059", NEW_YORK, at("2026-01-16T01:59:59"), True),
    ("new_york_2100_end_is_outside", NEW_YORK, at("2026-01-16T02:00:00"), False),
    ("los_angeles_1730", LOS_ANGELES, at("2026-01-16T01:30:00"), True),
    ("new_york_and_chicago_0830_0730", ["America/New_York", "America/Chicago"], WINTER, False),
    ("new_york_and_chicago_0930_0830", ["America/New_York", "America/Chicago"],
     at("2026-01-15T14:30:00"), True),
    ("alaska_adak_and_anchorage", ["America/Adak", "America/Anchorage"],
     at("2026-01-15T19:00:00"), True),  # 09:00 Adak, 10:00 Anchorage
    ("toll_free_at_new_york_0830", TOLL_FREE, WINTER, False),
    ("toll_free_at_new_york_noon", TOLL_FREE, at("2026-01-15T17:00:00"), False),  # Guam 03:00
    ("toll_free_at_guam_noon", TOLL_FREE, at("2026-01-15T02:00:00"), False),  # New York 21:00
    ("no_zone_is_never_inside", [], WINTER, False),
    ("unknown_zone_is_never_inside", ["Mars/Olympus_Mons"], WINTER, False),
    ("a_missing_list_is_never_inside", None, WINTER, False),
]  # fmt: skip


@pytest.mark.parametrize(("zones", "instant", "inside"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_a_number_is_inside_only_when_every_candidate_zone_is(zones, instant, inside):
    assert inside_window(frame(zones).get_column("time_zones"), instant).to_list() == [inside]


def test_toll_free_numbers_are_callable_only_while_guam_to_newfoundland_are_all_daytime():
    # Local clocks run from Guam (UTC+10) back to St John's (UTC-3:30): 10.5 hours apart
    # on the clock face, so only 22:00-00:30 UTC puts every one of them in 08:00-21:00.
    assert {"Pacific/Guam", "Pacific/Pago_Pago", "America/St_Johns"} <= set(TOLL_FREE)
    hours = [datetime(2026, 1, 15, hour, 0, tzinfo=UTC) for hour in range(24)]
    inside = [h.hour for h in hours if inside_window(frame(TOLL_FREE)["time_zones"], h).item()]
    assert inside == [0, 22, 23]
    assert not inside_window(frame(TOLL_FREE)["time_zones"], at("2026-01-15T00:30:00")).item()


def test_split_keeps_every_row_in_exactly_one_part_and_is_computed_per_distinct_zone():
    rows = frame(NEW_YORK, LOS_ANGELES, NEW_YORK, [], None, TOLL_FREE)
    inside, outside = within_calling_window(rows, WINTER)
    assert inside.get_column("phone").to_list() == ["+10", "+12"]
    assert sorted(outside.get_column("phone").to_list()) == ["+11", "+13", "+14", "+15"]
    assert inside.height + outside.height == rows.height
    assert inside.columns == rows.columns


def test_an_empty_frame_splits_into_two_empty_frames():
    inside, outside = within_calling_window(frame(), WINTER)
    assert (inside.height, outside.height) == (0, 0)


def test_a_custom_window_and_one_that_wraps_past_midnight():
    evening = parse_window("18:00-20:00")
    night = parse_window("22:00-06:00")
    assert zones_inside(NEW_YORK, at("2026-01-15T23:30:00"), evening) == {NEW_YORK[0]: True}
    assert zones_inside(NEW_YORK, WINTER, evening) == {NEW_YORK[0]: False}
    assert zones_inside(LOS_ANGELES, WINTER, night) == {LOS_ANGELES[0]: True}  # 05:30
    assert zones_inside(NEW_YORK, WINTER, night) == {NEW_YORK[0]: False}  # 08:30


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("08:00-21:00", FEDERAL_WINDOW),
        (" 9:30 - 17:45 ", (time(9, 30), time(17, 45))),
        ("00:00-24:00", (time(0, 0), time.max)),
        ("22:00-06:00", (time(22, 0), time(6, 0))),
    ],
)
def test_parse_window(text, window):
    assert parse_window(text) == window


@pytest.mark.parametrize("text", ["8-21", "08:00", "25:00-26:00", "08:60-21:00", "09:00-09:00", ""])
def test_malformed_windows_are_refused(text):
    with pytest.raises(ValueError, match="window"):
        parse_window(text)


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        zones_inside(NEW_YORK, datetime(2026, 1, 15, 13, 30), FEDERAL_WINDOW)
