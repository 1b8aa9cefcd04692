"""The service-flow report (DOMAIN.md §2.1): the order-to-complaint process step by step —
volume, time to close against each step's time limit, the share closed in time, backlog,
complaints and satisfaction, requests that still go through the sales manager, and the
slowest departments."""

from __future__ import annotations

import pandas as pd

from channel_analysis import schema
from channel_analysis.metrics.service import (
    service_levels,
    sla_compliance_trend,
    slowest_departments,
    via_sales_manager_trend,
)
from channel_analysis.report import plots
from channel_analysis.report.display import summary_box
from channel_analysis.report.month_data import MonthData
from channel_analysis.report.sections._base import colours_of, figure, note, section, show_figure, show_table

S = schema.ServiceRequests
NEEDS = ("service_requests",)


def summary(md: MonthData) -> None:
    """The box at the top: what changed since last month."""
    summary_box(md.changes_summary("service_flow"), lang=md.lang)


# --------------------------------------------------------------------------- frames


def volume_frame(md: MonthData) -> pd.DataFrame:
    """Requests opened per process step in M−1 and M."""
    parts = []
    for label_ in (md.previous_label, md.label):
        levels = service_levels(md.view("service_requests"), as_of=label_, settings=md.settings)
        parts.append(pd.DataFrame({"process": levels[S.process], "month": md.t.month(label_),
                                   "opened": levels["opened"]}))
    return pd.concat(parts, ignore_index=True)


def time_to_close_frame(md: MonthData) -> pd.DataFrame:
    """Median, 75th and 90th percentile hours to close per step (requests closed in M), and the limit."""
    levels = service_levels(md.view("service_requests"), as_of=md.label, settings=md.settings)
    levels = levels.assign(sla_hours=levels[S.process].map(md.settings.sla_hours).astype(float))
    return levels[[S.process, "median_hours", "p75_hours", "p90_hours", "sla_hours"]]


def monthly_levels(md: MonthData, months: int = 12) -> pd.DataFrame:
    """The whole process per month over the ``months`` ending M: opened, backlog, complaints,
    mean satisfaction."""
    frames = [service_levels(md.view("service_requests"), as_of=md.period - k, by=None, settings=md.settings)
              for k in reversed(range(months))]
    return pd.concat(frames, ignore_index=True)


def via_frames(md: MonthData, top: int = 10, min_requests: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the network's share via the sales manager per month, the ``top`` managers by share in M
    among those with at least ``min_requests`` requests)."""
    trend = via_sales_manager_trend(md.view("service_requests"), md.tables["dealers"], as_of=md.label)
    network = trend[trend["scope"] == "network"]
    managers = trend[(trend["scope"] == "sales_manager") & (trend["month"] == md.label)
                     & (trend["requests"] >= min_requests)]
    managers = managers.sort_values(["via_sales_manager_share", "scope_id"], ascending=[False, True]).head(top)
    managers = managers.assign(sales_manager=[md.manager_name(i) for i in managers["scope_id"]])
    return network, managers


# --------------------------------------------------------------------------- sections


@section("volume", needs=NEEDS)
def volume(md: MonthData) -> pd.DataFrame | None:
    """Requests opened per process step, this month against last month."""
    frame = volume_frame(md)
    fig, ax = figure(8, 3.8)
    plots.plot_bar(frame, category="process", value="opened", hue="month", palette=["#b9c6d2", plots.PALETTE[0]],
                   lang=md.lang, ax=ax)
    ax.get_legend().set_title("")
    ax.set_ylabel("")
    show_figure(fig)
    return frame


@section("time_to_close", needs=NEEDS)
def time_to_close(md: MonthData) -> pd.DataFrame | None:
    """How long requests closed this month took, against each step's time limit."""
    frame = time_to_close_frame(md)
    if frame[["median_hours", "p90_hours"]].isna().all().all():
        note(md, "no_data")
        return
    fig, ax = figure(9, 3.2)
    plots.plot_ranges(frame, category=S.process, points=["median_hours", "p75_hours", "p90_hours"],
                      limit="sla_hours", xlabel="hours_to_close", lang=md.lang, ax=ax)
    show_figure(fig)
    return frame


