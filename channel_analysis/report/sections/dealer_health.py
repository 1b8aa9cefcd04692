"""The dealer-health report (DOMAIN.md §1 last row, §2.3): the state of the network, what
changed, the action list, the most urgent dealers, how long dealers stay and what leaving cost."""

from __future__ import annotations

import math

import pandas as pd

from channel_analysis import schema
from channel_analysis.early_warning.detect import STATUSES
from channel_analysis.metrics.cohorts import revenue_lost_to_churn, survival_by_cohort
from channel_analysis.report import plots
from channel_analysis.report.display import summary_box, text_width
from channel_analysis.report.month_data import MonthData
from channel_analysis.report.sections._base import drop_empty, figure, note, section, show_figure, show_table, show_text
from channel_analysis.text.reasons import alert_reasons, why_changed

D, O = schema.Dealers, schema.Orders
CHART_ALERTS = ("purchase_stop", "purchase_drop", "below_peers", "calls_drop", "no_reorder")  # orders tell their story


def summary(md: MonthData) -> None:
    """The box at the top: what changed since last month."""
    summary_box(md.changes_summary("dealer_health"), lang=md.lang)


# --------------------------------------------------------------------------- frames the sections show


def headline_table(md: MonthData) -> pd.DataFrame:
    """:meth:`MonthData.headline` as shown: one row per network KPI, values formatted by kind."""
    head = md.headline()
    return pd.DataFrame(
        {
            "metric": head["metric"],
            "this_month": [md.t.value(m, v) for m, v in zip(head["metric"], head["value"])],
            "last_month": [md.t.value(m, v) for m, v in zip(head["metric"], head["previous"])],
            "change_vs_last_month": [md.t.metric_change(m, v, p)
                                     for m, v, p in zip(head["metric"], head["value"], head["previous"])],
            "same_month_last_year": [md.t.value(m, v) for m, v in zip(head["metric"], head["last_year"])],
            "change_vs_last_year": [md.t.metric_change(m, v, p)
                                    for m, v, p in zip(head["metric"], head["value"], head["last_year"])],
        }
    )


def status_counts(md: MonthData) -> pd.DataFrame:
    """health of M and M−1 → status, month (as shown), dealers: one row per status and month."""
    parts = []
    frames = [(md.previous_label, md.previous.health)] if md.previous is not None else []
    for label_, health in frames + [(md.label, md.health)]:
        counts = health["status"].value_counts().reindex(list(STATUSES), fill_value=0)
        parts.append(pd.DataFrame({"status": counts.index, "month": md.t.month(label_),
                                   "dealers": counts.to_numpy()}))
    return pd.concat(parts, ignore_index=True)


SCORE_BANDS = (0, 40, 60, 70, 80, 90, 100)


def health_bands(md: MonthData) -> pd.DataFrame:
    """health of M (dealers in the network) → score_band, status, dealers: one row per band and
    status, bands of :data:`SCORE_BANDS` (the at-risk threshold, 60, is an edge)."""
    health = md.health[md.health["status"] != "lost"]
    edges = list(SCORE_BANDS)
    names = [f"{a}–{b - 1}" if b < 100 else f"{a}–100" for a, b in zip(edges[:-1], edges[1:])]
    band = pd.cut(health["health_score"], bins=edges[:-1] + [100.001], right=False, labels=names)
    counts = pd.crosstab(band, health["status"]).reindex(index=names, fill_value=0)
    counts = counts.reindex(columns=[s for s in STATUSES if s in counts.columns])
    out = counts.stack().rename("dealers").reset_index()
    out.columns = ["score_band", "status", "dealers"]
    return out.assign(score_band=out["score_band"].astype(str))


def action_list_frame(md: MonthData) -> pd.DataFrame:
    """alerts of M (most urgent first) with the dealer's health, the manager's name and the
    reason in the report's language."""
    alerts = md.alerts
    health = md.health.set_index("dealer_id")
    return pd.DataFrame(
        {
            "severity": alerts["severity"],
            "alert": alerts["alert"],
            "dealer": alerts["dealer_name"].fillna("") + " (" + alerts["dealer_id"] + ")",
            "region": alerts["region"],
            "sales_manager": alerts["sales_manager_id"].map(md.manager_name),
            "health_score": alerts["dealer_id"].map(health["health_score"]).round().astype("Int64"),
            "reason": alert_reasons(alerts, md.lang) if len(alerts) else pd.Series(dtype=object),
        }
    ).reset_index(drop=True)


