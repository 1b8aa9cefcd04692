"""Dealer events: cost per attendee on hand-made events, and the difference-in-differences of
attending on a hand-worked panel and on simulated panels with a planted effect."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channel_analysis import schema
from channel_analysis.metrics.events import event_cost_by_kind, event_cost_per_attendee_t12, event_costs, event_effect
from channel_analysis.metrics.kpis import monthly_kpis
from channel_analysis.panel import dealer_month_panel

P = schema.Panel


def events_frame(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["event_id", "held_on", "kind", "region", "cost"])
    df["held_on"] = pd.to_datetime(df["held_on"])
    for column in ("event_id", "kind", "region"):
        df[column] = df[column].astype("str")
    df["cost"] = df["cost"].astype(float)
    return df


def attendance_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["event_id", "dealer_id"], dtype="str")


# --- cost per attendee ---------------------------------------------------------------------
# M = 2025-10, T12 = Nov 2024 .. Oct 2025.
#   EV1 annual_meeting 2025-01-20  200 000  D1 D2 D3 D4   → 50 000 per attendee
#   EV2 training       2025-06-05   30 000  D1 D2         → 15 000
#   EV3 training       2025-09-10        0  nobody        → empty per attendee
#   EV4 forum          2024-10-31   50 000  D1            → before T12: left out
#   EV5 social         2025-11-02   10 000  D3            → after M: left out
# By kind: annual_meeting 1 event, 200 000 / 4 = 50 000; training 2 events, 30 000 / 2 = 15 000.
# T12: (200 000 + 30 000 + 0) / 6 attendance rows = 38 333.33.
EVENTS = events_frame(
    [
        ("EV1", "2025-01-20", "annual_meeting", None, 200_000),
        ("EV2", "2025-06-05", "training", "山东", 30_000),
        ("EV3", "2025-09-10", "training", None, 0),
        ("EV4", "2024-10-31", "forum", None, 50_000),
        ("EV5", "2025-11-02", "social", None, 10_000),
    ]
)
ATTENDANCE = attendance_frame(
    [("EV1", "D1"), ("EV1", "D2"), ("EV1", "D3"), ("EV1", "D4"), ("EV2", "D1"), ("EV2", "D2")]
    + [("EV4", "D1"), ("EV5", "D3")]
)


def test_cost_per_attendee_per_event():
    got = event_costs(EVENTS, ATTENDANCE, as_of="2025-10")
    assert got["event_id"].tolist() == ["EV1", "EV2", "EV3"]
    assert got["attendees"].tolist() == [4, 2, 0]
    assert got["cost_per_attendee"].tolist()[:2] == [50_000, 15_000]
    assert math.isnan(got["cost_per_attendee"].iloc[2])


def test_cost_per_attendee_per_kind():
    got = event_cost_by_kind(EVENTS, ATTENDANCE, as_of="2025-10")
    assert got["kind"].tolist() == ["annual_meeting", "training"]
    assert got["events"].tolist() == [1, 2]
    assert got["cost"].tolist() == [200_000, 30_000]
    assert got["cost_per_attendee"].tolist() == [50_000, 15_000]


def test_cost_per_attendee_t12_matches_the_contract_kpi():
    got = event_cost_per_attendee_t12(EVENTS, ATTENDANCE, as_of="2025-10")
    assert got == pytest.approx(230_000 / 6)
    dealers = pd.DataFrame(
        {"dealer_id": ["D1", "D2", "D3", "D4"], "region": "N", "signed_date": pd.to_datetime(["2024-01-01"] * 4)}
    ).astype({"dealer_id": "str", "region": "str"})
    orders = pd.DataFrame(
        {"order_id": ["O1"], "dealer_id": ["D1"], "order_date": pd.to_datetime(["2024-02-01"]), "amount": [1.0]}
    ).astype({"order_id": "str", "dealer_id": "str"})
    tables = {"dealers": dealers, "orders": orders, "events": EVENTS, "event_attendance": ATTENDANCE}
    kpis = monthly_kpis(tables, as_of="2025-10")
    assert kpis.loc[kpis["metric"] == "event_cost_per_attendee_t12", "value"].item() == pytest.approx(got)
    assert math.isnan(event_cost_per_attendee_t12(EVENTS, ATTENDANCE, as_of="2027-01"))  # nothing held in T12


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 500), st.sampled_from(schema.EVENT_KINDS), st.integers(0, 10_000)), max_size=8),
    st.lists(st.tuples(st.integers(0, 7), st.integers(0, 5)), max_size=20, unique=True),
)
def test_cost_invariants(event_rows, attendance_rows):
    events = events_frame(
        [(f"EV{i}", pd.Timestamp("2024-09-01") + pd.Timedelta(days=day), kind, None, cost)
         for i, (day, kind, cost) in enumerate(event_rows)]
    )  # fmt: skip
    attendance = attendance_frame([(f"EV{e}", f"D{d}") for e, d in attendance_rows if e < len(event_rows)])
    per_event = event_costs(events, attendance, as_of="2025-10")
    per_kind = event_cost_by_kind(events, attendance, as_of="2025-10")
    assert per_kind["cost"].sum() == per_event["cost"].sum()
    assert per_kind["attendees"].sum() == per_event["attendees"].sum()
    assert (per_event["cost_per_attendee"].dropna() >= 0).all()
    total = event_cost_per_attendee_t12(events, attendance, as_of="2025-10")
    if per_event["attendees"].sum():
        assert total == pytest.approx(per_event["cost"].sum() / per_event["attendees"].sum())
    else:
        assert math.isnan(total)


# --- difference-in-differences -----------------------------------------------------------


def panel_frame(rows: list[dict]) -> pd.DataFrame:
    """dealer-month rows → a panel with every schema.Panel column (unused counts 0)."""
    df = pd.DataFrame(rows)
    for column in P.to_schema().columns:
        if column not in df:
            df[column] = 0
    df[P.month] = pd.to_datetime(df[P.month])
    df[P.order_count] = (df[P.revenue] > 0).astype("int64")
    df[P.revenue] = df[P.revenue].astype(float)
    return df[list(P.to_schema().columns)]


def hand_panel() -> pd.DataFrame:
    # Revenue Mar, Apr | May (event month, ignored) | Jun, Jul 2025; all signed Jan 2024 in N/A
    # unless noted. window = 2: pre = Mar–Apr, post = Jun–Jul.
    #   T1 attends EV1: 10 10 | 500 | 30 30 → change of monthly mean +20
    #   T2 attends EV1: 20 20 |   0 | 20 40 → +10
    #   C1:             10 10 |   0 | 10 10 →   0
    #   C2:              0 10 |   0 | 10 10 →  +5
    #   C3 (leaves Jul):30 30 |   0 | 20 20 → −10
    #   C4 region S:     0  0 |   0 | 99 99 → no attendee in S/A: dropped
    #   C5 signed Apr 2025: not in the network through the pre window: dropped
    #   C6 went to a training in April (EV2): not a clean comparison: dropped
    series = {
        "T1": [10, 10, 500, 30, 30], "T2": [20, 20, 0, 20, 40], "C1": [10, 10, 0, 10, 10],
        "C2": [0, 10, 0, 10, 10], "C3": [30, 30, 0, 20, 20], "C4": [0, 0, 0, 99, 99],
        "C5": [0, 50, 0, 50, 50], "C6": [0, 0, 0, 90, 90],
    }  # fmt: skip
    months = pd.period_range("2025-03", "2025-07", freq="M")
    rows = []
    for dealer, revenue in series.items():
        signed = pd.Period("2025-04" if dealer == "C5" else "2024-01", "M")
        for month, value in zip(months, revenue):
            if month < signed:
                continue
            rows.append(
                {P.dealer_id: dealer, P.month: month.start_time, P.region: "S" if dealer == "C4" else "N", P.tier: "A",
                 P.months_since_signed: (month - signed).n, P.revenue: value,
                 P.in_network: not (dealer == "C3" and month == months[-1])}
            )  # fmt: skip
    return panel_frame(rows)


HAND_EVENTS = events_frame(
    [
        ("EV1", "2025-05-15", "annual_meeting", None, 100_000),
        ("EV2", "2025-04-10", "training", None, 5_000),
        ("EV3", "2025-06-20", "annual_meeting", None, 100_000),  # post window ends Aug: after M
    ]
)
HAND_ATTENDANCE = attendance_frame(
    [("EV1", "T1"), ("EV1", "T2"), ("EV2", "C6"), ("EV3", "T1"), ("EV1", "UNKNOWN")]
)


def test_did_on_a_hand_worked_panel():
    # revenue: treated change mean (20 + 10) / 2 = 15; controls (0 + 5 − 10) / 3 = −5/3;
    #   one cell (EV1, N, A), so the estimate is 15 + 5/3 = 50/3. Pre means: treated
    #   (10 + 20) / 2 = 15; controls (10 + 5 + 30) / 3 = 15.
    # active (ordering in the window; post also in the network at its end): every dealer ordered
    #   in both windows except that C3 left in July → C3 changes −1, the rest 0; estimate
    #   0 − (−1/3) = +1/3.
    got = event_effect(
        hand_panel(), HAND_EVENTS, HAND_ATTENDANCE, as_of="2025-07", window_months=2, kind="annual_meeting"
    ).set_index("outcome")
    revenue, active = got.loc["monthly_revenue"], got.loc["active"]
    assert revenue["estimate"] == pytest.approx(50 / 3)
    assert (revenue["n_treated"], revenue["n_controls"], revenue["n_events"]) == (2, 3, 1)
    assert (revenue["treated_pre_mean"], revenue["control_pre_mean"]) == pytest.approx((15, 15))
    assert revenue["ci_low"] < 50 / 3 < revenue["ci_high"]
    assert active["estimate"] == pytest.approx(1 / 3)
    assert "self-selected" in revenue["limits"] and "not proof" in revenue["limits"]


def test_did_without_comparable_dealers_is_empty_not_an_error():
    # as of May no event's post window is over yet (EV2: May–Jun; EV1: Jun–Jul)
    got = event_effect(hand_panel(), HAND_EVENTS, HAND_ATTENDANCE, as_of="2025-05", window_months=2)
    assert got["estimate"].isna().all() and (got["n_treated"] == 0).all() and (got["n_events"] == 0).all()


def test_did_on_the_panel_built_from_tables():
    # window 1 around a March 2025 event: pre = Feb, post = Apr. D1 attends: 100 → 300 (+200);
    # D2: 100 → 100 (0); D3: 0 → 50 (+50). Estimate 200 − (0 + 50) / 2 = 175.
    dealers = pd.DataFrame(
        {"dealer_id": ["D1", "D2", "D3"], "region": "N", "tier": "A", "signed_date": pd.to_datetime(["2024-01-01"] * 3)}
    ).astype({"dealer_id": "str", "region": "str", "tier": "str"})
    orders = pd.DataFrame(
        {"order_id": ["O1", "O2", "O3", "O4", "O5"], "dealer_id": ["D1", "D1", "D2", "D2", "D3"],
         "order_date": pd.to_datetime(["2025-02-03", "2025-04-07", "2025-02-10", "2025-04-11", "2025-04-20"]),
         "amount": [100.0, 300.0, 100.0, 100.0, 50.0]}
    ).astype({"order_id": "str", "dealer_id": "str"})  # fmt: skip
    events = events_frame([("EV1", "2025-03-14", "forum", None, 1_000)])
    attendance = attendance_frame([("EV1", "D1")])
    tables = {"dealers": dealers, "orders": orders, "events": events, "event_attendance": attendance}
    panel = dealer_month_panel(tables, as_of="2025-05")
    got = event_effect(panel, events, attendance, as_of="2025-05", window_months=1).set_index("outcome")
    assert got.loc["monthly_revenue", "estimate"] == pytest.approx(175)
    assert (got.loc["monthly_revenue", "n_treated"], got.loc["monthly_revenue", "n_controls"]) == (1, 2)


def simulated(effect: float, seed: int, n: int = 200, months: int = 36, event_month: int = 18):
    """A panel where healthier dealers (higher base revenue) are likelier to attend one event in
    month 18, and attending adds ``effect`` to every later month's revenue."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"D{i:03d}" for i in range(n)])
    region, tier = rng.choice(["N", "S"], n), rng.choice(["A", "B"], n)
    base = rng.gamma(4, 25_000, n)  # mean 100 000 a month
    attends = rng.random(n) < 1 / (1 + np.exp(-(base - 100_000) / 30_000))
    start = pd.Period("2023-01", "M")
    rows = []
    for m in range(months):
        revenue = base + 10_000 * np.sin(m / 3) + rng.normal(0, 30_000, n)  # a shared season, in levels
        revenue += np.where(attends & (m > event_month), effect, 0)
        rows += [
            {P.dealer_id: d, P.month: (start + m).start_time, P.region: r, P.tier: t, P.months_since_signed: m + 12,
             P.in_network: True, P.revenue: v}
            for d, r, t, v in zip(ids, region, tier, revenue)
        ]  # fmt: skip
    events = events_frame([("EV1", (start + event_month).start_time + pd.Timedelta(days=14), "conference", None, 1.0)])
    return panel_frame(rows), events, attendance_frame([("EV1", d) for d in ids[attends]]), start + months - 1


