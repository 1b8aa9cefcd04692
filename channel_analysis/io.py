"""Read a data source into raw tables: the contract's tables as found, before validation.

``read_source(spec)`` → :class:`Source` with one :class:`RawTable` per contract table
present. A source is a folder of ``<table>.csv|.parquet|.xlsx`` files (or one
``dealer_data.xlsx`` with a sheet per table), a DuckDB or SQLite file, or a
SQLAlchemy URL (see DATA_CONTRACT.md, "Where the data lives").

Rows keep their values as read: CSV cells are text exactly as in the file; Parquet,
Excel and database cells keep their native types. Column names are trimmed and
lower-cased; each frame's index is ``source_row``, the 1-based number of the data
record in the source (header not counted; blank lines and empty sheet rows are not
records). Parsing types, trimming values and checking columns is the validator's job.

Every problem that makes the source unusable (missing or unreadable file, a table
given twice, a database that cannot be reached ...) is collected and raised as one
:class:`~channel_analysis.errors.SourceError`. Passwords never appear in a message.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import sqlite3
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import TypeVar

import duckdb
import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa
from openpyxl.utils import get_column_letter

from channel_analysis import schema
from channel_analysis.errors import SourceError

WORKBOOK = "dealer_data.xlsx"  # one workbook holding a sheet per table
PASSWORD_ENV = "CHANNEL_ANALYSIS_DB_PASSWORD"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_DUCKDB_MAGIC = b"DUCK"  # at bytes 8..12 of a DuckDB file
_CHUNK = 1 << 24  # bytes read at a time when checking a file's encoding
_BATCH = 100_000  # rows per Arrow batch when reading row by row
T = TypeVar("T")
# Size guards: past these a file is refused with a message instead of eating memory or time.
_MAX_LINE = 1 << 24  # bytes in one line of a CSV file (Python's csv reader holds a whole line)
_MAX_COLUMNS = 16_384  # columns of a table: Excel's own limit
_EXCEL_ROWS = 1_048_576  # rows of a sheet: Excel's own limit; a row numbered beyond it is forged
_MAX_SHEET_CELLS = 50_000_000  # cells read from one sheet (about a minute of openpyxl)
_MAX_SHEETS = 1_000  # worksheets in a workbook
_MAX_UNPACKED = 4 << 30  # bytes a workbook unpacks to
_MAX_RATIO = 100  # unpacked / packed size of a workbook part above 1 MB (real workbooks: about 10)
# memory a table needs once read and validated, per row and column (measured: 46 M rows of the
# 100,000-dealer world, about 7 columns a row, peaked at 6.3 GB); a table needing more than the
# machine has available is refused before it is read, instead of the run dying of out-of-memory
_BYTES_PER_CELL = 20


@dataclass
class RawTable:
    """One contract table as read, before validation.

    ``frame``: index ``source_row`` (1-based data record), columns trimmed and
    lower-cased; CSV values are ``str`` exactly as in the file ("" for an empty
    cell), other formats keep native types. ``malformed``: rows that did not fit the
    header (index ``source_row``; columns ``raw``, ``reason``), not in ``frame``.
    """

    name: str
    frame: pd.DataFrame
    origin: str
    encoding: str | None = None
    malformed: pd.DataFrame = field(default_factory=lambda: _malformed([]))


@dataclass
class Source:
    """A data source: where it is (password hidden) and its contract tables present."""

    location: str
    tables: dict[str, RawTable]


@dataclass
class ParquetTable:
    """A contract table stored as Parquet: one file, or a folder of part files (one per month, say,
    as ``orders/2025-01.parquet`` or ``orders/month=2025-01/part-0.parquet``) that together make the
    table, in the order of their paths. :meth:`batches` reads it a slice at a time, never whole."""

    name: str
    origin: str  # "orders.parquet" or "orders/"
    files: list[Path]

    @property
    def rows(self) -> int:
        """Rows of the table, from the files' footers (nothing else is read)."""
        return sum(self._meta(f).num_rows for f in self.files)

    @cached_property
    def columns(self) -> list[str]:
        """Column names, trimmed and lower-cased; SourceError when the parts disagree."""
        try:
            return _part_names(self.files, self.origin)
        except _Unreadable as exc:
            raise SourceError([str(exc)]) from None

    def no_rows(self) -> pd.DataFrame:
        """The table's raw frame with no row: its columns and types as :meth:`batches` gives them."""
        for raw in self.batches(1):
            return raw.frame.iloc[:0]
        try:
            empty = pq.read_schema(self.files[0]).empty_table()
        except (pa.ArrowException, OSError) as exc:
            raise SourceError([_not_parquet(self.origin, self.files[0], exc)]) from None
        return _from_arrow(empty.rename_columns(self.columns), self.name, self.origin).frame

    def batches(self, rows: int) -> Iterator[RawTable]:
        """RawTables of at most ``rows`` rows each, in order, ``source_row`` counting on across parts."""
        names = self.columns
        first = 1
        for path in self.files:
            try:
                parquet = pq.ParquetFile(path)
                for batch in parquet.iter_batches(batch_size=rows):
                    data = pa.Table.from_batches([batch])
                    raw = _from_arrow(data.rename_columns(names), self.name, self.origin, first_row=first)
                    first += data.num_rows
                    yield raw
            except (pa.ArrowException, OSError) as exc:
                raise SourceError([_not_parquet(self.origin, path, exc)]) from None

    def _meta(self, path: Path):
        try:
            return pq.read_metadata(path)
        except (pa.ArrowException, OSError) as exc:
            raise SourceError([_not_parquet(self.origin, path, exc)]) from None


class _Unreadable(Exception):
    """A file, table or database cannot be used; the message names it and the fix."""


@dataclass
class _Entry:
    table: str  # contract name
    origin: str  # "orders.csv", "dealer_data.xlsx, sheet orders", "table orders", "orders/"
    read: Callable[[str, str], RawTable]  # (table, origin) -> RawTable
    parquet: list[Path] | None = None  # the Parquet file(s) holding the table, if it is Parquet


