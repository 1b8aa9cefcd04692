"""What reading a source gives: raw tables as found (:class:`RawTable`, :class:`Source`), before
validation, and the helpers every reader shares (Arrow to pandas, column names, memory guards).

Rows keep their values as read: CSV cells are text exactly as in the file; Parquet, Excel and
database cells keep their native types. Column names are trimmed and lower-cased; each frame's
index is ``source_row``, the 1-based number of the data record in the source (header not
counted; blank lines and empty sheet rows are not records).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from channel_analysis import schema

WORKBOOK = "dealer_data.xlsx"  # one workbook holding a sheet per table


_BATCH = 100_000  # rows per Arrow batch when reading row by row


_MAX_COLUMNS = 16_384  # columns of a table: Excel's own limit


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


def _wanted(tables: Iterable[str] | None) -> list[str]:
    wanted = list(schema.TABLES) if tables is None else list(tables)
    unknown = set(wanted) - set(schema.TABLES)
    if unknown:
        raise ValueError(f"not contract tables: {sorted(unknown)}")
    return [t for t in schema.TABLES if t in wanted]  # contract order


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


def arrow_to_pandas(data: pa.Table) -> pd.DataFrame:
    """Arrow table → pandas frame (one block per column), the Arrow memory let go column by column
    as it converts and handed back to the system at the end: Arrow's allocator keeps what it frees
    for its own later use, where numpy cannot reuse it, so a read of 20 million rows would
    otherwise leave about a gigabyte held that nothing uses."""
    frame = data.to_pandas(split_blocks=True, self_destruct=True)
    del data
    pa.default_memory_pool().release_unused()
    return frame


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


def _text_batch(columns: list[list[str]]) -> pa.Table:
    """The collected values as an Arrow table of text (columns named by position); empties the lists."""
    batch = pa.table([pa.array(c, pa.string()) for c in columns], names=[str(i) for i in range(len(columns))])
    for column in columns:
        column.clear()
    return batch


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
