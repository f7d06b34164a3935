"""Read contact files (CSV/TSV/TXT/XLSX) into an all-text polars frame.

Nothing is inferred: every cell stays the text the file holds (phones and ZIPs keep
their leading zeros). The encoding and delimiter are decided before polars reads,
because polars neither sniffs them nor reads anything but UTF-8.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from charset_normalizer import from_bytes

from contacts.errors import SourceFileError

if TYPE_CHECKING:
    from contacts.readahead import ReadAhead

ROW = "_row"  # 1-based data record number (records after the header, blanks included)
EXTRA_PREFIX = "_extra_"  # cells past the header's width land here, so ragged rows are seen
# One column past the widest record of the sample is enough to see a ragged row: the
# reader drops cells past the last column, and only the header's cells are kept.
EXTRA_WIDTH = 1
# Records parsed, stripped and prepared at a time, at most. Two batches are in work at
# once (one prepared beside the import's work on the other): 125k-record batches import
# 1M rows as fast as 250k ones, with ~200 MB less memory.
READ_BATCH_ROWS = 125_000
# ... and at most this many cells (records x columns): a 100-column export comes in
# batches of 15k records, so a batch costs about as much memory as one of 12 columns.
READ_BATCH_CELLS = 1_500_000
HEAD_RECORDS = 1_100  # records read before the header is looked for: its sample
HEAD_ROWS = 1_000  # data records kept in `SourceTable.head` (mapping samples)
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 1 << 20
# The csv module (delimiter sniffing, sample width) refuses fields over 128 KiB by
# default; a sample's field is at most the sample, so raise the limit to that.
csv.field_size_limit(max(csv.field_size_limit(), SAMPLE_BYTES + 1))
# Two-byte UTF-8 letters (é is C3 A9): in a file that is not valid UTF-8 they mean
# mixed encodings, which no single choice decodes right.
UTF8_SEQUENCE = re.compile(rb"[\xc3\xc5][\x80-\xbf]")
ENCODING_NAMES = {
    "iso8859-1": "latin-1",
    "utf_8": "utf-8",
    "utf_8_sig": "utf-8-sig",
    "latin_1": "latin-1",
}


@dataclass
class SourceTable:
    """A file read as text: the header's columns, then the data records in batches.

    Each batch holds the header's columns, `_row` and any extras. `batches()` streams
    the records once, so a large file is never held whole; `head` holds the first
    records (for mapping samples) and `frame` all of them, for small files.
    """

    path: Path
    columns: list[str]
    sha256: str
    encoding: str | None
    delimiter: str | None
    head: pl.DataFrame
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)
    _pending: Iterator[pl.DataFrame] | None = field(default=None, repr=False)
    # its batches already being prepared (contacts.readahead.prefetching), if any
    read_ahead: ReadAhead | None = field(default=None, repr=False)

    def batches(self) -> Iterator[pl.DataFrame]:
        """The data records in file order, `batch_rows` of them at a time; once."""
        if self._pending is None:
            raise RuntimeError(f"{self.path} was already read")
        pending, self._pending = self._pending, None
        return pending

    @cached_property
    def frame(self) -> pl.DataFrame:
        """All data records in one frame."""
        return pl.concat([self.head.clear(), *self.batches()])


def batch_rows(width: int) -> int:
    """Records per batch for a file `width` columns wide."""
    return max(1, min(READ_BATCH_ROWS, READ_BATCH_CELLS // max(width, 1)))


def file_sha256(path: Path) -> str:
    return _digest(path, check_utf8=False)[0]


def _digest(path: Path, check_utf8: bool) -> tuple[str, bool]:
    """(sha256 of the file, whether all of it is UTF-8 when `check_utf8`), in one pass."""
    digest, valid, tail = hashlib.sha256(), True, b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
            if check_utf8 and valid:
                valid, tail = _utf8_prefix_valid(tail + chunk)
    return digest.hexdigest(), valid and not tail


def _utf8_prefix_valid(data: bytes) -> tuple[bool, bytes]:
    """(whether `data` is UTF-8 up to a character cut by the block's end, that cut tail)."""
    if data.isascii():
        return True, b""
    cut = len(data)
    for back in range(1, min(4, len(data)) + 1):  # a character is at most 4 bytes
        lead = data[-back]
        if lead & 0xC0 == 0x80:  # a continuation byte: look further back
            continue
        size = 1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        cut = len(data) - back if size > back else len(data)
        break
    try:
        pl.Series([data[:cut]], dtype=pl.Binary).cast(pl.String, strict=True)
    except pl.exceptions.PolarsError:
        return False, b""
    return True, data[cut:]


def read_source(path: Path, encoding: str | None = None, sheet: str | None = None) -> SourceTable:
    """Read `path` as text cells; raise SourceFileError when it cannot be imported at all."""
    if not path.exists():
        raise SourceFileError(str(path), "no such file", "check the path")
    if path.is_dir():
        raise SourceFileError(str(path), "is a directory", "pass a .csv, .tsv, .txt or .xlsx file")
    try:
        with path.open("rb") as handle:
            head = handle.read(SAMPLE_BYTES)
    except OSError as err:
        raise SourceFileError(str(path), f"cannot be read ({err.strerror})") from err
    if not head.strip(b"\x00\t\r\n ,;|\xef\xbb\xbf\xff\xfe"):
        raise SourceFileError(str(path), "is empty", "export the contacts again with a header row")
    if head.startswith(b"PK\x03\x04"):
        return _read_xlsx(path, sheet)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise SourceFileError(
            str(path), "is an old binary Excel (.xls) file", "save it as .xlsx or CSV and retry"
        )
    if path.suffix.lower() == ".xlsx":
        raise SourceFileError(str(path), "is not a valid .xlsx workbook", "re-save it from Excel")
    chosen = _validated_encoding(path, encoding, head) if encoding else _detect_encoding(path, head)
    sha256, utf8 = _digest(path, check_utf8=chosen in ("utf-8", "utf-8-sig"))
    if not utf8:
        if encoding is not None:
            raise SourceFileError(str(path), f"cannot be decoded as {chosen}", "check --encoding")
        if chosen == "utf-8-sig":
            raise SourceFileError(
                str(path),
                "starts as utf-8-sig but has bytes that are not utf-8-sig",
                "re-export it as UTF-8 or pass --encoding",
            )
        chosen = _not_utf8(path)
    return _read_delimited(path, chosen, sha256)


def _validated_encoding(path: Path, encoding: str, head: bytes) -> str:
    try:
        codec = codecs.lookup(encoding).name
    except LookupError as err:
        raise SourceFileError(
            str(path), f"unknown encoding {encoding!r}", "pass e.g. --encoding cp1252"
        ) from err
    if codec == "utf-8" and head.startswith(codecs.BOM_UTF8):
        codec = "utf-8-sig"
    return codec


def _detect_encoding(path: Path, head: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 (BOM or NUL pattern), from the first bytes.

    Whether all of a UTF-8 file decodes is checked while it is hashed (`_digest`).
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    even_nuls, odd_nuls = head[0::2].count(0), head[1::2].count(0)
    if len(head) >= 4 and max(even_nuls, odd_nuls) > len(head) // 4:
        return "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"
    if b"\x00" in head:
        raise SourceFileError(
            str(path), "is not a text file (binary content)", "export it as CSV or XLSX"
        )
    return "utf-8"


def _not_utf8(path: Path) -> str:
    """The encoding of a file that is not UTF-8: cp1252 when it reads as Western
    European text; mixed encodings and anything else are refused."""
    if any(UTF8_SEQUENCE.search(block) for block in _word_blocks(path)):
        raise SourceFileError(
            str(path),
            "mixes UTF-8 text with bytes of another encoding (pasted from two exports?)",
            "re-export it as UTF-8, or pass --encoding if you know the right one",
        )
    return _guess_single_byte(path)


def _guess_single_byte(path: Path) -> str:
    """cp1252 when its decoding reads as Western European text; otherwise refuse to guess.

    Latin-1 and cp1252 agree on every letter; they differ only on 0x80-0x9F, which
    cp1252 makes punctuation and latin-1 control characters, so cp1252 is the answer
    whenever it decodes plausibly. The file is judged 4 MB at a time.
    """
    accented = foreign = 0
    try:
        for block in _word_blocks(path):
            words, whole = _accented_words(block.decode("cp1252"))
            accented, foreign = accented + words, foreign + whole
        western = foreign <= accented // 10
    except UnicodeDecodeError:
        western = False
    if western:
        return "cp1252"
    with path.open("rb") as handle:
        best = from_bytes(handle.read(SAMPLE_BYTES)).best()
    hint = f" (it may be {best.encoding})" if best is not None else ""
    raise SourceFileError(
        str(path),
        f"is not UTF-8 and not Western European text{hint}",
        "re-export it as UTF-8 or pass --encoding",
    )


# A word: a run of letters and non-decimal numerals (Python's [^\W\d_]; on the characters
# cp1252 decodes to, the two agree: tests/test_readers.py). ACCENTED_WORD is a word with
# a letter outside ASCII; the regex runs in polars (Rust), ~5x faster than `re`.
WORD_CHAR = r"[\p{L}\p{Nl}\p{No}]"
ACCENTED_WORD = WORD_CHAR + r"*[\p{L}\p{Nl}\p{No}&&[^\x00-\x7F]]" + WORD_CHAR + "*"
# Bytes no word and no two-byte UTF-8 letter contains: a block may end after one.
WORD_BREAKS = (b"\n", b",", b";", b"\t", b" ")


def _word_blocks(path: Path) -> Iterator[bytes]:
    """The file's bytes ~4 MB at a time, each block ending after a word break, so no
    word (and no UTF-8 letter) is cut in two."""
    tail = b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            data = tail + chunk
            cut = max(data.rfind(mark) for mark in WORD_BREAKS) + 1 or len(data)
            yield data[:cut]
            tail = data[cut:]
    if tail:
        yield tail


def _accented_words(text: str) -> tuple[int, int]:
    """(words with a non-ASCII letter, those of 3+ letters with no ASCII letter at all).

    Accented letters sit inside mostly-ASCII words (Müller, Société); mojibake of
    Cyrillic or Greek gives whole words of non-ASCII letters."""
    accented = pl.Series([text]).str.extract_all(ACCENTED_WORD).explode().drop_nulls()
    whole = (accented.str.len_chars() >= 3) & ~accented.str.contains(r"[\x00-\x7F]")
    return accented.len(), int(whole.sum())


def _read_delimited(path: Path, encoding: str, sha256: str) -> SourceTable:
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    cr_only = b"\r" in head and b"\n" not in head  # classic Mac "CSV (Macintosh)"
    if encoding in ("utf-8", "utf-8-sig") and not cr_only:
        return _scan_delimited(path, path, head.decode(encoding, errors="ignore"), encoding, sha256)
    utf8 = _transcoded(path, encoding, cr_only)
    try:
        with utf8.open(encoding="utf-8", newline="") as text:
            text_head = text.read(SAMPLE_BYTES)
        return _scan_delimited(path, utf8, text_head, encoding, sha256)
    finally:
        # the scan has opened it by now (polars reads the head), so the name can go
        with suppress(OSError):
            utf8.unlink()


def _transcoded(path: Path, encoding: str, cr_only: bool) -> Path:
    """The file as UTF-8 (polars reads nothing else) in a temporary file, decoded 4 MB
    at a time: no byte-order mark, and CR line ends as LF."""
    decoder = codecs.getincrementaldecoder(encoding)()
    handle, name = tempfile.mkstemp(prefix="contacts-read-", suffix=".csv")
    started = False
    try:
        with os.fdopen(handle, "wb") as out, path.open("rb") as source:
            for block in chain(iter(lambda: source.read(1 << 22), b""), [None]):
                text = decoder.decode(block or b"", final=block is None)
                if not started and text:
                    text, started = text.removeprefix("\ufeff"), True
                out.write((text.replace("\r", "\n") if cr_only else text).encode("utf-8"))
    except UnicodeDecodeError as err:
        os.remove(name)
        raise SourceFileError(
            str(path), f"cannot be decoded as {encoding}", "check --encoding"
        ) from err
    except OSError as err:
        with suppress(OSError):
            os.remove(name)
        raise SourceFileError(
            str(path), f"cannot be converted to UTF-8 in {tempfile.gettempdir()} ({err.strerror})"
        ) from err
    return Path(name)


def _scan_delimited(
    path: Path, payload: Path, text_head: str, encoding: str, sha256: str
) -> SourceTable:
    """Stream `payload` (UTF-8: the file itself or its transcoded copy) as `path`'s table."""
    delimiter = sniff_delimiter(text_head, path.suffix.lower())
    schema = {f"{EXTRA_PREFIX}{i}": pl.String for i in range(_sample_width(text_head, delimiter))}
    records = pl.scan_csv(
        payload,
        has_header=False,
        schema=schema,
        missing_columns="insert",
        separator=delimiter,
        truncate_ragged_lines=True,
        encoding="utf8",
        quote_char='"',
        raise_if_empty=False,
    )
    # streamed: the whole file is never held, and each batch is stripped on its own
    rows = batch_rows(len(schema))
    batches = _parse_errors(path, records.collect_batches(chunk_size=rows))
    return _with_header(path, schema, batches, rows, sha256, encoding, delimiter, None)


def _parse_errors(path: Path, batches: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """Stripped batches; a parse error becomes a SourceFileError, wherever it occurs."""
    try:
        for batch in batches:
            yield _stripped(batch)
    except pl.exceptions.PolarsError as err:
        reason = (
            "has bytes that are not utf-8"
            if "invalid utf-8" in str(err).lower()
            else f"is not a readable delimited file ({_first_line(err)})"
        )
        raise SourceFileError(str(path), reason) from err


def _stripped(cells: pl.DataFrame) -> pl.DataFrame:
    """Cells without surrounding whitespace; empty cells become null."""
    return cells.with_columns(pl.all().str.strip_chars().replace("", None))


def sniff_delimiter(text: str, suffix: str = "") -> str:
    """The delimiter among , ; TAB | that splits the sample into the most consistent fields."""
    lines = [line for line in text.splitlines()[:200] if line.strip()]
    if len(text) >= SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line
    sample = "\n".join(lines)
    best, best_score = ("\t" if suffix == ".tsv" else ","), (0.0, 0)
    for delimiter in DELIMITERS:
        widths = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
        if not widths:
            continue
        mode, count = Counter(widths).most_common(1)[0]
        if mode < 2:
            continue
        score = (round(count / len(widths), 2), mode)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _sample_width(text: str, delimiter: str) -> int:
    widths = [len(r) for r in csv.reader(io.StringIO(text[:SAMPLE_BYTES]), delimiter=delimiter)]
    return max([*widths, 1]) + EXTRA_WIDTH


def _read_xlsx(path: Path, sheet: str | None) -> SourceTable:
    try:
        frame = pl.read_excel(
            path,
            sheet_name=sheet,
            engine="calamine",
            has_header=False,
            infer_schema_length=0,
            raise_if_empty=False,
            drop_empty_rows=False,  # keep row numbers equal to the sheet's
            drop_empty_cols=False,
        )
    except Exception as err:  # fastexcel raises its own exception types
        sheets = _sheet_names(path)
        if sheet is not None and sheets and sheet not in sheets:
            listed = ", ".join(repr(name) for name in sheets)
            raise SourceFileError(
                str(path), f"has no sheet {sheet!r}", f"its sheets are {listed}"
            ) from err
        raise SourceFileError(
            str(path), f"is not a readable .xlsx workbook ({_first_line(err)})"
        ) from err
    if isinstance(frame, dict):  # pragma: no cover - only with sheet_name=None on old polars
        frame = next(iter(frame.values()))
    frame = frame.rename({c: f"{EXTRA_PREFIX}{i}" for i, c in enumerate(frame.columns)})
    frame = _stripped(frame.with_columns(pl.all().cast(pl.String)))
    rows = batch_rows(frame.width)
    batches = (frame.slice(start, rows) for start in range(0, frame.height, rows))
    return _with_header(
        path, frame.schema, batches, rows, file_sha256(path), None, None, sheet or "first sheet"
    )


def _sheet_names(path: Path) -> list[str]:
    try:
        import fastexcel

        return list(fastexcel.read_excel(path).sheet_names)
    except Exception:  # an unreadable workbook has no sheets to list
        return []


def _with_header(
    path: Path,
    schema: Mapping[str, pl.DataType | type[pl.DataType]],
    batches: Iterator[pl.DataFrame],
    rows: int,
    sha256: str,
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
) -> SourceTable:
    """Find the header record and number the records after it; `batches` are `_stripped`
    records, regrouped into data batches of `rows` rows (the last one shorter).

    The header is the first record with at least two cells, unless the file has a
    single column: LinkedIn exports start with a one-cell 'Notes:' preamble.
    """
    first: list[pl.DataFrame] = []
    while sum(batch.height for batch in first) < HEAD_RECORDS:
        batch = next(batches, None)
        if batch is None:
            break
        first.append(batch)
    raw = pl.concat(first) if first else pl.DataFrame(schema=schema)
    filled = raw.head(50).select(pl.sum_horizontal(pl.all().is_not_null())).to_series()
    if filled.len() == 0 or filled.max() == 0:
        raise SourceFileError(str(path), "is empty", "export the contacts again with a header row")
    needed = min(2, int(filled.max()))
    header_at = int((filled >= needed).arg_true()[0])
    notes = [f"skipped {header_at} record(s) before the header"] if header_at else []
    header_cells = list(raw.row(header_at))
    width = max(i for i, cell in enumerate(header_cells) if cell is not None) + 1
    columns = _unique_names(header_cells[:width])
    renames = {old: new for old, new in zip(raw.columns[:width], columns, strict=True)}
    extras = [f"{EXTRA_PREFIX}{i}" for i in range(len(raw.columns) - width)]
    renames.update(dict(zip(raw.columns[width:], extras, strict=True)))
    layout = _Layout(header_at, renames)
    return SourceTable(
        path=path,
        columns=columns,
        sha256=sha256,
        encoding=ENCODING_NAMES.get(encoding or "", encoding),
        delimiter=delimiter,
        head=layout.data(raw, 0).head(HEAD_ROWS),
        sheet=sheet,
        notes=notes,
        _pending=_exactly(layout.numbered([raw], batches), rows),
    )


def _exactly(batches: Iterator[pl.DataFrame], rows: int) -> Iterator[pl.DataFrame]:
    """`batches` regrouped into `rows` rows each, the last one shorter (but always one).

    Records come in batches of `rows`, and the header and any preamble take records of
    the first: without regrouping, a file of whole batches ends in a batch of a few rows,
    and preparing a batch has a fixed cost (~0.1-0.4 s) however small it is.
    """
    held: list[pl.DataFrame] = []
    count, given = 0, False
    for batch in batches:
        held.append(batch)
        count += batch.height
        while count >= rows:
            whole = pl.concat(held, rechunk=False) if len(held) > 1 else held[0]
            yield whole.head(rows)
            given = True
            held, count = [whole.slice(rows)], count - rows
    if count or not given:
        yield pl.concat(held, rechunk=False) if len(held) > 1 else held[0]


@dataclass(frozen=True)
class _Layout:
    """Where the header is and what each raw column is called."""

    header_at: int  # index of the header record
    renames: dict[str, str]

    def data(self, raw: pl.DataFrame, first_record: int) -> pl.DataFrame:
        """The data records of a raw batch starting at record `first_record`, named and
        numbered: `_row` 1 is the record after the header."""
        skip = max(0, self.header_at + 1 - first_record)
        first_row = first_record + skip - self.header_at
        data = raw.slice(skip).rename(self.renames).with_row_index(ROW, offset=first_row)
        return data.with_columns(pl.col(ROW).cast(pl.Int64))

    def numbered(
        self, read: list[pl.DataFrame], rest: Iterator[pl.DataFrame]
    ) -> Iterator[pl.DataFrame]:
        """`read` (already taken from the file) then `rest`, as data batches."""
        record = 0
        while read:
            raw = read.pop(0)
            yield self.data(raw, record)
            record += raw.height
        for raw in rest:
            yield self.data(raw, record)
            record += raw.height


def _unique_names(cells: list[str | None]) -> list[str]:
    """Header names made unique ('Phone', 'Phone_2'), never clashing with another header
    or with the reader's own columns (_row, _extra_N), and never a name polars reads as a
    pattern when it names a column ('*' becomes '*_2', '^a.*$' becomes '^a.*$_2')."""
    wanted = [(cell or "").strip() or f"column_{i}" for i, cell in enumerate(cells, start=1)]
    taken = {ROW}
    names = []
    for name in wanted:
        candidate, suffix = name, 1
        while (
            candidate in taken
            or candidate.startswith(EXTRA_PREFIX)
            or _is_pattern(candidate)
            or (candidate != name and candidate in wanted)
        ):
            suffix += 1
            candidate = f"{name}_{suffix}"
        taken.add(candidate)
        names.append(candidate)
    return names


def _is_pattern(name: str) -> bool:
    """Whether `pl.col(name)` selects by pattern (all columns, a regex), not by name."""
    return name == "*" or (len(name) > 1 and name.startswith("^") and name.endswith("$"))


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
