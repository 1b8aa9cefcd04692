"""Contract tables as Ibis tables, wherever they live: validated pandas frames (an in-memory
DuckDB), a folder of Parquet files (scanned by DuckDB), PostgreSQL tables in place, or any
backend's tables (Spark, ...) by name. The columns the engine reads (:data:`ENGINE_COLUMNS`)
are typed by their contract kind, so the panel and the KPIs run the same everywhere.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd

from channel_analysis import schema
from channel_analysis.errors import SourceError
from channel_analysis.months import panel_as_of, report_month  # noqa: F401  (part of this module's API)
from channel_analysis.sources.database import PASSWORD_ENV, _parse_url
from channel_analysis.sources.tables import _Unreadable

D, O, I, S, E, A, X, R = (
    schema.Dealers, schema.Orders, schema.Interactions, schema.ServiceRequests,
    schema.Events, schema.EventAttendance, schema.Expenses, schema.Prospects,
)

# Columns the engine reads from each table: the panel and the KPIs (metrics.kpis).
ENGINE_COLUMNS: dict[str, tuple[str, ...]] = {
    "dealers": (D.dealer_id, D.region, D.tier, D.sales_manager_id, D.signed_date, D.terminated_date),
    "orders": (O.dealer_id, O.order_date, O.amount, O.quantity),
    "interactions": (I.dealer_id, I.occurred_at, I.kind, I.direction),
    "service_requests": (S.dealer_id, S.opened_at, S.closed_at, S.process, S.via_sales_manager),
    "expenses": (X.spent_on, X.amount, X.purpose, X.region),
    "prospects": (R.region, R.status, R.closed_date),
    "events": (E.event_id, E.held_on, E.cost),
    "event_attendance": (A.event_id, A.dealer_id),
}


_ENGINE_TYPES = {
    schema.TEXT: "string",
    schema.CODE: "string",
    schema.DATE: "date",
    schema.TIMESTAMP: "timestamp",
    schema.NUMBER: "float64",
    schema.INTEGER: "int64",
    schema.BOOLEAN: "boolean",
}


def ibis_tables(
    source: Mapping[str, pd.DataFrame] | str | Path, *, con: ibis.BaseBackend | None = None
) -> dict[str, ir.Table]:
    """validated pandas frames (table name → frame), or a folder of ``<table>.parquet`` files →
    table name → Ibis table of the tables present, with the ``ENGINE_COLUMNS`` typed by their
    contract kind (an optional column that is absent becomes a typed empty column).

    Frames become in-memory tables that run on any backend. Parquet files are scanned by ``con``
    (a DuckDB connection; a new in-memory one by default) only when an expression runs, so a
    whole source of tens of millions of rows needs no more memory than the query. They are
    trusted: the folder must hold data that ``channel-analysis validate`` accepts in full
    (nothing is quarantined on this path).
    """
    if isinstance(source, Mapping):
        with warnings.catch_warnings():
            # ibis 12 reads pandas' deprecated `future.infer_string` option on every column
            warnings.filterwarnings("ignore", message=".*future.infer_string", module="ibis")
            raw = {name: _memtable(name, frame) for name, frame in source.items() if name in ENGINE_COLUMNS}
    else:
        con = con if con is not None else ibis.duckdb.connect()
        files = {path.stem.strip().lower(): path for path in Path(source).glob("*.parquet")}
        with warnings.catch_warnings():
            # ibis 12 calls DuckDB 2.0's deprecated fetch_arrow_table() to read the file's schema
            warnings.filterwarnings("ignore", message=".*fetch_arrow_table", category=DeprecationWarning)
            raw = {name: con.read_parquet(files[name], table_name=name) for name in ENGINE_COLUMNS if name in files}
    return {name: _typed(name, table) for name, table in raw.items()}


def _memtable(table: str, frame: pd.DataFrame) -> ir.Table:
    frame = frame[[c for c in ENGINE_COLUMNS[table] if c in frame.columns]].reset_index(drop=True)
    kinds = schema.columns_of(table)
    for column in frame.columns:
        if kinds[column].metadata["kind"] in (schema.TEXT, schema.CODE):
            frame[column] = frame[column].astype("str")  # an all-missing column may arrive as float NaN
    return ibis.memtable(frame)


def _typed(table: str, data: ir.Table) -> ir.Table:
    """The engine columns of ``table``, cast to their contract kind; names matched as the contract says
    (trimmed, case-insensitive); an absent optional column as a typed empty column."""
    found = {column.strip().lower(): column for column in data.columns}
    kinds = schema.columns_of(table)
    return data.select(
        **{
            column: (data[found[column]] if column in found else ibis.null()).cast(
                _ENGINE_TYPES[kinds[column].metadata["kind"]]
            )
            for column in ENGINE_COLUMNS[table]
        }
    )


def engine_tables(
    tables: Mapping[str, pd.DataFrame] | Mapping[str, ir.Table], con: ibis.BaseBackend | None = None
) -> tuple[dict[str, ir.Table], ibis.BaseBackend]:
    """validated pandas frames, or Ibis tables from :func:`ibis_tables` → (the Ibis tables, the
    connection to run them on): ``con`` if given, else the one the tables are read by, else a new
    in-memory DuckDB."""
    if tables and all(isinstance(t, ir.Table) for t in tables.values()):
        bound = dict(tables)
        return bound, con if con is not None else ibis.get_backend(next(iter(bound.values())))
    return ibis_tables(tables), con if con is not None else ibis.duckdb.connect()


def source_tables(url: str) -> dict[str, ir.Table]:
    """A PostgreSQL URL (``postgresql://user@host:port/db``) → table name → Ibis table in that
    database, of the contract tables it holds (names matched trimmed, case-insensitive), with the
    ``ENGINE_COLUMNS`` typed as :func:`ibis_tables` types them.

    Nothing is read here. :func:`dealer_month_panel` and ``metrics.monthly_kpis`` given these tables
    run inside PostgreSQL and fetch only their result: the panel's rows, and for the KPIs a row per
    dealer (or region, or one row) of each table. Like Parquet files, the tables are trusted: they
    must hold data that ``channel-analysis validate`` accepts in full. The password comes from
    PGPASSWORD or CHANNEL_ANALYSIS_DB_PASSWORD and never appears in a message; URL query options
    (``?sslmode=require``, ``?options=-csearch_path%3Dsales``) go to the driver.
    """
    import os

    import psycopg  # imported here: only a database source needs the driver

    try:
        parsed = _parse_url(url)
    except _Unreadable as exc:
        raise SourceError(str(exc)) from None
    location = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise SourceError(
            f"{location}: the engine reads PostgreSQL in place (postgresql://user@host:port/db); "
            "for a folder of Parquet files use ibis_tables(folder), for any other source read_source"
        )
    password = parsed.password or os.environ.get(PASSWORD_ENV)  # None: the driver reads PGPASSWORD
    options = {"connect_timeout": "10"} | dict(parsed.query)  # an unreachable host fails in 10 s
    try:
        con = ibis.postgres.connect(
            host=parsed.host, port=parsed.port or 5432, user=parsed.username, password=password,
            database=parsed.database, **options,
        )  # fmt: skip
        names = con.list_tables()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split())
        for secret in (password, os.environ.get("PGPASSWORD")):
            reason = reason.replace(secret, "***") if secret else reason
        raise SourceError(
            f"cannot connect to the database {location}: {reason}; check the URL, that the server is "
            f"running, and the password (set PGPASSWORD or {PASSWORD_ENV})"
        ) from None
    found: dict[str, list[str]] = {}
    for name in names:
        found.setdefault(name.strip().lower(), []).append(name)
    tables = {table: con.table(found[table][0]) for table in ENGINE_COLUMNS if len(found.get(table, ())) == 1}
    problems = [
        f"{location}: tables {', '.join(sorted(found[table]))} are all the table {table}; keep one"
        for table in ENGINE_COLUMNS
        if len(found.get(table, ())) > 1
    ]
    problems += [
        f"{location} has no table or view named {table} (tables: {', '.join(sorted(names)) or 'none'})"
        for table in schema.REQUIRED_TABLES
        if table not in found
    ]
    if not problems:
        try:
            return contract_tables(tables)
        except SourceError as exc:
            problems = [f"{location}: {problem}" for problem in exc.problems]
    con.disconnect()
    raise SourceError(problems)


def contract_tables(tables: Mapping[str, ir.Table]) -> dict[str, ir.Table]:
    """Ibis tables by contract table name, on any backend (Spark, PostgreSQL, DuckDB …) → the engine's
    tables among them with the ``ENGINE_COLUMNS`` typed by their contract kind, as :func:`ibis_tables`
    types them (columns matched trimmed, case-insensitive; an absent optional column becomes a typed
    empty column). Ready for :func:`dealer_month_panel` and ``metrics.monthly_kpis``, e.g. Hive tables
    from ``ibis.pyspark.connect(session).table("orders", database="sales")``. The data must be valid,
    as for Parquet files; a required column that is missing raises SourceError.
    """

    unknown = sorted(set(tables) - set(schema.TABLES))
    if unknown:
        raise ValueError(f"not contract tables: {unknown}; name each table as the data contract does, e.g. 'orders'")
    problems = [
        f"table {name} has no column {column}; add it (see the data contract)"
        for name, table in tables.items()
        if name in ENGINE_COLUMNS
        for column in schema.required_columns(name)
        if column in ENGINE_COLUMNS[name] and column not in {c.strip().lower() for c in table.columns}
    ]
    if problems:
        raise SourceError(problems)
    return {name: _typed(name, table) for name, table in tables.items() if name in ENGINE_COLUMNS}
