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

from channel_analysis.config import SLA_HOURS, Settings
from channel_analysis.metrics import monthly_kpis
from channel_analysis.panel import dealer_month_panel, read_panel, write_panel
from channel_analysis.sources.engine import ibis_tables
from channel_analysis.sources.read import read_source
from channel_analysis.validate.memory import validate_source
from helpers.kpi_tables import HAND_MADE, SLA_REQUESTS, M, base  # the hand-made tables, each worked out in test_kpis.py


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
def world(demo_parquet):
    """The demo world as Parquet (native types), and its validated pandas tables."""
    folder = demo_parquet
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
