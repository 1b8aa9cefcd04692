"""The deck's slides, one function each: (canvas, figures) → a slide with its speaker notes.

Slides select, order and format figures from :class:`~channel_analysis.deck.figures.DeckData`;
they never compute one. Texts come from :mod:`channel_analysis.labels`; dealer and manager
names are user data and are only ever written as text.
"""

from __future__ import annotations

import math

import pandas as pd
from pptx.enum.text import PP_ALIGN
from pptx.util import Inches

from channel_analysis.deck.canvas import ACCENT, BAD, BAD_FILL, GOOD, GOOD_FILL, INK, MUTED, Box, Canvas, fit
from channel_analysis.deck.charts import COUNT_FORMAT, bar_chart, doughnut_chart
from channel_analysis.deck.figures import DeckData
from channel_analysis.metrics.kpis import KINDS, MONEY, SHARE
from channel_analysis.palette import PALETTE, STATUS_COLOURS
from channel_analysis.store.views import table_rows
from channel_analysis.text.format import history_notes, text_for
from channel_analysis.text.labels import label, table_names
from channel_analysis.text.reasons import alert_reason, why_changed

LOWER_IS_BETTER = {"first_order_only_share", "complaints", "via_sales_manager_share"}
SEVERITY_FILLS = {"high": "F7D9D5", "medium": "FBE5D6", "low": "FFF4CC"}
PREVIOUS_YEAR = "AFB8C1"
_hex = lambda c: c.lstrip("#").upper()  # noqa: E731


def exact(f: DeckData, metric: str, value: float) -> str:
    """A figure as the notes give it: full precision, with its unit."""
    kind = KINDS.get(metric)
    return f.t.money_exact(value) if kind == MONEY else f.t.share(value, 2) if kind == SHARE else f.t.count(value)


def _change(f: DeckData, metric: str, now: float, before: float) -> str:
    """Change since last month: percentage points for shares, the amount for money, the count for counts."""
    kind = KINDS.get(metric)
    if kind == SHARE:
        return f.t.points(now, before)
    return f.t.money_delta(now, before) if kind == MONEY else f.t.delta(now, before)


def cards(box: Box, n: int, gap: float = 0.02) -> list[Box]:
    """``n`` boxes side by side across ``box``."""
    w = (1 - gap * (n - 1)) / n
    return [box.part(i * (w + gap), 0, w, 1) for i in range(n)]


def caption(canvas: Canvas, slide, box: Box, text: str) -> None:
    canvas.text(slide, box, [fit(text, box.inches, 12)], size=12, bold=True, colour=INK)


def footnote(canvas: Canvas, slide, box: Box, text: str, lines: int = 2) -> None:
    canvas.text(slide, box, [fit(text, box.inches, 10, lines=lines)], size=10, colour=MUTED)


def short(name: str, ems: float, size: float = 11) -> str:
    """A dealer name shortened with an ellipsis to ``ems`` ems."""
    return fit(str(name), ems * size / 72 + 0.16, size)


def missing(canvas: Canvas, slide, body: Box, table: str) -> None:
    """The slide's one line when the table it needs is not in the source (and the same as notes)."""
    empty(canvas, slide, body, text_for(canvas.lang).say("deck_missing", table=table_names([table], canvas.lang)))


def empty(canvas: Canvas, slide, body: Box, text: str) -> None:
    """The slide's one line when it has nothing to show, and why (and the same as notes)."""
    canvas.text(slide, body.part(0, 0, 1, 0.2), [text], size=14, name="text:missing")
    canvas.notes(slide, [text])


# ---- 1 title, 2 at a glance ---------------------------------------------------------------


