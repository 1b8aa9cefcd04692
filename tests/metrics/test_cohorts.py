"""Cohort ramp-up, payback, retained-dealer value, survival, status shares, churned revenue."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channel_analysis import schema
from channel_analysis.metrics import cohorts
from channel_analysis.panel import dealer_month_panel

T = pd.to_datetime
PANEL_COLUMNS = list(schema.Panel.to_schema().columns)


def make_panel(rows: list[dict]) -> pd.DataFrame:
    """Rows with dealer_id, month 'YYYY-MM', months_since_signed, in_network, revenue (and any
    other panel column) → a panel frame, every other column zero (region 'N', tier 'A')."""
    frame = pd.DataFrame(rows, columns=["dealer_id", "month", "months_since_signed", "in_network", "revenue"])
    frame = pd.DataFrame(rows) if rows else frame
    frame["month"] = pd.to_datetime(frame["month"] + "-01")
    defaults = {"region": "N", "tier": "A", "sales_manager_id": "SM1"}
    for column in PANEL_COLUMNS:
        if column not in frame:
            frame[column] = defaults.get(column, 0)
    frame["revenue"] = frame["revenue"].astype(float)
    frame["gross_orders"] = frame["revenue"].clip(lower=0)
    frame["returns"] = (-frame["revenue"]).clip(lower=0)
    frame["order_count"] = (frame["revenue"] > 0).astype("int64")
    return frame[PANEL_COLUMNS]


def _rows(dealer: str, first_month: str, first_age: int, revenues: list[float], gone_at: int | None = None):
    """One dealer's consecutive panel rows from ``first_month`` at age ``first_age``; in the
    network from age 0 until the row at age ``gone_at`` (the month it left)."""
    start = pd.Period(first_month, "M")
    return [
        dict(
            dealer_id=dealer,
            month=str(start + k),
            months_since_signed=first_age + k,
            in_network=0 <= first_age + k and (gone_at is None or first_age + k < gone_at),
            revenue=r,
        )
        for k, r in enumerate(revenues)
    ]


# Cohort 2024Q1: A signs in January; B orders a first batch (30) in January, signs in February
# and leaves in April. Cohort 2024Q2: C signs in April. As of 2024-05.
RAMP = make_panel(
    _rows("A", "2024-01", 0, [100, 0, 50, 0, 20])
    + _rows("B", "2024-01", -1, [30, 60, 10, 0], gone_at=2)
    + _rows("C", "2024-04", 0, [40, 0])
    + _rows("A", "2024-06", 5, [999])  # after as_of: never counted
)


def test_cohort_ramp_up():
    out = cohorts.cohort_ramp_up(RAMP, as_of="2024-05")
    q1 = out[out["cohort"] == pd.Period("2024Q1")].set_index("months_since_signed")
    # age 0: A 100, B 30 (before signing) + 60 = 90 → total 190, mean 95, quartiles 92.5/95/97.5
    assert q1.loc[0, ["dealers", "revenue", "mean", "q1", "median", "q3"]].tolist() == [2, 190, 95, 92.5, 95, 97.5]
    # ages 1–3: A 0, 50, 0; B 10, 0 and 0 (gone in April, May counts 0: churn is in the curve)
    assert q1.loc[[1, 2, 3], "revenue"].tolist() == [10, 50, 0]
    # age 4 (A in May) is reached by A only: B's age 4 would be June, after as_of
    assert q1.loc[4, ["cohort_dealers", "dealers", "revenue"]].tolist() == [2, 1, 20]
    q2 = out[out["cohort"] == pd.Period("2024Q2")]
    assert q2["revenue"].tolist() == [40, 0]
    assert out["revenue"].sum() == 310  # = all panel revenue up to May


def test_payback_month():
    out = cohorts.payback_month(RAMP, 60.0, as_of="2024-05", gross_margin=0.5).set_index("cohort")
    # Q1, cumulative margin at 50%: A 50, 50, 75, 75, 85; B 45, 50, 50, 50 (ages 0–3, all B has).
    # Mean over ages every dealer reached (0–3): 47.5, 50, 62.5 ≥ 60 → paid back at month 2.
    # By May A has earned 85 ≥ 60, B 50 < 60 → share 0.5.
    q1 = out.loc[pd.Period("2024Q1")]
    assert (q1["months_observed"], q1["payback_month"], q1["dealers_paid_back_share"]) == (3, 2.0, 0.5)
    # Q2: C has earned 20 < 60: not yet paid back.
    assert np.isnan(out.loc[pd.Period("2024Q2"), "payback_month"])


def test_payback_month_with_cac_per_cohort():
    cac = pd.Series({pd.Period("2024Q1"): 40.0, pd.Period("2024Q2"): 20.0})
    out = cohorts.payback_month(RAMP, cac, as_of="2024-05", gross_margin=0.5)
    # Q1: 47.5 ≥ 40 at month 0; Q2: C's 20 ≥ 20 at month 0.
    assert out["cac"].tolist() == [40.0, 20.0] and out["payback_month"].tolist() == [0.0, 0.0]


# E1, E2 signed 2023-01, 1,000 a month through 2024. E3 too, until it leaves in July 2024.
VALUE = make_panel(
    _rows("E1", "2024-01", 12, [1_000] * 12)
    + _rows("E2", "2024-01", 12, [1_000] * 12)
    + _rows("E3", "2024-01", 12, [1_000] * 6 + [0], gone_at=18)
)


def test_retained_dealer_value_without_churn_or_discount():
    out = cohorts.retained_dealer_value(
        VALUE, as_of="2024-12", horizon_months=12, annual_discount_rate=0.0, gross_margin=0.25, include_churn=False
    ).iloc[0]
    # 30 established dealer-months (E1 12, E2 12, E3 6) with 30,000 → 1,000 a month;
    # 25% margin × 1,000 × 12 months = 3,000.
    assert out["monthly_revenue_per_dealer"] == 1_000 and out["value"] == pytest.approx(3_000)
    assert (out["horizon_months"], out["annual_discount_rate"], out["gross_margin"]) == (12, 0.0, 0.25)


def test_retained_dealer_value_with_churn_and_discount():
    out = cohorts.retained_dealer_value(
        VALUE, as_of="2024-12", horizon_months=12, annual_discount_rate=0.10, gross_margin=0.25
    ).iloc[0]
    # One leaver (E3, July) over 30 established dealer-months → h = 1 / 31 a month.
    # value = 250 × Σ_{k=1..12} (30/31)^k × 1.1^(−k/12)
    k = np.arange(1, 13)
    assert out["monthly_churn"] == pytest.approx(1 / 31)
    assert out["value"] == pytest.approx(250 * ((30 / 31) ** k * 1.1 ** (-k / 12)).sum())
    assert out["established_dealers"] == 3


def test_survival_by_cohort():
    dealers = pd.DataFrame(
        {
            "dealer_id": ["W1", "W2", "W3", "W4", "V1", "V2", "V3", "Z1"],
            "region": "N",
            "signed_date": T(
                ["2024-01-05", "2024-01-09", "2024-02-01", "2024-03-01"]  # W1–W4
                + ["2023-06-01", "2023-03-01", "2023-01-01", "2025-01-02"]  # V1–V3, Z1
            ),
            "terminated_date": T([None, "2024-04-10", "2025-02-01", None, "2023-09-15", "2024-03-20", None, None]),
        }
    )
    out = cohorts.survival_by_cohort(dealers, as_of="2024-12")
    y2024 = out[out["cohort"] == pd.Period("2024", "Y")].set_index("months")
    # 2024: W2 lost 3 months after signing (Jan → Apr); W3 leaves in 2025, after as_of: still in.
    # 4 at risk at month 3, 1 lost → S(3) = 0.75, and S stays 0.75 to month 11 (W1's age in December).
    assert y2024["survival"].tolist() == [1.0, 1.0, 1.0] + [0.75] * 9
    assert (y2024.loc[3, "at_risk"], y2024.loc[3, "lost"], y2024.loc[4, "at_risk"]) == (4, 1, 3)
    assert (y2024["ci_low"] <= y2024["survival"]).all() and (y2024["survival"] <= y2024["ci_high"]).all()
    assert y2024.loc[3, "ci_low"] < 0.75 < y2024.loc[3, "ci_high"]
    # 2023: V1 lost at month 3 (3 at risk → 2/3), V2 at month 12 (2 at risk → 1/3); V3 stays to 23.
    y2023 = out[out["cohort"] == pd.Period("2023", "Y")].set_index("months")["survival"]
    assert y2023[[2, 3, 11, 12, 23]].tolist() == pytest.approx([1, 2 / 3, 2 / 3, 1 / 3, 1 / 3])
    assert pd.Period("2025", "Y") not in set(out["cohort"])  # Z1 signs after as_of
    # the 7 dealers signed by December 2024 as one cohort: V1 and W2 lost at month 3, all 7 at risk
    # → 5/7; V2 lost at month 12 with V2 and V3 at risk (the others are younger) → 5/7 × 1/2
    pooled = cohorts.survival_by_cohort(dealers, as_of="2024-12", cohort_freq=None).set_index("months")
    assert set(pooled["cohort"]) == {"all"} and pooled.loc[0, "at_risk"] == 7
    assert pooled["survival"][[2, 3, 11, 12]].tolist() == pytest.approx([1, 5 / 7, 5 / 7, 5 / 14])


STATUS_DEALERS = pd.DataFrame(
    {
        "dealer_id": ["S1", "S2", "S3", "S4", "S5", "S6", "S7"],
        "region": ["N", "N", "S", "S", "S", "S", "S"],
        "sales_manager_id": pd.Series(["SM1", "SM1", "SM2", None, "SM2", "SM2", "SM2"], dtype="str"),
        "signed_date": T(
            ["2023-01-10", "2023-01-10", "2024-09-01", "2022-01-01", "2020-01-01", "2025-01-01", "2023-05-01"]
        ),
        "terminated_date": T(["2025-02-01", None, None, "2024-03-10", "2023-06-30", None, None]),
    }
)
STATUS_PANEL = make_panel(
    [
        dict(dealer_id="S1", month="2024-10", months_since_signed=21, in_network=True, revenue=500.0),
        dict(dealer_id="S2", month="2024-05", months_since_signed=16, in_network=True, revenue=800.0),
        dict(dealer_id="S2", month="2024-09", months_since_signed=20, in_network=True, revenue=-50.0),
        dict(dealer_id="S4", month="2023-03", months_since_signed=14, in_network=True, revenue=999.0),
        dict(dealer_id="S4", month="2023-06", months_since_signed=17, in_network=True, revenue=100.0),
        dict(dealer_id="S4", month="2024-02", months_since_signed=25, in_network=True, revenue=50.0),
        dict(dealer_id="S5", month="2023-05", months_since_signed=40, in_network=True, revenue=70.0),
        dict(dealer_id="S7", month="2024-12", months_since_signed=19, in_network=True, revenue=300.0),
    ]
)


def test_revenue_lost_to_churn():
    out = cohorts.revenue_lost_to_churn(STATUS_PANEL, STATUS_DEALERS, as_of="2024-12")
    # Lost in T12: S4 only (S5 left in 2023; S1 leaves after as_of). Its 12 months ending March
    # 2024 (2023-04 … 2024-03): June 100 + February 50 = 150; March 2023's 999 is before.
    assert out["dealer_id"].tolist() == ["S4"] and out["revenue_t12_before_leaving"].tolist() == [150.0]
    # terminated_date is optional: without it nobody has left
    none = cohorts.revenue_lost_to_churn(STATUS_PANEL, STATUS_DEALERS.drop(columns="terminated_date"), as_of="2024-12")
    assert none.empty and "revenue_t12_before_leaving" in none


@st.composite
def _network(draw):
    """Up to 8 dealers signed 2023-01 … 2024-06, some leaving, with monthly revenue (some
    negative, some before signing) from their first row to 2024-12 or the month they left."""
    rows, dealers = [], []
    for i in range(draw(st.integers(1, 8))):
        signed = draw(st.integers(0, 17))  # months after 2023-01
        gone = draw(st.one_of(st.none(), st.integers(signed, 30)))
        pre = draw(st.integers(0, 1))
        last = min(23, gone) if gone is not None else 23
        n = last - signed + pre + 1
        revenue = draw(st.lists(st.integers(-50, 500), min_size=n, max_size=n))
        month = pd.Period("2023-01", "M")
        rows += _rows(f"D{i}", str(month + signed - pre), -pre, revenue, None if gone is None else gone - signed)
        dealers.append(
            dict(
                dealer_id=f"D{i}",
                region=draw(st.sampled_from(["N", "S"])),
                signed_date=(month + signed).start_time + pd.Timedelta(days=draw(st.integers(0, 27))),
                terminated_date=(month + gone).start_time + pd.Timedelta(days=27) if gone is not None else pd.NaT,
            )
        )
    return make_panel(rows), pd.DataFrame(dealers)


@settings(max_examples=40, deadline=None)
@given(_network(), st.integers(0, 23), st.sampled_from(["M", "Q", "Y"]))
def test_invariants(network, month_offset, cohort_freq):
    panel, dealers = network
    as_of = pd.Period("2023-01", "M") + month_offset
    signed_by = dealers.loc[dealers["signed_date"] < (as_of + 1).start_time, "dealer_id"]
    seen = panel[(panel["month"] <= as_of.start_time) & panel["dealer_id"].isin(signed_by)]
    curves = cohorts.cohort_ramp_up(panel, as_of=as_of, cohort_freq=cohort_freq)
    assert curves["revenue"].sum() == pytest.approx(seen["revenue"].sum())
    survival = cohorts.survival_by_cohort(dealers, as_of=as_of, cohort_freq=cohort_freq)
    assert survival.loc[survival["months"] == 0, "at_risk"].sum() == len(signed_by)
    for _, curve in survival.groupby("cohort"):
        assert (np.diff(curve["survival"]) <= 1e-12).all() and (np.diff(curve["at_risk"]) <= 0).all()
        assert curve["survival"].between(0, 1).all()


def test_with_the_computed_panel():
    dealers = pd.DataFrame(
        {
            "dealer_id": ["A", "B", "C"],
            "dealer_name": ["鲁起", "苏吊", "粤起"],
            "region": ["N", "N", "S"],
            "signed_date": T(["2024-01-05", "2024-02-01", "2024-08-01"]),
            "terminated_date": T([None, "2024-05-20", None]),
        }
    )
    orders = pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3", "O4", "O5"],
            "dealer_id": ["A", "A", "B", "C", "C"],
            "order_date": T(["2023-12-20", "2024-03-01", "2024-02-10", "2024-07-25", "2025-01-10"]),
            "amount": [100.0, -10.0, 50.0, 70.0, 999.0],
        }
    )
    panel = dealer_month_panel({"dealers": dealers, "orders": orders}, as_of="2024-07")
    # As of July: C signs in August, so its July order is not yet a dealer's; 100 − 10 + 50 = 140.
    assert cohorts.cohort_ramp_up(panel, as_of="2024-07")["revenue"].sum() == 140.0
    # B left in May, within T12, with its 50 of February.
    lost = cohorts.revenue_lost_to_churn(panel, dealers, as_of="2024-07")
    assert lost["revenue_t12_before_leaving"].tolist() == [50.0]