@dataclass
class _Listing:
    location: str
    entries: list[_Entry]
    found: str  # what the source holds, for "missing table" messages
    expected: Callable[[str], str]  # how a table is named in this kind of source
    complete: bool = True  # False when part of the source could not be listed


def read_source(spec: str | Path, *, tables: Iterable[str] | None = None) -> Source:
    """spec → Source: location plus one RawTable per contract table present.

    ``tables`` limits reading to those contract tables (then only the required ones
    among them must be present). Raises SourceError listing every table-level problem.
    """
    problems: list[str] = []
    read: dict[str, RawTable] = {}
    with ExitStack() as stack:
        location, chosen = _chosen_entries(spec, _wanted(tables), stack, problems)
        for table, entry in chosen.items():
            if isinstance(entry, str):  # a problem of the listing, reported in table order
                problems.append(entry)
                continue
            try:
                read[table] = entry.read(table, entry.origin)
            except _Unreadable as exc:
                problems.append(str(exc))
            except OSError as exc:  # e.g. no permission to read the file
                problems.append(f"{entry.origin} cannot be read: {exc.strerror or exc}")
    if problems:  # raised outside any except block: no chained driver error
        raise SourceError(problems)
    return Source(location, read)


def parquet_tables(spec: str | Path, *, tables: Iterable[str] | None = None) -> tuple[str, dict[str, ParquetTable]] | None:
    """spec → (location, one :class:`ParquetTable` per contract table present) when every table the
    source holds is Parquet (a file, or a folder of part files); None for any other source. Nothing
    but the files' footers is read. Raises SourceError for the problems :func:`read_source` reports
    before reading (a required table missing, a table given twice ...)."""
    # a database, a database file or a workbook is not Parquet: known without listing it (which
    # would connect to the database or open the workbook a second time, before read_source)
    if isinstance(spec, str) and "://" in spec:
        return None
    folder = Path(spec).expanduser()
    if not folder.is_dir() or any(p.name.lower() == WORKBOOK for p in folder.iterdir()):
        return None
    problems: list[str] = []
    with ExitStack() as stack:
        location, chosen = _chosen_entries(spec, _wanted(tables), stack, problems)
    problems += [entry for entry in chosen.values() if isinstance(entry, str)]
    if problems:
        raise SourceError(problems)
    if not all(entry.parquet for entry in chosen.values()):
        return None
    return location, {t: ParquetTable(t, e.origin, e.parquet) for t, e in chosen.items()}


def _wanted(tables: Iterable[str] | None) -> list[str]:
    wanted = list(schema.TABLES) if tables is None else list(tables)
    unknown = set(wanted) - set(schema.TABLES)
    if unknown:
        raise ValueError(f"not contract tables: {sorted(unknown)}")
    return [t for t in schema.TABLES if t in wanted]  # contract order


def _chosen_entries(
    spec: str | Path, wanted: list[str], stack: ExitStack, problems: list[str]
) -> tuple[str, dict[str, _Entry | str]]:
    """(location, table → its one entry, or what is wrong with it: given twice, or required and
    missing); a source that cannot be used at all adds to ``problems``."""
    try:
        listing = _list_source(spec, wanted, stack, problems)
    except _Unreadable as exc:  # the source as a whole cannot be used
        problems.append(str(exc))
        return str(spec), {}
    except OSError as exc:  # e.g. a folder we may not list
        problems.append(f"{spec} cannot be read: {exc.strerror or exc}")
        return str(spec), {}
    return listing.location, _choose(listing, wanted)


def _choose(listing: _Listing, wanted: list[str]) -> dict[str, _Entry | str]:
    chosen: dict[str, _Entry | str] = {}
    for table in wanted:
        entries = [e for e in listing.entries if e.table == table]
        if len(entries) > 1:
            given = " and ".join(e.origin for e in entries)
            chosen[table] = f"table {table} is given twice in {listing.location}: {given}; keep only one"
        elif not entries:
            if table in schema.REQUIRED_TABLES and listing.complete:
                chosen[table] = (
                    f"required table {table} is missing in {listing.location}: expected "
                    f"{listing.expected(table)}; found {listing.found}"
                )
        else:
            chosen[table] = entries[0]
    return chosen


def _list_source(spec: str | Path, wanted: list[str], stack: ExitStack, problems: list[str]) -> _Listing:
    if isinstance(spec, str) and "://" in spec:
        url = _parse_url(spec)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            spec = url.database  # a SQLite file: read it like one given by path (read-only)
        else:
            return _list_url(spec, url, wanted, stack)
    path = Path(spec).expanduser()
    if path.is_dir():
        return _list_folder(path, wanted, stack, problems)
    if not path.exists():
        raise _Unreadable(
            f"data source {path} does not exist; give a folder of table files, "
            "a DuckDB or SQLite file, or a database URL"
        )
    with open(path, "rb") as f:
        head = f.read(16)
    if head == _SQLITE_MAGIC:
        uri = path.resolve().as_uri() + "?mode=ro"
        engine = sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
        return _list_engine(engine, str(path), wanted, stack, [], "check that it is a valid SQLite database")
    if head[8:12] == _DUCKDB_MAGIC:
        return _list_duckdb(path, wanted, stack)
    raise _Unreadable(
        f"{path} is neither a folder nor a DuckDB or SQLite database file; "
        "give the folder that holds the table files"
    )


# --- folders of files ---------------------------------------------------------------


