"""The report sections on a source that lacks optional tables: each says, in the reader's words
and language, which table is missing or why a figure cannot be given, and claims nothing the
data cannot show (no "0 dealers without a call" when there are no calls to look at)."""

from __future__ import annotations

import IPython.display
import matplotlib
import pytest

from channel_analysis.report.month_data import month_data
from channel_analysis.report.sections import (
    acquisition_vs_retention,
    dealer_health,
    events,
    index,
    sales_managers,
    service_flow,
)
from channel_analysis.text.labels import table_names
from helpers.mini_source import BASE

matplotlib.use("Agg")
MONTH = "2024-12"  # D002 (first order 2024-02-15) and 00123 (2024-06-10) have only their first order


@pytest.fixture()
def source(tmp_path):
    def write(*without: str, **texts: str):
        folder = tmp_path / f"csv{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        for table, text in {**BASE, **texts}.items():
            if table not in without:
                (folder / f"{table}.csv").write_text(text, encoding="utf-8")
        return str(folder)

    return write


@pytest.fixture()
def shown(monkeypatch):
    """What the sections display: the text of each HTML part, and the figures."""
    out = {"html": [], "figures": []}

    def display(obj, **_):
        if isinstance(obj, matplotlib.figure.Figure):
            out["figures"].append(obj)
        else:
            out["html"].append(obj.data)

    monkeypatch.setattr(IPython.display, "display", display)
    return out


def _title(ax) -> str:
    """The axes' title wherever the house style puts it (left, centre or right)."""
    return "".join(ax.get_title(loc) for loc in ("left", "center", "right"))


def test_tables_are_named_as_a_reader_names_them_and_joined_by_or():
    assert table_names(["expenses"]) == "Expenses"
    assert table_names(["prospects", "interactions"]) == "Prospects or Interactions"
    assert table_names(["events", "event_attendance", "expenses"]) == "Events, Event attendance or Expenses"
    assert table_names(["prospects", "interactions"], "zh") == "意向客户或联络记录"
    assert table_names(["events", "event_attendance", "expenses"], "zh") == "经销商活动、活动出席记录或费用"


def test_without_interactions_the_managers_report_checks_only_the_first_order_rule(source, shown):
    md = month_data(source("interactions"), MONTH)
    sales_managers.breakers(md)
    page = "".join(shown["html"])
    assert "2 dealers placed only their first order. Follow-up calls and visits cannot be checked: the source " \
           "has no Interactions data." in page
    assert "follow-up call this month" not in page  # "0 dealers had no follow-up call" would not be true
    assert "Last call" not in page and "Days since visit" not in page  # columns that could only be empty
    shown["html"].clear()
    sales_managers.trend(md)
    first, managers = shown["figures"]
    assert [_title(ax) for ax in first.axes] == ["First-order-only share"]  # no empty coverage chart
    ticks = [t.get_text() for f in shown["figures"] for ax in f.axes for t in ax.get_xticklabels()]
    assert ticks and not any(t.startswith("1970") for t in ticks)
    assert "No Interactions data in the source: call and visit coverage is left out." in "".join(shown["html"])


def test_with_interactions_the_three_rules_are_counted_and_charted(source, shown):
    md = month_data(source(), MONTH)
    sales_managers.breakers(md)
    assert "dealers had no follow-up call this month" in "".join(shown["html"])
    sales_managers.trend(md)
    assert [_title(ax) for ax in shown["figures"][0].axes] == ["Call and visit coverage", "First-order-only share"]


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "No Interactions or Expenses data in the source: this section is left out."),
     ("zh", "数据源中没有联络记录或费用数据，本节略过。")],
)
def test_a_model_without_any_table_it_could_use_names_them(source, shown, lang, words):
    acquisition_vs_retention.activity_model(month_data(source("interactions", "expenses"), MONTH, lang=lang))
    assert words in "".join(shown["html"]) and not shown["figures"]


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "Cannot be computed on these data: only 3 dealers can be observed (established, with 3 months of "
            "orders after a window); at least 20 are needed."),
     ("zh", "无法基于现有数据计算：仅有3家经销商可供观察（已签约且窗口后有3个月的订单），至少需要20家。")],
)
def test_too_little_data_is_said_in_the_readers_words_not_the_librarys(source, shown, lang, words):
    # all 3 dealers were signed by 2024-06 and are in the network at the end of a 3-month window
    # (e.g. 2024-07..09) with 3 months after it: 3 to observe, fewer than the 20 needed
    acquisition_vs_retention.activity_model(month_data(source(), MONTH, lang=lang))
    page = "".join(shown["html"])
    assert words in page
    assert "retention_activity_effect" not in page


