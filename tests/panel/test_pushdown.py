"""With a PostgreSQL source, the panel and the KPIs are computed inside PostgreSQL and only their
aggregated rows come back to Python.

A small demo world is loaded into a real server (tests/pg.py); ``source_tables(url)`` binds its
tables. Two things are measured, not assumed:

- the rows that cross the wire: a psycopg cursor that counts every row the client fetches, by
  statement. For the panel they are exactly the panel's rows; for the KPIs at most one row per
  dealer from any statement; the source tables hold thousands of rows;
- the SQL that runs: every read of a fact table (orders, interactions, …) sits under a GROUP BY or
  an aggregate; a plain ``SELECT * FROM orders`` (fetching the rows to sum them in Python) would not.

And the results are those of DuckDB reading the same data from Parquet.
"""

from __future__ import annotations

import ibis
import pyarrow.parquet as pq
import pytest

from channel_analysis.errors import SourceError
from channel_analysis.metrics import monthly_kpis
from channel_analysis.panel import dealer_month_panel, panel_expr
from channel_analysis.sources.database import PASSWORD_ENV
from channel_analysis.sources.engine import contract_tables, ibis_tables, source_tables
from helpers.sql import FACT_TABLES, assert_same, count_fetched_rows, fact_reads, read_under_aggregation

pytestmark = pytest.mark.postgres

AS_OF = "2025-12"
DATABASE = "pushdown"


@pytest.fixture(scope="module")
def world(demo_parquet):
    """The demo world, as Parquet files (its last month is AS_OF)."""
    return demo_parquet


@pytest.fixture(scope="module")
def source(pg_server, world) -> str:
    """The world's tables in their own database (dealers as ``Dealers``: names match case-insensitively);
    → its URL, without the password."""
    with pg_server.connect(dbname="postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    con = ibis.postgres.connect(
        host=pg_server.host, port=pg_server.port, user=pg_server.user,
        password=pg_server.password, database=DATABASE,
    )  # fmt: skip
    try:
        for path in sorted(world.glob("*.parquet")):
            con.create_table("Dealers" if path.stem == "dealers" else path.stem, pq.read_table(path))
    finally:
        con.disconnect()
    return pg_server.url.rsplit("/", 1)[0] + f"/{DATABASE}"


@pytest.fixture(autouse=True)
def password(pg_server, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, pg_server.password)


def source_rows(world) -> dict[str, int]:
    return {path.stem: pq.read_metadata(path).num_rows for path in world.glob("*.parquet")}


def test_the_panel_is_computed_inside_postgresql(source, world):
    tables = source_tables(source)
    log = count_fetched_rows(ibis.get_backend(tables["orders"]))
    panel = dealer_month_panel(tables, as_of=AS_OF)

    reading = [(sql, rows) for sql, rows in log if fact_reads(sql)]
    assert reading, "no statement read the orders: the panel was not computed by this connection"
    # only the panel's own rows crossed the wire; the tables it summarises hold many more
    assert sum(rows for _, rows in reading) == len(panel)
    rows = source_rows(world)
    read = rows["orders"] + rows["interactions"] + rows["service_requests"] + rows["event_attendance"]
    assert read > 2 * len(panel), rows
    assert_same(panel, dealer_month_panel(ibis_tables(world), as_of=AS_OF))


def test_the_panel_sql_reads_orders_only_under_a_group_by(source):
    tables = source_tables(source)
    expr = panel_expr(
        tables["dealers"], tables["orders"], as_of=AS_OF,
        interactions=tables["interactions"], service_requests=tables["service_requests"],
        events=tables["events"], event_attendance=tables["event_attendance"],
    )  # fmt: skip
    sql = ibis.get_backend(tables["orders"]).compile(expr)
    reads = fact_reads(sql)
    assert {t.name for t in reads} == {"orders", "interactions", "service_requests", "events", "event_attendance"}
    assert all(read_under_aggregation(t) for t in reads), sql


@pytest.mark.parametrize("month", ["2024-06", AS_OF])
def test_the_kpis_are_computed_inside_postgresql(source, world, month):
    tables = source_tables(source)
    log = count_fetched_rows(ibis.get_backend(tables["orders"]))
    kpis = monthly_kpis(tables, as_of=month)

    dealers = source_rows(world)["dealers"]
    reading = [(sql, rows) for sql, rows in log if fact_reads(sql)]
    # orders, expenses, interactions, prospects, service requests, events (cost, attendees)
    assert len(reading) >= 6
    for sql, rows in reading:
        assert rows <= dealers, f"{rows} rows came back from: {sql}"
        assert all(read_under_aggregation(t) for t in fact_reads(sql)), sql
    assert sum(rows for _, rows in reading) < sum(source_rows(world)[t] for t in FACT_TABLES) / 10
    assert_same(kpis, monthly_kpis(ibis_tables(world), as_of=month))


def test_the_checks_catch_a_plain_read_of_orders():
    # what the tests above would see if the engine fetched the orders and summed them in Python
    [orders] = fact_reads('SELECT * FROM "orders" AS "t0" WHERE "t0"."amount" > 0')
    assert not read_under_aggregation(orders)
    [orders] = fact_reads('SELECT "t1"."dealer_id" FROM (SELECT * FROM "orders") AS "t1" ORDER BY 1')
    assert not read_under_aggregation(orders)
    [orders] = fact_reads('SELECT "dealer_id", SUM("amount") OVER (PARTITION BY "dealer_id") FROM "orders"')
    assert not read_under_aggregation(orders)  # a window keeps every row
    [orders] = fact_reads('SELECT * FROM (SELECT "dealer_id", SUM("amount") AS s FROM "orders" GROUP BY 1) AS t')
    assert read_under_aggregation(orders)  # a SELECT * inside the grouped query is fine: no row of it leaves


def test_a_missing_table_or_a_wrong_password_is_named(source, monkeypatch, pg_server):
    with pytest.raises(SourceError, match="has no table or view named orders") as caught:
        source_tables(source.rsplit("/", 1)[0] + "/postgres")  # the server's own empty database
    assert "has no table or view named dealers" in str(caught.value)
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with pytest.raises(SourceError, match="cannot connect to the database") as caught:
        source_tables(source)
    assert "not-the-password" not in str(caught.value) and pg_server.password not in str(caught.value)
    with pytest.raises(SourceError, match="reads PostgreSQL in place"):
        source_tables("mysql://someone@localhost/shop")


def test_contract_tables_types_the_columns_and_names_a_missing_one():
    orders = ibis.table({" Dealer_ID": "string", "order_date": "string", "AMOUNT": "float64"}, name="orders")
    typed = contract_tables({"orders": orders, "sales_managers": ibis.table({"x": "string"}, name="sm")})
    assert list(typed) == ["orders"]  # the engine does not use sales_managers
    assert dict(typed["orders"].schema().items()) == {
        "dealer_id": ibis.dtype("string"),
        "order_date": ibis.dtype("date"),  # cast to its contract kind
        "amount": ibis.dtype("float64"),
        "quantity": ibis.dtype("int64"),  # optional and absent: a typed empty column
    }
    with pytest.raises(SourceError) as caught:
        contract_tables({"orders": ibis.table({"dealer_id": "string", "amount": "float64"}, name="o")})
    assert caught.value.problems == ["table orders has no column order_date; add it (see the data contract)"]
    with pytest.raises(ValueError, match=r"not contract tables: \['order'\]"):
        contract_tables({"order": orders})
