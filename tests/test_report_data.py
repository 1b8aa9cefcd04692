"""What a report notebook loads: the prepared folder, MonthData, "what changed since last month",
the control-chart series of an alert, and the early warning's sentences in Chinese.

The summaries are checked on the small hand-written source of tests/mini_source.py, whose
figures can be followed with a pencil (see each test).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from channel_analysis import schema
from channel_analysis.early_warning.series import SERIES_COLUMNS, order_control_series
from channel_analysis.errors import ChannelAnalysisError, ParameterError
from channel_analysis.sources.read import read_source
from channel_analysis.text.reasons import alert_reason, knows_reason, why_changed
from channel_analysis.store.prepared import MARKER, PreparedSourceWarning, read_prepared_source, write_prepared_source
from channel_analysis.text.format import fmt_change, fmt_money, fmt_points, history_notes, sentence
from channel_analysis.report.month_data import month_data
from channel_analysis.validate.memory import validate_source
from mini_source import BASE

TYPES = {schema.TEXT: "str", schema.CODE: "str", schema.DATE: "datetime64", schema.TIMESTAMP: "datetime64",
         schema.NUMBER: "float64", schema.INTEGER: "Int64", schema.BOOLEAN: "boolean"}  # fmt: skip
SHORT = "Orders in the source begin in Jan 2024: figures over the last 12 months cover only {n} months."
NOT_JUDGED = ("The early warning judges a dealer against its own history after 9 months of orders, so none can be "
              "judged that way yet: most alerts cannot be raised, and a health score of 100 only means that nothing "
              "is known against a dealer.")


@pytest.fixture()
def source(tmp_path):
    """tests/mini_source.py's BASE as a folder of CSV files."""
    folder = tmp_path / "csv"
    folder.mkdir()
    for table, text in BASE.items():
        (folder / f"{table}.csv").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture()
def validated(source):
    return validate_source(read_source(source))


@pytest.fixture()
def prepared(validated, tmp_path):
    return write_prepared_source(validated.tables, tmp_path / "prepared")


# --------------------------------------------------------------------------- the prepared folder


def test_prepared_folder_reads_back_the_validated_frames_exactly(validated, prepared):
    tables = read_prepared_source(prepared)
    assert list(tables) == list(validated.tables)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, validated.tables[name])  # RangeIndex and Index of ints are "equiv"
        for column in frame.columns:  # the types validation gives: str ids, datetimes, floats, Int64, boolean
            kind = schema.kind_of(name, column)
            assert str(frame[column].dtype).startswith(TYPES[kind]), (name, column, frame[column].dtype)
    assert tables["orders"].index.name == "source_row"


def test_a_part_of_a_table_is_read_alone_and_asking_for_a_table_reads_nothing(validated, prepared, monkeypatch):
    import channel_analysis.store.views as rd
    from channel_analysis.months import Month
    from channel_analysis.store.prepared import load_source

    tables = load_source(prepared).tables.as_of(Month.parse("2024-06"))
    read = []
    real = rd._prepared_table
    monkeypatch.setattr(rd, "_prepared_table", lambda path, *a, **k: read.append((path.stem, k)) or real(path, *a, **k))
    assert "orders" in tables and "nothing" not in tables and read == []  # a membership test reads no file
    assert rd.table_rows(tables, "orders") == 4 and read == []  # O4 of 2024-07-01 is after the month
    assert rd.table_rows(validated.tables, "orders") == 5
    since = pd.Timestamp("2024-02-01")
    part = rd.table_part(tables, "orders", ["order_date", "amount", "no_such_column"], since)
    assert read == [("orders", {"columns": ["order_date", "amount", "no_such_column"], "since": since, "where": None})]
    orders = validated.tables["orders"]
    # O1 2024-01-20 is before the part, O4 2024-07-01 after the month: O2, O3 and O5 remain
    expected = orders.loc[(orders["order_date"] >= since) & (orders["order_date"] < "2024-07-01"), ["order_date", "amount"]]
    assert expected.index.tolist() == [2, 3, 5]
    pd.testing.assert_frame_equal(part, expected)
    full = tables["orders"]  # read whole once; a part is then cut from it, not read again
    pd.testing.assert_frame_equal(rd.table_part(tables, "orders", ["order_date", "amount"], since), expected)
    assert len(read) == 2 and len(full) == 4
    pd.testing.assert_frame_equal(rd.table_part(validated.tables, "orders", ["order_date", "amount"], since),
                                  orders.loc[orders["order_date"] >= since, ["order_date", "amount"]])  # frames in memory
    # only rows holding given values, read so (the file) or cut so (a frame in memory)
    visits = rd.table_part(tables, "interactions", ["dealer_id", "kind"], where=[{"kind": ["visit"]}])
    assert visits["kind"].tolist() == ["visit"] and visits.index.tolist() == [3]
    pd.testing.assert_frame_equal(rd.table_part(validated.tables, "interactions", ["dealer_id", "kind"],
                                                where=[{"kind": ["visit"]}]), visits)
    # alternatives: every column of one of them holds one of its values (I1 phone out, I2 phone in, I3 visit)
    for where, rows in (([{"kind": ["phone"], "direction": ["outbound"]}, {"kind": ["visit"]}], [1, 3]),
                        ([{"kind": ["phone", "visit"], "direction": ["inbound"]}], [2])):  # fmt: skip
        part = rd.table_part(tables, "interactions", ["kind", "direction"], where=where)
        assert part.index.tolist() == rows
        pd.testing.assert_frame_equal(rd.table_part(validated.tables, "interactions", ["kind", "direction"],
                                                    where=where), part)  # fmt: skip