def health_falls_frame(md: MonthData, n: int = 15, min_fall: float = 5.0) -> pd.DataFrame:
    """The ``n`` dealers still in the network whose health fell most since M−1 (by at least
    ``min_fall`` points), with what moved it."""
    health = md.health
    falls = health[(health["status"] != "lost") & (health["health_change"] <= -min_fall)]
    falls = falls.sort_values(["health_change", "dealer_id"]).head(n)
    return pd.DataFrame(
        {
            "dealer_name": falls["dealer_name"],
            "region": falls["region"],
            "sales_manager": falls["sales_manager_id"].map(md.manager_name),
            "status": falls["status"],
            "health_score": falls["health_score"].map(md.t.count),
            "health_change": falls["health_change"].map(md.t.signed),
            "why_changed": falls["moved"].map(lambda moved: why_changed(moved, md.lang)),
        }
    ).reset_index(drop=True)


def urgent_series(md: MonthData, n: int = 4, months: int = 24, per_alert: int = 2
                  ) -> list[tuple[str, list[str], pd.DataFrame]]:
    """The ``n`` most urgent dealers whose orders tell their story (there is an expectation to
    compare with): (dealer name, its alerts, its ``order_series``), most urgent first, at
    most ``per_alert`` of one kind of alert while other kinds wait, so the charts show the
    different ways a dealer goes wrong."""
    alerts = md.alerts[md.alerts["alert"].isin(CHART_ALERTS)].drop_duplicates("dealer_id")
    first = alerts.groupby("alert", sort=False).head(per_alert)
    order = pd.concat([first, alerts.drop(first.index)])  # the varied ones first, then the rest
    picked = []
    for row in order.itertuples(index=False):
        series = md.order_series(row.dealer_id, months=months)
        if series["expected"].notna().any() and series["expected"].max() > 0:
            dealer_alerts = list(md.alerts.loc[md.alerts["dealer_id"] == row.dealer_id, "alert"])
            picked.append((row, dealer_alerts, series))
        if len(picked) == n:
            break
    rank = {dealer_id: k for k, dealer_id in reversed(list(enumerate(md.alerts["dealer_id"])))}  # first row wins
    picked.sort(key=lambda item: rank[item[0].dealer_id])  # most urgent first again
    return [(str(row.dealer_name), dealer_alerts, series) for row, dealer_alerts, series in picked]


def churn_frame(md: MonthData) -> pd.DataFrame:
    """Dealers that left in the last 12 months, largest revenue first, with name and manager."""
    lost = revenue_lost_to_churn(md.order_panel, md.tables["dealers"], as_of=md.label)
    names = md.tables["dealers"].set_index(D.dealer_id)[D.dealer_name]
    return pd.DataFrame(
        {
            "dealer_name": lost[D.dealer_id].map(names),
            "region": lost[D.region],
            "sales_manager": lost[D.sales_manager_id].map(md.manager_name),
            "signed_date": lost[D.signed_date],
            "terminated_date": lost[D.terminated_date],
            "revenue_t12_before_leaving": lost["revenue_t12_before_leaving"],
        }
    )


def _short(name: str, width: int = 34) -> str:
    """A dealer name cut to about ``width`` half-width characters (a Chinese character counts two)."""
    if text_width(name) <= width:
        return name
    out = ""
    for ch in name:
        if text_width(out + ch) > width - 2:
            return out + "…"
        out += ch
    return out


# --------------------------------------------------------------------------- sections


@section("at_a_glance")
def at_a_glance(md: MonthData) -> pd.DataFrame | None:
    """The network KPIs against last month and last year, and revenue month by month."""
    shown = show_table(headline_table(md), lang=md.lang, label_values=["metric"],
                       align_right=["this_month", "last_month", "change_vs_last_month", "same_month_last_year",
                                    "change_vs_last_year"])
    fig, ax = figure(8.8, 3.6)
    plots.plot_line_over_months(md.revenue_by_month(), x="month", y="revenue", money=True, lang=md.lang, ax=ax,
                                title=md.text("chart.revenue_by_month"))
    ax.set_ylim(bottom=0)
    show_figure(fig)
    return shown


@section("status")
def status_shares(md: MonthData) -> pd.DataFrame | None:
    """Dealers by status, this month against last month."""
    counts = status_counts(md)
    palette = ["#b9c6d2", plots.PALETTE[0]] if counts["month"].nunique() == 2 else [plots.PALETTE[0]]
    fig, ax = figure(8, 3.8)
    plots.plot_bar(counts, category="status", value="dealers", hue="month", palette=palette, lang=md.lang, ax=ax)
    ax.get_legend().set_title("")
    show_figure(fig)
    return counts


@section("health_scores")
def health_distribution(md: MonthData) -> pd.DataFrame | None:
    """How many dealers in the network fall in each band of health score, by status."""
    frame = health_bands(md)
    levels = list(dict.fromkeys(frame["status"]))
    fig, ax = figure(8, 3.8)
    plots.plot_stacked_bars(frame, x="score_band", y="dealers", hue="status", lang=md.lang, ax=ax,
                            palette=plots.status_palette(levels))
    show_figure(fig)
    return frame