def title_slide(canvas: Canvas, f: DeckData) -> None:
    L = lambda k: label(k, canvas.lang)  # noqa: E731
    end = f.period.end_time.strftime("%Y-%m-%d")
    slide = canvas.title_slide(f"{L('deck_title')} — {f.t.month(f.label)}",
                               f"{L('deck_subtitle')}\n{L('deck_as_of')} {end}")  # fmt: skip
    # orders that begin recently: said before any figure is read
    history = history_notes(f.t, f.figures, early_warning=True)
    if history:
        box = Box(Inches(0.8), int(canvas.height * 0.72), canvas.width - Inches(1.6), Inches(1.3))
        canvas.text(slide, box, history, size=13, colour=BAD, align=PP_ALIGN.CENTER, name="text:history")
    rows = [f"{name}: {table_rows(f.tables, name):,}" for name in f.tables]  # counted, not read
    canvas.notes(slide, [f"{L('deck_as_of')} {end}.", *history, f"{L('deck_source_rows')}:", *rows])


def glance_slide(canvas: Canvas, f: DeckData) -> None:
    slide, body, L = content_slide(canvas, f, "deck_glance")
    lang = canvas.lang
    rev, rev12 = f.kpi("revenue"), f.kpi("revenue_t12")
    ago, ago12 = f.revenue_year_ago()
    month = f.t.month(f.label)
    items = [
        ("dealers_in_network", f.t.count(f.kpi("dealers_in_network")), L("dealers_in_network"), ""),
        ("dealers_signed_t12", f.t.count(f.kpi("dealers_signed_t12")), L("dealers_signed_t12"), ""),
        ("dealers_lost_t12", f.t.count(f.kpi("dealers_lost_t12")), L("dealers_lost_t12"), ""),
        ("revenue", f.t.money(rev), f"{L('revenue')} {month}",
         f.t.say("deck_vs_year_ago", v=f.t.money(ago), c=f.t.change(rev, ago))),
        ("revenue_t12", f.t.money(rev12), L("revenue_t12"),
         f.t.say("deck_vs_year_ago", v=f.t.money(ago12), c=f.t.change(rev12, ago12))),
    ]  # fmt: skip
    for b, (key, value, cap, note) in zip(cards(body.part(0, 0, 1, 0.25), 5), items):
        colour = MUTED if not note or "—" in note else (GOOD if "+" in note else BAD)
        canvas.card(slide, b, value, cap, note, name=f"card:{key}", note_colour=colour)
    months = f.revenue_months.index[-12:]
    caption(canvas, slide, body.part(0, 0.29, 0.6, 0.07), L("deck_revenue_chart"))
    bar_chart(canvas, slide, body.part(0, 0.36, 0.6, 0.64), _month_labels(months, lang, body.inches >= 10),
              [(L("deck_this_year"), f.revenue_months.iloc[-12:].tolist()),
               (L("deck_year_earlier"), f.revenue_months.iloc[:12].tolist())],
              name="chart:revenue", fmt=f.t.chart_money_format(f.revenue_months.iloc[-24:].tolist()),
              colours=[ACCENT, PREVIOUS_YEAR], labels=False,
              size=10, gap=40)  # fmt: skip
    counts = f.status_counts()
    shown = counts[counts > 0]
    caption(canvas, slide, body.part(0.64, 0.29, 0.36, 0.07), f"{L('deck_status_chart')} ({month})")
    doughnut_chart(canvas, slide, body.part(0.64, 0.36, 0.36, 0.64), status_labels(shown, lang),
                   shown.tolist(),
                   name="chart:status", colours=[_hex(STATUS_COLOURS[s]) for s in shown.index])  # fmt: skip
    notes = [f"{L(m)}: {exact(f, m, f.kpi(m))}" for m in ("dealers_in_network", "dealers_signed_t12",
                                                        "dealers_lost_t12", "revenue", "revenue_t12")]  # fmt: skip
    notes += [f"{L('revenue')} {f.t.month(f.period - 12)}: {f.t.money_exact(ago)}",
              f"{L('revenue_t12')} ({L('deck_year_earlier')}): {f.t.money_exact(ago12)}",
              f"{L('deck_revenue_chart')}:"]  # fmt: skip
    notes += [f"  {m.strftime('%Y-%m')}: {f.t.money_exact(v)}" for m, v in f.revenue_months.items()]
    notes += [f"{L('deck_status_chart')}: " + f.t.join([f"{L(s)} {f.t.count(n)}" for s, n in counts.items()])]
    canvas.notes(slide, notes)


