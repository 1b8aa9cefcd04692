"""Validation inside PostgreSQL (``validate_sql``) judges a source exactly as reading it whole and
validating it in Python does (``validate_source(read_source(url))``): the same counts, the same
quarantined rows as read with the same reasons, the same rows after a month. And only the rows
that may be bad leave the server: the clean rows of the large tables are counted there.

The sources are loaded into a real server (tests/pg.py): the planted source of every kind of
problem with native column types (date, bigint, double precision, boolean), and hypothesis-damaged
sources with every column as text.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

import pandas as pd
import psycopg
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from channel_analysis import schema
from channel_analysis.errors import SourceError
from channel_analysis.sources import postgres
from channel_analysis.sources.database import PASSWORD_ENV
from channel_analysis.sources.read import read_source
from channel_analysis.validate.memory import validate_source
from channel_analysis.validate.postgres import REFERENCED, validate_postgres
from channel_analysis.validate.quality import data_quality
from channel_analysis.validate.stream import read_accepted
from helpers.cli import cli
from helpers.damage import damaged_sources
from helpers.mini_source import BASE
from helpers.planted import _planted, _text_table
from helpers.sql import fact_reads, read_under_aggregation

pytestmark = pytest.mark.postgres

DATABASE = "validate_sql"
_PG_TYPE = {
    pa.string(): "text", pa.large_string(): "text", pa.int64(): "bigint", pa.float64(): "double precision",
    pa.bool_(): "boolean", pa.date32(): "date", pa.timestamp("us"): "timestamp", pa.timestamp("ms"): "timestamp",
    pa.timestamp("ns"): "timestamp", pa.int32(): "integer", pa.null(): "text",
}  # fmt: skip


@pytest.fixture(scope="module")
def url(pg_server) -> str:
    with pg_server.connect(dbname="postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    return pg_server.url.rsplit("/", 1)[0] + f"/{DATABASE}"


@pytest.fixture(autouse=True)
def password(pg_server, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, pg_server.password)


def load(pg_server, tables: dict[str, pa.Table], *, types: dict[str, dict[str, str]] | None = None) -> None:
    """Replace the database's tables by ``tables`` (column types from their Arrow types, or ``types``)."""
    with pg_server.connect(dbname=DATABASE, autocommit=True) as con:
        con.execute("DROP SCHEMA public CASCADE")
        con.execute("CREATE SCHEMA public")
        for name, table in tables.items():
            kinds = (types or {}).get(name, {})
            columns = ", ".join(
                f'"{f.name}" {kinds.get(f.name, _PG_TYPE[f.type])}' for f in table.schema
            )
            con.execute(f'CREATE TABLE "{name}" ({columns})')
            with con.cursor().copy(f'COPY "{name}" FROM STDIN') as copy:
                for row in table.to_pylist():
                    copy.write_row(list(row.values()))


def assert_same(url: str) -> None:
    """Judged in the server as a whole read judges it; and the accepted rows streamed to files (in
    batches of a few rows, so that the rows fetched to be judged fall inside batches) are the
    whole read's accepted rows, values, types and source rows."""
    whole = validate_source(read_source(url))
    with tempfile.TemporaryDirectory() as folder, mock.patch.object(postgres, "_BATCH", 3):
        pushed = validate_postgres(url, accepted_to=Path(folder))
        assert set(pushed.accepted) == set(whole.tables)
        for name, path in pushed.accepted.items():
            streamed = read_accepted(path)
            expected = whole.tables[name][list(streamed.columns)]
            pd.testing.assert_frame_equal(streamed, expected, obj=f"streamed accepted {name}")
            assert list(streamed.columns) == [c for c in schema.columns_of(name) if c in whole.tables[name]]
    pd.testing.assert_frame_equal(data_quality(whole), data_quality(pushed))
    month_end = pd.Timestamp("2024-06-30")
    pd.testing.assert_frame_equal(data_quality(whole, month_end=month_end), data_quality(pushed, month_end=month_end))
    assert list(whole.quarantine) == list(pushed.quarantine)
    for name in whole.quarantine:
        pd.testing.assert_frame_equal(whole.quarantine[name], pushed.quarantine[name], obj=f"quarantine of {name}")
    for name in REFERENCED:  # read whole in both
        if name in whole.tables:
            pd.testing.assert_frame_equal(whole.tables[name], pushed.tables[name], obj=f"accepted {name}")


