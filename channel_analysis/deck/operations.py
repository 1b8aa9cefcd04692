"""The deck's slides on running the network: the sales-manager scorecard, the service flow,
dealer events, and the actions for next month (see :mod:`channel_analysis.deck.slides`)."""

from __future__ import annotations

import math

import pandas as pd

from channel_analysis.deck import figures as dd
from channel_analysis.deck.canvas import ACCENT, BAD, BAD_FILL, GOOD, GOOD_FILL, INK, MUTED, Canvas, fit
from channel_analysis.deck.charts import PERCENT_FORMAT, bar_chart
from channel_analysis.deck.figures import DeckData
from channel_analysis.deck.slides import caption, cards, content_slide, empty, exact, footnote, missing, short
from channel_analysis.palette import PALETTE
from channel_analysis.text.labels import label, list_separator

MAX_MANAGERS = 10  # managers shown on the scorecard and actions slides (the rest: in the notes)


def _met_fill(value) -> str | None:
    if value is True:
        return GOOD_FILL
    if value is False:
        return BAD_FILL
    return None


def scorecard_slide(canvas: Canvas, f: DeckData) -> None:
    slide, body, L = content_slide(canvas, f, "deck_scorecard")
    sc = f.scorecard
    if sc is None or not len(sc):  # no dealer names a sales manager
        return empty(canvas, slide, body, L("no_managers"))
    s = f.settings
    shown = sc.sort_values("rank").tail(MAX_MANAGERS).sort_values("rank")  # the weakest when there are many
    names = [f.manager(m) for m in shown["sales_manager_id"]]
    calls = "interactions" in f.tables
    if calls:  # without interactions only the first-order rule can be checked: the table alone
        caption(canvas, slide, body.part(0, 0, 0.55, 0.07), L("deck_scorecard_chart"))
        bar_chart(canvas, slide, body.part(0, 0.08, 0.55, 0.8), names,
                  [(L("callback_coverage"), shown["callback_coverage"].tolist()),
                   (L("visit_coverage_2m"), shown["visit_coverage_2m"].tolist())],
                  name="chart:scorecard", fmt=PERCENT_FORMAT, colours=[ACCENT, PALETTE[1].lstrip("#")],
                  target=(f"{L('target')} {f.t.share(s.callback_target)}", s.callback_target), vmin=0,
                  vmax=max(1.0, s.callback_target), labels=len(shown) <= 6, size=10, gap=70)  # fmt: skip
    rows, fills = [], {}
    for i, r in enumerate(shown.itertuples()):
        rows.append([f.manager(r.sales_manager_id), f.t.count(r.dealers_in_network), f.t.share(r.callback_coverage),
                     f.t.share(r.visit_coverage_2m), f.t.share(r.first_order_only_share, 1), f"{r.rules_met}/{r.rules_checked}"])  # fmt: skip
        for j, met in ((2, r.callback_met), (3, r.visit_met), (4, r.first_order_only_met)):
            fill = _met_fill(None if pd.isna(met) else bool(met))
            if fill:
                fills[(i, j)] = fill
    where = body.part(0.58, 0.08, 0.42, 0.8) if calls else body.part(0, 0.08, 0.6, 0.8)
    canvas.table(slide, where, [L("sales_manager"), L("dealers"), L("deck_rule_call"),
                 L("deck_rule_visit"), L("deck_rule_first"), L("deck_rules_met")], rows,
                 widths=[1.5, 0.9, 0.9, 0.9, 1.0, 0.9], size=10.5, lines=[2, 1, 1, 1, 1, 1], fills=fills,
                 align_right=(1, 2, 3, 4, 5), name="table:scorecard")  # fmt: skip
    rules = f.t.say("deck_rules_note", call=f.t.share(s.callback_target), visit=f.t.share(s.visit_target),
                                        first=f.t.share(s.first_order_only_max))  # fmt: skip
    if len(sc) > len(shown):
        rules += " " + f.t.say("deck_weakest", n=len(shown), total=len(sc))
    footnote(canvas, slide, body.part(0, 0.9, 1, 0.1), rules)
    notes = [rules]
    notes += [f"#{r.rank} {r.sales_manager_id} {f.manager(r.sales_manager_id)}: {L('dealers')} {r.dealers_in_network}, "
              f"{L('callback_coverage')} {f.t.share(r.callback_coverage, 2)}, {L('visit_coverage_2m')} "
              f"{f.t.share(r.visit_coverage_2m, 2)}, {L('first_order_only_share')} {f.t.share(r.first_order_only_share, 2)}, "
              f"{L('deck_rules_met')} {r.rules_met}/{r.rules_checked}" for r in sc.itertuples()]  # fmt: skip
    canvas.notes(slide, notes)