def status_labels(counts: pd.Series, lang: str) -> list[str]:
    """Dealers per status → the doughnut's categories: "Active: 87,667"."""
    return [f"{label(s, lang)}: {text_for(lang).count(n)}" for s, n in counts.items()]


def _month_labels(months: pd.PeriodIndex, lang: str, wide: bool) -> list[str]:
    """``2025-01`` … on a wide slide; ``Jan`` / ``1月`` where twelve of those would not fit."""
    if wide:
        return [m.strftime("%Y-%m") for m in months]
    return [f"{m.month}月" if lang == "zh" else m.strftime("%b") for m in months]


def footer(f: DeckData, lang: str) -> str:
    return f"{label('deck_title', lang)} · {f.t.month(f.label)}"


def content_slide(canvas: Canvas, f: DeckData, title: str):
    """A new content slide titled with the label ``title`` and the deck's footer: the slide, the box below its
    title, and the labels of the deck's language."""
    L = lambda key: label(key, canvas.lang)  # noqa: E731
    return canvas.slide(L(title), footer=footer(f, canvas.lang)), canvas.content_box(), L


# ---- 3 what changed ---------------------------------------------------------------------


def changes_slide(canvas: Canvas, f: DeckData) -> None:
    slide, body, L = content_slide(canvas, f, "what_changed")
    lang = canvas.lang
    moves = f.kpi_moves()
    prev_month, month = f.t.month(f.period - 1), f.t.month(f.label)
    rows, fills = [], {}
    for i, r in enumerate(moves.itertuples()):
        rows.append([L(r.metric), f.t.value(r.metric, r.previous), f.t.value(r.metric, r.value),
                     _change(f, r.metric, r.value, r.previous)])  # fmt: skip
        if math.isfinite(r.change) and abs(r.change) > 1e-12:
            better = (r.change < 0) == (r.metric in LOWER_IS_BETTER)
            fills[(i, 3)] = GOOD_FILL if better else BAD_FILL
    share_left = 0.5 if body.inches >= 10 else 0.58  # a 4:3 slide gives the figures more room
    caption(canvas, slide, body.part(0, 0, share_left, 0.07), L("deck_kpi_moves"))
    canvas.table(slide, body.part(0, 0.08, share_left, 0.9), [L("metric"), prev_month, month, L("deck_change")], rows,
                 widths=[2.5, 1.5, 1.5, 1.7], size=11, lines=[2, 1, 1, 2], fills=fills, align_right=(1, 2, 3),
                 name="table:kpi_moves")  # fmt: skip

    moved = f.status_moves()
    at_risk = moved[moved["status"] == "at_risk"]
    new_alerts = f.new_alerts()
    right = body.part(share_left + 0.04, 0, 0.96 - share_left, 1)
    width = right.inches
    paras = [[(f"{L('deck_new_at_risk')}: {f.t.count(len(at_risk))}", {"bold": True, "size": 13})]]
    for r in at_risk.head(4).itertuples():
        said = why_changed(r.moved, lang)
        why = f" — {said}" if said else ""
        paras.append(fit(f"• {r.dealer_name} ({f.manager(r.sales_manager_id)}){why}", width, 11, lines=2))
    if len(at_risk) > 4:
        paras.append(f"  +{f.t.count(len(at_risk) - 4)} {L('deck_more')}")
    paras.append([(L("deck_status_moves"), {"bold": True, "size": 13})])
    pairs = moved.groupby(["from_status", "status"], sort=False).size().sort_values(ascending=False)
    for (a, b), n in pairs.head(6).items():
        paras.append(f"• {L(a) if a else L('deck_not_listed')} → {L(b)}: {f.t.count(n)}")
    if not len(pairs):
        paras.append(f"• {L('deck_no_moves')}")
    high = int((new_alerts["severity"] == "high").sum())
    paras.append([(f"{L('deck_new_alerts')}: {f.t.count(len(new_alerts))} ({L('high')}: {f.t.count(high)})", {"bold": True, "size": 13})])
    for r in new_alerts.head(4).itertuples():
        paras.append(fit(f"• {r.dealer_name}: {L(r.alert)} ({L(r.severity)})", width, 11))
    canvas.text(slide, right, paras, size=11, spacing=4, name="text:changes")
    notes = [f"{L(r.metric)}: {exact(f, r.metric, r.previous)} → {exact(f, r.metric, r.value)}" for r in moves.itertuples()]
    notes.append(f"{L('deck_status_moves')}:")
    notes += [f"  {r.dealer_id} {r.dealer_name}: {L(r.from_status) if r.from_status else '-'} → {L(r.status)} "
              f"({L('health_score')} {f.t.number(r.health_score, 1)}; "
              f"{why_changed(r.moved, lang)})" for r in moved.itertuples()]  # fmt: skip
    notes.append(f"{L('deck_new_alerts')}:")
    notes += [f"  {r.dealer_id} {r.dealer_name}: {L(r.alert)}, {L(r.severity)}, {r.score}"
              for r in new_alerts.itertuples()]  # fmt: skip
    canvas.notes(slide, notes)