def count_fetched_rows(monkeypatch) -> list[list]:
    """From now on, every statement any psycopg cursor runs → [sql, rows fetched by the client]."""
    log: list[list] = []
    current: dict[int, list] = {}  # cursor → its last statement's entry (cursors take no attributes)
    for cursor_class in (psycopg.Cursor, psycopg.ServerCursor):
        execute, fetchmany, fetchall, fetchone = (
            cursor_class.execute, cursor_class.fetchmany, cursor_class.fetchall, cursor_class.fetchone
        )  # fmt: skip

        def counted_execute(self, query, *args, _execute=execute, **kwargs):
            current[id(self)] = [query if isinstance(query, str) else query.as_string(self), 0]
            log.append(current[id(self)])
            return _execute(self, query, *args, **kwargs)

        def counted_fetchmany(self, size=0, _fetchmany=fetchmany):
            rows = _fetchmany(self, size)
            current[id(self)][1] += len(rows)
            return rows

        def counted_fetchall(self, _fetchall=fetchall):
            rows = _fetchall(self)
            current[id(self)][1] += len(rows)
            return rows

        def counted_fetchone(self, _fetchone=fetchone):
            row = _fetchone(self)
            current[id(self)][1] += row is not None
            return row

        monkeypatch.setattr(cursor_class, "execute", counted_execute)
        monkeypatch.setattr(cursor_class, "fetchmany", counted_fetchmany)
        monkeypatch.setattr(cursor_class, "fetchall", counted_fetchall)
        monkeypatch.setattr(cursor_class, "fetchone", counted_fetchone)
    return log


def test_the_planted_source_is_judged_as_a_whole_read_judges_it(pg_server, url):
    load(pg_server, _planted())
    assert_same(url)
    pushed = validate_postgres(url)
    assert set(pushed.judged_in_database) == set(schema.TABLES) - set(REFERENCED)
    assert pushed.read_whole == {}
    reasons = pushed.quarantine["orders"]["reason"].to_dict()
    assert reasons[6] == "duplicate order_id 'O2' (first given in row 2)"
    assert reasons[9] == "order_date '1850-01-01 00:00:00' is not an ISO date (YYYY-MM-DD) from 1900 to 2100"
    assert "refers to a quarantined row of dealers" in reasons[7] and "'D999' is not in dealers" in reasons[8]
    assert pushed.quarantine["interactions"].index.tolist() == [3, 5, 6]  # two repeated headers, a code in capitals


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(source=damaged_sources(), empty_as_null=st.booleans())
def test_any_damaged_source_is_judged_as_a_whole_read_judges_it(pg_server, url, source, empty_as_null):
    tables = {}
    for name, raw in source.tables.items():
        frame = raw.frame
        assume(not frame.map(lambda v: "\x00" in v).any().any())  # PostgreSQL text cannot hold NUL
        if empty_as_null:
            frame = frame.where(frame != "", None)
        tables[name] = pa.Table.from_pandas(frame, preserve_index=False).cast(
            pa.schema([(c, pa.string()) for c in frame.columns])
        )
    load(pg_server, tables)
    assert_same(url)


# Values on the edges of what the SQL calls plainly valid: each must be judged as validate judges it.
EDGES: list[str | None] = [
    "2024-02-29", "2023-02-29", "2024-04-31", "2100-12-31", "2101-01-01", "1900-01-01", "1899-12-31",
    "2024-01-01T10:00", "2024-01-01 10:00:59.123456", "2024-01-01 24:00", "2024-01-01 23:60", "2024-1-01",
    " 2024-01-01", "2024-01-01 ", "2024-13-01", "２０２４-01-01", "0", "-0", "0.000", "+5", "1.5", "1e3", "-1",
    "99999999999999999", "123456789012345678", "1234567890123456789", "0.0000000000000001", "1,000", "١٢",
    "5", "6", "TRUE", "True", "yes", "Y", "0", "1", "Phone", "phone ", "\u3000", "\u00a0D001", "D001\u2028",
    "signed", "open", "lost", "D002", "SM1", "EV1", "999999999999999999", None,
]  # fmt: skip