def _list_folder(folder: Path, wanted: list[str], stack: ExitStack, problems: list[str]) -> _Listing:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith((".", "~$")))
    entries, complete = [], True
    for part_dir in sorted(p for p in folder.iterdir() if p.is_dir() and p.name.strip().lower() in wanted):
        parts = parquet_parts(part_dir)
        if parts:  # a table as a folder of Parquet part files (say one per month)
            origin = part_dir.name + "/"
            entries.append(_Entry(part_dir.name.strip().lower(), origin, partial(_read_parquet_parts, parts), parts))
    for path in files:
        table = path.stem.strip().lower()
        if path.name.lower() == WORKBOOK:
            try:
                book = _open_workbook(path)
            except _Unreadable as exc:
                problems.append(str(exc))
                complete = False  # its sheets are unknown: do not call tables missing
                continue
            stack.callback(book.close)
            for sheet in book.worksheets:
                if sheet.title.strip().lower() in wanted:
                    origin = f"{path.name}, sheet {sheet.title}"
                    entries.append(_Entry(sheet.title.strip().lower(), origin, partial(_read_sheet, sheet)))
        elif table in wanted and path.suffix.lower() in _FILE_READERS:
            parquet = [path] if path.suffix.lower() == ".parquet" else None
            entries.append(_Entry(table, path.name, partial(_FILE_READERS[path.suffix.lower()], path), parquet))
    return _Listing(
        location=str(folder),
        entries=entries,
        found="files: " + _names([p.name for p in files]) if files else "no files",
        expected=lambda t: f"{t}.csv, {t}.parquet, {t}.xlsx, a folder {t}/ of Parquet files or a sheet named {t} in {WORKBOOK}",
        complete=complete,
    )


def _read_csv(path: Path, table: str, origin: str) -> RawTable:
    """CSV → all-text frame; the fast Arrow reader, row by row only when a row does not fit."""
    lines = _check_line_lengths(path, origin)
    encoding = _csv_encoding(path, origin)
    with open(path, encoding=encoding, newline="") as f:
        try:
            header = next((row for row in csv.reader(f) if row), None)
        except csv.Error as exc:
            raise _Unreadable(f"{origin} cannot be read as CSV (its header: {exc})") from None
    if header is None:
        raise _Unreadable(f"{origin} has no header row (the file is empty); write the column names in its first line")
    if len(header) > _MAX_COLUMNS:
        raise _Unreadable(
            f"{origin} has {len(header):,} columns in its header, more than {_MAX_COLUMNS:,}; "
            "keep the contract's columns (and a few of your own)"
        )
    names = _column_names(header, origin)
    _check_memory(lines - 1, len(header), origin)  # the header is no row
    data = _csv_fast(path, encoding, header)
    if data is not None:
        data = _drop_trailing_empty(data)
        index = pd.RangeIndex(1, data.num_rows + 1, name="source_row")
        malformed = _malformed([])
    else:
        data, rows, malformed = _csv_by_row(path, encoding, len(header), origin)
        index = pd.Index(rows, dtype="int64", name="source_row")
    frame = data.rename_columns(names).to_pandas()
    frame.index = index
    return RawTable(table, frame, origin, encoding, malformed)


def arrow_to_pandas(data: pa.Table) -> pd.DataFrame:
    """Arrow table → pandas frame (one block per column), the Arrow memory let go column by column
    as it converts and handed back to the system at the end: Arrow's allocator keeps what it frees
    for its own later use, where numpy cannot reuse it, so a read of 20 million rows would
    otherwise leave about a gigabyte held that nothing uses."""
    frame = data.to_pandas(split_blocks=True, self_destruct=True)
    del data
    pa.default_memory_pool().release_unused()
    return frame


def _check_line_lengths(path: Path, origin: str) -> int:
    """The file's number of lines; _Unreadable when one is longer than _MAX_LINE bytes (one pass,
    no line held)."""
    start = offset = lines = 0  # where the current line starts; bytes read so far
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            lines += chunk.count(b"\n")
            first = chunk.find(b"\n")
            if first >= 0 and offset + first - start <= _MAX_LINE:
                start = offset + chunk.rfind(b"\n") + 1
            offset += len(chunk)
            if offset - start > _MAX_LINE:
                raise _Unreadable(
                    f"{origin} has a line of more than {_MAX_LINE >> 20} MB starting at byte {start:,}; "
                    "a CSV record must end with a line break: check that this is the CSV export of the table"
                )
    return lines + (offset > start)  # a last line without a line break counts too


def _available_memory() -> int | None:
    """Bytes of memory the system can give without swapping (Linux ``MemAvailable``); None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _check_memory(rows: int, columns: int, origin: str) -> None:
    """_Unreadable when reading ``rows`` × ``columns`` would need more memory than is available."""
    needed, available = rows * max(columns, 1) * _BYTES_PER_CELL, _available_memory()
    if available is not None and needed > available:
        raise _Unreadable(
            f"{origin} has {rows:,} rows: reading and checking it needs about {needed / 2**30:.1f} GB of memory, "
            f"this machine has {available / 2**30:.1f} GB available; run on a machine with more memory, or compute "
            "the panel and KPIs in the database or on Spark (docs/scaling.md)"
        )


def _csv_encoding(path: Path, origin: str) -> str:
    """The first of utf-8-sig (UTF-8 with a BOM), utf-8 and gb18030 that decodes the whole file strictly."""
    bad = _first_non_utf8(path)
    if bad is None:
        with open(path, "rb") as f:
            return "utf-8-sig" if f.read(3) == codecs.BOM_UTF8 else "utf-8"
    decoder = codecs.getincrementaldecoder("gb18030")("strict")
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return "gb18030"
    except UnicodeDecodeError:
        pass
    line, left = 1, bad
    with open(path, "rb") as f:
        while left > 0:
            chunk = f.read(min(_CHUNK, left))
            line, left = line + chunk.count(b"\n"), left - len(chunk)
    raise _Unreadable(
        f"{origin} is neither UTF-8 nor GB18030; save it as UTF-8 CSV "
        f"(the first byte that is not UTF-8 is on line {line}, at byte {bad})"
    )


def _first_non_utf8(path: Path) -> int | None:
    """Byte offset of the first invalid UTF-8 sequence, or None when the whole file is UTF-8."""
    # Arrow validates UTF-8 several times faster than Python's decoder. Pieces end
    # after a newline, which never falls inside a multi-byte character.
    offset, carry = 0, b""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(_CHUNK)
            data = carry + chunk
            cut = data.rfind(b"\n") + 1 if chunk else len(data)
            piece, carry = data[:cut], data[cut:]
            try:
                pa.array([piece], pa.binary()).cast(pa.string())
            except pa.ArrowInvalid:
                try:
                    piece.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return offset + exc.start
                raise  # Arrow and Python disagree about UTF-8: should not happen
            offset += len(piece)
            if not chunk:
                return None


def _csv_fast(path: Path, encoding: str, header: list[str]) -> pa.Table | None:
    """Arrow's multi-threaded reader, every column as text; None when a row does not fit."""
    try:
        data = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding="utf8" if encoding.startswith("utf-8") else encoding),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:  # a row with more or fewer fields, or anything else odd
        return None
    if data.column_names != header or not all(pa.types.is_string(t) for t in data.schema.types):
        return None  # Arrow saw the header differently: let the row-by-row reader decide
    return data