def test_events_without_attendance_name_the_missing_table(source, shown):
    md = month_data(source("event_attendance"), MONTH)
    events.cost_by_kind(md)
    assert "No Event attendance data in the source: this section is left out." in "".join(shown["html"])
    assert md.changes_summary("events") == ["No Event attendance data in the source: this section is left out."]


def test_revenue_lost_to_churn_says_when_orders_begin_within_a_leavers_last_year(source, shown):
    # 00123 left on 2025-06-30; with orders only from July 2024 (O4), its last year is not all there
    orders = BASE["orders"].splitlines()
    dealer_health.churn(month_data(source(orders="\n".join([orders[0], orders[4]]) + "\n"), "2025-06"))
    words = "Orders in the source begin in Jul 2024: for a dealer that left before Jul 2025, the revenue covers " \
            "less than its last year."
    assert words in "".join(shown["html"])
    shown["html"].clear()
    dealer_health.churn(month_data(source(), "2025-06"))  # orders from January 2024: a whole year
    page = "".join(shown["html"])
    assert "1 dealer left in the last 12 months" in page
    assert "begin in" not in page


def test_a_month_without_alerts_says_so_instead_of_an_empty_table(source, shown):
    md = month_data(source(), "2024-06")  # 6 months of orders: no dealer can be judged yet
    assert md.alerts.empty
    index.most_urgent(md)
    page = "".join(shown["html"])
    assert "No alerts this month." in page and "<table" not in page


def test_a_source_that_names_no_sales_manager_charts_no_empty_trend(source, shown):
    dealers = "\n".join(",".join(line.split(",")[:4] + line.split(",")[5:]) for line in BASE["dealers"].splitlines())
    md = month_data(source("sales_managers", dealers=dealers + "\n"), MONTH)
    sales_managers.breakers(md)
    assert "Sales manager" not in "".join(shown["html"])  # a column that could only be empty
    shown["html"].clear()
    sales_managers.trend(md)
    assert len(shown["figures"]) == 1  # the network's rules; no chart of managers meeting them on a 1970 axis
    assert "No sales managers are named in the data." in "".join(shown["html"])


def test_a_small_network_gets_one_survival_curve_for_all_dealers_or_a_note(source, shown):
    dealers = BASE["dealers"] + "D004,烟台起重,山东,B,SM1,2022-05-01,\nD005,无锡吊装,江苏,B,SM2,2023-05-01,\n"
    # signing years 2022: 1 dealer, 2023: 1, 2024: 3 — fewer than 4 in each, 5 in all
    dealer_health.survival(month_data(source(dealers=dealers), MONTH), min_at_risk=4)
    assert "Fewer than 4 dealers signed in any one year: one curve for all dealers." in "".join(shown["html"])
    (fig,) = shown["figures"]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["All dealers"]
    shown["html"].clear(), shown["figures"].clear()
    dealer_health.survival(month_data(source(dealers=dealers), MONTH), min_at_risk=6)
    assert "Fewer than 6 dealers in the network: too few for a curve." in "".join(shown["html"])
    assert not shown["figures"]


