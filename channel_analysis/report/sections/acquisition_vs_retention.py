"""The acquisition-vs-retention report (DOMAIN.md §1): what a new dealer costs and what keeping
one costs, the funnel and its effort, how new dealers ramp up and pay back, what a retained
dealer is worth, and which retention activities go with higher later orders."""

from __future__ import annotations

import numpy as np
import pandas as pd

from channel_analysis import schema
from channel_analysis.metrics.cohorts import PANEL_COLUMNS as COHORT_COLUMNS
from channel_analysis.metrics.cohorts import cohort_ramp_up, payback_month, retained_dealer_value
from channel_analysis.metrics.costs import PANEL_COLUMNS as COST_COLUMNS
from channel_analysis.metrics.costs import (
    acquisition_cost_per_dealer,
    retention_activity_effect,
    retention_cost_per_dealer,
    retention_spend_roi,
)
from channel_analysis.metrics.funnel import prospect_funnel, time_to_signing
from channel_analysis.report import plots
from channel_analysis.report.display import summary_box
from channel_analysis.report.month_data import MonthData
from channel_analysis.report.sections._base import (
    colours_of,
    figure,
    note,
    prefixed,
    section,
    show_figure,
    show_table,
    show_text,
)

X = schema.Expenses
GROSS_MARGIN = 0.25  # the margin on revenue that pays back a CAC (payback_month's default)


def summary(md: MonthData) -> None:
    """The box at the top: what changed since last month."""
    summary_box(md.changes_summary("acquisition_vs_retention"), lang=md.lang)


# --------------------------------------------------------------------------- frames


def _in_data(periods: pd.Series, md: MonthData) -> pd.Series:
    """Periods (any frequency) that start on or after the first month with orders."""
    return periods.map(lambda p: p.start_time >= md.first_data_month.start_time)


def cac_by_quarter_frame(md: MonthData, quarters: int = 8) -> pd.DataFrame:
    """CAC by quarter and category for the last ``quarters`` quarters with signings; an
    incomplete last quarter is marked ``*``."""
    frame = acquisition_cost_per_dealer(md.view("expenses"), md.tables["dealers"], as_of=md.label, freq="QE",
                                        by=X.category)
    frame = frame[frame["dealers_signed"] > 0]
    keep = sorted(frame["period"].unique())[-quarters:]
    frame = frame[frame["period"].isin(keep)]
    shown = frame["period"].astype(str) + np.where(frame["period_complete"], "", "*")
    return pd.DataFrame({"quarter": shown, "category": prefixed(frame[X.category], "cat."), "cac": frame["cac"]})


def cac_by_region_frame(md: MonthData) -> pd.DataFrame:
    """The contract's cac_t12 per region, highest first (regions with signings)."""
    kpis = md.kpis
    rows = kpis[(kpis["metric"] == "cac_t12") & (kpis["scope"] == "region") & kpis["value"].notna()]
    return rows.rename(columns={"scope_id": "region", "value": "cac_t12"})[["region", "cac_t12"]].sort_values(
        "cac_t12", ascending=False)


def retention_cost_frame(md: MonthData, years: int = 3) -> pd.DataFrame:
    """Retention cost per dealer and year by category, for the last ``years`` 12-month windows
    that lie within the data."""
    frame = retention_cost_per_dealer(md.view("expenses"), md.tables["dealers"], as_of=md.label, by=X.category)
    inside = frame["year_ending"].map(lambda e: (e - 11).start_time >= md.first_data_month.start_time)
    frame = frame[inside]
    keep = sorted(frame["year_ending"].unique())[-years:]
    frame = frame[frame["year_ending"].isin(keep)].sort_values("year_ending", kind="stable")
    return pd.DataFrame({"year_ending": frame["year_ending"].astype(str),
                         "category": prefixed(frame[X.category], "cat."),
                         "cost_per_dealer": frame["cost_per_dealer"]})


