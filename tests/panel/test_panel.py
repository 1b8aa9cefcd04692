"""The dealer × month panel: zero-fill, returns, as-of cut, termination, early orders,
activity counts, the backtest cut, and invariants checked with hypothesis."""

from __future__ import annotations

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channel_analysis import schema
from channel_analysis.panel import dealer_month_panel, panel_as_of, panel_expr, read_panel, report_month, write_panel
from helpers.tables import frame


def dealers(*rows: tuple) -> pd.DataFrame:
    return frame("dealers", "dealer_id region sales_manager_id signed_date terminated_date", list(rows))


def orders(*rows: tuple) -> pd.DataFrame:
    return frame("orders", "dealer_id order_date amount", list(rows))


def rows_of(panel: pd.DataFrame, dealer_id: str) -> pd.DataFrame:
    out = panel[panel[schema.Panel.dealer_id] == dealer_id]
    return out.assign(month=out[schema.Panel.month].dt.strftime("%Y-%m")).set_index("month")


def test_zero_filled_from_signing_month_to_report_month():
    tables = {
        "dealers": dealers(("D1", "North", "S1", "2026-06-15", None)),
        "orders": orders(("D1", "2026-06-20", 100.0), ("D1", "2026-09-05", 40.0)),
    }
    panel = dealer_month_panel(tables, as_of="2026-10")
    d1 = rows_of(panel, "D1")
    # June (order 100), July and August (nothing), September (order 40), October (nothing)
    assert list(d1.index) == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    assert list(d1.revenue) == [100.0, 0.0, 0.0, 40.0, 0.0]
    assert list(d1.order_count) == [1, 0, 0, 1, 0]
    assert list(d1.months_since_signed) == [0, 1, 2, 3, 4]
    assert d1.in_network.all()
    assert list(panel.columns) == list(schema.Panel.to_schema().columns)
    schema.Panel.validate(panel)


def test_returns_are_netted_and_counted_apart():
    tables = {
        "dealers": dealers(("D1", "North", "S1", "2026-06-15", None)),
        "orders": frame(
            "orders",
            "dealer_id order_date amount quantity",
            [("D1", "2026-07-01", 100.0, 2), ("D1", "2026-07-15", -30.0, 1), ("D1", "2026-07-20", 25.0, 1)],
        ),
    }
    july = rows_of(dealer_month_panel(tables, as_of="2026-07"), "D1").loc["2026-07"]
    # orders 100 + 25 = 125 gross, one return of 30: revenue 95; units 2 + 1 sent, 1 back: 2
    assert (july.revenue, july.gross_orders, july.returns) == (95.0, 125.0, 30.0)
    assert (july.order_count, july.return_count, july.quantity) == (2, 1, 2)


def test_rows_after_the_report_month_are_cut_and_a_later_termination_has_not_happened():
    tables = {
        "dealers": dealers(("D1", "North", "S1", "2026-06-15", "2026-11-20")),
        "orders": orders(("D1", "2026-10-31", 10.0), ("D1", "2026-11-01", 999.0)),
        "interactions": frame(
            "interactions",
            "dealer_id occurred_at kind direction",
            [("D1", "2026-10-31 23:59", "visit", "outbound"), ("D1", "2026-11-01 00:00", "visit", "outbound")],
        ),
    }
    d1 = rows_of(dealer_month_panel(tables, as_of="2026-10"), "D1")
    # October is the last row; the November order and visit do not exist yet, nor does the November exit
    assert d1.index[-1] == "2026-10"
    assert d1.revenue.sum() == 10.0
    assert d1.visits.sum() == 1
    assert d1.loc["2026-10"].in_network


def test_termination_ends_the_rows_and_later_orders_still_count():
    tables = {
        "dealers": dealers(("D2", "South", None, "2026-03-10", "2026-08-15")),
        "orders": orders(("D2", "2026-04-02", 80.0), ("D2", "2026-10-03", -15.0)),
    }
    d2 = rows_of(dealer_month_panel(tables, as_of="2026-10"), "D2")
    # March..August (left in August), then only October, where a credit note came after leaving
    assert list(d2.index) == ["2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-10"]
    assert d2.loc["2026-07"].in_network and not d2.loc["2026-08"].in_network
    assert not d2.loc["2026-10"].in_network
    assert d2.loc["2026-10"].revenue == -15.0


