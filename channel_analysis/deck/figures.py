"""Month figures → what the management deck shows: one :class:`DeckFigures` of frames and numbers.

The deck computes nothing of its own: every figure here comes from the library's metrics
(``monthly_kpis``, ``sales_manager_scorecard``, ``rule_breakers``, ``service_levels``, …)
and from the early warning's alerts and health, as of the report month. The slides only
select, order and format them. :func:`deck_inputs` accepts either :class:`DeckInputs` or
any object carrying ``tables`` and ``month`` (and, optionally, ``kpis``, ``alerts``,
``health``, ``panel`` and ``previous`` — the figures of M−1), such as ``report_data.MonthData``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from channel_analysis import metrics as mx
from channel_analysis import schema
from channel_analysis.config import Settings
from channel_analysis.early_warning.detect import SEVERITY_ORDER, STATUSES
from channel_analysis.text.labels import label
from channel_analysis.metrics.cohorts import PANEL_COLUMNS as COHORT_COLUMNS
from channel_analysis.metrics.events import PANEL_COLUMNS as EVENT_COLUMNS
from channel_analysis.months import Month, as_of
from channel_analysis.figures import month_figures, with_previous
from channel_analysis.panel import dealer_month_panel
from channel_analysis.text.format import compact_money
from channel_analysis.figures import month_effort, requests_closed
from channel_analysis.store.views import rule_tables, table_part, table_view

D, O = schema.Dealers, schema.Orders
TOP_ALERTS = 8  # at-risk dealers listed on their slide
MONEY_METRICS = {"revenue", "revenue_t12", "acquisition_spend_t12", "cac_t12", "retention_spend_t12",
                 "retention_cost_per_dealer_t12", "event_cost_per_attendee_t12"}  # fmt: skip
SHARE_METRICS = {"callback_coverage", "visit_coverage_2m", "first_order_only_share", "prospect_conversion_t12",
                 "sla_compliance", "via_sales_manager_share"}  # fmt: skip
# the KPIs whose move since last month the "what changed" slide shows, in this order
MOVES = ("dealers_in_network", "revenue", "revenue_t12", "callback_coverage", "visit_coverage_2m",
         "first_order_only_share", "sla_compliance", "complaints", "via_sales_manager_share")  # fmt: skip


# The panel columns the deck's figures read (the event effect, the payback of signing cohorts).
PANEL_COLUMNS = list(dict.fromkeys([*EVENT_COLUMNS, *COHORT_COLUMNS]))


@dataclass
class DeckInputs:
    """What the deck is built from: validated tables and the report month (``YYYY-MM``).

    ``kpis``, ``alerts`` and ``health`` of M and ``previous`` (an object with the same three
    of M−1, e.g. :class:`~channel_analysis.monthly.MonthFigures`) are reused when given and
    computed otherwise (``previous=False``: there is no M−1); so is ``panel`` (the dealer ×
    month panel as of M).
    """

    tables: Mapping[str, pd.DataFrame]
    month: str
    settings: Settings = field(default_factory=Settings)
    kpis: pd.DataFrame | None = None
    alerts: pd.DataFrame | None = None
    health: pd.DataFrame | None = None
    panel: pd.DataFrame | None = None
    previous: Any = None


def deck_inputs(source: Any) -> DeckInputs:
    """:class:`DeckInputs`, or any object with ``tables`` and ``month`` (a MonthData) → DeckInputs."""
    if isinstance(source, DeckInputs):
        return source
    if not (hasattr(source, "tables") and hasattr(source, "month")):
        raise TypeError("build_deck needs DeckInputs(tables, month) or an object with .tables and .month")
    month = getattr(source.month, "label", source.month)
    month = month.strftime("%Y-%m") if isinstance(month, pd.Period) else str(month)
    settings = getattr(source, "settings", None) or Settings()
    get = lambda name: getattr(source, name, None)  # noqa: E731
    previous = get("previous")
    if previous is None and hasattr(source, "previous"):
        previous = False  # the source knows there is no M−1 (its data start with M)
    return DeckInputs(source.tables, month, settings, get("kpis"), get("alerts"), get("health"), get("panel"),
                      previous)  # fmt: skip


@dataclass
class DeckFigures:
    """Everything the slides show, as of ``month``; frames are the metrics' own outputs."""

    month: str
    tables: Mapping[str, pd.DataFrame]
    kpis: pd.DataFrame
    prev_kpis: pd.DataFrame
    alerts: pd.DataFrame
    prev_alerts: pd.DataFrame
    health: pd.DataFrame
    prev_health: pd.DataFrame
    managers: dict[str, str]
    revenue_by_month: pd.Series  # the 24 months ending M, revenue per month (index: Period)
    settings: Settings
    panel: pd.DataFrame
    scorecard: pd.DataFrame | None = None
    breakers: pd.DataFrame | None = None
    funnel: pd.DataFrame | None = None
    effort: pd.DataFrame | None = None
    time_to_signing: pd.DataFrame | None = None
    payback: pd.DataFrame | None = None
    service: pd.DataFrame | None = None
    event_kinds: pd.DataFrame | None = None
    event_effect: pd.DataFrame | None = None
    requests_closed: bool = True  # any service request of the months shown with a closed_at

    def kpi(self, metric: str, *, previous: bool = False) -> float:
        """The network value of ``metric`` in M (or M−1); NaN when empty."""
        frame = self.prev_kpis if previous else self.kpis
        rows = frame[(frame["metric"] == metric) & (frame["scope"] == "network")]
        return float(rows["value"].iloc[0]) if len(rows) and pd.notna(rows["value"].iloc[0]) else math.nan

    def kpi_target(self, metric: str) -> float:
        rows = self.kpis[(self.kpis["metric"] == metric) & (self.kpis["scope"] == "network")]
        return float(rows["target"].iloc[0]) if len(rows) and pd.notna(rows["target"].iloc[0]) else math.nan

    def manager(self, manager_id: Any) -> str:
        """``"罗涛国"`` for a known id, the id itself otherwise, ``"—"`` for none."""
        if manager_id is None or (pd.api.types.is_scalar(manager_id) and pd.isna(manager_id)) or manager_id == "":
            return "—"  # None, NaN and pd.NA (a source without sales_manager_id) alike
        return self.managers.get(str(manager_id)) or str(manager_id)

    @property
    def period(self) -> pd.Period:
        return pd.Period(self.month, freq="M")

    def revenue_year_ago(self) -> tuple[float, float]:
        """(revenue of M−12, revenue of the 12 months ending M−12)."""
        r = self.revenue_by_month
        return float(r.iloc[-13]), float(r.iloc[:12].sum())

    def top_alerts(self, n: int = TOP_ALERTS) -> pd.DataFrame:
        """The ``n`` most urgent alerts: high before medium before low, then higher score."""
        a = self.alerts.assign(_sev=self.alerts["severity"].map(SEVERITY_ORDER).fillna(9))
        a = a.sort_values(["_sev", "score", "dealer_id"], ascending=[True, False, True], kind="stable")
        return a.drop(columns="_sev").head(n).reset_index(drop=True)

    def status_counts(self, *, previous: bool = False) -> pd.Series:
        health = self.prev_health if previous else self.health
        return health["status"].value_counts().reindex(list(STATUSES), fill_value=0).astype(int)

    def status_moves(self) -> pd.DataFrame:
        """One row per dealer whose status changed since M−1: dealer_id, dealer_name,
        sales_manager_id, from_status ("" when not listed last month), status, why_changed."""
        prev = self.prev_health[["dealer_id", "status"]].rename(columns={"status": "from_status"})
        merged = self.health.merge(prev, on="dealer_id", how="left")
        merged["from_status"] = merged["from_status"].fillna("")
        moved = merged[merged["status"] != merged["from_status"]]
        cols = ["dealer_id", "dealer_name", "sales_manager_id", "from_status", "status", "health_score", "why_changed"]
        return moved[cols].sort_values(["status", "health_score", "dealer_id"]).reset_index(drop=True)

    def new_alerts(self) -> pd.DataFrame:
        """Alerts of M whose (dealer, alert) was not raised in M−1."""
        before = set(zip(self.prev_alerts["dealer_id"], self.prev_alerts["alert"]))
        fresh = [(d, a) not in before for d, a in zip(self.alerts["dealer_id"], self.alerts["alert"])]
        return self.alerts[np.asarray(fresh, dtype=bool)].reset_index(drop=True)

    def kpi_moves(self) -> pd.DataFrame:
        """metric, previous, value, change for the KPIs in :data:`MOVES` (network)."""
        rows = [(m, self.kpi(m, previous=True), self.kpi(m)) for m in MOVES]
        out = pd.DataFrame(rows, columns=["metric", "previous", "value"])
        return out.assign(change=out["value"] - out["previous"])


