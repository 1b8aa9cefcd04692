"""Excel workbooks: one per table (first sheet) or ``dealer_data.xlsx`` with a sheet per table,
read with size guards against forged or oversized files.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from channel_analysis.sources.tables import RawTable, _column_names, _malformed, _Unreadable

_EXCEL_ROWS = 1_048_576  # rows of a sheet: Excel's own limit; a row numbered beyond it is forged


_MAX_SHEET_CELLS = 50_000_000  # cells read from one sheet (about a minute of openpyxl)


_MAX_SHEETS = 1_000  # worksheets in a workbook


_MAX_UNPACKED = 4 << 30  # bytes a workbook unpacks to


_MAX_RATIO = 100  # unpacked / packed size of a workbook part above 1 MB (real workbooks: about 10)


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
