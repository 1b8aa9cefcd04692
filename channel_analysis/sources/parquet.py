"""Parquet tables: one file, or a folder of part files (one per month, say) that together make
a table; read whole or a slice at a time (:class:`ParquetTable`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from channel_analysis.errors import SourceError
from channel_analysis.sources.tables import RawTable, _check_memory, _column_names, _from_arrow, _one_line, _Unreadable


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