def ramp_up_frame(md: MonthData, cohorts: int = 4, max_months: int = 24, min_dealers: int = 5) -> pd.DataFrame:
    """Monthly revenue per dealer by months since signing for the last ``cohorts`` signing years
    that began within the data, at ages reached by at least ``min_dealers`` dealers."""
    frame = cohort_ramp_up(md.panel_part(COHORT_COLUMNS), as_of=md.label, cohort_freq="Y", max_months=max_months)
    frame = frame[_in_data(frame["cohort"], md) & (frame["dealers"] >= min_dealers)]
    keep = sorted(frame["cohort"].unique())[-cohorts:]
    return frame[frame["cohort"].isin(keep)]


def payback_frame(md: MonthData, quarters: int = 8) -> pd.DataFrame:
    """Quarterly signing cohorts within the data, each against its own quarter's CAC."""
    cac = acquisition_cost_per_dealer(md.view("expenses"), md.tables["dealers"], as_of=md.label, freq="QE")
    by_quarter = cac.set_index("period")["cac"]
    frame = payback_month(md.panel_part(COHORT_COLUMNS), by_quarter, as_of=md.label, gross_margin=GROSS_MARGIN, cohort_freq="Q")
    frame = frame[_in_data(frame["cohort"], md) & frame["cac"].notna()]
    frame = frame.tail(quarters)
    return pd.DataFrame({
        "cohort": frame["cohort"].astype(str),
        "dealers": frame["dealers"],
        "cac": frame["cac"],
        "months_observed": frame["months_observed"] + 1,
        "payback_month": frame["payback_month"].astype("Int64"),
        "dealers_paid_back_share": frame["dealers_paid_back_share"],
    })


def activity_frame(md: MonthData) -> pd.DataFrame:
    """:func:`retention_activity_effect` as shown: relative change in later orders per unit of
    each activity, with its 95% interval."""
    expenses = md.view("expenses") if md.has("expenses") else None
    fit = retention_activity_effect(md.panel_part(COST_COLUMNS), expenses, as_of=md.label)
    return pd.DataFrame({
        "activity": "act." + fit["term"],
        "unit": ("unit." + fit["term"]).map(md.text),
        "relative_change": fit["relative_change"],
        "ci_low": np.expm1(fit["ci_low"]),
        "ci_high": np.expm1(fit["ci_high"]),
        "p_value": fit["p_value"].map(md.t.p_value),
        "n_obs": fit["n_obs"],
        "n_dealers": fit["n_dealers"],
    })


# --------------------------------------------------------------------------- sections


@section("acquire_vs_keep", needs=("expenses",))
def acquire_vs_keep(md: MonthData) -> pd.DataFrame | None:
    """One new dealer against keeping one dealer for a year."""
    frame = pd.DataFrame({"metric": ["cac_t12", "retention_cost_per_dealer_t12"],
                          "amount": [md.kpi("cac_t12"), md.kpi("retention_cost_per_dealer_t12")]})
    fig, ax = figure(8, 2.4)
    plots.plot_bar(frame, category="metric", value="amount", money=True, lang=md.lang, ax=ax,
                   palette=[plots.PALETTE[1], plots.PALETTE[2]])
    ax.set_ylabel("")
    show_figure(fig)
    cac, keep = frame["amount"]
    if pd.notna(cac) and pd.notna(keep) and keep > 0:
        show_text(md.text("sum.ratio", ratio=md.t.number(cac / keep, 1)))
    return frame


@section("cac_by_quarter", needs=("expenses",))
def cac_by_quarter(md: MonthData) -> None:
    """CAC by quarter, split by what the money went to; then by region."""
    frame = cac_by_quarter_frame(md)
    if frame.empty:
        note(md, "no_data")
        return
    fig, ax = figure(9, 4.2)
    plots.plot_stacked_bars(frame, x="quarter", y="cac", hue="category", money=True, lang=md.lang, ax=ax,
                            palette=colours_of(dict.fromkeys(frame["category"]), "expense_category", "cat."))
    show_figure(fig)
    if frame["quarter"].str.endswith("*").any():
        note(md, "n.incomplete_quarter")
    regions = cac_by_region_frame(md)
    spent = md.view("expenses")
    if X.region not in spent or spent[X.region].isna().all():  # spend without a region counts for the network only
        note(md, "n.no_expense_region")
    elif len(regions):
        fig, ax = figure(8, 0.28 * len(regions) + 1.2)
        plots.plot_bar(regions, category="region", value="cac_t12", money=True, lang=md.lang, ax=ax,
                       palette=[plots.PALETTE[1]] * len(regions), title=md.text("chart.cac_by_region"))
        show_figure(fig)


