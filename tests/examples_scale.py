"""How many examples a property test tries: `scaled(n)` is its own n times
$CONTACTS_EXAMPLES_SCALE (default 1), for longer runs such as a nightly
`CONTACTS_EXAMPLES_SCALE=20 make test`. A value that is not a whole number of at least
1 stops the run at collection, with its name."""

from __future__ import annotations

import os

SCALE_ENV = "CONTACTS_EXAMPLES_SCALE"


def _scale(raw: str) -> int:
    scale = int(raw) if raw.strip().isdigit() else 0
    if scale < 1:
        raise ValueError(f"{SCALE_ENV}={raw!r}: expected a whole number of at least 1")
    return scale


SCALE = _scale(os.environ.get(SCALE_ENV, "1"))


def scaled(count: int) -> int:
    """`count` examples at the default scale."""
    return count * SCALE
