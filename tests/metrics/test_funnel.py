"""The prospect funnel, time to signing, effort per signing against effort per retained dealer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channel_analysis import schema
from channel_analysis.metrics import funnel
from channel_analysis.metrics.kpis import monthly_kpis
from helpers.funnel_tables import INTERACTIONS, RETAINED, _prospects

T = pd.to_datetime


# Report month 2024-06; the 12-month window closes from 2023-07-01.
PROSPECTS = _prospects(
    [
        ("P1", "N", "SM1", "2024-01-01", "signed", "signed", "2024-03-01", "D1", 10, 20.0),
        ("P2", "N", "SM1", "2024-01-15", "visited", "lost", "2024-02-15", None, 4, 6.0),
        ("P3", "N", "SM2", "2024-02-01", "negotiating", "lost", "2024-04-01", None, 6, 9.0),
        ("P4", "S", "SM2", "2024-02-01", "contacted", "lost", "2024-02-10", None, 1, 0.5),
        ("P5", "S", "SM2", "2024-03-01", "signed", "signed", "2024-05-31", "D2", 9, 14.5),
        ("P6", "S", None, "2024-05-01", "visited", "open", None, None, 2, 3.0),
        ("P7", "N", "SM1", "2024-04-01", "signed", "signed", "2024-08-01", "D3", 20, 40.0),  # signs after June
        ("P8", "N", "SM1", "2024-07-10", "contacted", "open", None, None, 1, 1.0),  # first contact after June
        ("P9", "N", "SM1", "2022-01-01", "visited", "lost", "2023-01-01", None, 3, 5.0),  # closed before the window
    ]
)


def test_prospect_funnel():
    out = funnel.prospect_funnel(PROSPECTS, as_of="2024-06").set_index("stage")
    # Closed in the window: P1–P5. Reached contacted 5; visited P1 P2 P3 P5 = 4; negotiating
    # P1 P3 P5 = 3; signed P1 P5 = 2. Step: 4/5, 3/4, 2/3; overall at signed 2/5.
    assert out["closed"].tolist() == [5, 4, 3, 2]
    assert out["step_conversion"].iloc[1:].tolist() == pytest.approx([0.8, 0.75, 2 / 3])
    assert np.isnan(out["step_conversion"].iloc[0])
    assert out.loc["signed", "overall_conversion"] == 0.4
    # Open at June: P6 (visited) and P7 (signs in August: at most negotiating in June).
    assert out["open"].tolist() == [2, 2, 1, 0]


def test_prospect_funnel_over_all_history_and_by_region():
    everything = funnel.prospect_funnel(PROSPECTS, as_of="2024-06", window_months=None)
    assert everything["closed"].tolist() == [6, 5, 3, 2]  # P9 adds a visited prospect
    by_region = funnel.prospect_funnel(PROSPECTS, as_of="2024-06", by="region")
    # N: P1 P2 P3 → 3, 3, 2, 1; S: P4 P5 → 2, 1, 1, 1.
    assert by_region[by_region["region"] == "N"]["closed"].tolist() == [3, 3, 2, 1]
    assert by_region[by_region["region"] == "S"]["closed"].tolist() == [2, 1, 1, 1]
    by_manager = funnel.prospect_funnel(PROSPECTS, as_of="2024-06", by="sales_manager_id")
    sm2 = by_manager[by_manager["sales_manager_id"] == "SM2"].set_index("stage")
    assert sm2.loc["signed", "overall_conversion"] == pytest.approx(1 / 3)  # P5 of P3 P4 P5


def test_signed_conversion_is_the_contract_kpi():
    dealers = pd.DataFrame({"dealer_id": ["D1"], "region": ["N"], "signed_date": T(["2024-03-01"])})
    orders = pd.DataFrame({"order_id": ["O1"], "dealer_id": ["D1"], "order_date": T(["2024-03-05"]), "amount": [1.0]})
    kpis = monthly_kpis({"dealers": dealers, "orders": orders, "prospects": PROSPECTS}, as_of="2024-06")
    kpi = kpis[(kpis["metric"] == "prospect_conversion_t12") & (kpis["scope"] == "network")]["value"].iloc[0]
    out = funnel.prospect_funnel(PROSPECTS, as_of="2024-06").set_index("stage")
    assert out.loc["signed", "overall_conversion"] == kpi == 0.4


def test_time_to_signing():
    out = funnel.time_to_signing(PROSPECTS, as_of="2024-06").iloc[0]
    # P1: 2024-01-01 → 03-01 = 31 + 29 = 60 days; P5: 03-01 → 05-31 = 31 + 30 + 30 = 91 days.
    # P7 signs after June. Median 75.5; quartiles 60 + 31/4 = 67.75 and 91 − 31/4 = 83.25.
    assert out[["signed", "days_q1", "days_median", "days_q3", "days_mean"]].tolist() == [2, 67.75, 75.5, 83.25, 75.5]


def test_acquisition_effort_per_signing():
    out = funnel.acquisition_effort_per_signing(PROSPECTS, as_of="2024-06").set_index("period")
    # 2024Q1 closed P1 (signed), P2, P4: touches 10 + 4 + 1 = 15, hours 20 + 6 + 0.5 = 26.5,
    # per signing 15 and 26.5, 3 prospects per signing.
    q1 = out.loc[pd.Period("2024Q1")]
    assert q1[["closed", "signed", "touches", "hours"]].tolist() == [3, 1, 15, 26.5]
    assert q1[["prospects_per_signed", "touches_per_signed", "hours_per_signed"]].tolist() == [3, 15, 26.5]
    # 2024Q2: P3, P5 → 15 touches, 23.5 hours for 1 signing. 2023Q1: P9, no signing → no ratio.
    assert out.loc[pd.Period("2024Q2"), ["touches_per_signed", "hours_per_signed"]].tolist() == [15, 23.5]
    assert np.isnan(out.loc[pd.Period("2023Q1"), "touches_per_signed"])


def test_retention_effort_per_dealer():
    out = funnel.retention_effort_per_dealer(INTERACTIONS, RETAINED, as_of="2024-12").iloc[0]
    # Counted: i1 (30 min), i2 (90 min), i5 (no duration). Not: i3 inbound; i4 in K2's signing
    # month; i6 K3's leaving month; i7, i8 outside 2024. 3 touches, 2 hours over 2.0 dealers.
    assert out[["established_dealers", "touches", "hours"]].tolist() == [2.0, 3, 2.0]
    assert out[["touches_per_dealer_year", "hours_per_dealer_year"]].tolist() == [1.5, 1.0]


def test_acquisition_vs_retention_effort():
    out = funnel.acquisition_vs_retention_effort(PROSPECTS, INTERACTIONS, RETAINED, as_of="2024-12").set_index("effort")
    # Closed in 2024: P1–P5 and P7; signed P1 P5 P7 = 3. Touches 10+4+6+1+9+20 = 50 → 50/3;
    # hours 20+6+9+0.5+14.5+40 = 90 → 30 per signing. Retention: 1.5 touches, 1 hour a year.
    assert out.loc["per_dealer_signed", ["touches", "hours", "basis"]].tolist() == pytest.approx([50 / 3, 30, 3])
    assert out.loc["per_retained_dealer_year", ["touches", "hours", "basis"]].tolist() == [1.5, 1.0, 2.0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["N", "S"]),
            st.sampled_from(["SM1", "SM2", None]),
            st.integers(0, 30),  # first contact, months after 2023-01
            st.sampled_from(schema.STAGES),
            st.sampled_from(["open", "lost"]),  # status unless signed
            st.integers(0, 10),  # months to closing
        ),
        min_size=1,
        max_size=30,
    ),
    st.integers(0, 30),
)
def test_funnel_invariants(rows, month_offset):
    start = pd.Period("2023-01", "M")
    prospects = _prospects(
        [
            (
                f"P{i}",
                region,
                manager,
                str((start + first).start_time.date()),
                stage,
                "signed" if stage == "signed" else status,
                None if stage != "signed" and status == "open" else str((start + first + wait).start_time.date()),
                "D1" if stage == "signed" else None,
                1,
                1.0,
            )
            for i, (region, manager, first, stage, status, wait) in enumerate(rows)
        ]
    )
    as_of = start + month_offset
    out = funnel.prospect_funnel(prospects, as_of=as_of, by=["region", "sales_manager_id"])
    for _, group in out.groupby(["region", "sales_manager_id"], dropna=False):
        assert (np.diff(group["closed"]) <= 0).all() and (np.diff(group["open"]) <= 0).all()
        assert group["step_conversion"].dropna().between(0, 1).all()
    network = funnel.prospect_funnel(prospects, as_of=as_of).set_index("stage")
    # overall conversion at signed is the contract's prospect_conversion_t12
    closed = prospects["closed_date"].between((as_of - 11).start_time, as_of.end_time)
    decided = (closed & prospects["status"].isin(["signed", "lost"])).sum()
    signed = (closed & (prospects["status"] == "signed")).sum()
    assert network.loc["signed", "closed"] == signed and network.loc["contacted", "closed"] == decided
    assert out["closed"].sum() == network["closed"].sum()


def test_time_to_signing_with_nobody_signed_is_one_empty_row():
    # one prospect, lost: no signing in the window, so no days to report (and no error)
    prospects = pd.DataFrame(
        {
            "prospect_id": ["P1"],
            "region": ["山东"],
            "sales_manager_id": ["SM1"],
            "first_contact_date": pd.to_datetime(["2024-01-10"]),
            "stage_reached": ["visited"],
            "status": ["lost"],
            "closed_date": pd.to_datetime(["2024-03-01"]),
            "dealer_id": [None],
        }
    )
    out = funnel.time_to_signing(prospects, as_of="2024-06")
    assert len(out) == 1 and out.loc[0, "signed"] == 0 and pd.isna(out.loc[0, "days_median"])
    assert funnel.time_to_signing(prospects, as_of="2024-06", by="region").empty
