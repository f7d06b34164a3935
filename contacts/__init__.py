"""Contact-data pipeline: import, normalize, dedupe and suppress contacts for phone agents."""