@st.composite
def edge_sources(draw) -> dict[str, pa.Table]:
    """BASE, as text, with a few cells set to edge values (and copied rows, for duplicates)."""
    tables = {name: _text_table(text).to_pylist() for name, text in BASE.items()}
    for _ in range(draw(st.integers(1, 8))):
        rows = tables[draw(st.sampled_from(sorted(tables)))]
        if not rows:
            continue
        row = draw(st.integers(0, len(rows) - 1))
        if draw(st.booleans()):
            rows.append(dict(rows[row]))
        column = draw(st.sampled_from(sorted(rows[row])))
        rows[row][column] = draw(st.sampled_from(EDGES))
    return {name: pa.Table.from_pylist(rows) for name, rows in tables.items()}


def test_every_edge_value_in_every_column_is_judged_as_a_whole_read_judges_it(pg_server, url):
    tables = {name: _text_table(text).to_pylist() for name, text in BASE.items()}
    for name in set(tables) - set(REFERENCED):
        first, key = tables[name][0], schema.key_of(name)
        for column in first:
            for i, value in enumerate(EDGES):
                row = {**first, column: value}
                if column not in key:  # a row of its own, not a duplicate of the first
                    row.update({k: f"{row[k]}-{column}-{i}" for k in key if k != "dealer_id"})
                tables[name].append(row)
    load(pg_server, {name: pa.Table.from_pylist(rows) for name, rows in tables.items()})
    assert_same(url)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(tables=edge_sources())
def test_values_on_the_edges_of_the_sql_rules_are_judged_as_a_whole_read_judges_them(pg_server, url, tables):
    load(pg_server, tables)
    assert_same(url)


def test_only_the_rows_that_may_be_bad_leave_the_server(pg_server, url, monkeypatch):
    orders = pa.table({
        "order_id": [f"O{i}" for i in range(2000)] + ["O5"],  # O5 twice
        "dealer_id": ["D001"] * 1000 + ["D002"] * 999 + ["D999", "D002"],  # D999 unknown
        "order_date": [f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(2000)] + ["2025-06-30"],
        "amount": ["1000"] * 1999 + ["1,000", "5"],  # a thousands separator: suspect, and bad
        "quantity": ["1"] * 2001,
    })  # fmt: skip
    alone = {"order_id": "O9999", "dealer_id": "D001", "order_date": "2025-02-29", "amount": "7", "quantity": "1"}
    orders = pa.Table.from_pylist([*orders.to_pylist(), alone])  # a day February 2025 does not have
    tables = {**_planted(), "orders": orders}
    load(pg_server, tables)
    log = count_fetched_rows(monkeypatch)
    pushed = validate_postgres(url)

    bad = pushed.quarantine["orders"]
    assert bad.index.tolist() == [2000, 2001, 2002]  # 1,000 and D999; O5 again; 2025-02-29
    reading = [(sql, rows) for sql, rows in log if fact_reads(sql)]
    rows_back = {sql: rows for sql, rows in reading if "orders" in {t.name for t in fact_reads(sql)}}
    fetched = [rows for sql, rows in rows_back.items() if not all(read_under_aggregation(t) for t in fact_reads(sql))]
    # the suspects: the three bad rows and the first O5 (its duplicate's group comes back whole)
    assert fetched == [4], rows_back
    counted = [rows for sql, rows in rows_back.items() if all(read_under_aggregation(t) for t in fact_reads(sql))]
    # a row per month of the clean rows, and of the suspects (one more for suspects without a valid date)
    assert counted and max(counted) <= 2 * 12 + 1
    assert sum(rows for _, rows in reading) < len(orders) / 10
    assert pushed.accepted_rows("orders") == 2002 - 3
    # a whole read, for contrast: every row crosses the wire
    log.clear()
    read_source(url, tables=["dealers", "orders"])
    assert max(rows for sql, rows in log if "orders" in sql) == 2002


