"""Acquisition and retention costs, established dealers' revenue, the retention-activity model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channel_analysis import schema
from channel_analysis.errors import ChannelAnalysisError, ParameterError
from channel_analysis.metrics import costs
from channel_analysis.metrics.kpis import monthly_kpis
from channel_analysis.panel import dealer_month_panel

T = pd.to_datetime
PANEL_COLUMNS = list(schema.Panel.to_schema().columns)

# Four dealers. D3 leaves on 2024-10-15; D4 signs in November.
DEALERS = pd.DataFrame(
    {
        "dealer_id": ["D1", "D2", "D3", "D4"],
        "dealer_name": ["鲁起", "苏吊", "粤起", "浙重"],
        "region": ["N", "N", "S", "S"],
        "signed_date": T(["2024-01-15", "2024-02-10", "2024-05-20", "2024-11-01"]),
        "terminated_date": T([None, None, "2024-10-15", None]),
    }
)
EXPENSES = pd.DataFrame(
    {
        "expense_id": ["E1", "E2", "E3", "E4", "E5", "R1", "R2"],
        "spent_on": T(
            ["2024-01-05", "2024-02-01", "2024-04-10", "2024-06-01", "2025-01-05", "2024-03-01", "2024-08-01"]
        ),
        "amount": [10_000.0, 5_000.0, 6_000.0, 3_000.0, 99_999.0, 1_000.0, 2_000.0],
        "purpose": ["acquisition"] * 5 + ["retention"] * 2,
        "category": ["advertising", "travel", "setup", "travel", "advertising", "support", "travel"],
        "region": pd.Series(["N", "N", "S", None, "N", "N", "S"], dtype="str"),
    }
)


def make_panel(rows: list[dict]) -> pd.DataFrame:
    """Rows with dealer_id, month 'YYYY-MM', months_since_signed, in_network, revenue (and any
    other panel column) → a panel frame, every other column zero (region 'N', tier 'A')."""
    frame = pd.DataFrame(rows)
    frame["month"] = pd.to_datetime(frame["month"] + "-01")
    defaults = {"region": "N", "tier": "A", "sales_manager_id": "SM1"}
    for column in PANEL_COLUMNS:
        if column not in frame:
            frame[column] = defaults.get(column, 0)
    frame["gross_orders"] = frame["revenue"].clip(lower=0)
    frame["returns"] = (-frame["revenue"]).clip(lower=0)
    frame["order_count"] = (frame["revenue"] > 0).astype("int64")
    return frame[PANEL_COLUMNS]


def test_cac_by_quarter():
    out = costs.acquisition_cost_per_dealer(EXPENSES, DEALERS, as_of="2024-06")
    # Q1: E1 10,000 + E2 5,000 = 15,000; D1, D2 signed → 7,500.
    # Q2: E3 6,000 + E4 3,000 = 9,000; D3 signed → 9,000. E5 (2025) is after as_of; D4 too.
    assert out["period"].astype(str).tolist() == ["2024Q1", "2024Q2"]
    assert out["spend"].tolist() == [15_000.0, 9_000.0]
    assert out["dealers_signed"].tolist() == [2, 1]
    assert out["cac"].tolist() == [7_500.0, 9_000.0]
    assert out["period_complete"].tolist() == [True, True]


def test_cac_quarter_in_progress_sees_only_data_up_to_as_of():
    out = costs.acquisition_cost_per_dealer(EXPENSES, DEALERS, as_of="2024-05")
    # Q2 as of May: E3 6,000 only (E4 is dated June); D3 signed in May → 6,000, quarter not complete.
    q2 = out.iloc[-1]
    assert (q2["spend"], q2["dealers_signed"], q2["cac"], q2["period_complete"]) == (6_000.0, 1, 6_000.0, False)


def test_cac_by_category_adds_up_to_cac():
    out = costs.acquisition_cost_per_dealer(EXPENSES, DEALERS, as_of="2024-06", by="category")
    q1 = out[out["period"] == pd.Period("2024Q1")].set_index("category")["cac"]
    # Q1 has 2 signings: advertising 10,000 / 2 = 5,000; travel 5,000 / 2 = 2,500; setup 0.
    assert q1.to_dict() == {"setup": 0.0, "advertising": 5_000.0, "travel": 2_500.0}
    assert q1.sum() == 7_500.0


def test_cac_by_region_keeps_spend_without_region_apart():
    out = costs.acquisition_cost_per_dealer(EXPENSES, DEALERS, as_of="2024-06", by="region")
    q2 = out[out["period"] == pd.Period("2024Q2")]
    # Q2: region S spent 6,000 (E3) and signed D3 → 6,000; region N spent and signed nothing;
    # E4 3,000 has no region: its row has spend but no cac.
    s = q2[q2["region"] == "S"].iloc[0]
    assert (s["spend"], s["dealers_signed"], s["cac"]) == (6_000.0, 1, 6_000.0)
    assert np.isnan(q2[q2["region"] == "N"]["cac"].iloc[0])
    unallocated = q2[q2["region"].isna()].iloc[0]
    assert unallocated["spend"] == 3_000.0 and np.isnan(unallocated["cac"])


def test_cac_monthly():
    out = costs.acquisition_cost_per_dealer(EXPENSES, DEALERS, as_of="2024-03", freq="ME")
    # Jan: 10,000 / D1 = 10,000; Feb: 5,000 / D2 = 5,000; Mar: nothing spent, nobody signed.
    assert out["cac"].tolist()[:2] == [10_000.0, 5_000.0] and np.isnan(out["cac"].iloc[2])


def test_unknown_freq_is_refused():
    with pytest.raises(ParameterError, match="freq"):
        costs.acquisition_cost_per_dealer(EXPENSES, DEALERS, as_of="2024-06", freq="W")


def test_retention_cost_per_dealer_by_category():
    out = costs.retention_cost_per_dealer(EXPENSES, DEALERS, as_of="2024-12")
    # Dealers in the network at the 12 month ends of 2024:
    # Jan 1 (D1), Feb–Apr 2, May–Sep 3 (D3 from May 20, gone Oct 15), Oct 2, Nov–Dec 3 (D4)
    # = 1 + 3×2 + 5×3 + 2 + 2×3 = 30 → mean 2.5.
    # Retention spend: R1 support 1,000 → 400 per dealer; R2 travel 2,000 → 800; total 1,200.
    by_category = out.set_index("category")
    assert by_category["mean_dealers_in_network"].tolist() == [2.5, 2.5]
    assert by_category["cost_per_dealer"].to_dict() == {"travel": 800.0, "support": 400.0}
    assert out["cost_per_dealer"].sum() == 1_200.0


def test_retention_cost_per_dealer_by_region_and_earlier_year():
    out = costs.retention_cost_per_dealer(EXPENSES, DEALERS, as_of="2024-12", by="region", years=2)
    # Region N: D1 from January, D2 from February → 1 + 11×2 = 23 dealer-month-ends → mean 23/12;
    # R1 1,000 spent in N → 1,000 × 12 / 23. The year ending 2023-12 has no dealers: no cost.
    north = out[(out["year_ending"] == pd.Period("2024-12", "M")) & (out["region"] == "N")].iloc[0]
    assert north["mean_dealers_in_network"] == pytest.approx(23 / 12)
    assert north["cost_per_dealer"] == pytest.approx(1_000 * 12 / 23)
    assert out[out["year_ending"] == pd.Period("2023-12", "M")]["cost_per_dealer"].isna().all()


# A signs in 2024-01; B orders a first batch in 2023-12, signs in 2024-01 and leaves in 2024-03.
SEGMENT_PANEL = make_panel(
    [
        dict(dealer_id="A", month="2024-01", months_since_signed=0, in_network=True, revenue=100.0),
        dict(dealer_id="A", month="2024-02", months_since_signed=1, in_network=True, revenue=50.0),
        dict(dealer_id="A", month="2024-03", months_since_signed=2, in_network=True, revenue=30.0),
        dict(dealer_id="B", month="2023-12", months_since_signed=-1, in_network=False, revenue=20.0),
        dict(dealer_id="B", month="2024-01", months_since_signed=0, in_network=True, revenue=80.0),
        dict(dealer_id="B", month="2024-02", months_since_signed=1, in_network=True, revenue=10.0),
        dict(dealer_id="B", month="2024-03", months_since_signed=2, in_network=False, revenue=-5.0),
    ]
)


def test_revenue_by_segment():
    out = costs.revenue_by_segment(SEGMENT_PANEL, as_of="2024-03").set_index("segment")
    # established: A Feb 50 + A Mar 30 + B Feb 10 = 90; new: A Jan 100 + B Dec 20 + B Jan 80 = 200;
    # left: B's return in March −5. Total 285.
    assert out["revenue"].to_dict() == {"established": 90.0, "new": 200.0, "left": -5.0}
    assert out["dealer_months"].to_dict() == {"established": 3, "new": 3, "left": 1}
    assert out.loc["established", "revenue_share"] == pytest.approx(90 / 285)


def test_revenue_by_segment_ignores_months_after_as_of():
    out = costs.revenue_by_segment(SEGMENT_PANEL, as_of="2024-02").set_index("segment")
    assert out["revenue"].to_dict() == {"established": 60.0, "new": 200.0, "left": 0.0}  # 50 + 10


def test_retention_spend_roi():
    expenses = pd.DataFrame(
        {
            "expense_id": ["X1", "X2", "X3"],
            "spent_on": T(["2024-02-15", "2024-02-20", "2024-04-01"]),
            "amount": [30.0, 500.0, 1_000.0],
            "purpose": ["retention", "acquisition", "retention"],
            "category": ["support", "advertising", "support"],
        }
    )
    out = costs.retention_spend_roi(SEGMENT_PANEL, expenses, as_of="2024-03")
    # established revenue 90 / retention spend 30 (X2 is acquisition, X3 after as_of) = 3.0
    assert out[["retention_spend", "established_revenue", "revenue_per_retention_spend"]].iloc[0].tolist() == [
        30.0,
        90.0,
        3.0,
    ]


def test_agrees_with_the_contract_kpis():
    orders = pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3", "O4", "O5"],
            "dealer_id": ["D1", "D2", "D3", "D1", "D4"],
            "order_date": T(["2024-01-20", "2024-02-15", "2024-06-01", "2024-09-10", "2024-12-01"]),
            "amount": [1_000.0, 500.0, 700.0, -100.0, 300.0],
        }
    )
    tables = {"dealers": DEALERS, "orders": orders, "expenses": EXPENSES}
    kpis = monthly_kpis(tables, as_of="2024-12")
    network = kpis[kpis["scope"] == "network"].set_index("metric")["value"]
    # As of December, the calendar year is T12: 24,000 acquisition spend / 4 signings = 6,000.
    yearly = costs.acquisition_cost_per_dealer(EXPENSES, DEALERS, as_of="2024-12", freq="YE")
    assert yearly["cac"].iloc[-1] == network["cac_t12"] == 6_000.0
    retention = costs.retention_cost_per_dealer(EXPENSES, DEALERS, as_of="2024-12", by=None)
    assert retention["cost_per_dealer"].iloc[0] == network["retention_cost_per_dealer_t12"] == 1_200.0
    segments = costs.revenue_by_segment(dealer_month_panel(tables, as_of="2024-12"), as_of="2024-12")
    assert segments["revenue"].sum() == network["revenue_t12"] == 2_400.0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 17),  # month offset from 2023-01
            st.floats(1, 1e6),
            st.sampled_from(schema.PURPOSES),
            st.sampled_from(schema.EXPENSE_CATEGORIES),
            st.sampled_from(["N", "S", None]),
        ),
        min_size=1,
        max_size=25,
    ),
    st.lists(st.tuples(st.integers(0, 17), st.sampled_from(["N", "S"])), min_size=1, max_size=8),
    st.sampled_from(["ME", "QE", "YE"]),
)
def test_cac_breakdowns_reconcile(expense_rows, dealer_rows, freq):
    start = pd.Timestamp("2023-01-10")
    expenses = pd.DataFrame(
        {
            "expense_id": [f"E{i}" for i in range(len(expense_rows))],
            "spent_on": [start + pd.DateOffset(months=m) for m, *_ in expense_rows],
            "amount": [a for _, a, *_ in expense_rows],
            "purpose": [p for _, _, p, *_ in expense_rows],
            "category": [c for *_, c, _ in expense_rows],
            "region": pd.Series([r for *_, r in expense_rows], dtype="str"),
        }
    )
    dealers = pd.DataFrame(
        {
            "dealer_id": [f"D{i}" for i in range(len(dealer_rows))],
            "region": [r for _, r in dealer_rows],
            "signed_date": [start + pd.DateOffset(months=m) for m, _ in dealer_rows],
        }
    )
    as_of = "2024-03"  # month offset 14: later rows must not count
    total = costs.acquisition_cost_per_dealer(expenses, dealers, as_of=as_of, freq=freq)
    both = costs.acquisition_cost_per_dealer(expenses, dealers, as_of=as_of, freq=freq, by=["region", "category"])
    by_category = costs.acquisition_cost_per_dealer(expenses, dealers, as_of=as_of, freq=freq, by="category")
    cutoff = pd.Timestamp("2024-04-01")
    expected_spend = expenses.loc[(expenses["purpose"] == "acquisition") & (expenses["spent_on"] < cutoff), "amount"]
    assert total["spend"].sum() == pytest.approx(expected_spend.sum())
    assert both["spend"].sum() == pytest.approx(expected_spend.sum())
    # periods start with the first acquisition spend's: signings before it have no known cost
    spent_on = expenses.loc[expected_spend.index, "spent_on"]
    first = spent_on.min() if len(spent_on) else cutoff - pd.Timedelta(days=1)  # none: the as_of period
    start = first.to_period(freq[0]).start_time
    assert total["dealers_signed"].sum() == dealers["signed_date"].between(start, cutoff, inclusive="left").sum()
    summed = by_category.groupby("period")["cac"].sum(min_count=1).reindex(total["period"])
    assert np.allclose(summed.fillna(0).to_numpy(), total.set_index("period")["cac"].reindex(summed.index).fillna(0))


def _simulated(effects: dict[str, float], seed: int, n_dealers: int = 120, n_blocks: int = 9):
    """Dealers signed 2021-01 … 2021-12, observed from 2022-01 for 27 months in 3-month blocks.
    Log revenue of a block is the dealer's level + noise + Σ effect × its activity in the block
    before: the planted truth. Calls fall in a block's first month, visits in its second,
    retention spend (booked to the dealer) in its third."""
    rng = np.random.default_rng(seed)
    activity = {
        "calls_out": rng.poisson(3, (n_dealers, n_blocks)),
        "visits": rng.poisson(1, (n_dealers, n_blocks)),
        "retention_spend": rng.gamma(2.0, 500.0, (n_dealers, n_blocks)),
    }
    log_revenue = rng.normal(9.0, 1.0, (n_dealers, 1)) + rng.normal(0, 0.3, (n_dealers, n_blocks))
    for name, effect in effects.items():
        scale = 1000.0 if name == "retention_spend" else 1.0
        log_revenue[:, 1:] += effect * activity[name][:, :-1] / scale
    months = 3 * n_blocks
    dealer, month = np.repeat(np.arange(n_dealers), months), np.tile(np.arange(months), n_dealers)
    block, within = month // 3, month % 3
    ids = np.char.add("D", np.arange(n_dealers).astype(str))
    start = pd.Period("2022-01", "M")
    panel = make_panel(
        pd.DataFrame(
            {
                "dealer_id": ids[dealer],
                "month": [str(start + m) for m in month],
                "months_since_signed": month + rng.integers(1, 13, n_dealers)[dealer],
                "in_network": True,
                "revenue": np.expm1(log_revenue[dealer, block]) / 3,
                "calls_out": np.where(within == 0, activity["calls_out"][dealer, block], 0),
                "visits": np.where(within == 1, activity["visits"][dealer, block], 0),
                "region": rng.choice(["N", "S", "W"], n_dealers)[dealer],
                "tier": rng.choice(["A", "B"], n_dealers)[dealer],
            }
        ).to_dict("records")
    )
    third = within == 2
    expenses = pd.DataFrame(
        {
            "expense_id": [f"X{i}" for i in range(third.sum())],
            "spent_on": [(start + m).start_time + pd.Timedelta(days=14) for m in month[third]],
            "amount": activity["retention_spend"][dealer[third], block[third]],
            "purpose": "retention",
            "category": "support",
            "dealer_id": ids[dealer[third]],
        }
    )
    return panel, expenses


PLANTED = {"calls_out": 0.08, "visits": 0.0, "retention_spend": 0.05}


def test_retention_activity_effect_counts_observations():
    panel, expenses = _simulated(PLANTED, seed=0)
    out = costs.retention_activity_effect(panel, expenses, as_of="2024-03")
    # Windows end 2023-12, 2023-09, …, 2022-03: 9 blocks, the last one is only an outcome → 8
    # windows × 120 dealers (all signed before 2022-01) = 960 observations.
    assert out["n_obs"].tolist() == [960] * 3 and out["n_dealers"].tolist() == [120] * 3
    assert out["term"].tolist() == ["calls_out", "visits", "retention_spend"]
    assert "not causation" in out["limits"].iloc[0]


@pytest.mark.parametrize("planted", [PLANTED, {}], ids=["planted", "no_effect"])
def test_retention_activity_effect_intervals_cover_the_truth(planted):
    # 95% intervals over 10 seeded data sets: each term's truth (0 where nothing is planted)
    # inside at least 8 times (fewer happens by chance about 1 time in 100 if the
    # intervals are right); the planted calls effect is told apart from 0 every time.
    covered = dict.fromkeys(PLANTED, 0)
    for seed in range(10):
        panel, expenses = _simulated(planted, seed=seed)
        out = costs.retention_activity_effect(panel, expenses, as_of="2024-03").set_index("term")
        for term in PLANTED:
            covered[term] += out.loc[term, "ci_low"] <= planted.get(term, 0.0) <= out.loc[term, "ci_high"]
        if planted:
            assert out.loc["calls_out", "ci_low"] > 0
    assert min(covered.values()) >= 8, covered


def test_retention_activity_effect_needs_enough_dealers():
    with pytest.raises(ChannelAnalysisError, match="dealers"):
        costs.retention_activity_effect(SEGMENT_PANEL, as_of="2024-03")


def test_retention_activity_effect_is_the_formula_regression():
    # the dummies are partialled out (Frisch–Waugh–Lovell), not estimated; the estimates,
    # intervals and p-values are those of statsmodels' formula interface with the same terms and dummies
    import statsmodels.formula.api as smf

    panel, expenses = _simulated(PLANTED, seed=3)
    out = costs.retention_activity_effect(panel, expenses, as_of="2024-03").set_index("term")
    data = costs._observations(panel, expenses, pd.Period("2024-03", freq="M"), 3, 3)
    data["y"] = np.log1p(data["outcome"].clip(lower=0))
    data["past_log_revenue"] = np.log1p(data["revenue"].clip(lower=0))
    data["retention_spend"] = data["retention_spend"] / 1000.0
    data["log_months_signed"] = np.log1p(data["months_signed"].astype(float))
    assert data.groupby("anchor")["log_months_signed"].nunique().max() > 1  # so the model keeps it
    effects = [f"C({c})" for c in ("region", "tier", "anchor") if data[c].nunique() > 1]
    assert effects  # the comparison covers the dummies
    formula = "y ~ calls_out + visits + retention_spend + past_log_revenue + log_months_signed + " + " + ".join(effects)
    fit = smf.ols(formula, data=data).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(data["dealer_id"])[0]})
    ci = fit.conf_int()
    for term in ["calls_out", "visits", "retention_spend"]:
        assert out.loc[term, "coef"] == pytest.approx(fit.params[term], rel=1e-9, abs=1e-12)
        assert out.loc[term, "ci_low"] == pytest.approx(ci.loc[term, 0], rel=1e-9, abs=1e-12)
        assert out.loc[term, "ci_high"] == pytest.approx(ci.loc[term, 1], rel=1e-9, abs=1e-12)
        assert out.loc[term, "p_value"] == pytest.approx(fit.pvalues[term], rel=1e-7, abs=1e-12)