@section("sla", needs=NEEDS)
def sla(md: MonthData) -> pd.DataFrame | None:
    """Share closed within the time limit per step over 12 months, against the 95% target."""
    frame = sla_compliance_trend(md.view("service_requests"), as_of=md.label, settings=md.settings)
    fig, ax = figure(8.8, 4)
    plots.plot_line_over_months(frame, x="month", y="sla_compliance", hue=S.process, percent=True,
                                target=md.settings.sla_target, lang=md.lang, ax=ax,
                                palette=colours_of(dict.fromkeys(frame[S.process]), "process"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    for text in ax.get_legend().get_texts():
        text.set_text(md.text(text.get_text()))
    show_figure(fig)
    levels = md.service_levels
    shown = show_table(levels[[S.process, "sla_due", "sla_within", "sla_compliance", "backlog", "complaints",
                               "satisfaction_mean"]],
                       lang=md.lang, label_values=[S.process], percent_columns=["sla_compliance"],
                       decimals={"satisfaction_mean": 1})
    _never_closed(md)
    return shown


def _never_closed(md: MonthData) -> None:
    """The caveat of a source that records no closing: every request then counts as open."""
    if not md.requests_closed:
        note(md, "n.never_closed")


@section("backlog", needs=NEEDS)
def backlog(md: MonthData) -> pd.DataFrame | None:
    """Backlog, complaints and satisfaction month by month."""
    frame = monthly_levels(md)
    fig, axes = figure(9, 6.6, nrows=3, sharex=True)
    for ax, column in zip(axes, ("backlog", "complaints", "satisfaction_mean")):
        plots.plot_line_over_months(frame, x="month", y=column, lang=md.lang, ax=ax, title=md.text(column))
        ax.set(xlabel="", ylabel="")
    axes[0].set_ylim(bottom=0)
    axes[1].set_ylim(bottom=0)
    axes[2].set_ylim(1, 5)
    show_figure(fig)
    _never_closed(md)
    return frame


@section("via_sales_manager", needs=NEEDS)
def via_sales_manager(md: MonthData) -> pd.DataFrame | None:
    """Requests that reached the maker through the sales manager instead of the process."""
    network, managers = via_frames(md)
    fig, ax = figure(9, 3.4)
    plots.plot_line_over_months(network, x="month", y="via_sales_manager_share", percent=True, lang=md.lang, ax=ax)
    ax.set_ylim(bottom=0)
    show_figure(fig)
    if len(managers):
        fig, ax = figure(8, 0.3 * len(managers) + 1.2)
        plots.plot_bar(managers, category="sales_manager", value="via_sales_manager_share", percent=True,
                       lang=md.lang, ax=ax, palette=[plots.PALETTE[1]] * len(managers),
                       title=md.text("chart.via_by_manager"))
        ax.set_ylabel("")
        show_figure(fig)
    return network


@section("slowest_departments", needs=NEEDS)
def departments(md: MonthData) -> pd.DataFrame | None:
    """Departments by share closed in time, slowest first."""
    if S.department not in md.view("service_requests"):
        note(md, "no_column", column=md.text("department"))
        return
    frame = slowest_departments(md.view("service_requests"), as_of=md.label, settings=md.settings)
    if frame.empty:
        note(md, "no_data")
        return
    return show_table(frame[["rank", S.department, "opened", "median_hours", "p90_hours", "sla_compliance",
                             "backlog", "satisfaction_mean"]],
                      lang=md.lang, percent_columns=["sla_compliance"],
                      decimals={"median_hours": 1, "p90_hours": 1, "satisfaction_mean": 1})


__all__ = ["summary", "volume", "time_to_close", "sla", "backlog", "via_sales_manager", "departments"]
