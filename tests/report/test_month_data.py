"""What the report pages read of a month (MonthData): the tables as of the month, the headline
table, and "what changed since last month" in both languages.

The summaries are checked on the small hand-written source of tests/helpers/mini_source.py, whose
figures can be followed with a pencil (see each test).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from channel_analysis.errors import ParameterError
from channel_analysis.report.month_data import month_data
from channel_analysis.text.format import history_notes, text_for

SHORT = "Orders in the source begin in Jan 2024: figures over the last 12 months cover only {n} months."
NOT_JUDGED = ("The early warning judges a dealer against its own history after 9 months of orders, so none can be "
              "judged that way yet: most alerts cannot be raised, and a health score of 100 only means that nothing "
              "is known against a dealer.")


def test_month_data_refuses_a_bad_month_or_language(mini_csv):
    with pytest.raises(ParameterError, match="YYYY-MM"):
        month_data(str(mini_csv), "2024-6")
    with pytest.raises(ParameterError, match="language"):
        month_data(str(mini_csv), "2024-06", lang="fr")


# --------------------------------------------------------------------------- the month and what changed


def test_month_data_holds_the_tables_as_of_the_month_and_the_figures_of_m_and_m_minus_1(mini_csv):
    md = month_data(str(mini_csv), "2024-04")
    assert md.tables["orders"]["order_date"].max() < pd.Timestamp("2024-05-01")  # O2 (May) and later are out
    assert set(md.kpis["month"]) == {"2024-04"} and set(md.previous.kpis["month"]) == {"2024-03"}
    assert set(md.health["month"]) == {"2024-04"} and set(md.previous.health["month"]) == {"2024-03"}
    assert md.kpi("dealers_in_network") == 2  # D001, D002; 00123 signs in June
    assert md.manager_name("SM1") == "张伟" and md.manager_name(None) == ""


def test_headline_compares_with_last_month_and_last_year_shares_in_points(mini_csv):
    head = month_data(str(mini_csv), "2024-06").headline().set_index("metric")
    # revenue: June 250,000 (O5) against May 35,000.5 (O2); June 2023 lies before the data
    assert head.loc["revenue", "value"] == 250_000 and head.loc["revenue", "previous"] == 35_000.5
    assert head.loc["revenue", "change_previous"] == pytest.approx(250_000 / 35_000.5 - 1)
    assert np.isnan(head.loc["revenue", "last_year"]) and np.isnan(head.loc["revenue", "change_last_year"])
    # visit coverage: 0 of 2 in June, 1 of 2 in May → −0.5 (50 points), not −100%
    assert head.loc["visit_coverage_2m", "change_previous"] == pytest.approx(-0.5)
    assert head.loc["revenue", "kind"] == "money" and head.loc["dealers_in_network", "kind"] == "count"


def test_dealer_health_summary(mini_csv):
    lines = month_data(str(mini_csv), "2024-06").changes_summary("dealer_health")
    # revenue 250,000 / 35,000.5 − 1 = +614%; dealers in the network 3 (00123 signed 2024-06-01) against 2
    assert "Network revenue ¥250k: +614% vs May 2024, — vs the same month last year" in lines
    assert "Dealers in the network: 3 (+1 since last month); 0 left in the last 12 months" in lines
    zh = month_data(str(mini_csv), "2024-06", lang="zh").changes_summary("dealer_health")
    assert "全网销售额¥25万：较2024年5月+614%，较去年同期—" in zh


def test_cost_summary(mini_csv):
    lines = month_data(str(mini_csv), "2024-06").changes_summary("acquisition_vs_retention")
    assert lines.pop(0) == SHORT.format(n=6)  # orders begin in January 2024: said first
    # CAC: E1 50,000 / 3 dealers signed in T12 = 16,667 (May: / 2 = 25,000 → −33%)
    assert lines[0] == "Cost to acquire a dealer (last 12 months): ¥16.7k, -33% vs last month"
    # retention: E2 3,000 / mean dealers in the network at the 12 month ends, (1+1+2+2+2+3)/12 → 3,273;
    # May: (1+1+2+2+2)/12 → 4,500, so −27%
    assert lines[1] == "Cost to keep a dealer for a year: ¥3,273, -27% vs last month"
    assert lines[2] == "Acquiring one dealer costs as much as keeping 5.1 dealers for a year"
    assert lines[3].startswith("Dealers signed in the last 12 months: 3 (2 a month earlier); prospect conversion 50.0%")


@pytest.mark.parametrize(
    ("month", "notes"),
    [  # orders from 2024-01; a dealer is judged on 6 months of orders before the 3 judged: 9 months
        ("2024-06", [SHORT.format(n=6), NOT_JUDGED]),
        ("2024-08", [SHORT.format(n=8), NOT_JUDGED]),
        ("2024-09", [SHORT.format(n=9)]),
        ("2024-12", []),
    ],
)
def test_a_short_order_history_is_said(month, notes):
    period = pd.Period(month, freq="M")
    figures = SimpleNamespace(order_span=(pd.Period("2024-01", freq="M"), period.end_time.normalize()), period=period)
    assert history_notes(text_for("en"), figures, early_warning=True) == notes
    assert history_notes(text_for("en"), figures) == notes[:1]


def test_the_history_notes_come_first_where_figures_over_12_months_are_shown(mini_csv):
    md = month_data(str(mini_csv), "2024-06")  # orders from January 2024 (O1) to June (O5)
    assert md.history_notes(early_warning=True) == [SHORT.format(n=6), NOT_JUDGED]
    assert md.changes_summary("dealer_health")[:2] == [SHORT.format(n=6), NOT_JUDGED]
    assert md.changes_summary("acquisition_vs_retention")[0] == SHORT.format(n=6)
    assert SHORT.format(n=6) not in md.changes_summary("dealer_health", history=False)
    assert SHORT.format(n=6) not in md.changes_summary("service_flow")  # no 12-month figure there


@pytest.mark.parametrize(
    ("n", "text"),
    [(1, "1 dealer left"), (21, "21 dealers left"), (1001, "1,001 dealers left"), (0, "0 dealers left")],
)
def test_a_count_of_one_takes_the_singular_in_english(n, text):
    """Babel's plural rules for English, not a pattern: 1 takes the singular, 21 and 1,001 do not."""
    assert text_for("en").say("churn_total", n=n, value="¥5k", share="1%").startswith(text + " in the last 12 months")
    assert text_for("zh").say("churn_total", n=n, value="¥5k", share="1%").startswith(f"近12个月共有{n:,}家")


