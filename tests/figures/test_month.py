"""The month's figures (MonthFigures): one KPI by name, month and scope, checked by hand on the small
source; the months before the data; and the figures a run stores read back as they were computed."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from channel_analysis.figures.month import figures_from_store, figures_of_month, store_frames
from channel_analysis.months import Month
from channel_analysis.sources.read import read_source
from channel_analysis.store.prepared import add_figures, load_source, write_prepared_source
from channel_analysis.validate.memory import validate_source


@pytest.fixture()
def tables(mini_csv) -> dict[str, pd.DataFrame]:
    return validate_source(read_source(mini_csv)).tables


def test_a_kpi_is_read_by_name_month_and_scope(tables):
    f = figures_of_month(tables, "2024-06")
    # revenue of June: O5 (250,000, 00123); of May: O2 (35,000.5, D001); of February: O3 (80,000, D002)
    assert f.kpi("revenue") == 250_000
    assert f.kpi("revenue", "2024-05") == 35_000.5
    assert f.kpi("revenue", f.previous_label) == 35_000.5
    assert f.kpi("revenue", "2024-02") == 80_000
    # dealers in the network at the end of June: D001 (Jan), D002 (Mar), 00123 (signed 1 June)
    assert f.kpi("dealers_in_network") == 3
    # by region: one dealer in 山东; a region with no dealer has no row
    assert f.kpi("dealers_in_network", scope="region", scope_id="山东") == 1
    assert math.isnan(f.kpi("dealers_in_network", scope="region", scope_id="西藏"))


def test_a_month_before_the_data_has_no_value_and_an_unknown_kpi_is_refused_by_name(tables):
    f = figures_of_month(tables, "2024-01")  # the first month with orders (O1, 20 January)
    assert f.first_data_month == pd.Period("2024-01", "M")
    assert f.previous is None  # nothing to compare January with
    assert math.isnan(f.kpi("revenue", "2023-12"))
    assert f.kpi("revenue") == 1_200_000
    with pytest.raises(KeyError, match="no KPI 'revnue': the KPIs are .*revenue"):
        f.kpi("revnue")


def test_the_figures_a_run_stores_read_back_as_they_were_computed(tables, tmp_path):
    computed = figures_of_month(tables, Month("2024-06"))
    folder = tmp_path / "prepared"
    write_prepared_source(tables, folder)
    frames, meta = store_frames(computed)
    add_figures(folder, frames, meta)
    loaded = load_source(folder)
    assert loaded.figures is not None

    read = figures_from_store(loaded.figures, loaded.tables, Month("2024-06"))
    for name in ("kpis", "alerts", "health"):
        pd.testing.assert_frame_equal(getattr(read, name), getattr(computed, name), check_dtype=False)
    pd.testing.assert_frame_equal(read.previous.health, computed.previous.health, check_dtype=False)
    assert read.kpi("revenue") == 250_000

    # figures stored for another month are not used: that container computes its own
    other = figures_from_store(loaded.figures, loaded.tables, Month("2024-05"))
    assert other.kpi("revenue") == 35_000.5
    assert other.contract is not read.contract
