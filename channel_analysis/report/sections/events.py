"""The events report (DOMAIN.md §2.4): what dealer events cost per attendee, and how attendees'
later orders compare with similar dealers who stayed away — an estimate with its uncertainty
and the self-selection caveat, not a raw difference."""

from __future__ import annotations

import pandas as pd

from channel_analysis import schema
from channel_analysis.metrics.events import PANEL_COLUMNS, event_cost_by_kind, event_costs, event_effect
from channel_analysis.report import plots
from channel_analysis.report.display import summary_box
from channel_analysis.report.month_data import MonthData
from channel_analysis.report.sections._base import colours_of, figure, note, section, show_figure, show_table, show_text

E = schema.Events
NEEDS = ("events", "event_attendance")


def summary(md: MonthData) -> None:
    """The box at the top: what changed since last month."""
    summary_box(md.changes_summary("events"), lang=md.lang)


def effect_frame(md: MonthData) -> pd.DataFrame:
    """:func:`event_effect` of M (all kinds)."""
    return event_effect(md.panel_part(PANEL_COLUMNS), md.tables["events"], md.view("event_attendance"), as_of=md.label)


def effect_table(md: MonthData, effect: pd.DataFrame) -> pd.DataFrame:
    """The estimates as shown: outcome, estimate with its interval, p-value, numbers compared."""
    def value(outcome: str, v: float) -> str:
        return md.t.money_delta(v, 0) if outcome == "monthly_revenue" else md.t.points(v, 0)

    return pd.DataFrame({
        "outcome": "outcome." + effect["outcome"],
        "estimate": [value(o, v) for o, v in zip(effect["outcome"], effect["estimate"])],
        "ci_95": [f"{value(o, lo)} … {value(o, hi)}"
                  for o, lo, hi in zip(effect["outcome"], effect["ci_low"], effect["ci_high"])],
        "p_value": effect["p_value"].map(md.t.p_value),
        "n_treated_dealers": effect["n_treated_dealers"],
        "n_control_dealers": effect["n_control_dealers"],
        "n_events": effect["n_events"],
    })


@section("cost_by_kind", needs=NEEDS)
def cost_by_kind(md: MonthData) -> pd.DataFrame | None:
    """Cost per attendee by kind of event, last 12 months."""
    frame = event_cost_by_kind(md.tables["events"], md.view("event_attendance"), as_of=md.label)
    if frame.empty:
        note(md, "no_events")
        return
    fig, ax = figure(8, 0.4 * len(frame) + 1.3)
    plots.plot_bar(frame, category=E.kind, value="cost_per_attendee", money=True, lang=md.lang, ax=ax,
                   palette=colours_of(frame[E.kind], "event_kind"))
    ax.set_ylabel("")
    show_figure(fig)
    return show_table(frame.rename(columns={"events": "event_count"}), lang=md.lang, label_values=[E.kind],
                      money_columns=["cost", "cost_per_attendee"])


@section("event_list", needs=NEEDS)
def event_list(md: MonthData) -> pd.DataFrame | None:
    """Every event of the last 12 months: size against cost per attendee; the full list."""
    frame = event_costs(md.tables["events"], md.view("event_attendance"), as_of=md.label)
    if frame.empty:
        note(md, "no_events")
        return
    fig, ax = figure(8, 4)
    shown = frame[frame["attendees"] > 0]
    plots.plot_scatter(shown, x="attendees", y="cost_per_attendee", hue=E.kind, money_y=True, lang=md.lang, ax=ax,
                       palette=colours_of(dict.fromkeys(shown[E.kind]), "event_kind"))
    show_figure(fig)
    # name and region are optional: a column the source does not give would only be empty
    columns = [c for c in (E.held_on, E.name, E.kind, E.region, E.cost, "attendees", "cost_per_attendee")
               if c not in (E.name, E.region) or c in md.tables["events"]]
    return show_table(frame[columns], lang=md.lang, long=True, label_values=[E.kind],
                      money_columns=[E.cost, "cost_per_attendee"])


@section("event_effect", needs=NEEDS)
def effect(md: MonthData) -> pd.DataFrame | None:
    """Attendees against similar dealers who stayed away: the difference-in-differences estimate."""
    frame = effect_frame(md)
    if frame["estimate"].isna().all():
        note(md, "n.effect_too_few")
        return
    fig, (left, right) = figure(9, 2.4, ncols=2)
    revenue = frame[frame["outcome"] == "monthly_revenue"].assign(outcome="outcome.monthly_revenue")
    active = frame[frame["outcome"] == "active"].assign(outcome="outcome.active")
    plots.plot_estimates(revenue, term="outcome", estimate="estimate", ci_low="ci_low", ci_high="ci_high",
                         money=True, xlabel="did_revenue", lang=md.lang, ax=left)
    plots.plot_estimates(active, term="outcome", estimate="estimate", ci_low="ci_low", ci_high="ci_high",
                         percent=True, xlabel="did_active", lang=md.lang, ax=right)
    right.get_legend().remove()
    show_figure(fig)
    show_table(effect_table(md, frame), lang=md.lang, label_values=["outcome"],
               align_right=["estimate", "ci_95", "p_value"])
    pre = frame.set_index("outcome")
    if "monthly_revenue" in pre.index:
        row = pre.loc["monthly_revenue"]
        show_text(md.text("effect_pre", treated=md.t.money(row["treated_pre_mean"]),
                          control=md.t.money(row["control_pre_mean"]),
                          active_treated=md.t.share(pre.loc["active", "treated_pre_mean"], 0)
                          if "active" in pre.index else "—",
                          active_control=md.t.share(pre.loc["active", "control_pre_mean"], 0)
                          if "active" in pre.index else "—"))
    note(md, "n.effect_limits", window=6)
    return frame


__all__ = ["summary", "cost_by_kind", "event_list", "effect"]