def test_a_month_without_orders_is_said_first(mini_csv):
    # BASE's orders end on 2024-07-01 (O4): August 2024 has none, and the summaries say so before anything else
    first = month_data(str(mini_csv), "2024-08").changes_summary("dealer_health")[0]
    assert first == ("No order in the source is dated in Aug 2024 (the last is dated 2024-07-01). If the month's "
                     "orders are not loaded yet, every figure of the month reads as a fall: load them and run the "
                     "month again.")
    assert not any("No order in the source" in line for line in month_data(str(mini_csv), "2024-07").history_notes())


def test_service_summary(mini_csv):
    lines = month_data(str(mini_csv), "2024-03").changes_summary("service_flow")
    # March: R2 (complaint, 72 h, still open) is due and late: 0%; February: R1 closed in 6 h: 100%
    assert lines[0] == "Requests closed within their time limit: 0.0% (target 95%), -100.0 pts vs last month"
    assert "Complaints: 1 (0 last month)" in lines
    assert lines[3].startswith("100.0% of requests came through the sales manager")


def test_manager_summary(mini_csv):
    lines = month_data(str(mini_csv), "2024-04").changes_summary("sales_managers")
    # April: D001 and D002 established, neither called: 0% (March: D001 alone, not called: 0%)
    assert lines[0] == "Callback coverage: 0.0% (target 100%), ±0.0 pts vs last month"
    # visit in March–April (I3, 2024-04-10) to D001, the one dealer signed before March: 100%; in Feb–March none
    assert lines[1] == "Visit coverage (2 months): 100.0% (target 100%), +100.0 pts vs last month"


def test_events_summary_and_unknown_topic(mini_csv):
    md = month_data(str(mini_csv), "2024-06")
    # EV1 cost 200,000 for 2 attendances
    assert md.changes_summary("events")[0] == "Event cost per attendee (last 12 months): ¥100k, ±0% vs last month"
    with pytest.raises(ParameterError, match="dealer_health"):
        md.changes_summary("weather")


def test_a_missing_table_is_said_in_one_line(mini_csv):
    (mini_csv / "service_requests.csv").unlink()
    assert month_data(str(mini_csv), "2024-03").changes_summary("service_flow") == [
        "No Service requests data in the source: this section is left out."
    ]
