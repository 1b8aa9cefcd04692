"""The engine path at scale: Parquet files read by DuckDB through ``ibis_tables`` give exactly the
KPIs and the panel that the validated pandas frames give.

``monthly_kpis`` and ``dealer_month_panel`` have one definition for both inputs; what differs is
the binding (pandas frames → in-memory tables; Parquet → ``read_parquet`` views, with date32
dates, millisecond timestamps, optional columns absent). These tests pin that the binding changes
nothing: the hand-made data sets of test_kpis.py, and a small synthetic world over many months.
"""

from __future__ import annotations

import ibis
import pandas as pd
import pytest
from test_kpis import (  # the hand-made tables, each worked out in test_kpis.py
    ATTENDANCE,
    EVENTS,
    EXPENSES,
    M,
    REVENUE_ORDERS,
    SLA_REQUESTS,
    base,
    interactions,
    orders,
    requests,
)

from channel_analysis.config import SLA_HOURS, Settings
from channel_analysis.sources.read import read_source
from channel_analysis.metrics import monthly_kpis
from channel_analysis.panel import dealer_month_panel, read_panel, write_panel
from channel_analysis.sources.engine import ibis_tables
from channel_analysis.synthetic import write_demo_data
from channel_analysis.validate.memory import validate_source
from tables import frame

PROSPECTS = frame(
    "prospects",
    "prospect_id region first_contact_date stage_reached status closed_date dealer_id",
    [
        ("P1", "North", "2026-01-01", "signed", "signed", "2026-03-01", "D2"),
        ("P2", "North", "2026-01-01", "visited", "lost", "2026-06-01", None),
        ("P5", "South", "2026-01-01", "contacted", "open", None, None),
    ],
)
CALLS = interactions(
    ("D1", "2026-10-10 09:00", "phone", "outbound"),
    ("D2", "2026-10-12 09:00", "phone", "inbound"),
    ("D1", "2026-09-01 09:00", "visit", "outbound"),
    ("D5", "2026-10-31 23:30", "phone", "outbound"),
)
FIRST_ORDERS = orders(
    ("D1", "2026-01-10", 100.0), ("D1", "2026-02-01", -20.0), ("D5", "2026-05-04", 100.0), ("D5", "2026-11-05", 100.0)
)

HAND_MADE = {
    "base": base(),
    "revenue": base(orders=REVENUE_ORDERS),
    "first_orders": base(orders=FIRST_ORDERS),
    "costs": base(orders=REVENUE_ORDERS, expenses=EXPENSES),
    "coverage": base(interactions=CALLS),
    "service": base(service_requests=SLA_REQUESTS),
    "events": base(events=EVENTS, event_attendance=ATTENDANCE),
    "funnel": base(prospects=PROSPECTS),
    "everything": base(
        orders=REVENUE_ORDERS,
        expenses=EXPENSES,
        interactions=CALLS,
        service_requests=SLA_REQUESTS,
        events=EVENTS,
        event_attendance=ATTENDANCE,
        prospects=PROSPECTS,
    ),
}


def as_parquet(tables: dict[str, pd.DataFrame], folder) -> dict[str, ibis.Table]:
    """Write each table to ``folder/<table>.parquet`` and read the folder back through DuckDB."""
    folder.mkdir(exist_ok=True)
    for name, table in tables.items():
        table.to_parquet(folder / f"{name}.parquet")
    return ibis_tables(folder, con=ibis.duckdb.connect())


@pytest.mark.parametrize("name", HAND_MADE)
def test_parquet_gives_the_kpis_of_the_pandas_frames(name, tmp_path):
    tables = HAND_MADE[name]
    engine = as_parquet(tables, tmp_path / name)
    assert set(engine) == set(tables)
    pd.testing.assert_frame_equal(monthly_kpis(engine, as_of=M), monthly_kpis(tables, as_of=M), check_exact=True)


def test_overridden_limits_hold_on_parquet_too(tmp_path):
    # payment allowed 72 h: 3 of 4 within, as in test_kpis.test_sla_limits_are_overridable
    tables = base(service_requests=SLA_REQUESTS)
    custom = Settings(sla_hours=SLA_HOURS | {"payment": 72})
    out = monthly_kpis(as_parquet(tables, tmp_path / "sla"), as_of=M, settings=custom)
    pd.testing.assert_frame_equal(out, monthly_kpis(tables, as_of=M, settings=custom), check_exact=True)
    assert out.loc[out.metric == "sla_compliance", "value"].item() == 0.75


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A small demo world written as Parquet (native types), and its validated pandas tables."""
    folder = tmp_path_factory.mktemp("world") / "source"
    write_demo_data(folder, dealers=150, start="2024-01", end="2025-12", seed=3, fmt="parquet")
    validated = validate_source(read_source(folder))
    assert validated.quarantined_total == 0  # the engine path trusts the files: they must be clean
    return folder, validated.tables


@pytest.mark.parametrize("month", ["2024-01", "2024-07", "2025-02", "2025-11", "2025-12"])
def test_a_synthetic_world_on_parquet_gives_the_same_kpis(world, month):
    folder, tables = world
    engine = ibis_tables(folder)  # a new in-memory DuckDB connection that scans the files
    pd.testing.assert_frame_equal(
        # the engine sums floats in parallel, in no fixed order: equal up to the last bits
        monthly_kpis(engine, as_of=month), monthly_kpis(tables, as_of=month), check_exact=False, rtol=1e-12
    )


def test_a_synthetic_world_on_parquet_gives_the_same_panel(world):
    folder, tables = world
    on_parquet = dealer_month_panel(ibis_tables(folder), as_of="2025-12")
    assert len(on_parquet) > 150 * 12
    pd.testing.assert_frame_equal(on_parquet, dealer_month_panel(tables, as_of="2025-12"), check_exact=False, rtol=1e-12)


def test_a_synthetic_world_on_parquet_writes_the_same_panel(world, tmp_path):
    folder, tables = world
    path = write_panel(ibis_tables(folder), as_of="2025-12", path=tmp_path / "panel.parquet")
    expected = dealer_month_panel(tables, as_of="2025-12")
    pd.testing.assert_frame_equal(read_panel(path), expected, check_exact=False, rtol=1e-12)
