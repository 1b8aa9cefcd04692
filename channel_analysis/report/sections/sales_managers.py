"""The sales-manager report (DOMAIN.md §2.2): each manager against the article's three rules —
a follow-up call to every dealer every month, a visit every two months, at most 4% of dealers
with only their first order — the ranking, the dealers that break a rule, and the trend."""

from __future__ import annotations

import pandas as pd
from matplotlib.patches import Patch

from channel_analysis.metrics._common import SALES_MANAGER
from channel_analysis.metrics.scorecard import RULES
from channel_analysis.report import plots
from channel_analysis.report.display import summary_box
from channel_analysis.report.month_data import MonthData
from channel_analysis.report.sections._base import drop_empty, figure, note, section, show_figure, show_table, show_text
from channel_analysis.text.labels import table_names

RULE_COLOURS = {3: "#3a9d5d", 2: "#d4a017", 1: "#e07b39", 0: "#c0392b"}
RANKING_SHOWN = 15  # managers charted at each end of a long ranking


def summary(md: MonthData) -> None:
    """The box at the top: what changed since last month."""
    summary_box(md.changes_summary("sales_managers"), lang=md.lang)


# --------------------------------------------------------------------------- frames


def scorecard_frame(md: MonthData) -> pd.DataFrame:
    """The scorecard of M as shown, best first."""
    card = md.scorecard
    return pd.DataFrame({
        "rank": card["rank"],
        "sales_manager": [md.manager_name(i) for i in card["sales_manager_id"]],
        "region": card["region"],
        "dealers_in_network": card["dealers_in_network"],
        "callback_coverage": card["callback_coverage"],
        "visit_coverage_2m": card["visit_coverage_2m"],
        "first_order_only_share": card["first_order_only_share"],
        "rules_met": card["rules_met"],
        "compliance": card["compliance"],
        "revenue_t12": card["revenue_t12"],
    })


def ranking_frame(md: MonthData) -> pd.DataFrame:
    """Managers in rank order: compliance and how many rules each meets (as a label key)."""
    card = scorecard_frame(md)
    return card.assign(rules=("rules_met_" + card["rules_met"].astype(str)))[
        ["sales_manager", "compliance", "rules", "rules_met"]]


def ranking_ends(ranking: pd.DataFrame, shown: int = RANKING_SHOWN) -> list[pd.DataFrame]:
    """The ranking as charted: whole up to ``2 * shown`` managers, else its first and its last
    ``shown`` (a chart of thousands of bars cannot be read; the scorecard table ranks them all)."""
    if len(ranking) <= 2 * shown:
        return [ranking]
    return [ranking.head(shown), ranking.tail(shown)]


def breakers_frame(md: MonthData) -> pd.DataFrame:
    """Every dealer that breaks a rule, by manager."""
    rows = md.rule_breakers
    return pd.DataFrame({
        "sales_manager": [md.manager_name(i) for i in rows["sales_manager_id"]],
        "rule": "rule." + rows["rule"],
        "dealer": rows["dealer_name"].fillna("") + " (" + rows["dealer_id"] + ")",
        "region": rows["region"],
        "last_call_date": rows["last_call_date"].dt.normalize(),
        "days_since_last_call": rows["days_since_last_call"],
        "last_visit_date": rows["last_visit_date"].dt.normalize(),
        "days_since_last_visit": rows["days_since_last_visit"],
        "first_order_date": rows["first_order_date"],
    })


def rule_trend_frame(md: MonthData, months: int = 12) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(network value of each rule KPI per month, managers meeting each rule per month) over the
    ``months`` ending M, from the contract's KPIs of each month."""
    history = md.kpi_history(months)
    history = history[history["metric"].isin(list(RULES.values()))]
    network = history[history["scope"] == "network"][["month", "metric", "value"]]
    managers = history[(history["scope"] == SALES_MANAGER) & (history["meets_target"] != "")]
    meeting = (managers.assign(met=managers["meets_target"] == "true").groupby(["month", "metric"], sort=False)["met"]
               .sum().reset_index(name="managers_meeting_rule"))
    return network, meeting


# --------------------------------------------------------------------------- sections


@section("scorecard")
def scorecard(md: MonthData) -> pd.DataFrame | None:
    """One row per sales manager: the three rules, rules met, compliance and revenue."""
    frame = scorecard_frame(md)
    if frame.empty:
        note(md, "no_managers")
        return
    show_table(frame, lang=md.lang, long=len(frame) > 15, money_columns=["revenue_t12"],
               percent_columns=["callback_coverage", "visit_coverage_2m", "first_order_only_share", "compliance"])
    if not md.has("interactions"):
        note(md, "no_table", table=table_names(["interactions"], md.lang))
    return frame


