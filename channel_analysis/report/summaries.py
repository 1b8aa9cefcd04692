"""The summary box of each report, "what changed since last month", in the report's language:
short sentences built from the month's figures (:class:`~channel_analysis.report.month_data.MonthData`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from channel_analysis import schema
from channel_analysis.metrics.events import event_cost_by_kind, event_costs
from channel_analysis.metrics.scorecard import RULES, sales_manager_scorecard
from channel_analysis.metrics.service import service_levels, slowest_departments
from channel_analysis.store.views import rule_tables
from channel_analysis.text.format import (
    _missing,
    fmt_change,
    fmt_count,
    fmt_delta,
    fmt_money,
    fmt_month,
    fmt_points,
    fmt_share,
    fmt_target,
)
from channel_analysis.text.labels import label, table_names

if TYPE_CHECKING:
    from channel_analysis.report.month_data import MonthData


def _summary_dealer_health(md: MonthData) -> list[str]:
    lang, lines = md.lang, []
    health, previous = md.health, md.previous
    at_risk = set(health.loc[health["status"] == "at_risk", "dealer_id"])
    if previous is not None:
        before = set(previous.health.loc[previous.health["status"] == "at_risk", "dealer_id"])
        lines.append(md.text("sum.at_risk", now=len(at_risk), prev=len(before), new=len(at_risk - before)))
        high = int((md.alerts["severity"] == "high").sum())
        lines.append(md.text("sum.alerts", n=len(md.alerts), high=high, prev=len(previous.alerts)))
    else:
        lines.append(md.text("sum.at_risk_first", now=len(at_risk)))
    revenue = md.kpi("revenue")
    lines.append(md.text(
        "sum.revenue", value=fmt_money(revenue, lang),
        vs_prev=fmt_change(revenue, _kpi_or_nan(md, "revenue", md.previous_label)),
        prev_month=fmt_month(md.previous_label, lang),
        vs_year=fmt_change(revenue, _kpi_or_nan(md, "revenue", md.year_ago_label)),
    ))
    now, before = md.kpi("dealers_in_network"), _kpi_or_nan(md, "dealers_in_network", md.previous_label)
    lines.append(md.text("sum.network", n=fmt_count(now), delta=fmt_delta(now, before),
                         lost=fmt_count(md.kpi("dealers_lost_t12"))))
    in_network = health[health["status"] != "lost"]["health_score"]
    if previous is not None and len(in_network):
        prev_scores = previous.health[previous.health["status"] != "lost"]["health_score"]
        lines.append(md.text("sum.health_median", now=f"{in_network.median():.0f}",
                             prev=f"{prev_scores.median():.0f}" if len(prev_scores) else "—"))
    return lines


def _kpi_or_nan(md: MonthData, metric: str, month: str) -> float:
    """The KPI of ``month``, NaN when that month lies before the data."""
    if pd.Period(month, freq="M") < md.first_data_month:
        return math.nan
    return md.kpi(metric, month)


def _summary_costs(md: MonthData) -> list[str]:
    lang, lines, prev = md.lang, [], md.previous_label
    if md.has("expenses"):
        cac, keep = md.kpi("cac_t12"), md.kpi("retention_cost_per_dealer_t12")
        lines.append(md.text("sum.cac", value=fmt_money(cac, lang),
                             vs_prev=fmt_change(cac, _kpi_or_nan(md, "cac_t12", prev))))
        lines.append(md.text("sum.retention_cost", value=fmt_money(keep, lang),
                             vs_prev=fmt_change(keep, _kpi_or_nan(md, "retention_cost_per_dealer_t12", prev))))
        if not (_missing(cac) or _missing(keep)) and keep > 0:
            lines.append(md.text("sum.ratio", ratio=f"{cac / keep:,.1f}".removesuffix(".0")))
    else:
        lines.append(md.text("no_table", table=table_names(["expenses"], lang)))
    signed = md.kpi("dealers_signed_t12")
    line = md.text("sum.signed", n=fmt_count(signed), prev=fmt_count(_kpi_or_nan(md, "dealers_signed_t12", prev)))
    if md.has("prospects"):
        conversion = md.kpi("prospect_conversion_t12")
        line += md.text("sum.conversion", value=fmt_share(conversion),
                        pts=fmt_points(conversion, _kpi_or_nan(md, "prospect_conversion_t12", prev), lang))
    lines.append(line)
    return lines


def _summary_managers(md: MonthData) -> list[str]:

    lang, lines = md.lang, []
    if not md.has("interactions"):
        lines.append(md.text("no_table", table=table_names(["interactions"], lang)))
    for metric in RULES.values():
        value = md.kpi(metric)
        if _missing(value):
            continue
        lines.append(md.text("sum.rule", metric=label(metric, lang), value=fmt_share(value),
                             target=fmt_target(metric, md.kpi_target(metric), lang),
                             pts=fmt_points(value, _kpi_or_nan(md, metric, md.previous_label), lang)))
    tables, breakers = rule_tables(md.tables), md.rule_breakers
    card = sales_manager_scorecard(tables, as_of=md.label, settings=md.settings, kpis=md.kpis, breakers=breakers)
    if len(card):
        all_met = int(((card["rules_met"] == card["rules_checked"]) & (card["rules_checked"] > 0)).sum())
        prev_text = "—"
        if md.period - 1 >= md.first_data_month:
            prev_card = sales_manager_scorecard(tables, as_of=md.previous_label, settings=md.settings,
                                                kpis=md.kpis_of(md.previous_label))
            checked = prev_card["rules_checked"]
            prev_text = fmt_count(((prev_card["rules_met"] == checked) & (checked > 0)).sum())
        lines.append(md.text("sum.all_rules", k=all_met, n=len(card), prev=prev_text))
        lines.append(md.text("sum.breakers", n=fmt_count(breakers["dealer_id"].nunique())))
    return lines


def _summary_service(md: MonthData) -> list[str]:

    lang, prev = md.lang, md.previous_label
    if not md.has("service_requests"):
        return [md.text("no_table", table=table_names(["service_requests"], lang))]
    lines = [] if md.requests_closed else [md.text("n.never_closed")]
    sla = md.kpi("sla_compliance")
    lines.append(md.text("sum.sla", value=fmt_share(sla), target=fmt_target("sla_compliance", md.kpi_target(
        "sla_compliance"), lang), pts=fmt_points(sla, _kpi_or_nan(md, "sla_compliance", prev), lang)))
    requests = md.view("service_requests")
    now = service_levels(requests, as_of=md.label, by=None, settings=md.settings)
    before = service_levels(requests, as_of=prev, by=None, settings=md.settings)
    lines.append(md.text("sum.requests", n=fmt_count(now["opened"].iloc[0]),
                         vs_prev=fmt_change(now["opened"].iloc[0], before["opened"].iloc[0]),
                         backlog=fmt_count(now["backlog"].iloc[0])))
    lines.append(md.text("sum.complaints", n=fmt_count(md.kpi("complaints")),
                         prev=fmt_count(_kpi_or_nan(md, "complaints", prev))))
    via = md.kpi("via_sales_manager_share")
    if not _missing(via):  # no request opened in M: nothing came through anyone
        lines.append(md.text("sum.via", value=fmt_share(via),
                             pts=fmt_points(via, _kpi_or_nan(md, "via_sales_manager_share", prev), lang)))
    if schema.ServiceRequests.department not in requests:
        return lines
    slow = slowest_departments(requests, as_of=md.label, settings=md.settings)
    slow = slow[slow["sla_compliance"].notna()]
    if len(slow):
        worst = slow.iloc[0]
        lines.append(md.text("sum.slowest", dept=worst["department"], value=fmt_share(worst["sla_compliance"])))
    return lines


def _summary_events(md: MonthData) -> list[str]:

    lang = md.lang
    if not md.has("events", "event_attendance"):
        missing = [t for t in ("events", "event_attendance") if not md.has(t)]
        return [md.text("no_table", table=table_names(missing, lang))]
    cost = md.kpi("event_cost_per_attendee_t12")
    lines = [md.text("sum.event_cost", value=fmt_money(cost, lang),
                     vs_prev=fmt_change(cost, _kpi_or_nan(md, "event_cost_per_attendee_t12", md.previous_label)))]
    held = event_costs(md.tables["events"], md.view("event_attendance"), as_of=md.label)
    this_month = int((held[schema.Events.held_on].dt.to_period("M") == md.period).sum())
    lines.append(md.text("sum.events_held", events=len(held), attendees=fmt_count(held["attendees"].sum()),
                         month_events=this_month))
    kinds = event_cost_by_kind(md.tables["events"], md.view("event_attendance"), as_of=md.label)
    kinds = kinds[kinds["cost_per_attendee"].notna()]
    if len(kinds):
        top = kinds.sort_values("cost_per_attendee", ascending=False).iloc[0]
        lines.append(md.text("sum.priciest_kind", kind=label(top["kind"], lang),
                             value=fmt_money(top["cost_per_attendee"], lang)))
    return lines