def _drop_trailing_empty(data: pa.Table) -> pa.Table:
    """Without the trailing rows whose fields are all empty (Excel writes such ',,,' lines)."""
    end = data.num_rows
    while end:
        start = max(0, end - 256)
        for row in reversed(data.slice(start, end - start).to_pylist()):
            if any(row.values()):
                return data.slice(0, end)
            end -= 1
    return data.slice(0, 0)


def _csv_by_row(path: Path, encoding: str, width: int, origin: str) -> tuple[pa.Table, list[int], pd.DataFrame]:
    """Python's csv module, record by record: (text table, source_row of each row, malformed)."""
    batches, rows, bad = [], [], []
    columns: list[list[str]] = [[] for _ in range(width)]
    pending = []  # fully-empty records: kept only if a non-empty record follows
    lines: list[str] = []

    def tracked(f):  # remembers the physical lines of the record being parsed
        for line in f:
            lines.append(line)
            yield line

    def keep(number: int, fields: list[str], raw: str) -> None:
        if len(fields) != width:
            bad.append((number, raw.rstrip("\r\n"), f"row has {len(fields)} fields, the header has {width}"))
            return
        rows.append(number)
        for column, value in zip(columns, fields):
            column.append(value)
        if len(columns[0]) >= _BATCH:
            batches.append(_text_batch(columns))

    with open(path, encoding=encoding, newline="") as f:
        records = csv.reader(tracked(f))
        number = -1  # the header is record 0
        try:
            for fields in records:
                raw = "".join(lines) if len(fields) != width else ""  # only rows set aside need it
                lines.clear()
                if not fields:
                    continue  # a blank line is not a record
                number += 1
                if number == 0:
                    continue
                if not any(fields):
                    pending.append((number, fields, raw))
                    continue
                for record in (*pending, (number, fields, raw)):
                    keep(*record)
                pending.clear()
        except csv.Error as exc:
            raise _Unreadable(f"{origin} cannot be read as CSV (line {records.line_num}: {exc})") from None
    batches.append(_text_batch(columns))
    return pa.concat_tables(batches), rows, _malformed(bad)


def _text_batch(columns: list[list[str]]) -> pa.Table:
    """The collected values as an Arrow table of text (columns named by position); empties the lists."""
    batch = pa.table([pa.array(c, pa.string()) for c in columns], names=[str(i) for i in range(len(columns))])
    for column in columns:
        column.clear()
    return batch


def _read_parquet(path: Path, table: str, origin: str) -> RawTable:
    try:
        meta = pq.read_metadata(path)  # the row count, before anything is read
        _check_memory(meta.num_rows, meta.num_columns, origin)
        data = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise _Unreadable(f"{origin} cannot be read as Parquet ({exc}); write it again") from None
    return _from_arrow(data, table, origin)


def parquet_parts(folder: Path) -> list[Path]:
    """The Parquet files under ``folder`` (sub-folders included, hidden ones not), in path order:
    the parts of a table given as a folder."""
    found = [
        p for p in folder.rglob("*")
        if p.suffix.lower() == ".parquet" and p.is_file()
        and not any(part.startswith((".", "_")) for part in p.relative_to(folder).parts)
    ]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _part_origin(origin: str, path: Path) -> str:
    """How a part file is named in messages: "orders/month=2025-01/part-0.parquet" (a single
    file is named by its origin)."""
    if not origin.endswith("/"):
        return origin
    for parent in path.parents:
        if parent.name + "/" == origin:
            return origin + path.relative_to(parent).as_posix()
    return origin + path.name


def _not_parquet(origin: str, path: Path, exc: BaseException) -> str:
    return f"{_part_origin(origin, path)} cannot be read as Parquet ({exc}); write it again"


def _part_names(files: list[Path], origin: str) -> list[str]:
    """The column names shared by every part file; _Unreadable when a part differs from the first."""
    names = None
    for path in files:
        try:
            these = _column_names(pq.read_schema(path).names, _part_origin(origin, path))
        except (pa.ArrowException, OSError) as exc:
            raise _Unreadable(_not_parquet(origin, path, exc)) from None
        if names is None:
            names = these
        elif these != names:
            raise _Unreadable(
                f"{_part_origin(origin, path)} has the columns {', '.join(these)}, unlike "
                f"{_part_origin(origin, files[0])} ({', '.join(names)}); write every part of {origin} "
                "with the same columns in the same order"
            )
    return names or []