# ---- 4 the most urgent at-risk dealers ----------------------------------------------------


def at_risk_slide(canvas: Canvas, f: DeckData) -> None:
    slide, body, L = content_slide(canvas, f, "deck_at_risk")
    lang = canvas.lang
    top = f.top_alerts()
    header = ["#", L("dealer"), L("region"), L("deck_owner"), L("alert"), L("severity"), L("score"), L("reason")]
    rows, fills = [], {}
    for i, a in enumerate(top.itertuples()):
        rows.append([str(i + 1), str(a.dealer_name), str(a.region), f.manager(a.sales_manager_id), L(a.alert),
                     L(a.severity), f.t.count(a.score), alert_reason(a.alert, a.figures, lang, region=a.region)])  # fmt: skip
        fills[(i, 5)] = SEVERITY_FILLS.get(a.severity, "FFFFFF")
    if rows:
        canvas.table(slide, body.part(0, 0, 1, 0.9), header, rows, widths=[0.35, 2.2, 0.75, 1.0, 1.45, 0.8, 0.6, 4.6],
                     size=10.5, lines=[1, 2, 1, 1, 2, 1, 1, 3], fills=fills, align_right=(0, 6),
                     name="table:at_risk")  # fmt: skip
    else:
        canvas.text(slide, body.part(0, 0, 1, 0.2), [L("deck_no_alerts")], size=14)
    total = len(f.alerts)
    if total:
        footnote(canvas, slide, body.part(0, 0.92, 1, 0.08), f.t.say("deck_at_risk_note", n=len(top), total=total))
    notes = [f"{i + 1}. {a.dealer_id} {a.dealer_name} ({a.region}; {L('deck_owner')} {a.sales_manager_id} "
             f"{f.manager(a.sales_manager_id)}): {L(a.alert)}, {L(a.severity)}, {L('score')} {a.score}. "
             f"{alert_reason(a.alert, a.figures, lang, region=a.region)}"
             for i, a in enumerate(top.itertuples())]  # fmt: skip
    canvas.notes(slide, [f.t.say("deck_at_risk_note", n=len(top), total=total), *notes])


# ---- 5 acquisition vs retention, 6 funnel -------------------------------------------------------


