"""The metadata's regular expressions as automata answer exactly like Python's re."""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import phonenumbers
import pytest
from examples_scale import scaled
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneMetadata
from phonenumbers.timezone import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from transforms import phone_automata as automata

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
DESCS = (
    "general_desc", "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
    "pager", "uan", "voicemail", "fixed_line", "mobile",
)  # fmt: skip


def walk(table: np.ndarray, texts: list[str], limit: int | None = None) -> np.ndarray:
    """The state each text reaches from state 0."""
    joined = "".join(texts).encode()
    digits = np.frombuffer(joined, dtype=np.uint8) - np.uint8(48)
    lengths = np.array([len(t) for t in texts], dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    states = np.zeros(len(texts), dtype=np.int32)
    return automata.run(table, states, digits, starts, lengths, limit)


@cache
def region_patterns(region: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(every number pattern matched in full and the leading digits as a prefix, the
    example numbers)."""
    meta = PhoneMetadata.metadata_for_region(region)
    patterns, examples = [], []
    for name in DESCS:
        desc = getattr(meta, name)
        if desc is not None and desc.national_number_pattern:
            patterns.append((desc.national_number_pattern, automata.FULL))
            if desc.example_number:
                examples.append(desc.example_number)
    if meta.leading_digits:
        patterns.append((meta.leading_digits, automata.PREFIX))
    return patterns, examples


@cache
def region_automaton(region: str) -> automata.Automaton:
    return automata.automaton(region_patterns(region)[0])


@st.composite
def digit_strings(draw: st.DrawFn, examples: list[str]) -> str:
    """An example number with its end replaced by random digits, or random digits."""
    if examples and draw(st.booleans()):
        example = draw(st.sampled_from(examples))
        keep = draw(st.integers(0, len(example)))
        return example[:keep] + draw(st.text("0123456789", max_size=len(example) - keep + 2))
    return draw(st.text("0123456789", max_size=18))


@st.composite
def region_and_texts(draw: st.DrawFn) -> tuple[str, list[str]]:
    region = draw(st.sampled_from(REGIONS))
    examples = region_patterns(region)[1]
    return region, draw(st.lists(digit_strings(examples), min_size=1, max_size=30))


@settings(max_examples=scaled(150), deadline=None)
@given(case=region_and_texts())
def test_number_patterns_match_like_re(case: tuple[str, list[str]]):
    region, texts = case
    patterns = region_patterns(region)[0]
    machine = region_automaton(region)
    for text, state in zip(texts, walk(machine.table, texts), strict=True):
        for number, (pattern, mode) in enumerate(patterns):
            expected = (
                re.fullmatch(pattern, text) if mode == automata.FULL else re.match(pattern, text)
            )
            assert (number in machine.matched[state]) == bool(expected), (region, pattern, text)


def test_every_region_pattern_is_in_the_syntax():
    for region in REGIONS:
        region_automaton(region)
        meta = PhoneMetadata.metadata_for_region(region)
        for pattern in (meta.international_prefix, meta.national_prefix_for_parsing):
            if pattern:
                automata.first_match(pattern)


@cache
def prefix_patterns() -> list[str]:
    found = set()
    for region in REGIONS:
        meta = PhoneMetadata.metadata_for_region(region)
        found |= {p for p in (meta.international_prefix, meta.national_prefix_for_parsing) if p}
    return sorted(found)


@settings(max_examples=scaled(150), deadline=None)
@given(
    pattern=st.sampled_from(prefix_patterns()),
    texts=st.lists(
        st.one_of(
            st.text("0123456789", max_size=16),
            st.builds(lambda a, b: a + b, st.sampled_from(["0", "00", "011", "1", "15", "90",
                                                           "0011", "810", "8"]),
                      st.text("0123456789", max_size=14)),
        ),
        min_size=1,
        max_size=30,
    ),
)  # fmt: skip
def test_first_match_ends_and_groups_like_re(pattern: str, texts: list[str]):
    """Where re.match stops and what its groups hold, for international and national
    prefixes (with '$' alternatives and groups used by transform rules)."""
    machine = automata.first_match(pattern)
    states = walk(machine.table, texts, limit=machine.depth)
    for text, state in zip(texts, states, strict=True):
        found = machine.at_end[state] if len(text) <= machine.depth else machine.unended[state]
        expected = re.match(pattern, text)
        if expected is None:
            assert found == -1, (pattern, text)
            continue
        assert found >= 0, (pattern, text)
        option = machine.options[found]
        groups = tuple(text[s:e] if (s, e) != (-1, -1) else None
                       for s, e in (span or (-1, -1) for span in option.groups))  # fmt: skip
        assert (len(option.classes), groups) == (expected.end(), expected.groups())


@pytest.mark.parametrize(
    ("pattern", "text", "end"),
    [
        ("0|180020", "1800201", 6),
        ("(?:0|90)(1[245])?", "9012", 4),
        ("([2-9]\\d{6})$|1", "2345678", 7),
        ("([2-9]\\d{6})$|1", "23456789", None),  # '$' alternative needs the number's end
        ("1|12", "123", 1),  # the first alternative wins, not the longest
        ("\\d{2,3}", "1234", 3),  # greedy
    ],
)
def test_first_match_examples(pattern: str, text: str, end: int | None):
    machine = automata.first_match(pattern)
    (state,) = walk(machine.table, [text], limit=machine.depth)
    found = machine.at_end[state] if len(text) <= machine.depth else machine.unended[state]
    assert (len(machine.options[found].classes) if found >= 0 else None) == end


@pytest.mark.parametrize("pattern", ["\\d+", "1*", "(?=1)", "(1)\\1", "[a-z]", "1{2,}", "1??"])
def test_syntax_outside_the_metadata_is_refused(pattern: str):
    with pytest.raises(automata.Unsupported):
        automata.automaton([(pattern, automata.FULL)])


@cache
def zone_trie() -> tuple[automata.ZonePrefixes, list[str]]:
    keys = list(TIMEZONE_DATA)
    return automata.zone_prefixes(keys), keys


def longest_key(number: str) -> str | None:
    """The library's lookup: the longest key among the number's first digits."""
    for size in range(TIMEZONE_LONGEST_PREFIX, 0, -1):
        if number[:size] in TIMEZONE_DATA:
            return number[:size]
    return None


@settings(max_examples=scaled(100), deadline=None)
@given(
    numbers=st.lists(
        st.one_of(
            st.text("0123456789", min_size=1, max_size=15),
            st.builds(lambda k, t: k + t, st.sampled_from(sorted(TIMEZONE_DATA)),
                      st.text("0123456789", max_size=8)),
        ),
        min_size=1,
        max_size=40,
    )
)  # fmt: skip
def test_zone_prefixes_find_the_longest_key(numbers: list[str]):
    trie, keys = zone_trie()
    for number, state in zip(numbers, walk(trie.table, numbers), strict=True):
        found = trie.longest[state]
        assert (keys[found] if found >= 0 else None) == longest_key(number), number


def test_run_with_mixed_lengths_and_a_limit():
    """Rows of very different lengths (the walk drops finished rows as it goes)."""
    machine = automata.automaton([("\\d{3}", automata.FULL), ("12", automata.PREFIX)])
    texts = ["123", "12", "", "1234", "9" * 60, "120", "1" * 3, "5" * 200]
    for text, state in zip(texts, walk(machine.table, texts), strict=True):
        assert (0 in machine.matched[state]) == bool(re.fullmatch("\\d{3}", text))
        assert (1 in machine.matched[state]) == text.startswith("12")
    limited = walk(machine.table, texts, limit=2)
    for text, state in zip(texts, limited, strict=True):
        assert (1 in machine.matched[state]) == text.startswith("12")
