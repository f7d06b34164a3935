"""pandera's polars API, loaded without pandas or hypothesis.

pandera imports pandas and numpy whenever they are installed, for its pandas API, and
hypothesis for its data synthesis; its polars validation uses none of them. Here they
are development dependencies (the benchmark's baseline script, the property tests), so
a development install paid ~0.3 s for them in every process that validates, the CLI's
imports included. While pandera loads, they are reported missing, as in an install
without the dev extra, and pandera works as it does there; afterwards they import as
usual. What is already loaded, pandera finds as before.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

UNUSED = ("pandas", "hypothesis")  # reported missing while pandera loads


class _Missing(importlib.abc.MetaPathFinder):
    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        top = name.partition(".")[0]
        if top in UNUSED:
            raise ModuleNotFoundError(f"No module named {top!r}", name=top)
        return None


def _load() -> ModuleType:
    finder = _Missing()
    sys.meta_path.insert(0, finder)
    try:
        import pandera.polars
        import pandera.strategies.base_strategies
        from pandera.backends import register_checks

        # validation looks for pandas' check types once and caches the answer (the
        # pinned 0.35's private helper; without it, validation would load pandas)
        getattr(register_checks, "_load_get_backend_types_from_mro", lambda: None)()
    finally:
        sys.meta_path.remove(finder)
    return pandera.polars


if TYPE_CHECKING:
    import pandera.polars as pa
else:
    pa = _load()

# loaded with pandera above: importing them first would load pandera without `_Missing`
import pandera.config as pa_config  # noqa: E402
from pandera.api.polars.types import PolarsData  # noqa: E402
from pandera.constants import CHECK_OUTPUT_KEY  # noqa: E402

__all__ = ["CHECK_OUTPUT_KEY", "PolarsData", "pa", "pa_config"]