@section("ranking")
def ranking(md: MonthData) -> pd.DataFrame | None:
    """Managers ranked: most rules met first, then compliance."""
    frame = ranking_frame(md)
    if frame.empty:
        note(md, "no_managers")
        return
    parts = ranking_ends(frame)
    fig, axes = figure(8.5, sum(0.24 * len(p) + 1.3 for p in parts), nrows=len(parts), sharex=True, squeeze=False,
                       height_ratios=[len(p) for p in parts])  # fmt: skip
    for part, ax in zip(parts, axes[:, 0], strict=True):
        levels = list(dict.fromkeys(part["rules_met"]))
        plots.plot_bar(part, category="sales_manager", value="compliance", hue="rules", dodge=False, percent=True,
                       palette=[RULE_COLOURS.get(n, plots.PALETTE[5]) for n in levels], lang=md.lang, ax=ax,
                       bar_labels=len(part) <= 25)
        ax.set_ylabel("")
        ax.tick_params(axis="y", labelsize=9)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    # one legend for the figure, beside it (inside, it would cover the bars of 100%)
    handles = [Patch(color=RULE_COLOURS.get(n, plots.PALETTE[5]), label=md.text(f"rules_met_{n}"))
               for n in sorted(set(frame["rules_met"]), reverse=True)]
    axes[0, 0].legend(handles=handles, title=md.text("rules_met"), loc="upper left", bbox_to_anchor=(1.0, 1.0),
                      fontsize=9)
    if len(parts) > 1:
        axes[0, 0].set_title(md.text("chart.ranking_top", n=len(parts[0])))
        axes[1, 0].set_title(md.text("chart.ranking_bottom", n=len(parts[1])))
    show_figure(fig)
    if len(parts) > 1:
        show_text(md.text("ranking_ends", n=RANKING_SHOWN, total=len(frame)))
    return frame


@section("rule_breakers")
def breakers(md: MonthData) -> pd.DataFrame | None:
    """Every dealer that breaks a rule this month: the sales manager's to-do list."""
    frame = breakers_frame(md)
    if frame.empty:
        note(md, "no_breakers")
        return
    counts = frame["rule"].value_counts()
    first = counts.get("rule.first_order_only", 0)
    if md.has("interactions"):
        show_text(md.text("breaker_counts", callback=counts.get("rule.no_callback", 0),
                          visit=counts.get("rule.no_visit_2m", 0), first=first))
    else:  # calls and visits cannot be checked: "0 dealers had no call" would not be true
        show_text(md.text("breaker_counts_orders_only", first=first, table=table_names(["interactions"], md.lang)))
        frame = frame.drop(columns=["last_call_date", "days_since_last_call", "last_visit_date",
                                    "days_since_last_visit"])
    return show_table(drop_empty(frame), lang=md.lang, long=True, label_values=["rule"], wrap=["dealer"])


@section("rule_trend")
def trend(md: MonthData) -> pd.DataFrame | None:
    """The three rules over 12 months: the network's value and how many managers keep each."""
    network, meeting = rule_trend_frame(md)
    if network["value"].notna().sum() == 0:
        note(md, "no_data")
        return
    coverage = network[network["metric"] != "first_order_only_share"]
    charted = coverage["value"].notna().any()  # without interactions only the first-order rule has values
    fig, axes = figure(9 if charted else 5, 3.6, ncols=2 if charted else 1, squeeze=False)
    left, right = axes[0, 0], axes[0, -1]
    if charted:
        plots.plot_line_over_months(coverage, x="month", y="value", hue="metric", percent=True, target=1.0,
                                    lang=md.lang, ax=left, title=md.text("chart.coverage"))
    first = network[network["metric"] == "first_order_only_share"]
    plots.plot_line_over_months(first, x="month", y="value", percent=True, lang=md.lang, ax=right,
                                target=md.settings.first_order_only_max, title=md.text("first_order_only_share"))
    right.set_ylim(bottom=0, top=max(md.settings.first_order_only_max, first["value"].max()) * 1.25)
    for ax in axes[0]:
        ax.set(xlabel="", ylabel="")
        ax.tick_params(axis="x", labelrotation=30)
        if ax.get_legend() is not None:
            ax.get_legend().set_title("")
    if charted:  # below the chart: inside, it covers the lines wherever coverage sits
        left.legend(loc="upper left", bbox_to_anchor=(0.0, -0.22), fontsize=9, frameon=False)
        _relabel_legend(left, md)
    show_figure(fig)
    if not charted:
        note(md, "no_coverage", table=table_names(["interactions"], md.lang))
    if meeting.empty:  # no dealer names a sales manager
        note(md, "no_managers")
        return
    fig, ax = figure(9, 3.4)
    plots.plot_line_over_months(meeting, x="month", y="managers_meeting_rule", hue="metric", lang=md.lang, ax=ax,
                                title=md.text("chart.managers_meeting"))
    ax.set(xlabel="", ylabel="")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    _relabel_legend(ax, md)
    show_figure(fig)
    return network


def _relabel_legend(ax, md: MonthData) -> None:
    """Legend entries that are label keys, in the report's language (after a legend is rebuilt)."""
    if ax.get_legend() is not None:
        for text in ax.get_legend().get_texts():
            text.set_text(md.text(text.get_text()))


__all__ = ["summary", "scorecard", "ranking", "breakers", "trend"]