def test_an_order_two_weeks_before_signing_starts_the_rows_a_month_early():
    tables = {
        "dealers": dealers(("D3", "East", "S2", "2026-09-10", None)),
        "orders": orders(("D3", "2026-08-27", 60.0)),
    }
    d3 = rows_of(dealer_month_panel(tables, as_of="2026-10"), "D3")
    assert list(d3.index) == ["2026-08", "2026-09", "2026-10"]
    assert list(d3.months_since_signed) == [-1, 0, 1]
    assert list(d3.in_network) == [False, True, True]  # not signed on August 31
    assert d3.loc["2026-08"].revenue == 60.0


def test_a_dealer_signed_after_the_report_month_is_not_in_the_panel_yet():
    # D9 signs Nov 2 after an October order: as of October it does not exist; as of November it has
    # October (the order, months_since_signed -1) and November
    tables = {
        "dealers": dealers(("D9", "East", None, "2026-11-02", None)),
        "orders": orders(("D9", "2026-10-20", 30.0)),
    }
    assert dealer_month_panel(tables, as_of="2026-10").empty
    november = dealer_month_panel(tables, as_of="2026-11")
    assert list(rows_of(november, "D9").revenue) == [30.0, 0.0]
    assert panel_as_of(november, as_of="2026-10").empty


def test_calls_visits_requests_and_events_are_counted_per_month():
    tables = {
        "dealers": dealers(("D1", "North", "S1", "2026-06-15", None)),
        "orders": orders(),
        "interactions": frame(
            "interactions",
            "dealer_id occurred_at kind direction",
            [
                ("D1", "2026-07-02 10:00", "phone", "outbound"),
                ("D1", "2026-07-09 10:00", "phone", "outbound"),
                ("D1", "2026-07-10 16:00", "phone", "inbound"),
                ("D1", "2026-08-04 09:00", "visit", "inbound"),  # a visit counts in either direction
                ("D1", "2026-08-05 09:00", "message", "inbound"),
            ],
        ),
        "service_requests": frame(
            "service_requests",
            "dealer_id process opened_at via_sales_manager",
            [("D1", "complaint", "2026-07-03 08:00", True), ("D1", "order", "2026-07-04 08:00", False)],
        ),
        "events": frame("events", "event_id held_on kind cost", [("V1", "2026-07-20", "forum", 500.0)]),
        "event_attendance": frame("event_attendance", "event_id dealer_id", [("V1", "D1")]),
    }
    d1 = rows_of(dealer_month_panel(tables, as_of="2026-08"), "D1")
    july, august = d1.loc["2026-07"], d1.loc["2026-08"]
    assert (july.calls_out, july.calls_in, july.visits, july.messages) == (2, 1, 0, 0)
    assert (august.calls_out, august.calls_in, august.visits, august.messages) == (0, 0, 1, 1)
    assert (july.requests, july.requests_via_sm, july.complaints, july.events_attended) == (2, 1, 1, 1)
    assert (august.requests, august.events_attended) == (0, 0)


def test_optional_columns_absent():
    tables = {
        "dealers": frame("dealers", "dealer_id region signed_date", [("D1", "North", "2026-09-01")]),
        "orders": orders(("D1", "2026-09-02", 5.0)),
    }
    panel = dealer_month_panel(tables, as_of="2026-09")
    assert panel[schema.Panel.tier].isna().all() and panel[schema.Panel.sales_manager_id].isna().all()
    assert list(panel.quantity) == [0]
    assert list(panel.in_network) == [True]