def test_a_column_of_a_type_the_rules_do_not_cover_makes_its_table_read_whole(pg_server, url):
    tables = {**_planted(), "interactions": _text_table(BASE["interactions"])}  # no repeated header
    load(pg_server, tables, types={"interactions": {"occurred_at": "timestamptz"}})
    pushed = validate_postgres(url)
    assert "occurred_at is of type timestamp with time zone" in pushed.read_whole["interactions"]
    assert "interactions" in pushed.tables and "orders" in pushed.judged_in_database
    with pg_server.connect(dbname=DATABASE, autocommit=True) as con:
        con.execute("ALTER TABLE expenses RENAME TO expenses_data")
        con.execute("CREATE VIEW expenses AS SELECT * FROM expenses_data")
    pushed = validate_postgres(url)
    assert "view" in pushed.read_whole["expenses"]


def test_table_problems_are_reported_as_a_whole_read_reports_them(pg_server, url):
    tables = _planted()
    load(pg_server, {**tables, "orders": tables["orders"].drop_columns(["amount"])})
    with pytest.raises(SourceError) as whole:
        validate_source(read_source(url))
    with pytest.raises(SourceError) as pushed:
        validate_postgres(url)
    assert pushed.value.problems == whole.value.problems
    assert "amount" in str(pushed.value)
    load(pg_server, {n: t for n, t in tables.items() if n != "orders"})
    with pytest.raises(SourceError, match="required table orders is missing"):
        validate_postgres(url)