@section("action_list")
def action_list(md: MonthData) -> pd.DataFrame | None:
    """Every alert of the month: searchable, sortable, most urgent first."""
    frame = drop_empty(action_list_frame(md))
    if frame.empty:
        note(md, "no_alerts")
        return
    return show_table(frame, lang=md.lang, long=True, label_values=["severity", "alert"], wrap=["dealer", "reason"])


@section("health_falls")
def health_falls(md: MonthData) -> pd.DataFrame | None:
    """The dealers whose health fell most since last month, and why."""
    if md.previous is None:
        note(md, "no_previous_month")
        return
    frame = drop_empty(health_falls_frame(md))
    if frame.empty:
        note(md, "no_health_falls")
        return
    return show_table(frame, lang=md.lang, label_values=["status"], align_right=["health_score", "health_change"],
               wrap=["dealer_name", "why_changed"])


@section("control_charts")
def control_charts(md: MonthData, n: int = 4) -> pd.DataFrame | None:
    """The most urgent dealers: their orders against the band their own past expects."""
    picked = urgent_series(md, n)
    if not picked:
        note(md, "no_alerts")
        return
    rows = math.ceil(len(picked) / 2)
    fig, axes = figure(9.6, 3.4 * rows, ncols=2, nrows=rows, squeeze=False)
    fig.get_layout_engine().set(h_pad=0.12, hspace=0.08)
    for k, ax in enumerate(axes.flat):
        if k >= len(picked):
            ax.set_visible(False)
            continue
        name, dealer_alerts, series = picked[k]
        title = f"{_short(name)}\n{md.t.join([md.text(a) for a in dealer_alerts])}"
        plots.plot_control_chart(series, value="orders_3m", expected="expected", lower="lower", upper="upper",
                                 flag="below_band", flag_label="below_range", ax=ax, lang=md.lang,
                                 legend=False)
        ax.set_title(title, fontsize=11)
        ax.set_xlabel("")
        ax.axvspan(series["month"].iloc[0], series.loc[series["reference"], "month"].iloc[-1], color="#f1f1f1",
                   zorder=0, linewidth=0)
    # one legend under the charts: inside one, it covered the points that matter (a stop at 0)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=4, fontsize=9,
               frameon=False)
    show_figure(fig)
    note(md, "n.control_charts")
    return pd.concat([series.assign(dealer_name=name) for name, _, series in picked], ignore_index=True)


@section("survival")
def survival(md: MonthData, cohorts: int = 6, min_at_risk: int = 5) -> pd.DataFrame | None:
    """Kaplan–Meier survival of the last signing years."""
    frame = survival_by_cohort(md.tables["dealers"], as_of=md.label, cohort_freq="Y")
    if frame.empty:
        note(md, "no_data")
        return
    recent = sorted(frame["cohort"].unique())[-cohorts:]
    frame = frame[frame["cohort"].isin(recent) & (frame["at_risk"] >= min_at_risk)]
    if frame.empty:  # a small network: too few dealers signed in any one year, so one curve for all
        frame = survival_by_cohort(md.tables["dealers"], as_of=md.label, cohort_freq=None)
        frame = frame[frame["at_risk"] >= min_at_risk].assign(cohort=md.text("all_dealers"))
        if frame.empty:
            note(md, "n.survival_too_few", n=min_at_risk)
            return
        note(md, "n.survival_pooled", n=min_at_risk)
    fig, ax = figure(8.5, 4)
    plots.plot_lines_with_band(frame, x="months", y="survival", lower="ci_low", upper="ci_high", hue="cohort",
                               percent=True, xlabel="months_since_signed", ylabel="still_in_network",
                               lang=md.lang, ax=ax)
    ax.legend(title=md.text("signing_year"), loc="lower left", ncols=3, fontsize=9)
    # a share of dealers never passes 100% (a flat curve would otherwise get a 96–104% axis)
    ax.set_ylim(bottom=max(0.0, min(0.9, frame["ci_low"].min() - 0.05)), top=1.01)
    show_figure(fig)
    return frame


@section("churn")
def churn(md: MonthData) -> pd.DataFrame | None:
    """The dealers that left in the last 12 months and the revenue they brought before."""
    frame = drop_empty(churn_frame(md))
    if frame.empty:
        note(md, "no_churn")
        return
    total, network = frame["revenue_t12_before_leaving"].sum(), md.kpi("revenue_t12")
    show_text(md.text("churn_total", n=len(frame), value=md.t.money(total),
                      share=md.t.share(total / network) if network else "—"))
    show_table(frame, lang=md.lang, long=len(frame) > 15, money_columns=["revenue_t12_before_leaving"])
    full_year = (md.first_data_month + 12).start_time  # who left before it has orders missing from its last year
    if (frame["terminated_date"] < full_year).any():
        note(md, "n.churn_short_history", first=md.t.month(md.first_data_month),
             until=md.t.month(md.first_data_month + 12))
    return frame


__all__ = ["summary", "at_a_glance", "status_shares", "health_distribution", "action_list", "health_falls",
           "control_charts", "survival", "churn"]
