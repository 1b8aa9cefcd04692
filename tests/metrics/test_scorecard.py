"""The sales-manager scorecard on a tiny hand-made network; each expected value is worked out
in a comment.

Report month M = October 2025 (M.start 2025-10-01, M.end 2025-10-31); M−1 = September, so a
visit counts from 2025-09-01; a first order counts for "first order only" when it is on or
before 2025-10-31 − 180 days = 2025-05-04. T12 = November 2024 to October 2025.

    dealer  manager  signed      left        calls out / visits (≤ M.end)         positive orders
    D1      S1       2024-01-01              call Sep 03, Oct 05; visit Sep 10     2024-02-01, 2024-06-01, 2025-10-10 (50)
    D2      S1       2024-03-01              call Aug 20; visit Oct 02             2024-04-01 only
    D3      S1       2025-10-05              -                                      2025-10-06 (80): signed in M
    D4      S2       2024-05-01              inbound call Oct 08; visit Aug 30     2024-06-01, 2025-01-01 (300)
    D5      S2       2025-09-15              call Oct 20                           2025-09-20 (120): signed in M−1
    D6      S2       2023-01-01  2025-09-30  -                                      2023-02-01 only: left before M.end
    D7      --       2024-01-01              -                                      2024-01-15 only: nobody's dealer
    D8      S3       2024-02-01              call Sep 15 (and Nov 01, after M);     2024-03-01,
                                             visit Oct 31 23:00                    2024-04-01
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channel_analysis.metrics.kpis import monthly_kpis
from channel_analysis.metrics.scorecard import rule_breakers, sales_manager_scorecard, scorecard_trend
from helpers.tables import frame

M = "2025-10"


def _equal(got: pd.Series, expected: list) -> None:
    pd.testing.assert_series_equal(got, pd.Series(expected, dtype="Int64"), check_names=False)


def network() -> dict[str, pd.DataFrame]:
    managers = [("S1", "张伟", "山东"), ("S2", "李娜", "江苏"), ("S3", "王芳", None)]
    dealers = [
        ("D1", "鲁起一号", "山东", "S1", "2024-01-01", None),
        ("D2", "鲁起二号", "山东", "S1", "2024-03-01", None),
        ("D3", "鲁起三号", "山东", "S1", "2025-10-05", None),
        ("D4", "苏吊四号", "江苏", "S2", "2024-05-01", None),
        ("D5", "苏吊五号", "江苏", "S2", "2025-09-15", None),
        ("D6", "苏吊六号", "江苏", "S2", "2023-01-01", "2025-09-30"),
        ("D7", "无主七号", "江苏", None, "2024-01-01", None),
        ("D8", "广起八号", "广东", "S3", "2024-02-01", None),
    ]
    orders = [
        ("D1", "2024-02-01", 100.0), ("D1", "2024-06-01", 200.0), ("D1", "2025-10-10", 50.0),
        ("D2", "2024-04-01", 100.0),
        ("D3", "2025-10-06", 80.0),
        ("D4", "2024-06-01", 100.0), ("D4", "2025-01-01", 300.0),
        ("D5", "2025-09-20", 120.0),
        ("D6", "2023-02-01", 100.0),
        ("D7", "2024-01-15", 100.0),
        ("D8", "2024-03-01", 100.0), ("D8", "2024-04-01", 100.0),
    ]  # fmt: skip
    interactions = [
        ("D1", "2025-09-03 10:00", "phone", "outbound"), ("D1", "2025-10-05 10:00", "phone", "outbound"),
        ("D1", "2025-09-10 14:00", "visit", "outbound"),
        ("D2", "2025-08-20 09:00", "phone", "outbound"), ("D2", "2025-10-02 15:00", "visit", "outbound"),
        ("D4", "2025-10-08 11:00", "phone", "inbound"), ("D4", "2025-08-30 10:00", "visit", "outbound"),
        ("D5", "2025-10-20 16:00", "phone", "outbound"),
        ("D8", "2025-09-15 10:00", "phone", "outbound"), ("D8", "2025-11-01 09:00", "phone", "outbound"),
        ("D8", "2025-10-31 23:00", "visit", "outbound"),
    ]  # fmt: skip
    return {
        "sales_managers": frame("sales_managers", "sales_manager_id name region", managers),
        "dealers": frame(
            "dealers", "dealer_id dealer_name region sales_manager_id signed_date terminated_date", dealers
        ),
        "orders": frame("orders", "dealer_id order_date amount", orders),
        "interactions": frame("interactions", "dealer_id occurred_at kind direction", interactions),
    }


def test_rule_breakers_lists_each_dealer_and_rule_with_days_since_contact():
    # no_callback: established dealers (in the network Oct 31, signed before Oct 1) without an
    #   outbound phone call in October: D2 (last Aug 20), D4 (only an inbound call), D7, and D8
    #   (Sep 15; its Nov 01 call is after M). D3 signed in M: not checked. D5 was called.
    # no_visit_2m: signed before Sep 1 and no visit Sep 1..Oct 31: D4 (Aug 30), D7. D5 (signed
    #   Sep 15) is not checked; D8's visit at Oct 31 23:00 is on M's last day: counts.
    # first_order_only: first order ≤ May 4 2025 and none later: D2, D7 (D6 has left).
    # Days to Oct 31: Aug 20 → 11 + 30 + 31 = 72; Oct 02 → 29; Aug 30 → 1 + 30 + 31 = 62;
    #   Sep 15 → 15 + 31 = 46; Oct 31 23:00 → 0.
    got = rule_breakers(network(), as_of=M)
    assert got["sales_manager_id"].tolist()[:5] == ["S1", "S1", "S2", "S2", "S3"]
    assert got["sales_manager_id"].iloc[5:].isna().all()  # D7: nobody's dealer, listed last
    assert got["dealer_id"].tolist() == ["D2", "D2", "D4", "D4", "D8", "D7", "D7", "D7"]
    assert got["rule"].tolist() == [
        "no_callback", "first_order_only", "no_callback", "no_visit_2m", "no_callback",
        "no_callback", "no_visit_2m", "first_order_only",
    ]  # fmt: skip
    _equal(got["days_since_last_call"], [72, 72, None, None, 46, None, None, None])
    _equal(got["days_since_last_visit"], [29, 29, 62, 62, 0, None, None, None])
    firsts = ["2024-04-01", "2024-04-01", "2024-06-01", "2024-06-01", "2024-03-01"] + ["2024-01-15"] * 3
    assert got["first_order_date"].tolist() == pd.to_datetime(firsts).tolist()
    assert got.loc[0, "last_call_date"] == pd.Timestamp("2025-08-20 09:00")
    assert got.loc[0, "dealer_name"] == "鲁起二号"
    assert set(got["metric"]) == {"callback_coverage", "visit_coverage_2m", "first_order_only_share"}
    assert (got["month"] == M).all()


def test_rule_breakers_without_interactions_checks_only_first_order_only():
    tables = network()
    del tables["interactions"]
    got = rule_breakers(tables, as_of=M)
    assert got["rule"].tolist() == ["first_order_only", "first_order_only"]
    assert got["dealer_id"].tolist() == ["D2", "D7"]


def test_scorecard_rules_met_compliance_and_rank():
    # S1: in network D1 D2 D3 = 3. callback: D1 of {D1, D2} = 0.5 (D3 new). visit: D1 (Sep 10),
    #     D2 (Oct 02) of {D1, D2} = 1.0 → met. first order only: D2 of {D1, D2} = 0.5 (D3's first
    #     order is too recent) → broken. rules met 1; compliance mean(0.5, 1.0, 1 − 0.5) = 2/3.
    #     revenue Oct = 50 (D1) + 80 (D3) = 130 = revenue_t12.
    # S2: in network D4 D5 = 2 (D6 left Sep 30). callback: D5 of {D4, D5} = 0.5. visit: 0 of {D4}
    #     = 0.0. first order only: 0 of {D4} = 0.0 → met. rules met 1; compliance
    #     mean(0.5, 0, 1) = 0.5. revenue Oct 0; T12 300 (D4 Jan) + 120 (D5 Sep) = 420.
    # S3: D8: callback 0/1, visit 1/1 (met), first order only 0/1 (met). rules met 2;
    #     compliance mean(0, 1, 1) = 2/3; region from its dealers (none in sales_managers): 广东.
    # rank: S3 (2 rules), then S1 and S2 (1 rule each) by compliance 2/3 > 0.5.
    card = sales_manager_scorecard(network(), as_of=M).set_index("sales_manager_id")
    assert card.index.tolist() == ["S3", "S1", "S2"]
    assert card["rank"].tolist() == [1, 2, 3]
    assert card.loc["S1", "name"] == "张伟" and card.loc["S3", "region"] == "广东"
    assert card["dealers_in_network"].tolist() == [1, 3, 2]
    assert card["callback_coverage"].tolist() == [0.0, 0.5, 0.5]
    assert card["visit_coverage_2m"].tolist() == [1.0, 1.0, 0.0]
    assert card["first_order_only_share"].tolist() == [0.0, 0.5, 0.0]
    assert card["callback_met"].tolist() == [False, False, False]
    assert card["visit_met"].tolist() == [True, True, False]
    assert card["first_order_only_met"].tolist() == [True, False, True]
    assert card["callback_breakers"].tolist() == [1, 1, 1]
    assert card["visit_breakers"].tolist() == [0, 0, 1]
    assert card["first_order_only_dealers"].tolist() == [0, 1, 0]
    assert card["rules_met"].tolist() == [2, 1, 1]
    assert card["compliance"].tolist() == pytest.approx([2 / 3, 2 / 3, 0.5])
    assert card["revenue"].tolist() == [0.0, 130.0, 0.0]
    assert card["revenue_t12"].tolist() == [0.0, 130.0, 420.0]


def test_rank_ties_break_on_revenue_t12_then_id_and_empty_rules_are_neither_met_nor_broken():
    # Hand-made KPI rows: A and B meet the same two rules (callback 1.0, first order only 0.0)
    # with the same compliance mean(1, 0.5, 1) = 5/6; B sold more in T12, so B ranks above A.
    # C has no established dealer: its KPIs are empty, it meets no rule and has no compliance,
    # so it ranks last although nothing is broken.
    rows = []
    for manager, values, revenue_t12 in (("A", (1.0, 0.5, 0.0), 10.0), ("B", (1.0, 0.5, 0.0), 20.0),
                                         ("C", (None, None, None), 99.0)):  # fmt: skip
        metrics = dict(zip(("callback_coverage", "visit_coverage_2m", "first_order_only_share"), values))
        met = {"callback_coverage": "true", "visit_coverage_2m": "false", "first_order_only_share": "true"}
        metrics |= {"dealers_in_network": 1.0, "revenue": 0.0, "revenue_t12": revenue_t12}
        rows += [
            (M, metric, "sales_manager", manager, value, None, met.get(metric, "") if value is not None else "")
            for metric, value in metrics.items()
        ]
    kpis = pd.DataFrame(rows, columns=["month", "metric", "scope", "scope_id", "value", "target", "meets_target"])
    kpis["value"] = kpis["value"].astype(float)
    tables = {
        "dealers": frame("dealers", "dealer_id region sales_manager_id signed_date", [("D1", "N", "A", "2025-10-20")]),
        "orders": frame("orders", "dealer_id order_date amount", []),
    }
    card = sales_manager_scorecard(tables, as_of=M, kpis=kpis)
    assert card["sales_manager_id"].tolist() == ["B", "A", "C"]
    assert card["rules_met"].tolist() == [2, 2, 0]
    assert card["compliance"].tolist()[:2] == pytest.approx([5 / 6, 5 / 6])
    c = card.set_index("sales_manager_id").loc["C"]
    assert c["rules_met"] == 0 and pd.isna(c["compliance"]) and pd.isna(c["callback_met"])
    assert card["rules_checked"].tolist() == [3, 3, 0]  # C: every KPI empty, nothing to check
    assert pd.isna(c["callback_breakers"])


def test_trend_has_three_rules_per_manager_and_month_and_matches_kpis():
    # September for S1: established on Sep 30 = D1, D2; D1 called Sep 03 → callback 0.5.
    # S2 in September: established = D4 (D5 signed Sep 15; D6 left Sep 30, not in the network
    # on Sep 30); no call → 0.0.
    tables = network()
    trend = scorecard_trend(tables, as_of=M, months=2)
    assert len(trend) == 3 * 2 * 3  # managers × months × rules
    value = trend.set_index(["sales_manager_id", "month", "metric"])["value"]
    assert value[("S1", "2025-09", "callback_coverage")] == 0.5
    assert value[("S2", "2025-09", "callback_coverage")] == 0.0
    for month in ("2025-09", "2025-10"):
        kpis = monthly_kpis(tables, as_of=month)
        kpis = kpis[kpis["scope"] == "sales_manager"].set_index(["scope_id", "metric"])["value"]
        for (manager, m, metric), v in value.items():
            if m == month:
                assert v == kpis[(manager, metric)] or (pd.isna(v) and pd.isna(kpis[(manager, metric)]))
    october = sales_manager_scorecard(tables, as_of=M).set_index("sales_manager_id")
    assert value[("S2", M, "visit_coverage_2m")] == october.loc["S2", "visit_coverage_2m"]
    met = trend.set_index(["sales_manager_id", "month", "metric"])["meets_target"]
    assert bool(met[("S3", M, "visit_coverage_2m")]) is True


# --- invariants on random small networks -------------------------------------------------

_DAYS = pd.date_range("2024-01-01", "2025-10-31", freq="D")


@st.composite
def networks(draw):
    n = draw(st.integers(1, 7))
    dealers, orders, interactions = [], [], []
    for i in range(n):
        signed = _DAYS[draw(st.integers(0, len(_DAYS) - 1))]
        left = draw(st.one_of(st.none(), st.integers(0, 120)))
        manager = draw(st.sampled_from(["S1", "S2", "S3", None]))
        dealers.append((f"D{i}", "N", manager, signed, None if left is None else signed + pd.Timedelta(days=left)))
        for day in draw(st.lists(st.integers(-20, 700), max_size=3)):
            orders.append((f"D{i}", signed + pd.Timedelta(days=day), 100.0))
        contacts = st.tuples(st.integers(0, 700), st.sampled_from(["phone", "visit"]))
        for day, kind in draw(st.lists(contacts, max_size=4)):
            interactions.append((f"D{i}", signed + pd.Timedelta(days=day), kind, "outbound"))
    return {
        "dealers": frame("dealers", "dealer_id region sales_manager_id signed_date terminated_date", dealers),
        "orders": frame("orders", "dealer_id order_date amount", orders),
        "interactions": frame("interactions", "dealer_id occurred_at kind direction", interactions),
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_scorecard_invariants(tables):
    card = sales_manager_scorecard(tables, as_of=M)
    # ranks are a permutation of 1..n
    assert sorted(card["rank"]) == list(range(1, len(card) + 1))
    for column in ("callback_coverage", "visit_coverage_2m", "first_order_only_share", "compliance"):
        values = card[column].dropna()
        assert ((values >= 0) & (values <= 1)).all()
    # the breakers listed are exactly the uncovered share of the dealers checked
    d = tables["dealers"]
    end = pd.Timestamp("2025-10-31")
    in_network = (d["signed_date"] <= end) & (d["terminated_date"].isna() | (d["terminated_date"] > end))
    established = (in_network & (d["signed_date"] < "2025-10-01")).groupby(d["sales_manager_id"]).sum()
    visitable = (in_network & (d["signed_date"] < "2025-09-01")).groupby(d["sales_manager_id"]).sum()
    for row in card.itertuples():
        if pd.notna(row.callback_coverage):
            assert row.callback_breakers == round((1 - row.callback_coverage) * established[row.sales_manager_id])
        if pd.notna(row.visit_coverage_2m):
            assert row.visit_breakers == round((1 - row.visit_coverage_2m) * visitable[row.sales_manager_id])
        met = (row.callback_met, row.visit_met, row.first_order_only_met)
        assert row.rules_met == sum(bool(x) for x in met if pd.notna(x))
        assert row.rules_checked == sum(pd.notna(x) for x in met) >= row.rules_met
    breakers = rule_breakers(tables, as_of=M)
    assert not breakers.duplicated(["dealer_id", "rule"]).any()