def test_marker_lists_rows_and_checksums_and_only_parquet_files_are_written(validated, prepared):
    marker = json.loads((prepared / MARKER).read_text(encoding="utf-8"))
    assert set(marker["tables"]) == set(validated.tables)
    assert marker["tables"]["orders"]["rows"] == len(validated.tables["orders"]) == 5
    assert all(len(entry["sha256"]) == 64 for entry in marker["tables"].values())
    assert sorted(p.name for p in prepared.iterdir()) == sorted([MARKER] + [f"{t}.parquet" for t in validated.tables])


def test_prepared_folder_is_itself_a_valid_contract_source(validated, prepared):
    again = validate_source(read_source(prepared))
    assert again.quarantined_total == 0
    for name, frame in validated.tables.items():
        shown = again.tables[name][list(frame.columns)].reset_index(drop=True)
        pd.testing.assert_frame_equal(shown, frame.reset_index(drop=True), check_dtype=False)


def test_month_data_reads_a_prepared_folder_without_validating_and_agrees_with_the_csv_source(source, prepared):
    from_csv, from_prepared = month_data(str(source), "2024-06"), month_data(str(prepared), "2024-06")
    assert (from_csv.prepared, from_prepared.prepared) == (False, True)
    pd.testing.assert_frame_equal(from_prepared.kpis, from_csv.kpis)
    pd.testing.assert_frame_equal(from_prepared.health, from_csv.health)


def test_a_changed_parquet_file_is_refused_by_name_and_month_data_validates_the_folder_instead(prepared):
    orders = pd.read_parquet(prepared / "orders.parquet")
    orders.iloc[:-1].to_parquet(prepared / "orders.parquet")  # one row gone
    with pytest.raises(ChannelAnalysisError, match=r"orders\.parquet changed since it was written"):
        read_prepared_source(prepared)
    with pytest.warns(PreparedSourceWarning, match="orders.parquet"):
        md = month_data(str(prepared), "2024-06")
    assert not md.prepared
    assert "O5" not in set(md.tables["orders"]["order_id"])  # what the folder now holds, validated


def test_a_missing_file_or_a_stray_file_is_refused(prepared):
    (prepared / "notes.csv").write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(ChannelAnalysisError, match="notes.csv"):
        read_prepared_source(prepared)
    (prepared / "notes.csv").unlink()
    (prepared / "events.parquet").unlink()
    with pytest.raises(ChannelAnalysisError, match="events.parquet is missing"):
        read_prepared_source(prepared)


def test_writing_needs_a_folder_of_its_own_but_replaces_an_earlier_prepared_folder(validated, prepared, tmp_path):
    write_prepared_source({k: v for k, v in validated.tables.items() if k != "events"}, prepared)
    assert not (prepared / "events.parquet").exists()  # the earlier folder's files are gone
    assert "events" not in read_prepared_source(prepared)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "orders.csv").write_text("order_id\n", encoding="utf-8")
    with pytest.raises(ChannelAnalysisError, match="not empty"):
        write_prepared_source(validated.tables, busy)
    with pytest.raises(ValueError, match="required"):
        write_prepared_source({"orders": validated.tables["orders"]}, tmp_path / "x")


