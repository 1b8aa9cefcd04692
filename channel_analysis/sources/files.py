"""A folder of table files (CSV, Parquet, Excel): finding each table's file and reading CSV,
whose encoding (UTF-8 with or without BOM, GB18030/GBK) is found per file.
"""

from __future__ import annotations

import codecs
import csv
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from channel_analysis.sources.excel import _open_workbook, _read_sheet, _read_xls, _read_xlsx
from channel_analysis.sources.parquet import _read_parquet, _read_parquet_parts, parquet_parts
from channel_analysis.sources.tables import (
    _BATCH,
    _MAX_COLUMNS,
    WORKBOOK,
    RawTable,
    _check_memory,
    _column_names,
    _Entry,
    _Listing,
    _malformed,
    _names,
    _text_batch,
    _Unreadable,
)

_CHUNK = 1 << 24  # bytes read at a time when checking a file's encoding


# Size guards: past these a file is refused with a message instead of eating memory or time.
_MAX_LINE = 1 << 24  # bytes in one line of a CSV file (Python's csv reader holds a whole line)


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


_FILE_READERS = {".csv": _read_csv, ".parquet": _read_parquet, ".xlsx": _read_xlsx, ".xls": _read_xls}