def costs_slide(canvas: Canvas, f: DeckData) -> None:
    slide, body, L = content_slide(canvas, f, "deck_costs")
    if "expenses" not in f.tables:
        return missing(canvas, slide, body, "expenses")
    cac, keep = f.kpi("cac_t12"), f.kpi("retention_cost_per_dealer_t12")
    ratio = cac / keep if math.isfinite(cac) and math.isfinite(keep) and keep > 0 else math.nan
    paid = f.payback.dropna(subset=["payback_month"]) if f.payback is not None else pd.DataFrame()
    median = paid["payback_month"].median() if len(paid) else math.nan
    items = [
        ("cac_t12", f.t.money(cac), L("cac_t12"),
         f"{f.t.money(f.kpi('acquisition_spend_t12'))} / {f.t.count(f.kpi('dealers_signed_t12'))} {L('deck_signed')}"),
        ("retention_cost_per_dealer_t12", f.t.money(keep), L("retention_cost_per_dealer_t12"),
         f"{f.t.money(f.kpi('retention_spend_t12'))} {L('deck_per_year')}"),
        ("ratio", "—" if not math.isfinite(ratio) else f"{f.t.number(ratio, 1)}×", L("deck_ratio"), ""),
        ("payback_month", "—" if not len(paid) else f.t.say("deck_month_n", n=f.t.count(median)),
         L("payback_month"), "" if not len(paid) else f.t.say("deck_cohort", n=len(paid))),
    ]  # fmt: skip
    for b, (key, value, cap, note) in zip(cards(body.part(0, 0, 1, 0.25), 4), items):
        canvas.card(slide, b, value, cap, note, name=f"card:{key}")
    caption(canvas, slide, body.part(0, 0.29, 0.5, 0.07), L("deck_cost_chart"))
    bar_chart(canvas, slide, body.part(0, 0.36, 0.5, 0.64), [L("deck_acquire_one"), L("deck_retain_one")],
              [(L("cost"), [cac, keep])], name="chart:costs", fmt=f.t.chart_money_format([cac, keep]),
              colours=[ACCENT], point_colours=[_hex(PALETTE[1]), _hex(PALETTE[2])], gap=80)  # fmt: skip
    right = body.part(0.54, 0.29, 0.46, 0.71)
    caption(canvas, slide, right.part(0, 0, 1, 0.1), L("deck_payback_table"))
    if f.payback is not None and len(f.payback):
        rows = [[str(r.cohort), f.t.count(r.dealers), f.t.count(r.payback_month),
                 f.t.share(r.dealers_paid_back_share)] for r in f.payback.itertuples()]  # fmt: skip
        canvas.table(slide, right.part(0, 0.11, 1, 0.6), [L("deck_cohort_col"), L("dealers"), L("payback_month"),
                     L("deck_paid_back")], rows, widths=[1, 1, 1.3, 1.3], align_right=(1, 2, 3),
                     name="table:payback")  # fmt: skip
        gm = f.payback["gross_margin"].iloc[0]
        footnote(canvas, slide, right.part(0, 0.75, 1, 0.25), f.t.say("deck_payback_note", gm=f.t.share(gm, 0)), lines=3)
    else:  # no quarter both spent on acquisition and signed a dealer
        canvas.text(slide, right.part(0, 0.11, 1, 0.1), [L("no_data")], size=11, colour=MUTED)
    shown = ("acquisition_spend_t12", "dealers_signed_t12", "cac_t12", "retention_spend_t12",
             "retention_cost_per_dealer_t12")  # fmt: skip
    notes = [f"{L(m)}: {exact(f, m, f.kpi(m))}" for m in shown]
    notes.append(f"{L('deck_ratio')}: {f.t.number(ratio, 2)}")
    notes.append(f"{L('payback_month')}: {median} ({f.t.say('deck_cohort', n=len(paid))})")
    if f.payback is not None:
        notes += [f"{L('deck_cohort_col')} {r.cohort}: {r.dealers} {L('dealers')}, CAC {f.t.money_exact(r.cac)}, "
                  f"{L('payback_month')} {f.t.count(r.payback_month)}, "
                  f"{L('deck_paid_back')} {f.t.share(r.dealers_paid_back_share, 2)}"
                  for r in f.payback.itertuples()]  # fmt: skip
    canvas.notes(slide, notes)