@pytest.mark.parametrize("seed", [1, 2])
def test_did_recovers_a_planted_effect(seed):
    panel, events, attendance, as_of = simulated(effect=20_000, seed=seed)
    got = event_effect(panel, events, attendance, as_of=as_of).set_index("outcome").loc["monthly_revenue"]
    assert got["ci_low"] <= 20_000 <= got["ci_high"]
    assert got["ci_low"] > 0
    # the planted self-selection is there: attendees were bigger before the event
    assert got["treated_pre_mean"] > got["control_pre_mean"] + 20_000


@pytest.mark.parametrize("seed", [1, 2])
def test_did_finds_no_effect_where_none_was_planted(seed):
    panel, events, attendance, as_of = simulated(effect=0, seed=seed)
    got = event_effect(panel, events, attendance, as_of=as_of).set_index("outcome").loc["monthly_revenue"]
    assert got["ci_low"] <= 0 <= got["ci_high"]
    # a raw comparison of attendees' and others' post-event revenue would show a large "effect"
    assert got["treated_pre_mean"] - got["control_pre_mean"] > 4 * (got["ci_high"] - got["ci_low"])


def test_absorbed_cells_give_the_dummy_regressions_estimate_and_ci():
    # event_effect absorbs the event × region × tier cells by demeaning; the plain statsmodels
    # regression of (post − pre) on attendance and one dummy per cell, with dealer-clustered
    # errors, must give the same estimate and confidence interval.
    import statsmodels.api as sm

    from channel_analysis.metrics.events import _units

    panel, events, attendance, as_of = simulated(effect=5_000, seed=3, n=120)
    got = event_effect(panel, events, attendance, as_of=as_of).set_index("outcome").loc["monthly_revenue"]
    index = as_of.year * 12 + as_of.month - 1
    units = _units(panel, events, attendance, chosen=events["event_id"], as_of_index=index, window=6)
    design = pd.concat(
        [units["treated"].astype(float), pd.get_dummies(units["cell"], dtype=float)], axis=1
    )  # every cell's dummy, no constant
    change = units["post_monthly_revenue"] - units["pre_monthly_revenue"]
    groups = pd.factorize(units["dealer_id"])[0]
    fit = sm.OLS(change, design).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    assert got["estimate"] == pytest.approx(fit.params["treated"])
    assert (got["ci_low"], got["ci_high"]) == pytest.approx(tuple(fit.conf_int().loc["treated"]))
    assert got["p_value"] == pytest.approx(fit.pvalues["treated"])


