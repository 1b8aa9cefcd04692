"""Numbers and sentences as readers see them: money, counts, shares, changes, percentage points
and months, in English and Chinese, the same on every page, chart, slide and workbook."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from channel_analysis.early_warning.signals import MIN_HISTORY, RECENT_MONTHS
from channel_analysis.text.labels import label


MONEY_METRICS = ("revenue", "revenue_t12", "acquisition_spend_t12", "cac_t12", "retention_spend_t12",
                 "retention_cost_per_dealer_t12", "event_cost_per_attendee_t12")  # fmt: skip


SHARE_METRICS = ("callback_coverage", "visit_coverage_2m", "first_order_only_share", "prospect_conversion_t12",
                 "sla_compliance", "via_sales_manager_share")  # fmt: skip


MINUS = "\u2212"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value)) or pd.isna(value)


def compact_money(value: float, currency: str = "¥", lang: str = "en") -> str:
    """``1_234_567`` → ``¥1.2M``, ``350_000`` → ``¥350k``, ``-950`` → ``-¥950``.

    With ``lang="zh"`` in the units Chinese readers count in: ``¥123.5万``, ``¥1.7亿``. From a
    thousand of the unit on, no decimals: ``¥1,880亿``, ``¥1,956万``.
    """
    sign, size = ("-" if value < 0 else ""), abs(value)
    steps = ((1e8, "亿"), (1e4, "万")) if lang == "zh" else ((1e9, "B"), (1e6, "M"), (1e3, "k"))
    for limit, suffix in steps:
        if size >= limit:
            digits = 2 if lang == "zh" and size < 10 * limit else 1  # ¥2.97万, not ¥3万
            digits = 0 if size >= 1000 * limit else digits  # ¥1,880亿 fits a card, ¥1,879.5亿 does not
            number = f"{size / limit:,.{digits}f}"
            number = number.rstrip("0").removesuffix(".") if digits else number
            return f"{sign}{currency}{number}{suffix}"
    return f"{sign}{currency}{size:,.0f}"


def fmt_money(value: float, lang: str = "en") -> str:
    """``¥1.2M`` (en) or ``¥120万`` (zh); under ten thousand in full, ``¥1,777``; ``—`` when missing."""

    if _missing(value):
        return "—"
    if abs(value) < 1e4:
        return (MINUS if value < 0 else "") + f"¥{abs(value):,.0f}"
    return compact_money(float(value), "¥", lang).replace("-", MINUS)


def fmt_count(value: float) -> str:
    return "—" if _missing(value) else f"{value:,.0f}"


def fmt_share(value: float, digits: int = 1) -> str:
    return "—" if _missing(value) else f"{value:.{digits}%}"


def _signed(text: str, value: float) -> str:
    return ("+" if value > 0 else MINUS if value < 0 else "±") + text


def fmt_change(now: float, before: float) -> str:
    """Relative change ``+6%`` / ``−4%``; ``—`` when either is missing or ``before`` is 0."""
    if _missing(now) or _missing(before) or before == 0:
        return "—"
    change = now / before - 1
    return _signed(f"{abs(change):.0%}", round(change, 2))


def fmt_points(now: float, before: float, lang: str = "en") -> str:
    """Change of a share in percentage points: ``+3.1 pts`` / ``+3.1个百分点``."""
    if _missing(now) or _missing(before):
        return "—"
    delta = round((now - before) * 100, 1)
    return _signed(f"{abs(delta):.1f}", delta) + label("pts", lang)


def fmt_delta(now: float, before: float) -> str:
    """Change of a count: ``+3`` / ``−2`` / ``±0``."""
    if _missing(now) or _missing(before):
        return "—"
    delta = now - before
    return _signed(f"{abs(delta):,.0f}", delta)


def fmt_p(p: float) -> str:
    """A p-value as shown: ``0.07``, ``<0.001``."""
    if _missing(p):
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def fmt_month(month: str | pd.Period, lang: str = "en") -> str:
    """``2026-09`` → ``Sep 2026`` or ``2026年9月``."""
    p = pd.Period(month, freq="M")
    return f"{p.year}年{p.month}月" if lang == "zh" else p.strftime("%b %Y")


def fmt_value(metric: str, value: float, lang: str = "en") -> str:
    """A KPI value as shown: money, share or count, by the metric."""
    if metric in MONEY_METRICS:
        return fmt_money(value, lang)
    if metric in SHARE_METRICS:
        return fmt_share(value)
    return fmt_count(value)


def fmt_metric_change(metric: str, now: float, before: float, lang: str = "en") -> str:
    """Shares change in points, everything else relatively."""
    return fmt_points(now, before, lang) if metric in SHARE_METRICS else fmt_change(now, before)


def fmt_target(metric: str, target: float, lang: str = "en") -> str:
    """``100%``, ``≤ 4%``; ``—`` without a target."""
    if _missing(target):
        return "—"
    text = f"{target:.0%}"
    return f"≤ {text}" if metric == "first_order_only_share" else text


# "1 dealers" → "1 dealer" (a count of one, not part of 21, 1.5 or 1,000)
_ONE = re.compile(r"(?<![\d.,])1 (dealer|month|request|alert|event|manager|prospect|attendee|year|day)s\b")


def sentence(key: str, lang: str, **values: Any) -> str:
    """The sentence ``key`` of :mod:`~channel_analysis.labels` in ``lang``, filled with ``values``
    (in English a count of one takes the singular)."""
    text = label(key, lang).format(**values)
    return _ONE.sub(r"1 \1", text) if lang == "en" else text


def history_notes(first: pd.Period, last: pd.Timestamp | None, period: pd.Period, lang: str = "en", *,
                  early_warning: bool = False) -> list[str]:  # fmt: skip
    """Sentences for a source whose orders, from ``first`` to ``last``, do not cover what a report
    of ``period`` shows: none dated in the month (its orders may not be loaded yet), figures over
    the last 12 months that cover fewer months, and (``early_warning``) an early warning that
    cannot judge any dealer on its own history yet. Empty when the orders cover it all."""

    lines = []
    if last is None or last < period.start_time:
        lines.append(sentence("sum.no_orders_in_month", lang, month=fmt_month(period, lang),
                              last=f"{last:%Y-%m-%d}" if last is not None else "—"))
    months = (period - first).n + 1
    if months < 12:
        lines.append(sentence("sum.short_history", lang, first=fmt_month(first, lang), n=months))
    # a dealer is judged on MIN_HISTORY months of orders before the RECENT_MONTHS judged
    if early_warning and months < MIN_HISTORY + RECENT_MONTHS:
        lines.append(sentence("sum.not_judged", lang, need=MIN_HISTORY + RECENT_MONTHS))
    return lines