@section("retention_cost", needs=("expenses",))
def retention_cost(md: MonthData) -> None:
    """Retention cost per dealer and year, by category."""
    frame = retention_cost_frame(md)
    if frame.empty:
        note(md, "no_data")
        return
    fig, ax = figure(8, 4)
    plots.plot_stacked_bars(frame, x="year_ending", y="cost_per_dealer", hue="category", money=True, lang=md.lang,
                            ax=ax, palette=colours_of(dict.fromkeys(frame["category"]), "expense_category", "cat."))
    show_figure(fig)


@section("funnel", needs=("prospects",))
def funnel(md: MonthData) -> pd.DataFrame | None:
    """How far the prospects closed in the last 12 months got."""
    frame = prospect_funnel(md.view("prospects"), as_of=md.label, window_months=12)
    if frame["closed"].sum() == 0:
        note(md, "no_data")
        return
    fig, ax = figure(8, 3)
    plots.plot_funnel(frame, stage="stage", count="closed", conversion="step_conversion", lang=md.lang, ax=ax)
    show_figure(fig)
    open_ = frame.set_index("stage")["open"]
    show_text(md.text("funnel_open", contacted=open_.get("contacted", 0), visited=open_.get("visited", 0),
                      negotiating=open_.get("negotiating", 0)), note=True)
    return frame


@section("time_to_signing", needs=("prospects",))
def signing_time(md: MonthData, min_signed: int = 3) -> None:
    """Days from first contact to signing, for the network and by region."""
    prospects = md.view("prospects")
    network = time_to_signing(prospects, as_of=md.label, window_months=12)
    if network.empty or network["signed"].iloc[0] == 0:
        note(md, "no_data")
        return
    row = network.iloc[0]
    show_text(md.text("signing_days", n=row["signed"], median=row["days_median"], q1=row["days_q1"],
                      q3=row["days_q3"]))
    regions = time_to_signing(prospects, as_of=md.label, by="region", window_months=12)
    regions = regions[regions["signed"] >= min_signed].sort_values("days_median")
    if len(regions):
        fig, ax = figure(8, 0.3 * len(regions) + 1.4)
        plots.plot_ranges(regions, category="region", points=["days_q1", "days_median", "days_q3"],
                          xlabel="days_to_signing", lang=md.lang, ax=ax)
        show_figure(fig)


@section("effort", needs=("prospects", "interactions"))
def effort(md: MonthData) -> None:
    """Touches and hours per signed dealer against per retained dealer and year."""
    frame = md.effort()
    fig, (left, right) = figure(9, 2.6, ncols=2)
    palette = [plots.PALETTE[1], plots.PALETTE[2]]
    plots.plot_bar(frame, category="effort", value="touches", lang=md.lang, ax=left, palette=palette)
    plots.plot_bar(frame, category="effort", value="hours", lang=md.lang, ax=right, palette=palette)
    right.set_yticklabels([])
    for ax in (left, right):
        ax.set_ylabel("")
    show_figure(fig)
    note(md, "n.effort")


