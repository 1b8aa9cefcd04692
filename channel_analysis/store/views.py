"""What the reports of a month read of the large tables, without reading them whole: a
table's columns and rows from a prepared folder (:class:`PreparedTables`, :func:`table_part`),
the views of the months a report shows (:func:`table_view`), and the tables cut to the columns
the sales-manager rules read (:func:`rule_tables`).

With :data:`READ_LOG` set, every read of a prepared table or of the panel's file is logged, to
diagnose (and test) what a run reads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from channel_analysis import schema
from channel_analysis.config import Settings
from channel_analysis.months import Month
from channel_analysis.sources.tables import arrow_to_pandas
from channel_analysis.validate.stream import OnOrAfter, Where, read_accepted, row_filters, rows_matching


class PreparedTables(Mapping):
    """The tables of a prepared folder, each read when first asked for (files already checked
    against the marker): a report reads only the tables it shows, so a table of tens of millions
    of rows costs nothing to the reports that do not use it. ``as_of(month)`` gives the same
    tables cut at the month's last day as they are read."""

    def __init__(self, files: dict[str, Path], cutoff: pd.Timestamp | None = None):
        self._files, self._cutoff, self._read = files, cutoff, {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._read:
            self._read[name] = _prepared_table(self._files[name], self._cutoff)
        return self._read[name]

    def __contains__(self, name: object) -> bool:  # Mapping's own would read the table to find out
        return name in self._files

    def __iter__(self):
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def as_of(self, month: Month) -> PreparedTables:
        cutoff = month.stop
        return PreparedTables(self._files, cutoff if self._cutoff is None else min(cutoff, self._cutoff))

    def rows(self, name: str) -> int:
        """The rows of table ``name`` (dated before the cutoff), counted in its file without reading it."""
        if name in self._read:
            return len(self._read[name])

        data, date_col = ds.dataset(self._files[name]), schema.date_column(name)
        if self._cutoff is None or not date_col:
            return data.count_rows()
        return data.count_rows(filter=ds.field(date_col) < self._cutoff.to_pydatetime())

    def columns(self, name: str) -> list[str]:
        """The columns of table ``name`` (read from its file's schema)."""

        if name in self._read:
            return list(self._read[name].columns)
        return [c for c in pq.read_schema(self._files[name]).names if c in schema.columns_of(name)]

    def part(self, name: str, columns: list[str], since: pd.Timestamp | None = None,
             where: Where | None = None) -> pd.DataFrame:  # fmt: skip
        """``columns`` of table ``name`` (those it has), rows dated on or after ``since`` and matching
        one of ``where``'s alternatives: read from its file alone when the table was not read whole,
        and not kept."""
        if name in self._read:
            return _part_of(self._read[name], name, columns, since, where)
        return _prepared_table(self._files[name], self._cutoff, columns=columns, since=since, where=where)


def table_rows(tables: Mapping[str, pd.DataFrame], name: str) -> int:
    """The rows of table ``name``, without reading a table of a prepared folder (:meth:`PreparedTables.rows`)."""
    return tables.rows(name) if isinstance(tables, PreparedTables) else len(tables[name])


def table_part(tables: Mapping[str, pd.DataFrame], name: str, columns: list[str],
               since: pd.Timestamp | None = None, where: Where | None = None) -> pd.DataFrame:  # fmt: skip
    """``columns`` of table ``name`` (those it has) and its rows dated on or after ``since`` (by the
    table's own date) and, with ``where``, matching one of its alternatives (a dict of column →
    values, every column holding one of its values): what a section needs of a large table, without reading the whole of it from a prepared folder
    (:meth:`PreparedTables.part`)."""
    if isinstance(tables, PreparedTables):
        return tables.part(name, columns, since, where)
    return _part_of(tables[name], name, columns, since, where)


# The columns (and rows) the sales-manager rules read (``metrics.rule_breakers``, through the
# scorecard too): of the interactions only follow-up calls and visits count.
I = schema.Interactions  # noqa: E741 (the schema's name, as in the metrics)


_RULE_PARTS = {
    "orders": ([schema.Orders.dealer_id, schema.Orders.order_date, schema.Orders.amount], None),
    "interactions": ([I.dealer_id, I.occurred_at, I.kind, I.direction],
                     [{I.kind: ["phone"], I.direction: ["outbound"]}, {I.kind: ["visit"]}]),
}  # fmt: skip


class _Narrowed(Mapping):
    """``tables`` with some of them cut to the columns a metric reads (each part read once, when
    first asked for): the metric stays a function of tables, the large ones are never read whole."""

    def __init__(self, tables: Mapping[str, pd.DataFrame], parts: dict[str, tuple[list[str], Where | None]]):
        self._tables, self._wanted, self._parts = tables, parts, {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._wanted:
            return self._tables[name]
        if name not in self._parts:
            columns, where = self._wanted[name]
            self._parts[name] = table_part(self._tables, name, columns, where=where)
        return self._parts[name]

    def __contains__(self, name: object) -> bool:
        return name in self._tables

    def __iter__(self):
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


def rule_tables(tables: Mapping[str, pd.DataFrame]) -> Mapping[str, pd.DataFrame]:
    """``tables`` for ``rule_breakers`` and ``sales_manager_scorecard``: the orders and interactions
    cut to the columns the rules read, the interactions to the follow-up calls and visits."""
    return _Narrowed(tables, {n: part for n, part in _RULE_PARTS.items() if n in tables})


# What the reports of a month M read of the other large tables: the columns their figures use
# and, for the figures that look back at most 13 months (M−1's trailing 12 months included), the
# rows that can count in those months. The equivalence of each figure on the whole table and on
# this part is tested (tests/test_views.py).
VIEW_MONTHS = 13


R, S, X = schema.Prospects, schema.ServiceRequests, schema.Expenses


_VIEW_COLUMNS = {
    "prospects": [R.region, R.sales_manager_id, R.first_contact_date, R.stage_reached, R.status, R.closed_date,
                  R.touches, R.hours_spent],
    "service_requests": [S.dealer_id, S.process, S.opened_at, S.closed_at, S.department, S.via_sales_manager,
                         S.satisfaction],
    "expenses": [X.spent_on, X.amount, X.purpose, X.category, X.region, X.dealer_id],  # every year: CAC by quarter
    "event_attendance": list(schema.columns_of("event_attendance")),  # every event: the event model looks back
}  # fmt: skip


def view_rows(name: str, month: Month | pd.Period, settings: Settings, columns: list[str]) -> Where | None:
    """The rows of table ``name`` (holding ``columns``) that can count in the :data:`VIEW_MONTHS`
    months ending ``month``, as a :data:`~channel_analysis.validate_stream.Where`; None for every row.

    - prospects: those open at the window's start or closed in it (a funnel of T12 counts the
      prospects closed in it and those open at its end);
    - service_requests: those opened in the window or early enough for their time limit to end in
      it, and those not closed before it began (backlog, closings, scores).
    """

    period = month.period if isinstance(month, Month) else pd.Period(month, freq="M")
    start = (period - (VIEW_MONTHS - 1)).start_time
    if name == "prospects":
        return [{R.closed_date: OnOrAfter(start, or_missing=True)}]
    if name == "service_requests" and S.closed_at in columns:  # without closing times every request stays open
        longest = pd.Timedelta(hours=max(settings.sla_hours.values(), default=0))
        return [{S.opened_at: OnOrAfter(start - longest)}, {S.closed_at: OnOrAfter(start, or_missing=True)}]
    return None


def table_view(tables: Mapping[str, pd.DataFrame], name: str, month: Month | pd.Period,
               settings: Settings) -> pd.DataFrame:  # fmt: skip
    """What the reports of ``month`` read of table ``name`` (prospects, service_requests, expenses,
    event_attendance): its columns they use and its rows that can count in the months they show
    (:func:`view_rows`), read alone from a prepared folder, never the whole table."""
    columns = [c for c in _VIEW_COLUMNS[name] if c in table_columns(tables, name)]
    return table_part(tables, name, columns, where=view_rows(name, month, settings, columns))


def table_columns(tables: Mapping[str, pd.DataFrame], name: str) -> list[str]:
    """The columns of table ``name``, without reading a table of a prepared folder."""
    if isinstance(tables, PreparedTables):
        return tables.columns(name)
    return list(tables[name].columns)


def _part_of(frame: pd.DataFrame, name: str, columns: list[str], since: pd.Timestamp | None,
             where: Where | None = None) -> pd.DataFrame:  # fmt: skip
    date_col = schema.date_column(name)
    if since is not None and date_col:
        frame = frame[frame[date_col] >= since]
    if where is not None:

        frame = frame[rows_matching(frame, where)]
    return frame[[c for c in columns if c in frame]]


READ_LOG = "CHANNEL_ANALYSIS_READ_LOG"  # a file: every read of a prepared table appends a line to it


def log_read(table: str, columns: list[str] | None, since: pd.Timestamp | None = None, where: Where | None = None) -> None:
    """With :data:`READ_LOG` set, one JSON line per read of a prepared table or of the panel's file,
    from whichever process (the run or a report's kernel) reads it: what a run reads, to diagnose
    its memory (and test it)."""
    log = os.environ.get(READ_LOG)
    if log:
        line = {"table": table, "columns": columns, "since": None if since is None else str(since),
                "where": where, "pid": os.getpid()}  # fmt: skip
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps(line, default=str) + "\n")


def _prepared_table(path: Path, cutoff: pd.Timestamp | None, *, columns: list[str] | None = None,
                    since: pd.Timestamp | None = None, where: Where | None = None) -> pd.DataFrame:  # fmt: skip
    """A table file of a prepared folder → its frame as validation gave it, rows dated before
    ``cutoff`` (and on or after ``since``, and matching one of ``where``'s alternatives);
    only ``columns`` (those it has) when given."""

    log_read(path.stem, columns, since, where)

    names = pq.read_schema(path).names
    kept = None if columns is None else [c for c in columns if c in names]
    if "source_row" in names:  # an accepted file of a large source, moved in
        return read_accepted(path, kept, before=cutoff, since=since, where=where)
    filters = row_filters(path.stem, cutoff, since, where)
    data = pq.read_table(path, columns=kept, filters=filters, use_pandas_metadata=True)
    return arrow_to_pandas(data).rename_axis("source_row")