def test_month_data_refuses_a_bad_month_or_language(source):
    with pytest.raises(ParameterError, match="YYYY-MM"):
        month_data(str(source), "2024-6")
    with pytest.raises(ParameterError, match="language"):
        month_data(str(source), "2024-06", lang="fr")


# --------------------------------------------------------------------------- the month and what changed


def test_month_data_holds_the_tables_as_of_the_month_and_the_figures_of_m_and_m_minus_1(source):
    md = month_data(str(source), "2024-04")
    assert md.tables["orders"]["order_date"].max() < pd.Timestamp("2024-05-01")  # O2 (May) and later are out
    assert set(md.kpis["month"]) == {"2024-04"} and set(md.previous.kpis["month"]) == {"2024-03"}
    assert set(md.health["month"]) == {"2024-04"} and set(md.previous.health["month"]) == {"2024-03"}
    assert md.kpi("dealers_in_network") == 2  # D001, D002; 00123 signs in June
    assert md.manager_name("SM1") == "张伟" and md.manager_name(None) == ""


def test_headline_compares_with_last_month_and_last_year_shares_in_points(source):
    head = month_data(str(source), "2024-06").headline().set_index("metric")
    # revenue: June 250,000 (O5) against May 35,000.5 (O2); June 2023 lies before the data
    assert head.loc["revenue", "value"] == 250_000 and head.loc["revenue", "previous"] == 35_000.5
    assert head.loc["revenue", "change_previous"] == pytest.approx(250_000 / 35_000.5 - 1)
    assert np.isnan(head.loc["revenue", "last_year"]) and np.isnan(head.loc["revenue", "change_last_year"])
    # visit coverage: 0 of 2 in June, 1 of 2 in May → −0.5 (50 points), not −100%
    assert head.loc["visit_coverage_2m", "change_previous"] == pytest.approx(-0.5)
    assert head.loc["revenue", "kind"] == "money" and head.loc["dealers_in_network", "kind"] == "count"


def test_dealer_health_summary(source):
    lines = month_data(str(source), "2024-06").changes_summary("dealer_health")
    # revenue 250,000 / 35,000.5 − 1 = +614%; dealers in the network 3 (00123 signed 2024-06-01) against 2
    assert "Network revenue ¥250k: +614% vs May 2024, — vs the same month last year" in lines
    assert "Dealers in the network: 3 (+1 since last month); 0 left in the last 12 months" in lines
    zh = month_data(str(source), "2024-06", lang="zh").changes_summary("dealer_health")
    assert "全网销售额¥25万：较2024年5月+614%，较去年同期—" in zh


def test_cost_summary(source):
    lines = month_data(str(source), "2024-06").changes_summary("costs")
    assert lines.pop(0) == SHORT.format(n=6)  # orders begin in January 2024: said first
    # CAC: E1 50,000 / 3 dealers signed in T12 = 16,667 (May: / 2 = 25,000 → −33%)
    assert lines[0] == "Cost to acquire a dealer (last 12 months): ¥16.7k, −33% vs last month"
    # retention: E2 3,000 / mean dealers in the network at the 12 month ends, (1+1+2+2+2+3)/12 → 3,273;
    # May: (1+1+2+2+2)/12 → 4,500, so −27%
    assert lines[1] == "Cost to keep a dealer for a year: ¥3,273, −27% vs last month"
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
    assert history_notes(pd.Period("2024-01", freq="M"), period.end_time.normalize(), period,
                         early_warning=True) == notes
    assert history_notes(pd.Period("2024-01", freq="M"), period.end_time.normalize(), period) == notes[:1]


def test_the_history_notes_come_first_where_figures_over_12_months_are_shown(source):
    md = month_data(str(source), "2024-06")  # orders from January 2024 (O1) to June (O5)
    assert md.history_notes(early_warning=True) == [SHORT.format(n=6), NOT_JUDGED]
    assert md.changes_summary("dealer_health")[:2] == [SHORT.format(n=6), NOT_JUDGED]
    assert md.changes_summary("costs")[0] == SHORT.format(n=6)
    assert SHORT.format(n=6) not in md.changes_summary("dealer_health", history=False)
    assert SHORT.format(n=6) not in md.changes_summary("service_flow")  # no 12-month figure there