@section("ramp_up")
def ramp_up(md: MonthData) -> None:
    """Monthly revenue per dealer in its first two years, by signing year: median and middle half;
    the first batch (month 0) in words, since it dwarfs the months after."""
    frame = ramp_up_frame(md)
    if frame.empty:
        note(md, "no_data")
        return
    first = frame[frame["months_since_signed"] == 0]
    if len(first):
        cohorts, medians = first["cohort"].astype(str), first["median"]
        batches = md.t.label("list_separator_long").join(f"{c}: {md.t.money(v)}" for c, v in zip(cohorts, medians))
        show_text(md.text("first_batch", batches=batches))
    later = frame[frame["months_since_signed"] >= 1]
    fig, ax = figure(8.8, 4)
    plots.plot_lines_with_band(later, x="months_since_signed", y="median", lower="q1", upper="q3", hue="cohort",
                               money=True, ylabel="revenue_per_dealer_month", lang=md.lang, ax=ax)
    ax.legend(title=md.text("signing_year"), loc="upper left", ncols=len(later["cohort"].unique()))
    ax.set_ylim(bottom=0)
    show_figure(fig)
    note(md, "n.ramp_up")


@section("payback", needs=("expenses",))
def payback(md: MonthData) -> pd.DataFrame | None:
    """When each quarter's new dealers earned back what acquiring them cost."""
    frame = payback_frame(md)
    if frame.empty:
        note(md, "no_data")
        return
    show_table(frame, lang=md.lang, money_columns=["cac"], percent_columns=["dealers_paid_back_share"])
    note(md, "n.payback", margin=md.t.share(GROSS_MARGIN, 0))
    return frame


@section("retained_value")
def retained_value(md: MonthData) -> None:
    """The value of keeping an established dealer, with every assumption shown; revenue per
    unit of retention spend."""
    value = retained_dealer_value(md.panel_part(COHORT_COLUMNS), as_of=md.label, gross_margin=GROSS_MARGIN).iloc[0]
    rows = [
        ("monthly_revenue_per_dealer", md.t.money(value["monthly_revenue_per_dealer"])),
        ("monthly_churn", md.t.share(value["monthly_churn"], 2)),
        ("gross_margin", md.t.share(value["gross_margin"], 0)),
        ("annual_discount_rate", md.t.share(value["annual_discount_rate"], 0)),
        ("horizon_months", md.t.count(value["horizon_months"])),
        ("retained_value", md.t.money(value["value"])),
    ]
    show_table(pd.DataFrame(rows, columns=["assumption", "value"]), lang=md.lang, label_values=["assumption"],
               align_right=["value"])
    cac = md.kpi("cac_t12") if md.has("expenses") else float("nan")
    if pd.notna(cac) and cac > 0:
        show_text(md.text("retained_vs_cac", value=md.t.money(value["value"]), cac=md.t.money(cac),
                          horizon=value["horizon_months"]))
    if md.has("expenses"):
        roi = retention_spend_roi(md.panel_part(COST_COLUMNS), md.view("expenses"), as_of=md.label)
        inside = roi["year_ending"].map(lambda e: (e - 11).start_time >= md.first_data_month.start_time)
        roi = roi[(roi["retention_spend"] > 0) & inside]
        if len(roi):
            roi = roi.assign(year_ending=roi["year_ending"].astype(str))
            show_table(roi, lang=md.lang, money_columns=["retention_spend", "established_revenue"],
                       caption=md.text("chart.roi"))
            note(md, "n.roi")


@section("activity_model", needs_one_of=("interactions", "expenses"))
def activity_model(md: MonthData) -> pd.DataFrame | None:
    """Which retention activities go with higher later orders: estimates, intervals and limits."""
    frame = activity_frame(md)
    fig, ax = figure(8, 0.7 * len(frame) + 1.6)
    plots.plot_estimates(frame, term="activity", estimate="relative_change", ci_low="ci_low", ci_high="ci_high",
                         percent=True, xlabel="change_in_later_orders", lang=md.lang, ax=ax)
    show_figure(fig)
    show_table(frame.drop(columns=["n_dealers", "n_obs"]), lang=md.lang, label_values=["activity"],
               percent_columns=["relative_change", "ci_low", "ci_high"], align_right=["p_value"])
    note(md, "n.activity_limits", n_dealers=frame["n_dealers"].iloc[0])
    return frame


__all__ = ["summary", "acquire_vs_keep", "cac_by_quarter", "retention_cost", "funnel", "signing_time", "effort",
           "ramp_up", "payback", "retained_value", "activity_model"]
