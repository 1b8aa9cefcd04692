"""The control chart of an alert: one dealer's orders against the band its own reference year
expects (``early_warning.series.order_control_series``), on hand-made panels."""

from __future__ import annotations

import pandas as pd
import pytest

from channel_analysis.early_warning.series import SERIES_COLUMNS, order_control_series


def _panel(months: int = 24) -> pd.DataFrame:
    """Three dealers of one region ordering 4 or 5 times a month, one of which stops for the last 3 months."""
    stamps = pd.date_range("2024-01-01", periods=months, freq="MS")
    rows = []
    for dealer in ("A", "B", "C"):
        for k, month in enumerate(stamps):
            orders = 0 if dealer == "C" and k >= months - 3 else 4 + (k % 2)
            rows.append({"dealer_id": dealer, "month": month, "region": "山东", "in_network": True,
                         "months_since_signed": 12 + k, "order_count": orders})
    return pd.DataFrame(rows)


def test_control_series_marks_the_months_a_dealer_fell_below_its_own_range():
    series = order_control_series(_panel(), "C", as_of="2025-12")
    assert list(series.columns) == SERIES_COLUMNS
    assert len(series) == 24 and series["reference"].sum() == 12
    # reference year: the 12 months ending M−3 (2024-10 … 2025-09)
    reference = series.loc[series["reference"], "month"].dt.strftime("%Y-%m")
    assert (reference.iloc[0], reference.iloc[-1]) == ("2024-10", "2025-09")
    assert series["expected"].iloc[-1] == pytest.approx(13.5, rel=0.1)  # 4.5 a month for 3 months
    assert series["below_band"].iloc[-3:].all() and not series["below_band"].iloc[:18].any()
    steady = order_control_series(_panel(), "A", as_of="2025-12")
    assert not steady["below_band"].any()


def test_control_series_of_a_stopped_dealer_can_take_the_year_before_its_last_order():
    series = order_control_series(_panel(), "C", as_of="2025-12", reference_end="2025-07", months=12)
    assert series["month"].iloc[0] == pd.Timestamp("2024-08-01")  # the chart reaches back to the reference year
    assert series.loc[series["reference"], "month"].iloc[-1] == pd.Timestamp("2025-07-01")


def test_control_series_without_history_has_no_expectation():
    panel = _panel()
    panel = panel[~((panel["dealer_id"] == "C") & (panel["month"] < "2025-06-01"))]  # C appears late
    series = order_control_series(panel, "C", as_of="2025-12")
    assert series["expected"].isna().all() and not series["below_band"].any()