def _revenue_by_month(tables: Mapping[str, pd.DataFrame], period: pd.Period) -> pd.Series:
    """orders → revenue (sum of amounts, returns included) per month of the 24 months ending M."""
    months = pd.period_range(period - 23, period, freq="M")
    orders = table_part(tables, "orders", [O.order_date, O.amount], months[0].start_time)
    dates = orders[O.order_date]
    rows = orders[(dates >= months[0].start_time) & (dates < (period + 1).start_time)]
    by = rows.groupby(rows[O.order_date].dt.to_period("M"))[O.amount].sum()
    return by.reindex(months, fill_value=0.0).astype(float)


def _managers(tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    if "sales_managers" not in tables:
        return {}
    sm = tables["sales_managers"].drop_duplicates(schema.SalesManagers.sales_manager_id)
    names = sm[schema.SalesManagers.name].astype("str")
    return {str(k): str(v) for k, v in zip(sm[schema.SalesManagers.sales_manager_id], names) if pd.notna(v) and v}


def deck_figures(source: Any) -> DeckFigures:
    """DeckInputs (or a MonthData-like object) → :class:`DeckFigures` as of its month."""
    inp = deck_inputs(source)
    m = Month.parse(inp.month)
    prev = Month((m.period - 1).strftime("%Y-%m"))
    tables = as_of(inp.tables, m)
    kpis, alerts, health, previous = inp.kpis, inp.alerts, inp.health, inp.previous
    panel = inp.panel if inp.panel is not None else dealer_month_panel(tables, as_of=m.label)
    if kpis is None or alerts is None or health is None or previous is None:
        figures = month_figures(tables, with_previous(tables, m), settings=inp.settings, panel=panel)
        now = figures[m.label]
        kpis = now.kpis if kpis is None else kpis
        alerts = now.alerts if alerts is None else alerts
        health = now.health if health is None else health
        previous = figures.get(prev.label) if previous is None else previous
    if previous is None or previous is False:  # nothing to compare with: empty frames of the same shape
        previous = SimpleNamespace(kpis=kpis.iloc[0:0], alerts=alerts.iloc[0:0], health=health.iloc[0:0])
    f = DeckFigures(
        month=m.label, tables=tables, kpis=kpis, prev_kpis=previous.kpis, alerts=alerts,
        prev_alerts=previous.alerts, health=health, prev_health=previous.health, managers=_managers(tables),
        revenue_by_month=_revenue_by_month(tables, m.period), settings=inp.settings, panel=panel,
    )  # fmt: skip
    _cost_figures(f, tables, m)
    if "interactions" in tables or "orders" in tables:
        narrowed = rule_tables(tables)
        f.breakers = mx.rule_breakers(narrowed, as_of=m.label, settings=inp.settings)
        f.scorecard = mx.sales_manager_scorecard(narrowed, as_of=m.label, settings=inp.settings, kpis=kpis,
                                                 breakers=f.breakers)  # fmt: skip
        del narrowed  # the orders' and interactions' columns it read: let go before the event model
    if "service_requests" in tables:
        requests = table_view(tables, "service_requests", m, inp.settings)
        f.service = mx.service_levels(requests, as_of=m.label, settings=inp.settings)
        f.requests_closed = requests_closed(requests)
    if "events" in tables and "event_attendance" in tables:
        events, attendance = tables["events"], table_view(tables, "event_attendance", m, inp.settings)
        f.event_kinds = mx.event_cost_by_kind(events, attendance, as_of=m.label)
        f.event_effect = mx.event_effect(panel, events, attendance, as_of=m.label)
    return f


def _cost_figures(f: DeckFigures, tables: Mapping[str, pd.DataFrame], m: Month) -> None:
    if "prospects" in tables:
        prospects = table_view(tables, "prospects", m, f.settings)
        f.funnel = mx.prospect_funnel(prospects, as_of=m.label, window_months=12)
        signed = f.funnel.loc[f.funnel["stage"] == "signed", "closed"].sum()
        if signed:  # time_to_signing fails on a window without signings (metrics/funnel.py)
            f.time_to_signing = mx.time_to_signing(prospects, as_of=m.label, window_months=12)
        if "interactions" in tables:
            f.effort = month_effort(tables, m.label, prospects)
    cac = f.kpi("cac_t12")
    if math.isfinite(cac):
        payback = mx.payback_month(f.panel, cac, as_of=m.label, cohort_freq="Y")
        f.payback = payback.tail(4).reset_index(drop=True)  # the last four yearly signing cohorts


# ---- actions for next month -------------------------------------------------------------

ALERT_ACTIONS = ("purchase_stop", "purchase_drop", "no_reorder", "below_peers", "calls_spike", "calls_drop")
RULE_ACTIONS = ("no_callback", "no_visit_2m", "first_order_only")


def actions(f: DeckFigures) -> pd.DataFrame:
    """alerts and rule breakers → one row per sales manager with something to do:
    sales_manager_id, urgent (alert dealers: dealer_id, dealer_name, alert, severity),
    no_callback / no_visit_2m / first_order_only (dealers breaking each rule), tasks.

    Ordered by the most severe alert, then the number of tasks; managers with nothing to do
    are left out. Dealers without a sales manager are listed under an empty id."""
    rows: dict[str, dict[str, list]] = {}

    def row(manager: Any) -> dict[str, list]:
        key = "" if manager is None or pd.isna(manager) else str(manager)
        return rows.setdefault(key, {"urgent": [], **{r: [] for r in RULE_ACTIONS}})

    for a in f.top_alerts(n=len(f.alerts)).itertuples():
        urgent = row(a.sales_manager_id)["urgent"]
        if a.dealer_id not in {u[0] for u in urgent}:  # one task per dealer: its most urgent alert
            urgent.append((a.dealer_id, a.dealer_name, a.alert, a.severity))
    if f.breakers is not None:
        for b in f.breakers.itertuples():
            row(b.sales_manager_id)[b.rule].append((b.dealer_id, b.dealer_name))
    out = pd.DataFrame([{"sales_manager_id": k, **v} for k, v in rows.items()],
                       columns=["sales_manager_id", "urgent", *RULE_ACTIONS])  # fmt: skip
    out["tasks"] = out[["urgent", *RULE_ACTIONS]].map(len).sum(axis=1)
    worst = out["urgent"].map(lambda u: min((SEVERITY_ORDER.get(x[3], 9) for x in u), default=9))
    out = out.assign(_worst=worst, _none=out["sales_manager_id"] == "")
    out = out.sort_values(["_worst", "tasks", "sales_manager_id"], ascending=[True, False, True], kind="stable")
    return out[out["tasks"] > 0].drop(columns=["_worst", "_none"]).reset_index(drop=True)


# ---- formatting -------------------------------------------------------------------------


def money(value: float, lang: str = "en") -> str:
    """``19_562_190`` → ``¥19.6M`` (en) or ``¥1,956万`` (zh), as the reports write it; ``—`` when missing."""
    if value is None or not math.isfinite(value):
        return "—"
    return compact_money(value, "¥", lang)


def count(value: float) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:,.0f}"