def test_the_command_line_validates_a_postgresql_source_inside_the_server(pg_server, url, tmp_path):
    load(pg_server, _planted())
    status, out, err = cli("validate", "--data", url, "--out", str(tmp_path / "pushed"))
    assert status == 0, err
    assert "orders            read        11  accepted         5  quarantined       6" in out
    assert pg_server.password not in out + err
    # the files are those of the whole read (what a whole read writes: the same path on a SQLite copy
    # would differ in its location only, so compare with the in-memory validation directly)
    from channel_analysis.validate.quality import write_quality

    write_quality(validate_source(read_source(url)), tmp_path / "whole")
    for name in ("data_quality.csv", "quarantine/orders.csv", "quarantine/interactions.csv", "quarantine/dealers.csv"):
        assert (tmp_path / "pushed" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def _month_tables(folder) -> dict[str, pd.DataFrame]:
    return {str(p.relative_to(folder)): pd.read_csv(p) for p in sorted(folder.rglob("*.csv"))}


def test_a_backtest_of_a_postgresql_source_computes_inside_the_server_what_a_whole_read_gives(
    pg_server, url, demo_parquet, tmp_path, monkeypatch
):
    import pyarrow.parquet as pq

    import channel_analysis.run.backtest as backtest_module
    from channel_analysis.run.backtest import backtest

    world = demo_parquet
    tables = {p.stem: pq.read_table(p) for p in world.glob("*.parquet")}
    orders = tables["orders"].to_pylist()
    orders[3]["dealer_id"] = f" {orders[3]['dealer_id']} "  # accepted once trimmed: fetched, judged, kept
    orders[4]["amount"] = 0.0  # quarantined
    orders.append({**orders[5]})  # a duplicate: the second quarantined
    tables["orders"] = pa.Table.from_pylist(orders, schema=tables["orders"].schema)
    load(pg_server, tables)
    months = "2025-10..2025-12"

    log = count_fetched_rows(monkeypatch)
    backtest(url, months, tmp_path / "pushed")
    judged = set(schema.TABLES) - set(REFERENCED)  # the tables of many rows
    statements = [(sql, rows) for sql, rows in log if {t.name for t in fact_reads(sql)} & judged]
    row_by_row = [rows for sql, rows in statements if rows and not all(read_under_aggregation(t) for t in fact_reads(sql))]
    # only the orders' suspects: 0.0 and the duplicate pair (the padded id is trimmed in SQL, as in Python)
    assert row_by_row == [3], [(rows, sql[:200]) for sql, rows in statements]
    counts = [rows for sql, rows in statements if "SELECT suspect, month, count(*)" in sql and rows not in row_by_row]
    # a row per month of clean rows (24 months; first contacts with prospects reach a year further
    # back) and per month of suspect ones (here two months of the orders)
    assert len(counts) == len(judged) and max(counts) <= 36 + 2

    monkeypatch.setattr(backtest_module, "postgres_url", lambda spec: False)  # the same data read whole
    backtest(url, months, tmp_path / "whole")
    pushed, whole = _month_tables(tmp_path / "pushed"), _month_tables(tmp_path / "whole")
    assert list(pushed) == list(whole) and len(whole) == 3 * 3  # kpis, alerts, dealer_health per month
    for name in whole:  # sums may differ in the last bit: each engine adds in its own order
        pd.testing.assert_frame_equal(pushed[name], whole[name], check_exact=False, rtol=1e-12, obj=name)
    assert any(len(frame) for name, frame in whole.items() if "alerts" in name)


def test_a_backtest_computes_on_the_rows_it_judged_while_the_database_changes(pg_server, url, demo_parquet, tmp_path,
                                                                             monkeypatch):
    """Rows deleted, changed and added between the validation and the figures (another client
    writing to the database) change nothing: the figures read the validation's own snapshot."""
    import pyarrow.parquet as pq

    from channel_analysis.figures import compute as figures
    from channel_analysis.run.backtest import backtest

    world = demo_parquet
    tables = {p.stem: pq.read_table(p) for p in world.glob("*.parquet")}
    orders = tables["orders"].to_pylist()
    orders[2]["amount"] = 0.0  # a quarantined row: the clean rows are "all rows but the suspects"
    tables["orders"] = pa.Table.from_pylist(orders, schema=tables["orders"].schema)
    months = "2025-11..2025-12"
    load(pg_server, tables)
    backtest(url, months, tmp_path / "still")

    def written_meanwhile():
        with pg_server.connect(dbname=DATABASE, autocommit=True) as con:
            con.execute("DELETE FROM orders WHERE order_date >= '2025-11-01' AND amount > 0 AND order_id LIKE '%1'")
            con.execute("UPDATE orders SET amount = amount * 10 WHERE order_date >= '2025-12-01'")
            con.execute("INSERT INTO orders SELECT order_id || 'x', dealer_id, order_date, amount * 3, quantity, "
                        "product_line FROM orders WHERE order_date >= '2025-10-01'")  # fmt: skip
            changed = con.execute("SELECT count(*) FROM orders").fetchone()[0]
        assert changed > len(orders)

    figures_in_engine = figures._figures_in_engine

    def after_a_write(*args, **kwargs):
        written_meanwhile()
        return figures_in_engine(*args, **kwargs)

    load(pg_server, tables)
    monkeypatch.setattr(figures, "_figures_in_engine", after_a_write)
    backtest(url, months, tmp_path / "changing")
    still, changing = _month_tables(tmp_path / "still"), _month_tables(tmp_path / "changing")
    assert list(still) == list(changing) and len(still) == 2 * 3
    for name in still:
        pd.testing.assert_frame_equal(changing[name], still[name], obj=name)


def test_a_server_that_is_down_is_tried_again_and_a_wrong_password_is_not(pg_server, url, monkeypatch):
    import socket

    from channel_analysis.sources import database as source_io

    with socket.socket() as sock:  # a port nobody listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        down = url.replace(f":{pg_server.port}/", f":{sock.getsockname()[1]}/")
    with pytest.raises(SourceError, match=rf"cannot connect to the database .*\(tried {source_io._DB_ATTEMPTS} times\)"):
        validate_postgres(down)
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with pytest.raises(SourceError, match="password authentication failed") as refused:
        validate_postgres(url)
    assert "tried" not in str(refused.value) and "not-the-password" not in str(refused.value)
