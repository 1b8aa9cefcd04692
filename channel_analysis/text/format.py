"""The one formatter: money, counts, shares, changes, percentage points and months in English and
Chinese, built on Babel, and the sentences of the catalogues filled with them.

Every page, table, chart axis, slide and workbook writes a figure through :class:`Text`, so a
figure reads the same everywhere::

    t = text_for("zh")
    t.money(1.89e8)                 # '¥1.89亿'  (en: '¥189M')
    t.share(0.734)                  # '73.4%'
    t.change(106, 100)              # '+6%'
    t.points(0.76, 0.734)           # '+2.6个百分点'  (en: '+2.6 pts')
    t.month("2026-09")              # '2026年9月'  (en: 'Sep 2026')
    t.say("sum.network", n=2422, delta=(2422, 2410), lost=53)

Money is compact from ¥10,000 on, with three significant digits (trailing zeros dropped) and
four digits at most before a unit: in English in k, M and B (¥7,900, ¥30.3k, ¥955k, ¥2.3M,
¥189M, ¥1.83B; CLDR's "K" written "k", the house style), in Chinese in 万 and 亿 (¥7,900,
¥2.97万, ¥124万, ¥1956万, ¥1.7亿); Babel's compact forms. Below ¥10,000 a sum is written in full. The minus sign is the locale's ("-"); a change that rounds to nothing is "±0".

A sentence of a catalogue names how each figure is shown: ``{n:count}``, ``{v:money}``,
``{s:share}`` (``{s:share:0}`` without decimals), ``{r:pct}`` (a signed relative change, given as
a ratio), ``{c:change}`` (a signed relative change, given as ``(now, before)``), ``{p:points}``
(``(now, before)`` of a share), ``{d:delta}`` (``(now, before)`` of a count), ``{m:month}``,
``{x:number:1}`` (one decimal); ``{n:count:dealer|dealers}`` adds the noun in the plural form the
language's rules give for ``n`` (Babel's CLDR plural rules). A plain ``{name}`` is its value as
given, a bare number a count (``2,422``, or ``12.5`` with its decimal). A missing figure (None,
NaN) shows as "—".
"""

from __future__ import annotations

import functools
import math
import numbers
import string
from collections.abc import Sequence
from typing import Any

import pandas as pd
from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_compact_decimal, format_decimal, format_percent

from channel_analysis.early_warning.signals import MIN_HISTORY, RECENT_MONTHS
from channel_analysis.metrics.kpis import KINDS, MONEY, SHARE
from channel_analysis.text.labels import check_lang, label, list_separator

MISSING = "—"
CURRENCY = "¥"
_LOCALES = {"en": "en_US", "zh": "zh_Hans_CN"}
# thousands without decimals, millions and more with one (English); 万 and 亿 with three digits
_UNITS = {"en": (1e9, 1e6, 1e3), "zh": (1e12, 1e8, 1e4)}  # the compact units, largest first
_COMPACT_FROM = 1e4  # below this, money is written in full


