"""Shared by the tests: sql."""

from __future__ import annotations

import ibis
import pandas as pd
import psycopg
import sqlglot
from sqlglot import exp

from channel_analysis.sources.engine import ENGINE_COLUMNS

# tables with many rows per dealer; dealers itself is one row per dealer, read whole by design
FACT_TABLES = [table for table in ENGINE_COLUMNS if table != "dealers"]


def assert_same(on_engine: pd.DataFrame, on_duckdb: pd.DataFrame) -> None:
    """Every column equal; float columns up to rtol 1e-12, every other column exactly.

    Why floats may differ at all: a sum of amounts depends on the order its terms are added in, and
    that order is each engine's own (which row of a group comes first, and in which order the
    per-dealer rows that monthly_kpis adds up in pandas come back). Measured on Spark: 2e-16
    relative, one unit in the last place, on 3 of ~100 KPI values; the panels were bit-identical.
    """
    assert list(on_engine.columns) == list(on_duckdb.columns)
    floats = [c for c in on_duckdb.columns if pd.api.types.is_float_dtype(on_duckdb[c])]
    others = [c for c in on_duckdb.columns if c not in floats]
    pd.testing.assert_frame_equal(on_engine[others], on_duckdb[others], check_exact=True)
    pd.testing.assert_frame_equal(on_engine[floats], on_duckdb[floats], check_exact=False, rtol=1e-12, atol=0)


def count_fetched_rows(con: ibis.BaseBackend) -> list[list]:
    """From now on, every statement ``con`` runs → [sql, rows fetched by the client] (appended as it runs)."""
    log: list[list] = []

    def counting(cursor_class):
        class Counting(cursor_class):
            def execute(self, query, *args, **kwargs):
                self._entry = [query if isinstance(query, str) else query.as_string(self), 0]
                log.append(self._entry)
                return super().execute(query, *args, **kwargs)

            def fetchone(self):
                row = super().fetchone()
                self._entry[1] += row is not None
                return row

            def fetchmany(self, size=0):
                rows = super().fetchmany(size)
                self._entry[1] += len(rows)
                return rows

            def fetchall(self):
                rows = super().fetchall()
                self._entry[1] += len(rows)
                return rows

            def __iter__(self):
                for row in super().__iter__():
                    self._entry[1] += 1
                    yield row

        return Counting

    con.con.cursor_factory = counting(psycopg.Cursor)
    con.con.server_cursor_factory = counting(psycopg.ServerCursor)
    return log


def fact_reads(sql: str) -> list[exp.Table]:
    """The places where ``sql`` reads a fact table."""
    if sql.upper().startswith("SET TRANSACTION SNAPSHOT "):  # joins the validation's snapshot; sqlglot cannot parse it
        return []
    return [t for t in sqlglot.parse_one(sql, read="postgres").find_all(exp.Table) if t.name.lower() in FACT_TABLES]


def _aggregates(select: exp.Select) -> bool:
    """``select`` groups, or computes an aggregate (not a window function) over its rows."""
    if select.args.get("group"):
        return True
    return any(not isinstance(f.parent, exp.Window) for e in select.expressions for f in e.find_all(exp.AggFunc))


def read_under_aggregation(table: exp.Table) -> bool:
    """``table``'s rows reach the result only through an enclosing SELECT that aggregates."""
    node = table.parent
    while node is not None:
        if isinstance(node, exp.Select) and _aggregates(node):
            return True
        node = node.parent
    return False
