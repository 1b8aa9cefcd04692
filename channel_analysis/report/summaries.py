"""The summary box of each report, "what changed since last month", in the report's language:
short sentences built from the month's figures (:class:`~channel_analysis.report.month_data.MonthData`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from channel_analysis import schema
from channel_analysis.metrics.events import event_cost_by_kind, event_costs
from channel_analysis.metrics.scorecard import RULES, sales_manager_scorecard
from channel_analysis.metrics.service import service_levels, slowest_departments
from channel_analysis.store.views import rule_tables
from channel_analysis.text.format import missing
from channel_analysis.text.labels import table_names

if TYPE_CHECKING:
    from channel_analysis.report.month_data import MonthData


def _summary_dealer_health(md: MonthData) -> list[str]:
    t, lines = md.t, []
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
        "sum.revenue", value=t.money(revenue),
        vs_prev=t.change(revenue, md.kpi("revenue", md.previous_label)),
        prev_month=t.month(md.previous_label),
        vs_year=t.change(revenue, md.kpi("revenue", md.year_ago_label)),
    ))
    now, before = md.kpi("dealers_in_network"), md.kpi("dealers_in_network", md.previous_label)
    lines.append(md.text("sum.network", n=t.count(now), delta=t.delta(now, before),
                         lost=t.count(md.kpi("dealers_lost_t12"))))
    in_network = health[health["status"] != "lost"]["health_score"]
    if previous is not None and len(in_network):
        prev_scores = previous.health[previous.health["status"] != "lost"]["health_score"]
        lines.append(md.text("sum.health_median", now=t.count(in_network.median()),
                             prev=t.count(prev_scores.median()) if len(prev_scores) else "—"))
    return lines


def _summary_costs(md: MonthData) -> list[str]:
    t, lines, prev = md.t, [], md.previous_label
    if md.has("expenses"):
        cac, keep = md.kpi("cac_t12"), md.kpi("retention_cost_per_dealer_t12")
        lines.append(md.text("sum.cac", value=t.money(cac),
                             vs_prev=t.change(cac, md.kpi("cac_t12", prev))))
        lines.append(md.text("sum.retention_cost", value=t.money(keep),
                             vs_prev=t.change(keep, md.kpi("retention_cost_per_dealer_t12", prev))))
        if not (missing(cac) or missing(keep)) and keep > 0:
            lines.append(md.text("sum.ratio", ratio=t.number(cac / keep, 1)))
    else:
        lines.append(md.text("no_table", table=table_names(["expenses"], t.lang)))
    signed = md.kpi("dealers_signed_t12")
    line = md.text("sum.signed", n=t.count(signed), prev=t.count(md.kpi("dealers_signed_t12", prev)))
    if md.has("prospects"):
        conversion = md.kpi("prospect_conversion_t12")
        line += md.text("sum.conversion", value=t.share(conversion),
                        pts=t.points(conversion, md.kpi("prospect_conversion_t12", prev)))
    lines.append(line)
    return lines


def _summary_managers(md: MonthData) -> list[str]:

    t, lines = md.t, []
    if not md.has("interactions"):
        lines.append(md.text("no_table", table=table_names(["interactions"], t.lang)))
    for metric in RULES.values():
        value = md.kpi(metric)
        if missing(value):
            continue
        lines.append(md.text("sum.rule", metric=t.label(metric), value=t.share(value),
                             target=t.target(metric, md.kpi_target(metric)),
                             pts=t.points(value, md.kpi(metric, md.previous_label))))
    card, breakers = md.scorecard, md.rule_breakers
    if len(card):
        all_met = int(((card["rules_met"] == card["rules_checked"]) & (card["rules_checked"] > 0)).sum())
        prev_text = "—"
        if md.period - 1 >= md.first_data_month:
            prev_card = sales_manager_scorecard(rule_tables(md.tables), as_of=md.previous_label,
                                                settings=md.settings, kpis=md.kpis_of(md.previous_label))
            checked = prev_card["rules_checked"]
            prev_text = t.count(((prev_card["rules_met"] == checked) & (checked > 0)).sum())
        lines.append(md.text("sum.all_rules", k=all_met, n=len(card), prev=prev_text))
        lines.append(md.text("sum.breakers", n=t.count(breakers["dealer_id"].nunique())))
    return lines


def _summary_service(md: MonthData) -> list[str]:

    t, prev = md.t, md.previous_label
    if not md.has("service_requests"):
        return [md.text("no_table", table=table_names(["service_requests"], t.lang))]
    lines = [] if md.requests_closed else [md.text("n.never_closed")]
    sla = md.kpi("sla_compliance")
    lines.append(md.text("sum.sla", value=t.share(sla), target=t.target("sla_compliance", md.kpi_target(
        "sla_compliance")), pts=t.points(sla, md.kpi("sla_compliance", prev))))
    requests = md.view("service_requests")
    now = service_levels(requests, as_of=md.label, by=None, settings=md.settings)  # the network's, not by process
    before = service_levels(requests, as_of=prev, by=None, settings=md.settings)
    lines.append(md.text("sum.requests", n=t.count(now["opened"].iloc[0]),
                         vs_prev=t.change(now["opened"].iloc[0], before["opened"].iloc[0]),
                         backlog=t.count(now["backlog"].iloc[0])))
    lines.append(md.text("sum.complaints", n=t.count(md.kpi("complaints")),
                         prev=t.count(md.kpi("complaints", prev))))
    via = md.kpi("via_sales_manager_share")
    if not missing(via):  # no request opened in M: nothing came through anyone
        lines.append(md.text("sum.via", value=t.share(via),
                             pts=t.points(via, md.kpi("via_sales_manager_share", prev))))
    if schema.ServiceRequests.department not in requests:
        return lines
    slow = slowest_departments(requests, as_of=md.label, settings=md.settings)
    slow = slow[slow["sla_compliance"].notna()]
    if len(slow):
        worst = slow.iloc[0]
        lines.append(md.text("sum.slowest", dept=worst["department"], value=t.share(worst["sla_compliance"])))
    return lines


def _summary_events(md: MonthData) -> list[str]:

    t = md.t
    if not md.has("events", "event_attendance"):
        absent = [name for name in ("events", "event_attendance") if not md.has(name)]
        return [md.text("no_table", table=table_names(absent, t.lang))]
    cost = md.kpi("event_cost_per_attendee_t12")
    lines = [md.text("sum.event_cost", value=t.money(cost),
                     vs_prev=t.change(cost, md.kpi("event_cost_per_attendee_t12", md.previous_label)))]
    held = event_costs(md.tables["events"], md.view("event_attendance"), as_of=md.label)
    this_month = int((held[schema.Events.held_on].dt.to_period("M") == md.period).sum())
    lines.append(md.text("sum.events_held", events=len(held), attendees=t.count(held["attendees"].sum()),
                         month_events=this_month))
    kinds = event_cost_by_kind(md.tables["events"], md.view("event_attendance"), as_of=md.label)
    kinds = kinds[kinds["cost_per_attendee"].notna()]
    if len(kinds):
        top = kinds.sort_values("cost_per_attendee", ascending=False).iloc[0]
        lines.append(md.text("sum.priciest_kind", kind=t.label(top["kind"]),
                             value=t.money(top["cost_per_attendee"])))
    return lines


# "what changed since last month", per report (the landing page takes the first lines of the first four)
SUMMARIES = {
    "dealer_health": _summary_dealer_health,
    "acquisition_vs_retention": _summary_costs,
    "sales_managers": _summary_managers,
    "service_flow": _summary_service,
    "events": _summary_events,
}