def test_a_source_that_records_no_closing_says_why_nothing_is_within_the_limit(source, shown):
    rows = [line.split(",") for line in BASE["service_requests"].splitlines()]
    requests = "\n".join(",".join(r[:4] + r[5:]) for r in rows) + "\n"  # closed_at (the 5th column) left out
    md = month_data(source(service_requests=requests), "2024-03")
    words = "No request of these months has a closing time (closed_at): every request counts as still open"
    assert md.changes_summary("service_flow")[0].startswith(words)
    service_flow.sla(md)
    assert words in "".join(shown["html"])
    # with closed_at (R1 closed in February) nothing is said
    assert not any(line.startswith(words) for line in month_data(source(), "2024-03").changes_summary("service_flow"))


def test_an_event_list_leaves_out_the_optional_columns_the_source_does_not_give(source, shown, monkeypatch):
    from channel_analysis.report import display as report

    tables: list = []
    monkeypatch.setattr(report, "_ensure_itables", lambda: None)
    monkeypatch.setattr(report, "_interactive_table", lambda shown_frame, *a, **k: tables.append(shown_frame) or "")
    rows = [line.split(",") for line in BASE["events"].splitlines()]
    events_text = "\n".join(",".join([r[0], r[1], r[2], r[5]]) for r in rows) + "\n"  # name and region left out
    events.event_list(month_data(source(events=events_text), MONTH))
    (table,) = tables
    assert list(table.columns) == ["Held on", "Kind", "Cost", "Attendees", "Cost per attendee"]


def test_expenses_without_a_region_give_no_chart_of_zeros_by_region(source, shown):
    rows = [line.split(",") for line in BASE["expenses"].splitlines()]
    expenses_text = "\n".join(",".join(r[:5] + r[6:]) for r in rows) + "\n"  # region (the 6th column) left out
    acquisition_vs_retention.cac_by_quarter(month_data(source(expenses=expenses_text), "2024-06"))
    assert "Expenses carry no region, so their spend counts for the network only" in "".join(shown["html"])
    assert len(shown["figures"]) == 1  # the quarters; no bars of ¥0 per region
    shown["html"].clear(), shown["figures"].clear()
    acquisition_vs_retention.cac_by_quarter(month_data(source(), "2024-06"))
    assert len(shown["figures"]) == 2 and "Expenses carry no region" not in "".join(shown["html"])


def test_a_source_that_names_no_sales_manager_shows_no_empty_manager_column(source, shown, monkeypatch):
    from channel_analysis.report import display as report

    tables: list = []
    monkeypatch.setattr(report, "_ensure_itables", lambda: None)
    monkeypatch.setattr(report, "_interactive_table", lambda frame, *a, **k: tables.append(frame) or "")
    monkeypatch.setattr(report, "_static_table", lambda frame, *a, **k: tables.append(frame) or "")
    # 00123 left on 2025-06-30: in July it is in the churn table, here with SM1 as its manager
    named = BASE["dealers"].replace("广州起重,广东,C,,", "广州起重,广东,C,SM1,")
    dealer_health.churn(month_data(source(dealers=named), "2025-07"))
    assert "Sales manager" in tables.pop().columns
    unnamed = "\n".join(",".join(line.split(",")[:4] + line.split(",")[5:]) for line in named.splitlines()) + "\n"
    md = month_data(source("sales_managers", dealers=unnamed), "2025-07")
    dealer_health.churn(md), dealer_health.action_list(md), index.most_urgent(md)
    assert tables and all("Sales manager" not in t.columns for t in tables)


def test_the_control_charts_share_one_legend_under_them(demo_world, shown):
    from channel_analysis.report.style import setup_style

    setup_style()  # as every report notebook does first: the figures' layout engine
    dealer_health.control_charts(month_data(str(demo_world), "2025-12"))
    (fig,) = shown["figures"]
    assert [ax.get_legend() for ax in fig.axes] == [None] * len(fig.axes)  # none inside a chart, over its points
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["Expected range", "Expected", "Actual", "Below the range"]