@pytest.mark.parametrize(
    ("n", "text"),
    [("1", "1 dealer left"), ("21", "21 dealers left"), ("1,001", "1,001 dealers left"), ("0", "0 dealers left")],
)
def test_a_count_of_one_takes_the_singular_in_english(n, text):
    assert sentence("churn_total", "en", n=n, value="¥5k", share="1%").startswith(text + " in the last 12 months")
    assert sentence("churn_total", "zh", n=n, value="¥5k", share="1%").startswith(f"近12个月共有{n}家")


def test_a_month_without_orders_is_said_first(source):
    # BASE's orders end on 2024-07-01 (O4): August 2024 has none, and the summaries say so before anything else
    first = month_data(str(source), "2024-08").changes_summary("dealer_health")[0]
    assert first == ("No order in the source is dated in Aug 2024 (the last is dated 2024-07-01). If the month's "
                     "orders are not loaded yet, every figure of the month reads as a fall: load them and run the "
                     "month again.")
    assert not any("No order in the source" in line for line in month_data(str(source), "2024-07").history_notes())


def test_service_summary(source):
    lines = month_data(str(source), "2024-03").changes_summary("service_flow")
    # March: R2 (complaint, 72 h, still open) is due and late: 0%; February: R1 closed in 6 h: 100%
    assert lines[0] == "Requests closed within their time limit: 0.0% (target 95%), −100.0 pts vs last month"
    assert "Complaints: 1 (0 last month)" in lines
    assert lines[3].startswith("100.0% of requests came through the sales manager")


def test_manager_summary(source):
    lines = month_data(str(source), "2024-04").changes_summary("sales_managers")
    # April: D001 and D002 established, neither called: 0% (March: D001 alone, not called: 0%)
    assert lines[0] == "Callback coverage: 0.0% (target 100%), ±0.0 pts vs last month"
    # visit in March–April (I3, 2024-04-10) to D001, the one dealer signed before March: 100%; in Feb–March none
    assert lines[1] == "Visit coverage (2 months): 100.0% (target 100%), +100.0 pts vs last month"


def test_events_summary_and_unknown_topic(source):
    md = month_data(str(source), "2024-06")
    # EV1 cost 200,000 for 2 attendances
    assert md.changes_summary("events")[0] == "Event cost per attendee (last 12 months): ¥100k, ±0% vs last month"
    with pytest.raises(ParameterError, match="dealer_health"):
        md.changes_summary("weather")


def test_a_missing_table_is_said_in_one_line(source):
    (source / "service_requests.csv").unlink()
    assert month_data(str(source), "2024-03").changes_summary("service_flow") == [
        "No Service requests data in the source: this section is left out."
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [(fmt_money(1_234_567), "¥1.2M"), (fmt_money(1_777), "¥1,777"), (fmt_money(-25_000), "−¥25k"),
     (fmt_money(225_939, "zh"), "¥22.6万"), (fmt_money(float("nan")), "—"), (fmt_change(96, 100), "−4%"),
     (fmt_change(106, 100), "+6%"), (fmt_change(1, 0), "—"), (fmt_points(0.823, 0.81), "+1.3 pts"),
     (fmt_points(0.5, 0.5, "zh"), "±0.0个百分点")],
)
def test_numbers_in_sentences(value, text):
    assert value == text


# --------------------------------------------------------------------------- the control chart of an alert


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


# --------------------------------------------------------------------------- the detectors' sentences in Chinese