def units_event_by_event(panel, events, attendance, *, as_of_index: int, window: int) -> pd.DataFrame:
    """The comparison rows of event_effect, found the plain way: one event at a time, from the
    panel's rows (the reference the vectorised ``_units`` must agree with)."""
    index = lambda months: months.dt.year * 12 + months.dt.month - 1  # noqa: E731
    rows = panel.assign(m=index(panel[P.month])).set_index([P.dealer_id, "m"])
    dealers = sorted(panel[P.dealer_id].unique())
    strata = panel.drop_duplicates(P.dealer_id).set_index(P.dealer_id)
    cells = {d: f"{strata.at[d, P.region]}|{strata.at[d, P.tier]}" for d in dealers}
    held = dict(zip(events["event_id"], index(events["held_on"])))
    went = {(d, held[e]) for e, d in zip(attendance["event_id"], attendance["dealer_id"]) if e in held}

    def eligible(d, m):
        return (d, m) in rows.index and rows.at[(d, m), P.in_network] and rows.at[(d, m), P.months_since_signed] > window

    def value(d, m, column):
        return rows.at[(d, m), column] if (d, m) in rows.index else 0

    out = []
    for number, (event, m) in enumerate(held.items()):
        if m + window > as_of_index or m - window < int(index(panel[P.month]).min()) - window:
            continue
        came = set(attendance.loc[attendance["event_id"] == event, "dealer_id"])
        treated = [d for d in dealers if d in came and eligible(d, m)]
        controls = [d for d in dealers if eligible(d, m) and not any((d, k) in went for k in range(m - window, m + window + 1))]
        mixed = {cells[d] for d in treated} & {cells[d] for d in controls}
        for d in dealers:
            if cells[d] in mixed and (d in treated or d in controls):
                pre, post = range(m - window, m), range(m + 1, m + window + 1)
                out.append({"event": number, P.dealer_id: d, "treated": int(d in treated), "cell": (number, cells[d]),
                            "pre_monthly_revenue": sum(value(d, k, P.revenue) for k in pre) / window,
                            "post_monthly_revenue": sum(value(d, k, P.revenue) for k in post) / window,
                            "pre_active": float(any(value(d, k, P.order_count) > 0 for k in pre)),
                            "post_active": float(any(value(d, k, P.order_count) > 0 for k in post)
                                                 and bool(value(d, m + window, P.in_network)))})  # fmt: skip
    return pd.DataFrame(out)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_comparison_rows_equal_an_event_by_event_reference(seed):
    # 40 dealers in 2 regions × 2 tiers, signing and leaving at random, 12 events over 3 years,
    # attended at random (an unknown dealer and a repeated row too), window 3
    from channel_analysis.metrics.events import _units

    rng = np.random.default_rng(seed)
    start, months, window = pd.Period("2022-01", "M"), 36, 3
    rows = []
    for i in range(40):
        signed, left = int(rng.integers(-12, 20)), int(rng.integers(10, 50))
        region, tier = rng.choice(["N", "S"]), rng.choice(["A", "B"])
        for m in range(max(signed, 0), months):
            revenue = float(rng.choice([0, 0, rng.gamma(2, 50_000)]))
            rows.append({P.dealer_id: f"D{i:02d}", P.month: (start + m).start_time, P.region: region, P.tier: tier,
                         P.months_since_signed: m - signed, P.revenue: revenue, P.in_network: m < left})  # fmt: skip
    panel = panel_frame(rows)
    days = sorted(rng.choice(months * 30, 12, replace=False))
    events = events_frame([(f"EV{k}", (start.start_time + pd.Timedelta(days=int(day))).date(), "forum", None, 1.0)
                           for k, day in enumerate(days)])  # fmt: skip
    came = [(f"EV{k}", f"D{i:02d}") for k in range(12) for i in range(40) if rng.random() < 0.15]
    attendance = attendance_frame([*came, came[0], ("EV3", "UNKNOWN")])
    as_of = start + months - 1
    got = _units(panel, events, attendance, chosen=events["event_id"], as_of_index=as_of.year * 12 + as_of.month - 1,
                 window=window)  # fmt: skip
    expected = units_event_by_event(panel, events, attendance, as_of_index=as_of.year * 12 + as_of.month - 1,
                                    window=window)  # fmt: skip
    assert len(expected) > 50 and expected["treated"].sum() > 10  # the world compares something
    dealers = sorted(panel[P.dealer_id].unique())
    assert [dealers[d] for d in got[P.dealer_id]] == expected[P.dealer_id].tolist()
    assert got["event_id"].tolist() == expected["event"].tolist()
    assert got["treated"].tolist() == expected["treated"].tolist()
    # the same rows share a cell code exactly where they share (event, region|tier)
    assert pd.factorize(got["cell"])[0].tolist() == pd.factorize(expected["cell"])[0].tolist()
    for column in ("pre_monthly_revenue", "post_monthly_revenue", "pre_active", "post_active"):
        np.testing.assert_allclose(got[column].to_numpy(float), expected[column].to_numpy(float), rtol=1e-12)