def test_the_expression_compiles_for_postgres():
    def table(name: str, cols: dict) -> ibis.Table:
        return ibis.table(cols, name=name)

    expr = panel_expr(
        table("dealers", {"dealer_id": "string", "region": "string", "signed_date": "date", "terminated_date": "date"}),
        table("orders", {"dealer_id": "string", "order_date": "date", "amount": "float64", "quantity": "int64"}),
        as_of="2026-10",
        interactions=table(
            "interactions", {"dealer_id": "string", "occurred_at": "timestamp", "kind": "string", "direction": "string"}
        ),
        service_requests=table(
            "service_requests",
            {"dealer_id": "string", "opened_at": "timestamp", "process": "string", "via_sales_manager": "boolean"},
        ),
        events=table("events", {"event_id": "string", "held_on": "date"}),
        event_attendance=table("event_attendance", {"event_id": "string", "dealer_id": "string"}),
    )
    sql = ibis.to_sql(expr, dialect="postgres")
    assert "GENERATE_SERIES" in sql.upper()


@pytest.mark.postgres
def test_postgres_gives_the_same_panel_as_duckdb(pg_server):
    tables = {
        "dealers": dealers(
            ("D1", "North", "S1", "2026-06-15", None),
            ("D2", "South", None, "2026-03-10", "2026-08-15"),
            ("D3", "East", "S2", "2026-09-10", None),
        ),
        "orders": orders(("D1", "2026-06-20", 100.0), ("D2", "2026-10-03", -15.0), ("D3", "2026-08-27", 60.0)),
        "interactions": frame(
            "interactions",
            "dealer_id occurred_at kind direction",
            [("D1", "2026-07-02 10:00", "phone", "outbound"), ("D3", "2026-11-01 09:00", "visit", "outbound")],
        ),
        "service_requests": frame(
            "service_requests",
            "dealer_id process opened_at via_sales_manager",
            [("D2", "complaint", "2026-05-03 08:00", True)],
        ),
        "events": frame("events", "event_id held_on kind cost", [("V1", "2026-07-20", "forum", 500.0)]),
        "event_attendance": frame("event_attendance", "event_id dealer_id", [("V1", "D1"), ("V1", "D2")]),
    }
    con = ibis.postgres.connect(
        host=pg_server.host, port=pg_server.port, user=pg_server.user,
        password=pg_server.password, database=pg_server.dbname,
    )  # fmt: skip
    try:
        on_postgres = dealer_month_panel(tables, as_of="2026-10", con=con)
    finally:
        con.disconnect()
    on_duckdb = dealer_month_panel(tables, as_of="2026-10")
    # D1 Jun..Oct: 5; D2 Mar..Aug and October's credit note: 7; D3 Aug..Oct (the Nov visit is cut): 3
    assert len(on_duckdb) == 15
    pd.testing.assert_frame_equal(on_postgres, on_duckdb)


# ---- invariants -------------------------------------------------------------------------

_DAY0 = pd.Timestamp("2025-01-01")


@st.composite
def _tables(draw):
    n = draw(st.integers(1, 5))
    rows = []
    for i in range(n):
        signed = _DAY0 + pd.Timedelta(days=draw(st.integers(0, 600)))
        left = draw(st.one_of(st.none(), st.integers(0, 400)))
        term = None if left is None else signed + pd.Timedelta(days=left)
        rows.append((f"D{i}", draw(st.sampled_from(["North", "South"])), None, signed, term))
    order_rows = []
    for _ in range(draw(st.integers(0, 25))):
        i = draw(st.integers(0, n - 1))
        day = rows[i][3] + pd.Timedelta(days=draw(st.integers(-30, 500)))
        amount = draw(st.sampled_from([-40.0, 25.5, 100.0, 310.25]))
        order_rows.append((f"D{i}", day, amount))
    return {"dealers": dealers(*rows), "orders": orders(*order_rows)}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables=_tables(), month=st.integers(0, 30))
