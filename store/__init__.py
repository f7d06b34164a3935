"""DuckDB store: the only place SQL lives."""
