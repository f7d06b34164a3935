"""Batch-level failures. Row-level problems are rejects (data), never exceptions.

Each error says what went wrong, carries the offending value, and says what to do
next. The CLI maps them to exit codes; nothing below the CLI prints or exits.
"""

from __future__ import annotations


class ContactsError(Exception):
    """Base class: a whole operation could not be done."""

    exit_code = 1
    retryable = False


class UsageError(ContactsError):
    """The command was called wrongly (exit code 2)."""

    exit_code = 2


class SourceFileError(ContactsError):
    """The input file cannot be imported at all; the database is left unchanged."""

    def __init__(self, path: str, problem: str, fix: str = "") -> None:
        self.path = path
        self.problem = problem
        self.fix = fix
        message = f"{path}: {problem}"
        if fix:
            message += f"; {fix}"
        super().__init__(message)


class MappingError(ContactsError):
    """The columns could not be mapped to contact fields (no or ambiguous phone column)."""


class UnknownFieldError(UsageError):
    """A --map override names a field that does not exist."""


class StoreError(ContactsError):
    """The database could not be opened or written."""


class DatabaseBusy(StoreError):
    """Another process holds the database's write lock."""

    retryable = True
