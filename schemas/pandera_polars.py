"""pandera's polars API, loaded without pandas.

pandera imports pandas and numpy whenever they are installed, for its pandas API; its
polars API uses neither. Here pandas is only a development dependency (the benchmark's
baseline script), so a development install paid ~0.25 s for it in every process that
validates, the CLI's imports included. While pandera loads, pandas is reported missing,
as in an install without the dev extra, and pandera works as it does there; afterwards
pandas imports as usual. When pandas is already loaded, this changes nothing.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING


class _PandasMissing(importlib.abc.MetaPathFinder):
    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError("No module named 'pandas'", name="pandas")
        return None


def _load() -> ModuleType:
    finder = _PandasMissing()
    sys.meta_path.insert(0, finder)
    try:
        import pandera.polars
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

__all__ = ["pa"]