REASONS = {  # as channel_analysis.early_warning.detect writes them
    "no order since 2025-02 (20 months); it ordered in 100% of the 12 months before, so a gap this long had "
    "under a 0.01% chance; dealers in 黑龙江 +7% over the last 3 months":
        "自2025-02起未再进货（已20个月）；此前12个月中有100%的月份进货，出现这么长空档的概率不足0.01%；黑龙江经销商近3个月进货+7%",
    "24 orders for ¥1.4M in the last 6 months against 68 for ¥3.7M expected from its own history; dealers in 四川 "
    "-5% over the same months":
        "近6个月进货24笔、¥140万，按其自身历史预计68笔、¥370万；同期四川经销商进货-5%",
    "3 orders for ¥350k in the last month against 9 for ¥900k expected from its own history; dealers in 山东 +1% "
    "over the same months":
        "近1个月进货3笔、¥35万，按其自身历史预计9笔、¥90万；同期山东经销商进货+1%",
    "12 calls from the dealer in the last 2 months against about 3.2 usual: find out what it needs":
        "近2个月该经销商来电12次，平时约3.2次：请了解其需求",
    "1 calls from the dealer in the last 3 months against about 9 usual: it has gone quiet":
        "近3个月该经销商来电1次，平时约9次：已明显沉寂",
    "orders in the last 6 months -97% against its own baseline, far below dealers of the same region and tier "
    "(z = -8.2)":
        "近6个月订单较自身基线-97%，远低于同区域、同等级的经销商（z = -8.2）",
    "only the first order, 22 months ago, and no reorder since: visit and find out why":
        "仅有22个月前的首单，此后未再复购：请上门了解原因",
}


@pytest.mark.parametrize("reason", list(REASONS))
def test_every_alert_reason_reads_in_chinese_with_its_figures(reason):
    assert knows_reason(reason)
    assert alert_reason(reason, "zh") == REASONS[reason]
    assert alert_reason(reason, "en") == reason


def test_an_unknown_reason_is_shown_as_written_and_why_changed_is_translated():
    assert alert_reason("something new", "zh") == "something new"
    assert why_changed("recency -12, level +3", "en") == "Recency −12, Level +3"
    assert why_changed("recency -12, level +3", "zh") == "最近进货 −12，进货水平 +3"
    assert why_changed("new this month", "zh") == "本月新增"
    assert why_changed("", "zh") == ""


def test_demo_alert_reasons_are_all_known(tmp_path):
    """Every sentence the detectors write on a demo world has its Chinese form."""
    from channel_analysis.synthetic import write_demo_data

    write_demo_data(tmp_path / "demo", dealers=120, start="2024-01", end="2025-12", seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        md = month_data(str(tmp_path / "demo"), "2025-12")
        reasons = pd.concat([md.alerts["reason"], md.previous.alerts["reason"]])
    assert len(reasons) > 0
    assert [r for r in reasons if not knows_reason(r)] == []


def test_each_metric_gives_the_same_figures_from_only_the_panel_columns_it_declares(tmp_path):
    # the reports pass large-network panels cut to these columns (MonthData.panel_part): a metric
    # reading a column its list leaves out would raise here, and one whose figures depend on the
    # frame's other columns would differ
    from channel_analysis.metrics import cohorts, costs, events
    from channel_analysis.panel import dealer_month_panel
    from channel_analysis.synthetic import write_demo_data

    write_demo_data(tmp_path / "demo", dealers=60, start="2023-01", end="2025-12", seed=4)
    tables = validate_source(read_source(tmp_path / "demo")).tables
    panel, month = dealer_month_panel(tables, as_of="2025-12"), "2025-12"
    expenses, dealers = tables["expenses"], tables["dealers"]
    cac = costs.acquisition_cost_per_dealer(expenses, dealers, as_of=month, freq="QE").set_index("period")["cac"]
    calls = {
        tuple(cohorts.PANEL_COLUMNS): [
            lambda p: cohorts.cohort_ramp_up(p, as_of=month, cohort_freq="Y"),
            lambda p: cohorts.payback_month(p, cac, as_of=month),
            lambda p: cohorts.retained_dealer_value(p, as_of=month, by="region"),
            lambda p: cohorts.revenue_lost_to_churn(p, dealers, as_of=month),
        ],
        tuple(costs.PANEL_COLUMNS): [
            lambda p: costs.retention_activity_effect(p, expenses, as_of=month),
            lambda p: costs.retention_spend_roi(p, expenses, as_of=month, by="region"),
            lambda p: costs.revenue_by_segment(p, as_of=month),
        ],
        tuple(events.PANEL_COLUMNS): [
            lambda p: events.event_effect(p, tables["events"], tables["event_attendance"], as_of=month),
        ],
    }
    for columns, figures in calls.items():
        assert len(columns) < len(panel.columns)
        for figure in figures:
            pd.testing.assert_frame_equal(figure(panel[list(columns)]), figure(panel))
