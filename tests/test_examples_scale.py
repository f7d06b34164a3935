"""The property tests' example budget ($CONTACTS_EXAMPLES_SCALE)."""

from __future__ import annotations

import pytest
from examples_scale import SCALE_ENV, _scale


def test_scale_is_a_whole_number_of_at_least_one():
    assert _scale("1") == 1
    assert _scale(" 20 ") == 20


@pytest.mark.parametrize("raw", ["0", "", "-3", "2.5", "many"])
def test_a_scale_that_is_not_a_whole_number_of_at_least_one_is_refused(raw: str):
    with pytest.raises(ValueError, match=SCALE_ENV):
        _scale(raw)