def _read_parquet_parts(files: list[Path], table: str, origin: str) -> RawTable:
    """A folder of Parquet part files → one RawTable, the parts in path order."""
    names = _part_names(files, origin)
    try:
        rows = sum(pq.read_metadata(p).num_rows for p in files)
        _check_memory(rows, len(names), origin)
        parts = [pq.read_table(p).rename_columns(names) for p in files]
        data = pa.concat_tables(parts, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise _Unreadable(
            f"the parts of {origin} disagree on a column's type ({_one_line(exc)}); write every part with the same types"
        ) from None
    except (pa.ArrowException, OSError) as exc:
        raise _Unreadable(f"{origin} cannot be read as Parquet ({exc}); write it again") from None
    return _from_arrow(data, table, origin)


def _read_xlsx(path: Path, table: str, origin: str) -> RawTable:
    """One workbook per table: its first sheet."""
    book = _open_workbook(path)
    try:
        if not book.worksheets:
            raise _Unreadable(f"{origin} has no worksheet; put the {table} table in its first sheet")
        return _read_sheet(book.worksheets[0], table, origin)
    finally:
        book.close()


def _read_xls(path: Path, table: str, origin: str) -> RawTable:
    raise _Unreadable(f"{origin} is an old Excel 97-2003 workbook; save it as .xlsx or as UTF-8 CSV")


_FILE_READERS = {".csv": _read_csv, ".parquet": _read_parquet, ".xlsx": _read_xlsx, ".xls": _read_xls}


def _check_workbook_size(path: Path) -> None:
    """_Unreadable when the workbook would unpack to far more than its size (a zip bomb) or has too many sheets."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a readable zip: openpyxl says so in its own words
    sheets = sum(p.filename.startswith("xl/worksheets/") and p.filename.endswith(".xml") for p in parts)
    unpacked = sum(p.file_size for p in parts)
    bomb = [p for p in parts if p.file_size > 1 << 20 and p.file_size > _MAX_RATIO * max(p.compress_size, 1)]
    if sheets > _MAX_SHEETS or unpacked > _MAX_UNPACKED or bomb:
        found = (
            f"it has {sheets:,} worksheets (at most {_MAX_SHEETS:,})" if sheets > _MAX_SHEETS
            else f"its part {bomb[0].filename} unpacks to {bomb[0].file_size / max(bomb[0].compress_size, 1):,.0f} "
            f"times its packed size (at most {_MAX_RATIO})" if bomb
            else f"it unpacks to {unpacked >> 20:,} MB (at most {_MAX_UNPACKED >> 20:,} MB)"
        )
        raise _Unreadable(f"{path.name} is refused: {found}; export the tables as CSV or Parquet")


def _open_workbook(path: Path):
    _check_workbook_size(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (zip, XML, KeyError ...) for a broken file
        raise _Unreadable(
            f"{path.name} is not a valid Excel workbook ({type(exc).__name__}: {exc}); save it again as .xlsx"
        ) from None


def _read_sheet(sheet, table: str, origin: str) -> RawTable:
    """Sheet → frame of native cell values (dates as datetimes, empty cells None).

    The first non-empty row is the header; empty rows are skipped and not numbered.
    """
    sheet.reset_dimensions()  # a wrong <dimension> in the file would silently cut rows off
    cells = _within_limits(sheet.iter_rows(values_only=True), origin)
    try:
        header = next((row for row in cells if any(v is not None for v in row)), None)
        if header is None:
            raise _Unreadable(
                f"{origin} has no header row (the sheet is empty); write the column names in its first row"
            )
        header = list(header)
        while header[-1] is None:
            header.pop()
        names = _column_names(header, origin)
        width = len(names)
        values, rows, bad = [], [], []
        number = 0
        for row in cells:
            if all(v is None for v in row):
                continue
            number += 1
            last = max(i for i, v in enumerate(row) if v is not None)
            if last >= width:
                raw = ",".join("" if v is None else str(v) for v in row[: last + 1])
                reason = f"row has a value in column {get_column_letter(last + 1)}, beyond the header's {width} columns"
                bad.append((number, raw, reason))
                continue
            rows.append(number)
            values.append(tuple(row[:width]) + (None,) * (width - len(row)))
    except _Unreadable:
        raise
    except Exception as exc:  # broken sheet XML surfaces as many kinds of errors from openpyxl
        raise _Unreadable(f"{origin} cannot be read ({type(exc).__name__}: {exc}); save the workbook again") from None
    frame = pd.DataFrame(values, columns=names, index=pd.Index(rows, dtype="int64", name="source_row"))
    return RawTable(table, frame, origin, None, _malformed(bad))


def _within_limits(rows: Iterable[tuple], origin: str) -> Iterable[tuple]:
    """The rows of a sheet, until one is numbered beyond Excel's last row or too many cells were read."""
    cells = 0
    for number, row in enumerate(rows, start=1):
        cells += len(row)
        if number > _EXCEL_ROWS or cells > _MAX_SHEET_CELLS:
            raise _Unreadable(
                f"{origin} has " + (f"a row numbered beyond Excel's last row {_EXCEL_ROWS:,}" if number > _EXCEL_ROWS
                                    else f"more than {_MAX_SHEET_CELLS:,} cells up to row {number:,}")
                + "; save the table as CSV or Parquet"
            )
        yield row


# --- databases ----------------------------------------------------------------------


def _list_duckdb(path: Path, wanted: list[str], stack: ExitStack) -> _Listing:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise _Unreadable(f"{path} cannot be opened as a DuckDB database: {_one_line(exc)}") from None
    stack.callback(con.close)
    names = [row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()]

    def read(name: str, table: str, origin: str) -> RawTable:
        quoted = '"' + name.replace('"', '""') + '"'
        try:
            rows = con.execute(f"SELECT count(*) FROM {quoted}").fetchall()[0][0]
            _check_memory(rows, len(con.sql(f"SELECT * FROM {quoted} LIMIT 0").columns), origin)
            data = con.sql(f"SELECT * FROM {quoted}").to_arrow_table()
        except duckdb.Error as exc:
            raise _Unreadable(f"{origin} cannot be read from {path}: {_one_line(exc)}") from None
        return _from_arrow(data, table, origin)

    return _database_listing(str(path), names, wanted, read)


def _parse_url(spec: str) -> sa.URL:
    try:
        url = sa.make_url(spec)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        url = None
    if url is None or "@" in (url.host or ""):  # an "@" in the password would leak into the host
        raise _Unreadable(
            f"{_hide_password(spec)} is not a valid database URL; write it as postgresql://user@host:port/db "
            f"and give the password in PGPASSWORD or {PASSWORD_ENV}"
        )
    return url


def _list_url(spec: str, url: sa.URL, wanted: list[str], stack: ExitStack) -> _Listing:
    engine, location, secrets, hint = _url_engine(url)
    return _list_engine(engine, location, wanted, stack, secrets, hint, attempts=_DB_ATTEMPTS)


def _url_engine(url: sa.URL) -> tuple[sa.Engine, str, list[str], str]:
    """(engine, location with the password hidden, secrets to hide from messages, what to check when
    it cannot connect) for a database URL; the password from the environment when the URL has none."""
    location = url.render_as_string(hide_password=True)
    password = os.environ.get(PASSWORD_ENV)
    if password and url.password is None:
        url = url.set(password=password)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # the driver this package installs
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        url = url.update_query_dict({"connect_timeout": "10"})  # an unreachable host fails in 10 s, not minutes
    try:
        engine = sa.create_engine(url)
    except sa.exc.NoSuchModuleError:
        raise _Unreadable(
            f"cannot use {location}: unknown kind of database {url.drivername!r}; "
            "use e.g. postgresql://, mysql+pymysql:// or sqlite:///"
        ) from None
    except ImportError as exc:
        raise _Unreadable(
            f"cannot use {location}: its database driver is not installed ({exc}); install one and name it "
            "in the URL, e.g. pip install pymysql and mysql+pymysql://..."
        ) from None
    secrets = [s for s in (url.password, os.environ.get("PGPASSWORD")) if s]
    hint = f"check the URL, that the server is running, and the password (set PGPASSWORD or {PASSWORD_ENV})"
    return engine, location, secrets, hint


_DB_ATTEMPTS = 3  # tries of a whole read from a database server before giving up
_DB_BACKOFF = 0.5  # seconds before the second try, doubled before each later one
# A login the server refused or a database it does not have: another try cannot help.
_REFUSED = re.compile(
    r"authentication failed|no pg_hba\.conf entry|does not exist|permission denied|access denied|unknown database",
    re.IGNORECASE,
)


class _Lost(Exception):
    """A read of a database that failed: what failed, why and the fix; ``again`` when another try may succeed."""

    def __init__(self, what: str, why: str, again: bool):
        super().__init__(f"{what}: {why}")
        self.what, self.why, self.again = what, why, again


def _list_engine(
    engine: sa.Engine, location: str, wanted: list[str], stack: ExitStack, secrets: list[str], hint: str,
    *, attempts: int = 1,
) -> _Listing:
    """Tables and views of a SQLAlchemy database, the wanted ones read at once; ``secrets`` hidden from messages.

    Listing and reading happen on one connection, in one transaction (on
    PostgreSQL a read-only snapshot, so the tables agree with each other). When
    the server cannot be reached, or the connection is lost part-way, the whole
    read is tried again, up to ``attempts`` times with a short pause: the rows of
    a failed try are thrown away, never used. A refused login is not retried.
    """
    stack.callback(engine.dispose)
    names, tables = _tried(attempts, engine, lambda: _read_database(engine, location, wanted, secrets, hint))

    def read(name: str, table: str, origin: str) -> RawTable:
        found = tables[name]
        if isinstance(found, _Unreadable):
            raise found
        return found

    return _database_listing(location, names, wanted, read)


def _tried(attempts: int, engine: sa.Engine, work: Callable):
    """``work()``, tried again up to ``attempts`` times with a short pause while it raises a
    :class:`_Lost` worth another try (a refused login is not); then _Unreadable saying so."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except _Lost as lost:
            if not lost.again or attempt == attempts:
                tried = f" (tried {attempt} times)" if attempt > 1 else ""
                raise _Unreadable(f"{lost.what}{tried}: {lost.why}") from None
        engine.dispose()  # no pooled connection of the failed try is reused
        time.sleep(_DB_BACKOFF * 2 ** (attempt - 1))


def _connect(engine: sa.Engine, location: str, secrets: list[str], hint: str) -> tuple[sa.Connection, list[str], set[str]]:
    """(a connection, on PostgreSQL in a read-only snapshot; the names of its tables and views; the
    views among them). Raises :class:`_Lost` when the database cannot be reached or the connection drops."""
    try:
        conn = engine.connect()
    except sa.exc.SQLAlchemyError as exc:
        reason = _reason(exc, secrets)
        raise _Lost(f"cannot connect to the database {location}", f"{reason}; {hint}", _worth_retry(exc, reason)) from None
    if engine.dialect.name == "postgresql":
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    try:
        inspector = sa.inspect(conn)
        view_names = inspector.get_view_names()
        return conn, inspector.get_table_names() + view_names, set(view_names)
    except sa.exc.SQLAlchemyError as exc:
        conn.close()
        reason = _reason(exc, secrets)
        raise _Lost(f"cannot connect to the database {location}", f"{reason}; {hint}", _lost(exc)) from None


def _read_database(
    engine: sa.Engine, location: str, wanted: list[str], secrets: list[str], hint: str
) -> tuple[list[str], dict[str, RawTable | _Unreadable]]:
    """(table and view names, {name: its rows, or why they cannot be read}) for the wanted tables.

    Raises :class:`_Lost` when the database cannot be reached or the connection drops.
    """
    conn, names, views = _connect(engine, location, secrets, hint)
    with conn:
        given = [n.strip().lower() for n in names]
        tables: dict[str, RawTable | _Unreadable] = {}
        for name, table in zip(names, given):
            if table not in wanted or given.count(table) > 1:
                continue  # given twice: reported as such, not read
            tables[name] = _read_table(conn, name, table, location, secrets, view=name in views)
    return names, tables


def postgres_url(spec: str | Path) -> bool:
    """``spec`` is the URL of a PostgreSQL database (validated inside the server: ``validate_sql``)."""
    if not (isinstance(spec, str) and "://" in spec):
        return False
    try:
        return _parse_url(spec).get_backend_name() == "postgresql"
    except _Unreadable:
        return False  # read_source says what is wrong with it


@dataclass
class Snapshot:
    """A PostgreSQL source open in one read-only snapshot (REPEATABLE READ): every query sees the same
    rows. ``names``: contract table → its catalog name, for the tables given once; ``problems``: tables
    given twice or required and missing, as :func:`read_source` words them."""

    location: str
    conn: sa.Connection
    names: dict[str, str]
    views: set[str]
    problems: list[str]
    secrets: list[str]

    def origin(self, table: str) -> str:
        return f"table {self.names[table]}"

    def quoted(self, table: str) -> str:
        return self.conn.dialect.identifier_preparer.quote_identifier(self.names[table])

    def read_whole(self, table: str) -> RawTable:
        """The table read whole, as :func:`read_source` reads it; SourceError when it cannot be."""
        found = _read_table(self.conn, self.names[table], table, self.location, self.secrets,
                            view=self.names[table] in self.views)  # fmt: skip
        if isinstance(found, _Unreadable):
            raise SourceError([str(found)])
        return found

    def columns(self, table: str) -> dict[str, tuple[str, str]]:
        """Column name as read (trimmed, lower case) → (its catalog name, its type, e.g. ``text``,
        ``numeric``, ``timestamp without time zone``), in table order; SourceError when two names are
        the same once trimmed and lower-cased."""
        rows = self.query(
            "SELECT attname, atttypid::regtype::text FROM pg_attribute "
            "WHERE attrelid = CAST(:name AS regclass) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            name=self.quoted(table),
        )
        try:
            names = _column_names([r[0] for r in rows], self.origin(table))
        except _Unreadable as exc:
            raise SourceError([str(exc)]) from None
        return {n: (r[0], r[1]) for n, r in zip(names, rows)}

    def query(self, sql: str, **params) -> list[tuple]:
        """All rows of ``sql`` (named ``:params``); SourceError naming the source and the reason."""
        try:
            return [tuple(r) for r in self.conn.execute(sa.text(sql), params)]
        except sa.exc.SQLAlchemyError as exc:
            raise self._failed(f"cannot read {self.location}", exc) from None

    def set_local(self, setting: str, value: str) -> None:
        """``SET LOCAL setting = value``: for this snapshot's transaction only."""
        try:
            self.conn.execute(sa.text("SELECT set_config(:setting, :value, true)"), {"setting": setting, "value": value})
        except sa.exc.SQLAlchemyError as exc:
            raise self._failed(f"cannot set {setting} on {self.location}", exc) from None

    def _failed(self, what: str, exc: sa.exc.SQLAlchemyError) -> Exception:
        """The error to raise for ``exc``: :class:`_Lost` when the connection broke (the work is
        tried again, see :func:`in_postgres_snapshot`), else SourceError."""
        reason = _reason(exc, self.secrets)
        if _lost(exc):
            return _Lost(what, f"the connection was lost part-way ({reason}); "
                               "check that the server is up and the network stable, then run again", True)  # fmt: skip
        return SourceError([f"{what}: {reason}"])

    def read_rows(self, table: str, sql: str, **params) -> RawTable:
        """The rows of ``sql``, whose first column is their ``source_row``, as a RawTable of ``table``."""
        try:
            result = self.conn.execute(sa.text(sql), params, execution_options={"yield_per": _BATCH})
            columns = list(result.keys())
            data = _concat([_rows_to_arrow(columns, part) for part in result.partitions(_BATCH)], columns)
        except sa.exc.SQLAlchemyError as exc:
            raise self._failed(f"{self.origin(table)} cannot be read from {self.location}", exc) from None
        rows = data.column(0).to_numpy() if len(data) else np.empty(0, dtype=np.int64)
        raw = _from_arrow(data.drop_columns([columns[0]]), table, self.origin(table))
        raw.frame.index = pd.Index(rows.astype(np.int64), name="source_row")
        return raw

    def stream(self, table: str, sql: str, **params) -> Iterator[pa.Table]:
        """The rows of ``sql`` (named ``:params``) a batch at a time, as Arrow tables; SourceError
        naming ``table``, the source and the reason."""
        try:
            result = self.conn.execute(sa.text(sql), params, execution_options={"yield_per": _BATCH})
            columns = list(result.keys())
            for part in result.partitions(_BATCH):
                yield _rows_to_arrow(columns, part)
        except sa.exc.SQLAlchemyError as exc:
            raise self._failed(f"{self.origin(table)} cannot be read from {self.location}", exc) from None

    def check_memory(self, table: str, rows: int, columns: int) -> None:
        try:
            _check_memory(rows, columns, self.origin(table))
        except _Unreadable as exc:
            raise SourceError([str(exc)]) from None


def in_postgres_snapshot(spec: str, work: Callable[[Snapshot], T], *, tables: Iterable[str] | None = None) -> T:
    """``work(snapshot)`` on a :class:`Snapshot` of the PostgreSQL database at URL ``spec`` (the
    password from the environment), closed after it. When the server cannot be reached, or the
    connection is lost part-way, the whole work is tried again on a new snapshot, as a whole read
    is (what a failed try did must be redone by the next: ``work`` starts afresh); SourceError when
    it cannot be done."""
    engine, location, secrets, hint = _url_engine(_parse_url(spec))

    def attempt() -> T:
        conn, names, views = _connect(engine, location, secrets, hint)
        with conn:
            wanted = _wanted(tables)
            chosen = _choose(_database_listing(location, names, wanted, None), wanted)
            given = {n.strip().lower(): n for n in names}
            return work(Snapshot(
                location=location,
                conn=conn,
                names={t: given[t] for t, e in chosen.items() if isinstance(e, _Entry)},
                views=views,
                problems=[e for e in chosen.values() if isinstance(e, str)],
                secrets=secrets,
            ))  # fmt: skip

    try:
        return _tried(_DB_ATTEMPTS, engine, attempt)
    except _Unreadable as exc:
        raise SourceError([str(exc)]) from None
    finally:
        engine.dispose()


def _read_table(
    conn: sa.Connection, name: str, table: str, location: str, secrets: list[str], *, view: bool
) -> RawTable | _Unreadable:
    """Table or view ``name`` (a catalog name equal to contract table ``table``) read whole, or why it
    cannot be; raises :class:`_Lost` when the connection drops part-way."""
    origin = f"table {name}"
    quoted = conn.dialect.identifier_preparer.quote_identifier(name)
    try:
        rows = conn.execute(sa.text(f"SELECT count(*) FROM {quoted}")).scalar_one()
        _check_memory(rows, len(sa.inspect(conn).get_columns(name)), origin)
    except _Unreadable as exc:
        return exc
    except sa.exc.SQLAlchemyError:
        pass  # the read below says what is wrong
    try:
        result = conn.execute(
            sa.text(_whole_table(conn.dialect.name, quoted, view)), execution_options={"yield_per": _BATCH}
        )
        columns = list(result.keys())
        data = _concat([_rows_to_arrow(columns, part) for part in result.partitions(_BATCH)], columns)
    except sa.exc.SQLAlchemyError as exc:
        reason = _reason(exc, secrets)
        if _lost(exc):
            raise _Lost(
                f"{origin} cannot be read from {location}",
                f"the connection was lost part-way ({reason}); "
                "check that the server is up and the network stable, then run again",
                True,
            ) from None
        conn.rollback()  # the next table in a fresh transaction
        return _Unreadable(f"{origin} cannot be read from {location}: {reason}")
    try:
        return _from_arrow(data, table, origin)
    except _Unreadable as exc:  # e.g. two columns whose names differ only in case
        return exc


def _whole_table(dialect: str, quoted: str, view: bool) -> str:
    """The query reading a whole table (``quoted``: a catalog name equal to a contract table). A
    PostgreSQL table is read in the order of its rows on disk (``ctid``), so that ``source_row`` is
    the same on every read of the same data (without ORDER BY the server may start a large scan
    part-way through the table) and the same as :mod:`channel_analysis.validate_sql` numbers it."""
    ordered = dialect == "postgresql" and not view
    return f"SELECT * FROM {quoted}" + (" ORDER BY ctid" if ordered else "")


def _lost(exc: sa.exc.SQLAlchemyError) -> bool:
    """The connection broke (server gone, network cut), as opposed to an error in the query."""
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


def _worth_retry(exc: sa.exc.SQLAlchemyError, reason: str) -> bool:
    """A connection that failed for want of a server (refused, timed out, starting up): not a refused login."""
    return _lost(exc) or (isinstance(exc, sa.exc.OperationalError) and not _REFUSED.search(reason))


def _database_listing(location: str, names: list[str], wanted: list[str], read) -> _Listing:
    entries = [
        _Entry(n.strip().lower(), f"table {n}", lambda table, origin, n=n: read(n, table, origin))
        for n in names
        if n.strip().lower() in wanted
    ]
    return _Listing(
        location=location,
        entries=entries,
        found="tables: " + _names(sorted(names)) if names else "no tables",
        expected=lambda t: f"a table or view named {t}",
    )


def _rows_to_arrow(columns: list[str], rows: list) -> pa.Table:
    arrays = []
    for values in zip(*rows) if rows else [()] * len(columns):
        try:
            arrays.append(pa.array(list(values)))  # a list converts several times faster than a tuple
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            # SQLite lets one column hold numbers and text: keep such a column as text
            arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
    return pa.Table.from_arrays(arrays, names=columns)


def _concat(parts: list[pa.Table], columns: list[str]) -> pa.Table:
    if not parts:
        return pa.Table.from_arrays([pa.nulls(0)] * len(columns), names=columns)
    try:
        return pa.concat_tables(parts, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a column's type changed between batches: text
        mixed = {i for i in range(len(columns)) if len({p.column(i).type for p in parts} - {pa.null()}) > 1}

        def as_text(part: pa.Table) -> pa.Table:
            arrays = [c.cast(pa.string()) if i in mixed else c for i, c in enumerate(part.columns)]
            return pa.Table.from_arrays(arrays, names=columns)

        return pa.concat_tables([as_text(p) for p in parts], promote_options="permissive")


# --- shared helpers -----------------------------------------------------------------


def _from_arrow(data: pa.Table, table: str, origin: str, *, first_row: int = 1) -> RawTable:
    """Arrow table (Parquet, database) → frame with pandas-friendly native types; ``source_row``
    from ``first_row`` on."""
    names = _column_names(data.column_names, origin)
    columns = []
    for column in data.columns:
        kind = column.type
        if pa.types.is_dictionary(kind):
            column, kind = column.cast(kind.value_type), kind.value_type
        if pa.types.is_date(kind):  # pandas would make these Python date objects
            column = column.cast(pa.timestamp("us"))
        elif pa.types.is_decimal(kind):
            column = column.cast(pa.float64())
        columns.append(column)
    frame = pa.Table.from_arrays(columns, names=names).to_pandas()
    frame.index = pd.RangeIndex(first_row, first_row + len(frame), name="source_row")
    return RawTable(table, frame, origin)


def _column_names(header: list, origin: str) -> list[str]:
    """Trimmed, lower-cased names; _Unreadable when two are then the same."""
    names = ["" if n is None else str(n).strip().lower() for n in header]
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names, start=1):
        positions.setdefault(name, []).append(i)
    duplicates = [  # a stray cell far right of a sheet's header leaves thousands of empty names: 5 shown
        f"{name or '(empty)'} in columns {', '.join(map(str, cols[:5]))}"
        + (f" and {len(cols) - 5:,} more" if len(cols) > 5 else "")
        for name, cols in positions.items()
        if len(cols) > 1
    ]
    if duplicates:
        raise _Unreadable(
            f"{origin} has duplicate column names (after trimming spaces and ignoring case): "
            f"{'; '.join(duplicates)}; rename or delete the extra columns"
        )
    return names


def _malformed(rows: list[tuple[int, str, str]]) -> pd.DataFrame:
    """(source_row, raw, reason) tuples → frame indexed by source_row."""
    return pd.DataFrame(
        {"raw": pd.Series([r[1] for r in rows], dtype=str), "reason": pd.Series([r[2] for r in rows], dtype=str)}
    ).set_axis(pd.Index([r[0] for r in rows], dtype="int64", name="source_row"))


def _names(names: list[str], limit: int = 20) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _reason(exc: sa.exc.SQLAlchemyError, secrets: list[str]) -> str:
    """The driver's own message in one line, without any password."""
    message = _one_line(getattr(exc, "orig", None) or exc)
    for secret in secrets:
        message = message.replace(secret, "***")
    return message


def _hide_password(spec: str) -> str:
    """``spec`` with everything between ``user:`` and the last ``@`` hidden (for URLs that do not parse)."""
    return re.sub(r"(://[^:/@]*:).*@", r"\1***@", spec, count=1)