def _effort(f: DeckData, touches: float, hours: float, digits: int) -> str:
    """``184 / 354 h``: touches and hours; ``—`` when there is nothing to divide by."""
    if not (math.isfinite(touches) and math.isfinite(hours)):
        return "—"
    return f"{f.t.number(touches, digits)} / {f.t.number(hours, digits)} h"


def funnel_slide(canvas: Canvas, f: DeckData) -> None:
    slide, body, L = content_slide(canvas, f, "deck_funnel")
    if f.funnel is None:
        return missing(canvas, slide, body, "prospects")
    fun = f.funnel
    caption(canvas, slide, body.part(0, 0, 0.55, 0.07), L("deck_funnel_chart"))
    bar_chart(canvas, slide, body.part(0, 0.08, 0.55, 0.55), [L(s) for s in fun["stage"]],
              [(L("prospects"), fun["closed"].tolist())], name="chart:funnel", fmt=COUNT_FORMAT, horizontal=True,
              colours=[ACCENT], gap=50)  # fmt: skip
    rows = [[L(r.stage), f.t.count(r.closed), f.t.share(r.step_conversion), f.t.share(r.overall_conversion, 1), f.t.count(r.open)]
            for r in fun.itertuples()]  # fmt: skip
    canvas.table(slide, body.part(0, 0.66, 0.55, 0.34), [L("deck_stage"), L("deck_closed"), L("deck_step"),
                 L("deck_overall"), L("deck_open")], rows, widths=[1.4, 1, 1, 1, 1], size=10.5,
                 align_right=(1, 2, 3, 4), name="table:funnel")  # fmt: skip
    right = body.part(0.59, 0, 0.41, 1)
    tts = f.time_to_signing
    days = tts["days_median"].iloc[0] if tts is not None and len(tts) else math.nan
    items = [("prospect_conversion_t12", f.t.share(f.kpi("prospect_conversion_t12"), 1), L("prospect_conversion_t12"), ""),
             ("days_to_sign", f.t.say("deck_days", n=days) if math.isfinite(days) else "—",
              L("deck_days_to_sign"), "")]  # fmt: skip
    eff = f.effort.set_index("effort") if f.effort is not None else None
    if eff is not None:
        a, r = eff.loc["per_dealer_signed"], eff.loc["per_retained_dealer_year"]
        items += [("effort_signed", _effort(f, a.touches, a.hours, 0), L("deck_effort_signed"), ""),
                  ("effort_retained", _effort(f, r.touches, r.hours, 1), L("deck_effort_retained"), "")]  # fmt: skip
    for i, (key, value, cap, note) in enumerate(items):
        canvas.card(slide, right.part(0, i * 0.25, 1, 0.23), value, cap, note, name=f"card:{key}")
    notes = [f"{L(r.stage)}: {L('deck_closed')} {r.closed}, {L('deck_step')} {f.t.share(r.step_conversion, 2)}, "
             f"{L('deck_overall')} {f.t.share(r.overall_conversion, 2)}, {L('deck_open')} {r.open}"
             for r in fun.itertuples()]  # fmt: skip
    conversion = f.kpi("prospect_conversion_t12")
    notes.append(f"{L('prospect_conversion_t12')}: {exact(f, 'prospect_conversion_t12', conversion)}")
    notes.append(f"{L('deck_days_to_sign')}: {days}")
    if eff is not None:
        notes += [f"{k}: touches {v.touches:.2f}, hours {v.hours:.2f}, basis {v.basis:.2f}" for k, v in eff.iterrows()]
    canvas.notes(slide, notes)
