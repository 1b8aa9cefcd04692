"""The order-to-complaint process on a handful of requests; each expected value is worked out
in a comment.

Report month M = October 2025. Time limits: order 24 h, payment 48 h, logistics 72 h,
support 48 h, complaint 72 h. A request is in October's SLA set when opened_at + limit falls
from Oct 01 00:00 to Nov 01 00:00.

    id  dealer process    department opened            closed            via  score
    R1  D1     order      销售部     Oct 02 09:00      Oct 02 15:00      no   5   6 h, limit ends Oct 03 → within
    R2  D1     payment    财务部     Oct 30 10:00      Nov 03 10:00      yes  -   limit ends Nov 01 10:00 →
                                                                                   not in October's set;
                                                                                   open at Oct 31
    R3  D2     order      销售部     Sep 30 12:00      Oct 01 14:00      no   2   26 h, limit ends Oct 01 12:00 → late
    R4  D2     complaint  质量部     Oct 05 08:00      Oct 07 08:00      yes  1   48 h ≤ 72 h → within
    R5  D3     logistics  -          Oct 10 00:00      (open)            no   -   limit ends Oct 13 → open = late
    R6  D1     support    技术部     Aug 15 10:00      Oct 20 10:00      no   3   16 + 30 + 20 = 66 days = 1584 h;
                                                                                   limit ended in August
    R7  D1     order      销售部     Nov 02 09:00      -                 yes  -   after M: not seen at all
    R8  D2     support    技术部     Sep 01 09:00      Sep 02 09:00      no   4   24 h, September's business
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from channel_analysis import schema
from channel_analysis.errors import ChannelAnalysisError
from channel_analysis.metrics.kpis import monthly_kpis
from channel_analysis.metrics.service import (
    service_levels,
    sla_compliance_trend,
    slowest_departments,
    via_sales_manager_trend,
)
from helpers.service_tables import COLUMNS, ROWS, dealers, random_requests, requests

M = "2025-10"


def test_levels_per_process():
    # order: opened in Oct R1 → 1; closed in Oct R1 (6 h), R3 (26 h) → 2, median 16, p75
    #   6 + 0.75·20 = 21, p90 6 + 0.9·20 = 24; SLA set R1, R3, within R1 → 0.5; backlog 0 (R7 is
    #   after M); scores 5, 2 → mean 3.5, low (1–2) share 1/2; via among opened: R1 no → 0.
    # payment: R2 opened, not due, open at Oct 31 (closed Nov 03 is after M) → backlog 1; via 1.
    # logistics: R5 opened, due, open → compliance 0; backlog 1.
    # support: R6 closed in Oct after 1584 h; nothing due → compliance empty; score 3.
    # complaint: R4 opened, closed (48 h), due and within → 1.0; complaints 1; score 1 → low 1.
    got = service_levels(requests(), as_of=M).set_index("process")
    assert got.index.tolist() == list(schema.PROCESSES)
    assert got["opened"].tolist() == [1, 1, 1, 0, 1]
    assert got["closed"].tolist() == [2, 0, 0, 1, 1]
    assert got["sla_due"].tolist() == [2, 0, 1, 0, 1]
    assert got["sla_within"].tolist() == [1, 0, 0, 0, 1]
    assert got["backlog"].tolist() == [0, 1, 1, 0, 0]
    assert got["complaints"].tolist() == [0, 0, 0, 0, 1]
    order = got.loc["order"]
    assert (order["median_hours"], order["p75_hours"], order["p90_hours"]) == pytest.approx((16, 21, 24))
    assert order["sla_compliance"] == 0.5 and order["satisfaction_mean"] == 3.5
    assert order["low_satisfaction_share"] == 0.5 and order["via_sales_manager_share"] == 0.0
    assert math.isnan(got.loc["payment", "sla_compliance"]) and got.loc["payment", "via_sales_manager_share"] == 1.0
    assert got.loc["logistics", "sla_compliance"] == 0.0
    assert got.loc["support", "median_hours"] == 1584 and got.loc["support", "satisfaction_mean"] == 3
    assert got.loc["complaint", "sla_compliance"] == 1.0 and got.loc["complaint", "low_satisfaction_share"] == 1.0
    assert (got["sla_target"] == 0.95).all() and (got["month"] == M).all()


def test_levels_for_all_requests_match_the_contract_kpis():
    # opened 4 (R1 R2 R4 R5); closed 4 (R1 R3 R4 R6: 6, 26, 48, 1584 h → median 37, p75 at
    # position 2.25 = 48 + 0.25·1536 = 432, p90 at 2.7 = 48 + 0.7·1536 = 1123.2); SLA set
    # R1 R3 R4 R5, within R1 R4 → 0.5; backlog R2 R5 = 2; via R2 R4 of 4 → 0.5; scores 5 2 1 3
    # → mean 2.75, low share 2/4.
    got = service_levels(requests(), as_of=M, by=None).iloc[0]
    assert (got["opened"], got["closed"], got["sla_due"], got["sla_within"], got["backlog"]) == (4, 4, 4, 2, 2)
    assert (got["median_hours"], got["p75_hours"], got["p90_hours"]) == pytest.approx((37, 432, 1123.2))
    assert (got["sla_compliance"], got["via_sales_manager_share"]) == (0.5, 0.5)
    assert (got["satisfaction_mean"], got["low_satisfaction_share"]) == (2.75, 0.5)
    tables = {
        "dealers": dealers(),
        "orders": pd.DataFrame(
            {"order_id": pd.Series([], dtype="str"), "dealer_id": pd.Series([], dtype="str"),
             "order_date": pd.Series([], dtype="datetime64[ns]"), "amount": pd.Series([], dtype=float)}
        ),
        "service_requests": requests(),
    }  # fmt: skip
    kpis = monthly_kpis(tables, as_of=M).set_index(["metric", "scope", "scope_id"])["value"]
    assert kpis[("sla_compliance", "network", "")] == got["sla_compliance"]
    trend = via_sales_manager_trend(requests(), dealers(), as_of=M, months=1)
    trend = trend.set_index(["scope", "scope_id"])
    for key in [("network", ""), ("sales_manager", "S1"), ("sales_manager", "S2")]:
        assert trend.loc[key, "via_sales_manager_share"] == kpis[("via_sales_manager_share", *key)]


def test_backlog_carries_over_from_the_month_before():
    # Sep 30: R3 (closed Oct 01) and R6 (closed Oct 20) are open → 2; R8 closed Sep 02.
    # Oct: 2 + 4 opened − 4 closed = 2.
    september = service_levels(requests(), as_of="2025-09", by=None).iloc[0]
    october = service_levels(requests(), as_of=M, by=None).iloc[0]
    assert september["backlog"] == 2
    assert october["backlog"] == september["backlog"] + october["opened"] - october["closed"]


def test_slowest_departments_rank_by_compliance_then_median_time():
    # 销售部 0.5 (R1 within, R3 late) → 1; 质量部 1.0 → 2; nothing due: 技术部 (median 1584 h)
    # → 3 before 财务部 (nothing closed) → 4. R5 has no department: not ranked. 法务部 had nothing
    # to count in October (R9 opened and closed in June): not listed.
    got = slowest_departments(requests(), as_of=M)
    assert got["department"].tolist() == ["销售部", "质量部", "技术部", "财务部"]
    assert got["rank"].tolist() == [1, 2, 3, 4]
    assert got["median_hours"].tolist()[:3] == [16, 48, 1584]


def test_department_column_missing_says_what_to_add():
    bare = requests().drop(columns="department")
    with pytest.raises(ChannelAnalysisError, match="add the optional column 'department'"):
        slowest_departments(bare, as_of=M)


def test_sla_trend_per_process_and_month():
    # September: only R8 (support, limit ends Sep 03, closed in 24 h) is due → support 1.0.
    # October as above: order 0.5, logistics 0.0, complaint 1.0.
    got = sla_compliance_trend(requests(), as_of=M, months=2).set_index(["process", "month"])
    assert len(got) == 5 * 2
    assert got.loc[("support", "2025-09"), "sla_compliance"] == 1.0
    assert bool(got.loc[("support", "2025-09"), "meets_target"]) is True
    assert got.loc[("order", M), "sla_compliance"] == 0.5
    assert bool(got.loc[("order", M), "meets_target"]) is False
    assert pd.isna(got.loc[("payment", M), "meets_target"])
    assert got.loc[("logistics", M), "sla_hours"] == 72


def test_via_sales_manager_trend_per_month_and_manager():
    # Sep: opened R3 (D2 → S2), R8 (D2 → S2), none via → 0 / 2; S1 has none → empty share.
    # Oct: R1, R2 (D1 → S1; R2 via) → 1/2; R4 (D2 → S2, via) → 1/1; R5 (D3, no manager) counts
    # for the network only: 2 of 4.
    got = via_sales_manager_trend(requests(), dealers(), as_of=M, months=2)
    got = got.set_index(["month", "scope", "scope_id"])
    assert got.loc[("2025-09", "sales_manager", "S2"), "requests"] == 2
    assert math.isnan(got.loc[("2025-09", "sales_manager", "S1"), "via_sales_manager_share"])
    assert got.loc[(M, "sales_manager", "S1"), "via_sales_manager_share"] == 0.5
    assert got.loc[(M, "sales_manager", "S2"), "via_sales_manager_share"] == 1.0
    assert got.loc[(M, "network", ""), "via_sales_manager_share"] == 0.5
    assert len(got) == 2 * 3


def test_optional_columns_may_be_absent():
    bare = requests([r[:7] for r in ROWS], COLUMNS.removesuffix(" satisfaction"))
    got = service_levels(bare, as_of=M, by=None).iloc[0]
    assert math.isnan(got["satisfaction_mean"]) and got["opened"] == 4
    never_closed = bare.drop(columns="closed_at")
    got = service_levels(never_closed, as_of=M, by=None).iloc[0]
    assert (got["closed"], got["sla_within"], got["backlog"]) == (0, 0, 8)  # R1–R6, R8 and R9 all open


# --- invariants on random requests -------------------------------------------------------

_MONTHS = [str(p) for p in pd.period_range("2025-01", "2025-04", freq="M")]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_requests())
def test_service_invariants(frame):
    total_opened = total_closed = 0
    for month in _MONTHS:
        total = service_levels(frame, as_of=month, by=None).iloc[0]
        total_opened, total_closed = total_opened + total["opened"], total_closed + total["closed"]
        # every request opened so far is either closed by now or in the backlog
        assert total["backlog"] == total_opened - total_closed
        levels = service_levels(frame, as_of=month)
        for column in ("opened", "closed", "sla_due", "sla_within", "backlog", "complaints"):
            assert levels[column].sum() == total[column]
        for column in ("sla_compliance", "low_satisfaction_share", "via_sales_manager_share"):
            values = levels[column].dropna()
            assert ((values >= 0) & (values <= 1)).all()
        assert (levels["sla_within"] <= levels["sla_due"]).all()
        timed = levels.dropna(subset="median_hours")
        assert ((timed["median_hours"] <= timed["p75_hours"]) & (timed["p75_hours"] <= timed["p90_hours"])).all()
        # no look-ahead: the data as seen on the month's last day gives the same figures
        stop = pd.Period(month, "M").end_time
        seen = frame[frame["opened_at"] <= stop]
        seen = seen.assign(closed_at=seen["closed_at"].where(seen["closed_at"] <= stop))
        pd.testing.assert_frame_equal(service_levels(seen, as_of=month), levels)