def service_slide(canvas: Canvas, f: DeckData) -> None:
    slide, body, L = content_slide(canvas, f, "deck_service")
    sv = f.service
    if sv is None:
        return missing(canvas, slide, body, "service_requests")
    target = f.settings.sla_target
    sla = f.kpi("sla_compliance")
    items = [("sla_compliance", f.t.share(sla), L("sla_compliance"), f"{L('target')} {f.t.share(target)}"),
             ("backlog", f.t.count(sv["backlog"].sum()), L("deck_backlog"), ""),
             ("complaints", f.t.count(f.kpi("complaints")), L("complaints"), ""),
             ("via_sales_manager_share", f.t.share(f.kpi("via_sales_manager_share")), L("via_sales_manager_share"), "")]
    for b, (key, value, cap, note) in zip(cards(body.part(0, 0, 1, 0.22), 4), items):
        colour = (GOOD if sla >= target else BAD) if key == "sla_compliance" and math.isfinite(sla) else ACCENT
        canvas.card(slide, b, value, cap, note, name=f"card:{key}", value_colour=colour)
    caption(canvas, slide, body.part(0, 0.26, 0.5, 0.07), f.t.say("deck_sla_chart", t=f.t.share(target)))
    colours = [(GOOD if v >= target else BAD) if pd.notna(v) else MUTED for v in sv["sla_compliance"]]
    bar_chart(canvas, slide, body.part(0, 0.33, 0.5, 0.67), [L(p) for p in sv["process"]],
              [(L("sla_compliance"), sv["sla_compliance"].tolist())], name="chart:sla", fmt=PERCENT_FORMAT,
              colours=[ACCENT], point_colours=colours, target=(f"{L('target')} {f.t.share(target)}", target), vmin=0,
              vmax=1, size=10, gap=60)  # fmt: skip
    rows = []
    for r in sv.itertuples():
        hours = f.settings.sla_hours.get(r.process, math.nan)
        rows.append([L(r.process), f"{f.t.count(hours)} h", f.t.count(r.sla_due), f.t.count(r.sla_within), f.t.share(r.sla_compliance),
                     f.t.count(r.backlog), "—" if pd.isna(r.median_hours) else f"{f.t.count(r.median_hours)} h"])  # fmt: skip
    fills = {(i, 4): GOOD_FILL if v >= target else BAD_FILL for i, v in enumerate(sv["sla_compliance"]) if pd.notna(v)}
    canvas.table(slide, body.part(0.53, 0.33, 0.47, 0.5), [L("process"), L("deck_limit"), L("deck_due"),
                 L("deck_within"), "%", L("deck_backlog"), L("deck_median")], rows,
                 widths=[1.2, 0.75, 0.7, 0.8, 0.7, 1.0, 0.85], size=10.5, fills=fills,
                 align_right=(1, 2, 3, 4, 5, 6), name="table:service")  # fmt: skip
    closing = f.requests_closed  # else every request counts as open: say why nothing is on time
    footnote(canvas, slide, body.part(0.53, 0.86, 0.47, 0.14), L("deck_sla_note" if closing else "n.never_closed"),
             lines=2 if closing else 4)
    notes = [f"{L('sla_compliance')}: {exact(f, 'sla_compliance', sla)} ({L('target')} {f.t.share(target)})",
             f"{L('complaints')}: {exact(f, 'complaints', f.kpi('complaints'))}",
             f"{L('via_sales_manager_share')}: {exact(f, 'via_sales_manager_share', f.kpi('via_sales_manager_share'))}"]
    notes += [f"{L(r.process)}: {L('deck_due')} {r.sla_due}, {L('deck_within')} {r.sla_within} "
              f"({f.t.share(r.sla_compliance, 2)}), {L('deck_backlog')} {r.backlog}, {L('deck_median')} "
              f"{f.t.number(r.median_hours, 1)} h, {L('complaints')} {r.complaints}" for r in sv.itertuples()]  # fmt: skip
    canvas.notes(slide, notes)