def missing(value: Any) -> bool:
    """None, NaN, NaT and pd.NA alike."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


class Text:
    """Labels, sentences and numbers in one language (``"en"`` or ``"zh"``); see the module docstring."""

    def __init__(self, lang: str):
        self.lang = check_lang(lang)
        self.locale = Locale.parse(_LOCALES[lang])
        self._fill = _Filler(self)

    def __repr__(self) -> str:
        return f"Text({self.lang!r})"

    # ---- words

    def label(self, key: str) -> str:
        """The label ``key`` (an unknown key comes back as it is)."""
        return label(key, self.lang)

    def say(self, key: str, **values: Any) -> str:
        """The sentence ``key`` with its figures filled in (see the module docstring)."""
        return self._fill.format(label(key, self.lang), **values)

    def __call__(self, key: str, **values: Any) -> str:
        return self.say(key, **values) if values else self.label(key)

    def join(self, items: Sequence[str]) -> str:
        """Items of a list in a sentence: "a, b" / "a、b"."""
        return list_separator(self.lang).join(items)

    def plural(self, n: float, forms: str) -> str:
        """``forms`` "one|other" (English; Chinese has one form) → the form of ``n``."""
        words = forms.split("|")
        if len(words) == 1:
            return words[0]
        category = self.locale.plural_form(abs(n)) if not missing(n) else "other"
        return words[0] if category == "one" else words[-1]

    # ---- numbers

    def count(self, value: float) -> str:
        """``2,422``."""
        return MISSING if missing(value) else format_decimal(round(float(value)), "#,##0", locale=self.locale)

    def number(self, value: float, digits: int = 1) -> str:
        """``12.3`` with ``digits`` decimals and separators."""
        if missing(value):
            return MISSING
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(float(value), pattern, locale=self.locale)

    def money(self, value: float, *, digits: int | None = None, compact_from: float = _COMPACT_FROM) -> str:
        """Compact money (see the module docstring); ``digits`` forces the decimals and
        ``compact_from`` the sum from which a unit is used (chart ticks)."""
        if missing(value):
            return MISSING
        value = float(value)
        size = abs(value)
        unit, decimals = self._unit(size, compact_from)
        if unit is None:  # under the first unit: in full
            text = format_decimal(round(size, digits or 0), "#,##0" + ("." + "0" * digits if digits else ""),
                                  locale=self.locale)  # fmt: skip
        else:
            text = format_compact_decimal(size, format_type="short", locale=self.locale,
                                          fraction_digits=decimals if digits is None else digits)  # fmt: skip
            if self.lang == "en":
                text = text.replace("K", "k")
        sign = "-" if value < 0 and any(ch in "123456789" for ch in text) else ""  # no "-¥0"
        return f"{sign}{CURRENCY}{text}"

    def _unit(self, size: float, compact_from: float = _COMPACT_FROM) -> tuple[float | None, int]:
        """The unit a sum is written in and its decimals: three significant digits."""
        if size < max(compact_from, _UNITS[self.lang][-1]):
            return None, 0
        unit = next(u for u in _UNITS[self.lang] if size >= u)
        scaled = size / unit
        return unit, 2 if scaled < 10 else 1 if scaled < 100 else 0

    def money_exact(self, value: float) -> str:
        """``¥1,234,567.89``: full precision, for speaker notes and cells that must add up."""
        if missing(value):
            return MISSING
        text = format_decimal(abs(float(value)), "#,##0.00", locale=self.locale)
        return ("-" if value < 0 else "") + CURRENCY + text

    def share(self, value: float, digits: int = 1) -> str:
        """A share of 1 as a percentage: ``73.4%``."""
        if missing(value):
            return MISSING
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
        return format_percent(float(value), pattern, locale=self.locale)

    def pct(self, ratio: float, digits: int = 0) -> str:
        """A relative change given as a ratio (0.06 for 6% more) → ``+6%``, ``-4%``, ``±0%``."""
        if missing(ratio) or not math.isfinite(float(ratio)):
            return MISSING
        return self._signed(float(ratio) * 100, digits, "%")

    def change(self, now: float, before: float) -> str:
        """Relative change from ``before`` to ``now``: ``+6%``; ``—`` when either is missing or ``before`` is 0."""
        if missing(now) or missing(before) or before == 0:
            return MISSING
        return self.pct(now / before - 1)

    def points(self, now: float, before: float) -> str:
        """Change of a share in percentage points: ``+3.1 pts`` / ``+3.1个百分点``."""
        if missing(now) or missing(before):
            return MISSING
        return self._signed((now - before) * 100, 1, label("pts", self.lang))

    def delta(self, now: float, before: float) -> str:
        """Change of a count: ``+3``, ``-2``, ``±0``."""
        if missing(now) or missing(before):
            return MISSING
        return self._signed(now - before, 0, "")

    def money_delta(self, now: float, before: float) -> str:
        """Change of an amount: ``+¥1.2M``, ``-¥350k``."""
        if missing(now) or missing(before):
            return MISSING
        text = self.money(now - before)
        return text if text.startswith("-") else ("±" if now == before else "+") + text

    def signed(self, value: float, digits: int = 0) -> str:
        """A signed number: ``+12``, ``-3``, ``±0``."""
        return MISSING if missing(value) else self._signed(float(value), digits, "")

    def _signed(self, value: float, digits: int, unit: str) -> str:
        text = self.number(abs(value), digits)
        shown = round(value, digits)
        sign = "+" if shown > 0 else "-" if shown < 0 else "±"
        return f"{sign}{text}{unit}"

    def p_value(self, p: float) -> str:
        """A p-value as shown: ``0.07``, ``0.004``, ``<0.001``."""
        if missing(p):
            return MISSING
        return "<0.001" if p < 0.001 else self.number(p, 3 if p < 0.01 else 2)

    def month(self, month: str | pd.Period | pd.Timestamp) -> str:
        """``2026-09`` → ``Sep 2026`` / ``2026年9月``."""
        period = pd.Period(month, freq="M")
        return format_skeleton("yMMM", period.start_time.date(), locale=self.locale)

    def date(self, day: Any) -> str:
        """A day as ``2026-09-30`` (ISO, the same in both languages); ``—`` when missing."""
        return MISSING if missing(day) else pd.Timestamp(day).strftime("%Y-%m-%d")

    # ---- a KPI by the kind its definition gives it

    def value(self, metric: str, value: float) -> str:
        """A KPI's value as shown: money, share or count, by the metric's kind (``metrics.kpis.METRICS``)."""
        kind = KINDS.get(metric)
        if kind == MONEY:
            return self.money(value)
        if kind == SHARE:
            return self.share(value)
        return self.count(value)

    def metric_change(self, metric: str, now: float, before: float) -> str:
        """Shares change in points, money and counts relatively."""
        return self.points(now, before) if KINDS.get(metric) == SHARE else self.change(now, before)

    def target(self, metric: str, target: float) -> str:
        """``100%``, ``≤ 4%``; ``—`` without a target."""
        if missing(target):
            return MISSING
        text = format_percent(float(target), "#,##0.#%", locale=self.locale)
        return f"≤ {text}" if metric == "first_order_only_share" else text

    # ---- axes and spreadsheets

    def money_ticks(self, values: Sequence[float]) -> list[str]:
        """Compact money for the ticks of an axis, each shown exactly and in a unit from the first
        (¥2.5k, ¥5k, ¥7.5k: the decimals a tick's value needs in its unit, no more)."""
        texts = []
        for v in values:
            if missing(v):
                texts.append(MISSING)
                continue
            unit, _ = self._unit(abs(v), compact_from=0)
            scaled = abs(v) / (unit or 1)
            needed = next((d for d in range(4) if abs(round(scaled, d) - scaled) <= 1e-9 * max(scaled, 1)), 3)
            texts.append(self.money(v, digits=needed, compact_from=0))
        return texts

    def share_ticks(self, values: Sequence[float]) -> list[str]:
        """Percent ticks of shares, each shown exactly with the fewest decimals (2.5%, not 2% and 2%
        again); no "-0%"."""
        shown = [v for v in values if not missing(v)]
        digits = next((d for d in range(4) if all(abs(round(v * 100, d) - v * 100) < 1e-6 for v in shown)), 3)
        return [MISSING if missing(v) else self.share(0.0 if abs(v) < 1e-12 else v, digits) for v in values]

    def chart_money_format(self, values: Sequence[float] = ()) -> str:
        """The number format of a native (PowerPoint) chart of money ``values``, its data kept as
        the amounts themselves: compact as this formatter writes them (¥350k, ¥1.2M; ¥19.6万,
        ¥1.20亿), in billions in English once the values reach half a billion (the axis may reach
        one), and in 亿 in Chinese from 1000万 on (a number format divides only by powers of 1000, so
        a whole number of 万 cannot be shown: 万 is 10³ with a decimal point moved by one digit)."""
        top = max((abs(float(v)) for v in values if not missing(v)), default=0.0)
        y = f'"{CURRENCY}"'
        if self.lang == "en":
            if top >= 5e8:
                return f'[>=1000000000]{y}#,##0.0,,,"B";[>=1000000]{y}#,##0.0,,"M";{y}#,##0,"k"'
            return f'[>=1000000]{y}#,##0.0,,"M";[>=1000]{y}#,##0,"k";{y}#,##0'
        if top >= 1e7:
            return f'[>=10000000]{y}0\\.00,,"亿";[>=10000]{y}0\\.0,"万";{y}#,##0'
        return f'[>=10000]{y}0\\.0,"万";{y}#,##0'

    def excel_format(self, kind: str) -> str:
        """The number format of a spreadsheet cell holding a figure of ``kind`` (money, share,
        count, score): the full figure in the cell, shown as the pages round it."""
        return {MONEY: f'"{CURRENCY}"#,##0', SHARE: "0.0%", "score": "0"}.get(kind, "#,##0")


@functools.cache
def text_for(lang: str) -> Text:
    """The :class:`Text` of ``lang`` (one per language)."""
    return Text(lang)


class _Filler(string.Formatter):
    """``str.format`` with the figure kinds of the catalogues' sentences (module docstring)."""

    def __init__(self, text: Text):
        super().__init__()
        self.text = text

    def format_field(self, value: Any, format_spec: str) -> str:
        kind, _, arg = format_spec.partition(":")
        t = self.text
        if kind == "count":
            shown = t.count(value)
            return f"{shown} {t.plural(value, arg)}" if arg else shown
        if kind == "plural":  # the word alone: {n:plural:has|have}
            return t.plural(value, arg)
        if kind == "money":
            return t.money(value)
        if kind == "share":
            return t.share(value, int(arg) if arg else 1)
        if kind == "pct":
            return t.pct(value, int(arg) if arg else 0)
        if kind == "number":
            return t.number(value, int(arg) if arg else 1)
        if kind in ("change", "points", "delta"):
            return getattr(t, kind)(*value)
        if kind == "month":
            return t.month(value)
        if missing(value):
            return MISSING
        if not format_spec and isinstance(value, numbers.Real) and not isinstance(value, bool):
            # a bare figure: a count (2,422), or a number with a decimal (12.5)
            return t.count(value) if float(value).is_integer() else t.number(value, 1)
        return super().format_field(value, format_spec)


def history_notes(t: Text, figures: Any, *, early_warning: bool = False) -> list[str]:
    """Sentences for a source whose orders (``figures.order_span``: the first order's month and the
    last order's date) do not cover what a report of ``figures.period`` shows: none dated in the
    month (its orders may not be loaded yet), figures over the last 12 months that cover fewer
    months, and (``early_warning``) an early warning that cannot judge any dealer on its own
    history yet. Empty when the orders cover it all."""
    (first, last), period = figures.order_span, figures.period
    lines = []
    if last is None or last < period.start_time:
        lines.append(t.say("sum.no_orders_in_month", month=t.month(period), last=t.date(last)))
    months = (period - first).n + 1
    if months < 12:
        lines.append(t.say("sum.short_history", first=t.month(first), n=months))
    # a dealer is judged on MIN_HISTORY months of orders before the RECENT_MONTHS judged
    if early_warning and months < MIN_HISTORY + RECENT_MONTHS:
        lines.append(t.say("sum.not_judged", need=MIN_HISTORY + RECENT_MONTHS))
    return lines
