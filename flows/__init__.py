"""Prefect flows: thin orchestration over the contacts library."""