def _effect_lines(f: DeckData, lang: str) -> list[str]:
    L = lambda k: label(k, lang)  # noqa: E731
    out = []
    for r in f.event_effect.itertuples():
        if not math.isfinite(r.estimate) or not (math.isfinite(r.ci_low) and math.isfinite(r.ci_high)):
            out.append(f"{L('deck_effect_' + r.outcome)}: {L('deck_effect_none')}")
            continue
        if r.outcome == "monthly_revenue":
            est, lo, hi = (f.t.money_delta(v, 0) for v in (r.estimate, r.ci_low, r.ci_high))
        else:
            est, lo, hi = (f.t.points(v, 0) for v in (r.estimate, r.ci_low, r.ci_high))
        verdict = L("deck_effect_unclear") if r.ci_low <= 0 <= r.ci_high else L("deck_effect_clear")
        what = L("deck_effect_" + r.outcome)
        out.append(f.t.say("deck_effect_line", what=what, est=est, lo=lo, hi=hi, verdict=verdict))
    return out


def events_slide(canvas: Canvas, f: DeckData) -> None:
    slide, body, L = content_slide(canvas, f, "deck_events")
    lang = canvas.lang
    kinds = f.event_kinds
    if kinds is None:
        return missing(canvas, slide, body, "events" if "events" not in f.tables else "event_attendance")
    caption(canvas, slide, body.part(0, 0.3, 0.5, 0.07), L("deck_events_chart"))
    bar_chart(canvas, slide, body.part(0, 0.37, 0.5, 0.63), [L(k) for k in kinds["kind"]],
              [(L("deck_cost_per_attendee"), kinds["cost_per_attendee"].tolist())], name="chart:events",
              fmt=f.t.chart_money_format(kinds["cost_per_attendee"].tolist()), colours=[ACCENT], horizontal=True, size=10,
              gap=50)  # fmt: skip
    cpa = f.kpi("event_cost_per_attendee_t12")
    items = [("event_cost_per_attendee_t12", f.t.money(cpa), L("deck_cpa_card")),
             ("events", f.t.count(kinds["events"].sum()), L("deck_events_held")),
             ("attendees", f.t.count(kinds["attendees"].sum()), L("deck_attendance"))]
    for b, (key, value, cap) in zip(cards(body.part(0, 0, 0.5, 0.25), 3, gap=0.03), items):
        canvas.card(slide, b, value, cap, name=f"card:{key}")
    right = body.part(0.54, 0, 0.46, 1)
    eff = f.event_effect
    paras = [[(L("deck_effect_title"), {"bold": True, "size": 14})]]
    if eff is not None and len(eff):
        n = eff.iloc[0]
        paras.append(fit(f.t.say("deck_effect_basis", t=n.n_treated_dealers, c=n.n_control_dealers, e=n.n_events),
                         right.inches, 11, lines=3))  # fmt: skip
        paras += [[(fit(line, right.inches, 13, lines=3), {"size": 13, "colour": INK})]
                  for line in _effect_lines(f, lang)]  # fmt: skip
    paras.append([(L("deck_caveat_title"), {"bold": True, "size": 12, "colour": BAD})])
    paras.append([(fit(L("deck_caveat"), right.inches, 11, lines=6), {"colour": MUTED})])
    canvas.text(slide, right, paras, size=11, spacing=8, name="text:effect")
    notes = [f"{L('event_cost_per_attendee_t12')}: {exact(f, 'event_cost_per_attendee_t12', cpa)}"]
    notes += [f"{L(r.kind)}: {L('events')} {r.events}, {L('cost')} {f.t.money_exact(r.cost)}, {L('attendees')} {r.attendees}, "
              f"{L('deck_cost_per_attendee')} {f.t.money_exact(r.cost_per_attendee)}" for r in kinds.itertuples()]  # fmt: skip
    if eff is not None:
        notes += _effect_lines(f, lang)
        notes += [f"{r.outcome}: estimate {r.estimate:.6g}, 95% CI [{r.ci_low:.6g}, {r.ci_high:.6g}], "
                  f"p = {r.p_value:.3g}, n = {r.n_treated} / {r.n_controls}" for r in eff.itertuples()]  # fmt: skip
        notes.append(str(eff["limits"].iloc[0]))
    canvas.notes(slide, notes)


