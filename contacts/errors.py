"""Batch-level failures. Row-level problems are rejects (data), never exceptions.

Each error says what went wrong, carries the offending value, and says what to do
next. The CLI maps them to exit codes; nothing below the CLI prints or exits.
"""

from __future__ import annotations


class ContactsError(Exception):
    """Base class: a whole operation could not be done."""

    exit_code = 1
    retryable = False

    def log_summary(self) -> str:
        """What a log may say about this error: messages can quote cells (a headerless
        file's first row becomes its column names), so by default only the class."""
        return type(self).__name__


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


class DiskFull(StoreError):
    """The disk (or quota) holding the database is full; retrying will not help."""


class DatabaseNotWritable(StoreError):
    """A read-only file system, or no permission on the database file or its folder."""


class NotADatabase(StoreError):
    """The file at the database path is not a (complete) DuckDB database."""


class DatabaseBusy(StoreError):
    """Another process (or connection) holds the database's lock.

    `holder` names it ("another process (PID 4242)"); `waited` is how long the open
    kept retrying before giving up (0: it did not wait).
    """

    retryable = True

    def __init__(self, path: str, holder: str = "another process", waited: float = 0) -> None:
        self.path = path
        self.holder = holder
        self.waited = waited
        if waited:
            state = f"{holder} still held it after {waited:g} s of waiting"
        else:
            state = f"{holder} is using it"
        super().__init__(f"database {path} is busy: {state}; wait for it to finish and retry")

    def __reduce__(self) -> tuple[type, tuple[str, str, float]]:
        return type(self), (self.path, self.holder, self.waited)

    def log_summary(self) -> str:
        return f"DatabaseBusy: {self.holder} holds the database (waited {self.waited:g} s)"


class BatchFailed(ContactsError):
    """Writing a batch failed; its transaction was rolled back, so it changed nothing."""

    def __init__(self, batch_id: str, cause: Exception) -> None:
        self.batch_id = batch_id
        self.cause = cause
        self.retryable = getattr(cause, "retryable", False)
        detail = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
        super().__init__(f"batch {batch_id} failed and changed nothing: {detail}")

    def __reduce__(self) -> tuple[type, tuple[str, Exception]]:
        return type(self), (self.batch_id, self.cause)

    def log_summary(self) -> str:
        cause = self.cause
        reason = cause.log_summary() if isinstance(cause, ContactsError) else type(cause).__name__
        return f"BatchFailed: batch {self.batch_id} changed nothing ({reason})"