def test_revenue_reconciles_and_a_later_panel_cut_equals_the_as_of_panel(tables, month):
    as_of = report_month("2025-01") + month
    panel = dealer_month_panel(tables, as_of=as_of)
    o, signed = tables["orders"], tables["dealers"].set_index("dealer_id").signed_date
    upto = o[(o.order_date < (as_of + 1).start_time) & (o.dealer_id.map(signed) < (as_of + 1).start_time)]
    assert panel.revenue.sum() == pytest.approx(upto.amount.sum())
    assert panel.order_count.sum() == (upto.amount > 0).sum()
    assert not panel.duplicated([schema.Panel.dealer_id, schema.Panel.month]).any()
    assert (panel.month <= as_of.start_time).all()
    # in_network, checked against the dates directly
    d = tables["dealers"].set_index("dealer_id")
    month_end = panel.month + pd.offsets.MonthEnd(0)
    signed, term = panel.dealer_id.map(d.signed_date), panel.dealer_id.map(d.terminated_date)
    expected = (signed <= month_end) & (term.isna() | (term > month_end))
    assert (panel.in_network == expected).all()
    # the backtest path: a panel as of six months later, cut back, is the same panel
    later = panel_as_of(dealer_month_panel(tables, as_of=as_of + 6), as_of=as_of)
    pd.testing.assert_frame_equal(later, panel)


def test_a_written_panel_reads_back_as_the_pandas_panel(tmp_path):
    tables = {
        "dealers": dealers(
            ("D1", "North", "S1", "2026-06-15", None), ("D2", "South", None, "2026-08-01", "2026-09-10")
        ),
        "orders": orders(("D1", "2026-06-20", 100.0), ("D1", "2026-09-05", -40.0), ("D2", "2026-10-02", 7.5)),
    }
    path = write_panel(tables, as_of="2026-10", path=tmp_path / "out" / "panel.parquet")
    assert path == tmp_path / "out" / "panel.parquet"
    assert list(path.parent.iterdir()) == [path]  # the partial file was renamed, nothing left beside it
    assert pq.read_schema(path).field(schema.Panel.month).type == pa.date32()
    panel = read_panel(path)
    pd.testing.assert_frame_equal(panel, dealer_month_panel(tables, as_of="2026-10"), check_exact=True)
    # D1: June (order 100) to October, a return of 40 in September; D2: signed in August, left on
    # 10 September (out of the network at that month's end), an order in October after leaving
    rows = [
        (r.dealer_id, f"{r.month:%Y-%m}", r.revenue, r.returns, r.return_count, r.in_network) for r in panel.itertuples()
    ]
    assert rows == [
        ("D1", "2026-06", 100.0, 0.0, 0, True),
        ("D1", "2026-07", 0.0, 0.0, 0, True),
        ("D1", "2026-08", 0.0, 0.0, 0, True),
        ("D1", "2026-09", -40.0, 40.0, 1, True),
        ("D1", "2026-10", 0.0, 0.0, 0, True),
        ("D2", "2026-08", 0.0, 0.0, 0, True),
        ("D2", "2026-09", 0.0, 0.0, 0, False),
        ("D2", "2026-10", 7.5, 0.0, 0, False),
    ]  # fmt: skip
    some = read_panel(path, columns=[schema.Panel.order_count, schema.Panel.dealer_id, schema.Panel.month])
    pd.testing.assert_frame_equal(some, panel[[schema.Panel.dealer_id, schema.Panel.month, schema.Panel.order_count]])


@pytest.mark.postgres
def test_postgres_writes_the_same_panel_file(pg_server, tmp_path):
    # PostgreSQL has no COPY to a local file: the rows come in Arrow batches into the Parquet writer
    tables = {
        "dealers": dealers(("D1", "North", "S1", "2026-06-15", None), ("D2", "South", None, "2026-03-10", "2026-08-15")),
        "orders": orders(("D1", "2026-06-20", 100.0), ("D2", "2026-10-03", -15.0)),
    }
    con = ibis.postgres.connect(
        host=pg_server.host, port=pg_server.port, user=pg_server.user,
        password=pg_server.password, database=pg_server.dbname,
    )  # fmt: skip
    try:
        path = write_panel(tables, as_of="2026-10", path=tmp_path / "panel.parquet", con=con)
    finally:
        con.disconnect()
    on_duckdb = dealer_month_panel(tables, as_of="2026-10")
    assert len(on_duckdb) == 5 + 7  # D1 June..October; D2 March..August and October's credit note
    pd.testing.assert_frame_equal(read_panel(path), on_duckdb)
