"""Detectors on small hand-made panels: each case is a story a sales manager would recognise.

Panels are built month by month from order counts written in the test; a
dealer's orders are worth ¥10k each unless the case says otherwise.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channel_analysis import schema
from channel_analysis.early_warning import history_from_panel, monthly_warning, warnings_for_months
from channel_analysis.early_warning.signals import _group_median, _row_median
from channel_analysis.text.reasons import alert_reasons, why_changed_code

START = "2023-01"
P = schema.Panel


def make_panel(series: dict[str, dict], months: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """{dealer: {orders: [...], calls?: [...], gross?: [...], region, tier, signed?}} → panel, dealers."""
    rows, dealers = [], []
    month_starts = pd.date_range(START, periods=months, freq="MS")
    for dealer, spec in series.items():
        signed = pd.Timestamp(spec.get("signed", "2020-01-15"))
        orders = list(spec["orders"])
        calls = list(spec.get("calls", [2] * months))
        gross = list(spec.get("gross", [10_000.0 * n for n in orders]))
        dealers.append(
            {
                "dealer_id": dealer,
                "dealer_name": spec.get("name", dealer),
                "region": spec.get("region", "山东"),
                "tier": spec.get("tier", "B"),
                "sales_manager_id": "SM1",
                "signed_date": signed,
                "terminated_date": pd.NaT,
            }
        )
        for i, month in enumerate(month_starts):
            if month < signed.to_period("M").start_time:
                continue
            since = (month.year - signed.year) * 12 + month.month - signed.month
            rows.append(
                {
                    P.dealer_id: dealer,
                    P.month: month,
                    P.region: spec.get("region", "山东"),
                    P.tier: spec.get("tier", "B"),
                    P.sales_manager_id: "SM1",
                    P.months_since_signed: since,
                    P.in_network: True,
                    P.revenue: gross[i],
                    P.gross_orders: gross[i],
                    P.returns: 0.0,
                    P.order_count: orders[i],
                    P.return_count: 0,
                    P.quantity: orders[i],
                    P.calls_in: calls[i],
                    P.calls_out: 1,
                    P.visits: i % 2,
                    P.messages: 0,
                    P.requests: 0,
                    P.requests_via_sm: 0,
                    P.complaints: 0,
                    P.events_attended: 0,
                }
            )
    return pd.DataFrame(rows), pd.DataFrame(dealers)


def steady(level: int, months: int, wiggle: tuple[int, ...] = (0, 1, -1, 0, 1, 0, -1, 1, 0, -1, 0, 1)) -> list[int]:
    """A dealer ordering ``level`` times a month, give or take one."""
    return [max(0, level + wiggle[i % len(wiggle)]) for i in range(months)]


def peers(n: int, months: int, *, region: str = "山东", level: int = 4, prefix: str = "P") -> dict[str, dict]:
    """n ordinary dealers of a region, each with its own wiggle so that peers differ."""
    out = {}
    for k in range(n):
        wiggle = tuple(np.roll((0, 1, -1, 0, 1, 0, -1, 1, 0, -1, 0, 1), k))
        out[f"{prefix}{k:02d}"] = {"orders": steady(level, months, wiggle), "region": region}
    return out


def alerts_for(series: dict, months: int, month: str) -> pd.DataFrame:
    panel, dealers = make_panel(series, months)
    alerts, _ = monthly_warning(panel, dealers, as_of=month)
    return alerts


def test_a_dealer_that_stops_is_flagged_within_two_months():
    # 24 months of about 4 orders a month, then nothing from 2025-01 (months 25..27).
    months = 27
    series = peers(10, months) | {"STOP": {"orders": steady(4, 24) + [0, 0, 0]}}
    # 2025-01 is the first silent month: one month of silence proves nothing yet
    assert "STOP" not in set(alerts_for(series, 25, "2025-01").dealer_id)
    flagged = alerts_for(series, months, "2025-02")
    stop = flagged[(flagged.dealer_id == "STOP") & (flagged.alert == "purchase_stop")]
    assert len(stop) == 1
    assert "no order since 2024-12" in alert_reasons(stop, "en").iloc[0]
    # none of its ordinary peers is flagged
    assert set(flagged.dealer_id) == {"STOP"}


def test_a_seasonal_dip_of_the_whole_network_does_not_alert():
    # Every dealer orders about 4 a month, but only 1 in February (the New Year) of each year:
    # the February 2025 dip is the same as the ones before, so nobody is flagged.
    months = 26
    dip = [1 if m % 12 == 1 else 4 for m in range(months)]
    series = {f"D{k:02d}": {"orders": [max(0, d + ((k + m) % 3 == 0) - ((k + m) % 4 == 0)) for m, d in enumerate(dip)]}
              for k in range(12)}
    alerts = alerts_for(series, months, "2025-02")
    assert alerts[alerts.alert.isin(["purchase_drop", "purchase_stop", "below_peers"])].empty


def test_a_big_one_off_order_does_not_make_the_next_months_a_drop():
    # A parts dealer (3 orders of ¥10k a month) buys one ¥2.5M crane in 2024-06, then goes on as before.
    months = 24
    orders = steady(3, months)
    gross = [10_000.0 * n for n in orders]
    orders[17] += 1
    gross[17] += 2_500_000
    series = peers(10, months, level=3) | {"CRANE": {"orders": orders, "gross": gross}}
    for month in ("2024-08", "2024-10", "2024-12"):
        assert "CRANE" not in set(alerts_for(series, months, month).dealer_id), month


def test_a_region_wide_downturn_is_the_market_not_every_dealer():
    # All 12 dealers of 山东 fall to half in 2024-10..2024-12 (the market); in 江苏 ten dealers carry on
    # and one, FALL, falls to a fifth. Only FALL is flagged.
    months = 24
    shandong = {f"S{k:02d}": {"orders": steady(6, 21) + [3, 3, 3], "region": "山东"} for k in range(12)}
    for k, spec in enumerate(shandong.values()):
        spec["orders"] = [max(0, v + (k % 3) - 1) for v in spec["orders"]]
    jiangsu = peers(10, months, region="江苏", level=6, prefix="J")
    series = shandong | jiangsu | {"FALL": {"orders": steady(6, 21) + [1, 1, 1], "region": "江苏"}}
    alerts = alerts_for(series, months, "2024-12")
    assert not set(alerts.dealer_id) & set(shandong)
    fall = alerts[alerts.dealer_id == "FALL"]
    assert "purchase_drop" in set(fall.alert)
    assert "dealers in 江苏" in alert_reasons(fall[fall.alert == "purchase_drop"], "en").iloc[0]


def test_a_sparse_orderer_is_judged_by_its_own_rhythm():
    # Orders 5 items every fourth month (2023-01, 2023-05, ...). Two months after an ordering
    # month it is not late; after nine silent months it is.
    months = 30
    rhythm = [5 if m % 4 == 0 else 0 for m in range(months)]
    series = peers(10, months) | {"SPARSE": {"orders": rhythm[:21] + [0] * 9}}
    # 2024-11 (month 22): last order 2024-09 (month 20), two months ago
    assert "SPARSE" not in set(alerts_for(series, 23, "2024-11").dealer_id)
    late = alerts_for(series, months, "2025-06")
    assert "purchase_stop" in set(late[late.dealer_id == "SPARSE"].alert)


def test_inbound_calls_spike_against_the_dealers_own_level():
    # A dealer calling about twice a month calls 12 times in 2024-12.
    months = 24
    calls = [2, 1, 3, 2, 2, 1, 2, 3, 2, 1, 2, 2] * 2
    calls[-1] = 12
    series = peers(10, months) | {"CALLS": {"orders": steady(4, months), "calls": calls}}
    alerts = alerts_for(series, months, "2024-12")
    spike = alerts[(alerts.dealer_id == "CALLS") & (alerts.alert == "calls_spike")]
    assert len(spike) == 1 and alert_reasons(spike, "en").iloc[0].startswith("12 calls")


def test_first_order_only_is_flagged_after_five_months():
    # Signed 2024-06 with one first batch order that month, nothing since.
    months = 24
    new = [0] * 17 + [1] + [0] * 6
    series = peers(10, months) | {"NEW": {"orders": new, "signed": "2024-06-03"}}
    early = alerts_for(series, 21, "2024-09")  # 3 months after: still normal
    assert "NEW" not in set(early.dealer_id)
    late = alerts_for(series, months, "2024-12")  # 6 months after
    row = late[(late.dealer_id == "NEW") & (late.alert == "no_reorder")]
    assert len(row) == 1 and "6 months ago" in alert_reasons(row, "en").iloc[0]


def test_health_scores_status_and_reasons_for_change():
    months = 27
    series = peers(10, months) | {"STOP": {"orders": steady(4, 24) + [0, 0, 0]}}
    panel, dealers = make_panel(series, months)
    history = history_from_panel(panel, dealers)
    results = warnings_for_months(history, ["2025-02", "2025-03"])
    _, health = results["2025-03"]
    assert health.health_score.between(0, 100).all()
    assert set(health.status) <= {"new", "active", "at_risk", "dormant", "lost"}
    stop = health.set_index("dealer_id").loc["STOP"]
    others = health[health.dealer_id != "STOP"]
    assert stop.status == "at_risk"
    assert stop.health_score < others.health_score.min()
    assert "recency" in why_changed_code(stop.moved)
    assert (others.status == "active").all()


def test_no_look_ahead_later_rows_change_nothing():
    # Results for 2024-12 from a panel ending 2024-12 and from one running to 2025-06,
    # in which STOP stops in 2025: identical.
    series = peers(10, 30) | {"STOP": {"orders": steady(4, 24) + [0] * 6}}
    long_panel, dealers = make_panel(series, 30)
    short_panel = long_panel[long_panel[P.month] <= "2024-12-01"]
    a_long, h_long = monthly_warning(long_panel, dealers, as_of="2024-12")
    a_short, h_short = monthly_warning(short_panel, dealers, as_of="2024-12")
    pd.testing.assert_frame_equal(a_long, a_short)
    pd.testing.assert_frame_equal(h_long, h_short)


@settings(max_examples=25, deadline=None)
@given(
    levels=st.lists(st.integers(0, 8), min_size=3, max_size=8),
    seed=st.integers(0, 10_000),
)
def test_scores_bounded_and_alerts_only_for_known_dealers(levels, seed):
    rng = np.random.default_rng(seed)
    months = 20
    series = {f"D{i}": {"orders": list(rng.poisson(level, months)), "calls": list(rng.poisson(2, months))}
              for i, level in enumerate(levels)}
    panel, dealers = make_panel(series, months)
    alerts, health = monthly_warning(panel, dealers, as_of="2024-08")
    assert health.health_score.between(0, 100).all()
    assert set(alerts.dealer_id) <= set(dealers.dealer_id)
    assert set(alerts.severity) <= {"high", "medium", "low"}
    assert len(health) == len(dealers)


def test_month_outside_the_panel_is_a_clear_error():
    panel, dealers = make_panel(peers(3, 12), 12)
    with pytest.raises(KeyError, match="outside the panel"):
        monthly_warning(panel, dealers, as_of="2030-01")


CALLS = [3, 2, 4, 3, 3, 2, 3, 4, 3, 2, 3, 3]  # about 3 inbound calls a month


def test_a_gradual_decline_is_flagged_once_orders_and_calls_fall_together():
    # 4 orders and 3 calls a month for two years, then from 2025-01 orders 3, 2, 2, 1, 1 and calls
    # 2, 2, 1, 1, 1: no single test is sure, together they are, by the fifth month (2025-05).
    months = 29
    calls = (CALLS * 3)[:months]
    others = {k: v | {"calls": calls} for k, v in peers(10, months).items()}
    decline = {"orders": steady(4, 24) + [3, 2, 2, 1, 1], "calls": calls[:24] + [2, 2, 1, 1, 1]}
    alerts = alerts_for(others | {"DECL": decline}, months, "2025-05")
    row = alerts[alerts.dealer_id == "DECL"]
    assert list(row.alert) == ["purchase_drop"] and list(row.severity) == ["low"]
    assert alert_reasons(row, "en").iloc[0].startswith("4 orders for ¥40k in the last 3 months against 11 for ¥106k expected")
    assert set(alerts.dealer_id) == {"DECL"}
    # the same fall of orders while the dealer keeps calling as usual is not enough on its own
    steady_calls = {"orders": decline["orders"], "calls": calls}
    assert "DECL" not in set(alerts_for(others | {"DECL": steady_calls}, months, "2025-05").dealer_id)


def test_a_seasonal_dip_in_orders_and_calls_does_not_alert():
    # Every dealer orders about 4 a month and calls about 3 times, but orders 1 and calls 0-1 times in
    # February (the New Year): the February 2025 dip in both is the season, not a decline.
    months = 26
    dip = lambda level, low: [low if m % 12 == 1 else level for m in range(months)]  # noqa: E731
    series = {
        f"D{k:02d}": {
            "orders": [max(0, d + ((k + m) % 3 == 0) - ((k + m) % 4 == 0)) for m, d in enumerate(dip(4, 1))],
            "calls": [d + ((k + m) % 2 == 0) for m, d in enumerate(dip(3, 0))],
        }
        for k in range(12)
    }
    assert alerts_for(series, months, "2025-02").empty


def test_a_two_month_silence_both_tests_doubt_alerts_low_but_not_in_a_downturn():
    # QUIET orders 0-3 a month and skips about one month in six; then nothing in 2025-01 and 2025-02.
    # Its rhythm gives a gap this long a 5% chance (above the 2% of a plain stop) and its order count
    # about 3%: both agree, so a low purchase_stop. When its whole region orders half as much over
    # those months, the same silence is not flagged.
    months = 26
    quiet = {"orders": ([2, 3, 0, 2, 2, 1, 3, 0, 2, 2, 3, 1] * 2) + [0, 0]}
    alerts = alerts_for(peers(10, months) | {"QUIET": quiet}, months, "2025-02")
    row = alerts[alerts.dealer_id == "QUIET"]
    assert list(row.alert) == ["purchase_stop"] and list(row.severity) == ["low"]
    assert "no order since 2024-12 (2 months)" in alert_reasons(row, "en").iloc[0]
    downturn = {k: v | {"orders": v["orders"][:23] + [2, 2, 2]} for k, v in peers(10, months).items()}
    series = downturn | peers(10, months, region="江苏", prefix="J") | {"QUIET": quiet}
    assert "QUIET" not in set(alerts_for(series, months, "2025-02").dealer_id)


def test_the_sorted_medians_are_numpy_and_pandas_ones_exactly():
    # The signals take medians by sorting (per dealer over its baseline months, per peer group) instead
    # of np.nanmedian and pandas group-bys: the numbers must be the very same, NaN and all.
    rng = np.random.default_rng(3)
    v = np.where(rng.random((500, 12)) < 0.3, np.nan, rng.gamma(2.0, 1e4, (500, 12)).round(rng.integers(0, 3)))
    v[0] = np.nan  # a dealer without one month that counts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_array_equal(_row_median(v), np.nanmedian(v, axis=1))
    assert np.isnan(_row_median(v[:, :0])).all()
    codes, values = rng.integers(-1, 9, 500), v[:, 1]  # -1: no group; group 8 has no value
    codes[codes == 8] = -1
    median, count = _group_median(codes, 9, values)
    grouped = pd.Series(values)[codes >= 0].groupby(codes[codes >= 0])
    np.testing.assert_array_equal(median, grouped.median().reindex(range(9)).to_numpy())
    np.testing.assert_array_equal(count, grouped.count().reindex(range(9), fill_value=0).to_numpy())
