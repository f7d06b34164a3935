"""Pandera models and header aliases for contact data."""