def share(value: float, digits: int = 0) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.{digits}%}"


def change_pct(now: float, before: float) -> str:
    """Relative change ``+12%`` / ``-3%``; ``—`` when it cannot be computed."""
    if not (math.isfinite(now) and math.isfinite(before)) or before == 0:
        return "—"
    return f"{(now / before - 1):+.0%}"


def value_text(metric: str, value: float, lang: str = "en") -> str:
    """A KPI value formatted by its kind: money, share or count."""
    if metric in MONEY_METRICS:
        return money(value, lang)
    if metric in SHARE_METRICS:
        return share(value, 1 if metric == "first_order_only_share" else 0)
    return count(value)


def change_text(metric: str, now: float, before: float, lang: str = "en") -> str:
    """Change since last month: percentage points for shares, signed amount for money and counts."""
    if not (math.isfinite(now) and math.isfinite(before)):
        return "—"
    delta = now - before
    if metric in SHARE_METRICS:
        return f"{delta * 100:+.1f}{label('deck_pts', lang)}"
    if metric in MONEY_METRICS:
        text = money(delta, lang)
        return text if delta < 0 else "+" + text
    return f"{delta:+,.0f}"


def month_text(month: str | pd.Period, lang: str = "en") -> str:
    """``2025-12`` → ``Dec 2025`` or ``2025年12月``."""
    p = pd.Period(month, freq="M")
    return f"{p.year}年{p.month}月" if lang == "zh" else p.strftime("%b %Y")