def _names(items: list, lang: str, *, with_alert: bool = False) -> str:
    sep = list_separator(lang)
    alert = "（{}）" if lang == "zh" else " ({})"
    text = sep.join(short(x[1], 7, 10) + (alert.format(label(x[2], lang)) if with_alert else "") for x in items[:3])
    return f"{len(items)}: {text}" + (f" +{len(items) - 3}" if len(items) > 3 else "") if items else "—"


def actions_slide(canvas: Canvas, f: DeckData) -> None:
    slide, body, L = content_slide(canvas, f, "deck_actions")
    lang = canvas.lang
    todo = dd.actions(f)
    shown = todo.head(MAX_MANAGERS - 2)
    header = [L("deck_owner"), L("deck_do_urgent"), L("deck_do_call"), L("deck_do_visit"), L("deck_do_reorder")]
    rows = [[f.manager(r.sales_manager_id) if r.sales_manager_id else L("deck_no_owner"),
             _names(r.urgent, lang, with_alert=True), _names(r.no_callback, lang), _names(r.no_visit_2m, lang),
             _names(r.first_order_only, lang)] for r in shown.itertuples()]  # fmt: skip
    fills = {(i, 1): BAD_FILL for i, r in enumerate(shown.itertuples()) if r.urgent}
    if rows:
        canvas.table(slide, body.part(0, 0, 1, 0.8), header, rows, widths=[1.3, 3.4, 2.4, 2.4, 2.2], size=10.5,
                     lines=[1, 3, 3, 3, 3], fills=fills, name="table:actions")  # fmt: skip
    else:
        canvas.text(slide, body.part(0, 0, 1, 0.2), [L("deck_nothing_to_do")], size=14)
    extra = [f.t.say("deck_more_owners", n=len(todo) - len(shown))] if len(todo) > len(shown) else []
    late = f.service[f.service["sla_compliance"] < f.settings.sla_target] if f.service is not None else None
    if late is not None and len(late):
        steps = list_separator(lang).join(f"{L(p)} {f.t.share(v)}" for p, v in zip(late["process"],
                                                                                   late["sla_compliance"]))  # fmt: skip
        extra.append(f.t.say("deck_do_service", steps=steps, target=f.t.share(f.settings.sla_target),
                                                 backlog=f.t.count(late["backlog"].sum())))  # fmt: skip
    extra.append(L("deck_actions_note"))
    footnote(canvas, slide, body.part(0, 0.82, 1, 0.18), " ".join(extra), lines=3)
    notes = list(extra)
    for r in todo.itertuples():
        name = f.manager(r.sales_manager_id) if r.sales_manager_id else L("deck_no_owner")
        who = f"{r.sales_manager_id or '-'} {name}"
        notes.append(f"{who}:")
        for key, items in (("deck_do_urgent", r.urgent), ("deck_do_call", r.no_callback),
                           ("deck_do_visit", r.no_visit_2m), ("deck_do_reorder", r.first_order_only)):  # fmt: skip
            if items:
                notes.append(f"  {L(key)} ({len(items)}): " + "; ".join(f"{x[0]} {x[1]}" for x in items))
    canvas.notes(slide, notes)
