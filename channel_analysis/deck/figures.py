"""What the management deck shows beyond the month's figures: selections of them (the most urgent
alerts, the status moves, what changed) and the few frames only the deck draws (the funnel and
payback of its slides, the event effect), over the one container
(:class:`~channel_analysis.figures.month.MonthFigures`).

The deck computes nothing of its own: every figure comes from the library's metrics and from
the early warning's alerts and health, as of the report month; the slides only select, order and
format them, through the text layer.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from channel_analysis import metrics as mx
from channel_analysis.early_warning.detect import SEVERITY_ORDER, STATUSES
from channel_analysis.figures.compute import MonthTables
from channel_analysis.figures.month import MonthFigures
from channel_analysis.metrics.cohorts import PANEL_COLUMNS as COHORT_COLUMNS
from channel_analysis.metrics.events import PANEL_COLUMNS as EVENT_COLUMNS
from channel_analysis.text.format import Text, text_for

TOP_ALERTS = 8  # at-risk dealers listed on their slide
# the KPIs whose move since last month the "what changed" slide shows, in this order
MOVES = ("dealers_in_network", "revenue", "revenue_t12", "callback_coverage", "visit_coverage_2m",
         "first_order_only_share", "sla_compliance", "complaints", "via_sales_manager_share")  # fmt: skip
# The panel columns the deck's figures read (the event effect, the payback of signing cohorts).
PANEL_COLUMNS = list(dict.fromkeys([*EVENT_COLUMNS, *COHORT_COLUMNS]))


class DeckData:
    """The month's figures as the deck reads them, in ``lang``: every attribute of the figures
    (``kpi``, ``alerts``, ``tables``, ``settings`` …) and the deck's own selections."""

    def __init__(self, figures: MonthFigures, lang: str = "en"):
        self.figures = figures
        self.lang = lang
        self.t: Text = text_for(lang)

    def __getattr__(self, name: str) -> Any:  # the month's figures
        return getattr(self.figures, name)

    def manager(self, manager_id: Any) -> str:
        """The manager's name (else the id), or "—" for a dealer without one."""
        return self.figures.manager_name(manager_id) or "—"

    def kpi(self, metric: str, *, previous: bool = False) -> float:
        """The network value of ``metric`` in M (or M−1); NaN when empty."""
        return self.figures.kpi(metric, self.previous_label if previous else None)

    @cached_property
    def before(self) -> MonthTables:
        """The tables of M−1; empty frames of the same shape when the data start with M."""
        if self.figures.previous is not None:
            return self.figures.previous
        now = self.figures.now
        return MonthTables(now.kpis.iloc[0:0], now.alerts.iloc[0:0], now.health.iloc[0:0])

    @cached_property
    def revenue_months(self) -> pd.Series:
        """Revenue per month of the 24 months ending M (index: Period), 0 before the data."""
        months = pd.period_range(self.period - 23, self.period, freq="M")
        shown = self.figures.revenue_by_month(24)
        by = pd.Series(shown["revenue"].to_numpy(), index=pd.PeriodIndex(shown["month"], freq="M"))
        return by.reindex(months, fill_value=0.0).astype(float)

    def revenue_year_ago(self) -> tuple[float, float]:
        """(revenue of M−12, revenue of the 12 months ending M−12)."""
        r = self.revenue_months
        return float(r.iloc[-13]), float(r.iloc[:12].sum())

    def top_alerts(self, n: int = TOP_ALERTS) -> pd.DataFrame:
        """The ``n`` most urgent alerts: high before medium before low, then higher score."""
        a = self.alerts.assign(_sev=self.alerts["severity"].map(SEVERITY_ORDER).fillna(9))
        a = a.sort_values(["_sev", "score", "dealer_id"], ascending=[True, False, True], kind="stable")
        return a.drop(columns="_sev").head(n).reset_index(drop=True)

    def status_counts(self, *, previous: bool = False) -> pd.Series:
        health = self.before.health if previous else self.health
        return health["status"].value_counts().reindex(list(STATUSES), fill_value=0).astype(int)

    def status_moves(self) -> pd.DataFrame:
        """One row per dealer whose status changed since M−1: dealer_id, dealer_name,
        sales_manager_id, from_status ("" when not listed last month), status, health_score, moved."""
        prev = self.before.health[["dealer_id", "status"]].rename(columns={"status": "from_status"})
        merged = self.health.merge(prev, on="dealer_id", how="left")
        merged["from_status"] = merged["from_status"].fillna("")
        moved = merged[merged["status"] != merged["from_status"]]
        cols = ["dealer_id", "dealer_name", "sales_manager_id", "from_status", "status", "health_score", "moved"]
        return moved[cols].sort_values(["status", "health_score", "dealer_id"]).reset_index(drop=True)

    def new_alerts(self) -> pd.DataFrame:
        """Alerts of M whose (dealer, alert) was not raised in M−1."""
        before = set(zip(self.before.alerts["dealer_id"], self.before.alerts["alert"]))
        fresh = [(d, a) not in before for d, a in zip(self.alerts["dealer_id"], self.alerts["alert"])]
        return self.alerts[np.asarray(fresh, dtype=bool)].reset_index(drop=True)

    def kpi_moves(self) -> pd.DataFrame:
        """metric, previous, value, change for the KPIs in :data:`MOVES` (network)."""
        rows = [(m, self.kpi(m, previous=True), self.kpi(m)) for m in MOVES]
        out = pd.DataFrame(rows, columns=["metric", "previous", "value"])
        return out.assign(change=out["value"] - out["previous"])

    # ---- the frames only the deck's slides draw

    @cached_property
    def funnel(self) -> pd.DataFrame | None:
        if not self.has("prospects"):
            return None
        return mx.prospect_funnel(self.view("prospects"), as_of=self.label, window_months=12)

    @cached_property
    def time_to_signing(self) -> pd.DataFrame | None:
        funnel = self.funnel
        if funnel is None or not funnel.loc[funnel["stage"] == "signed", "closed"].sum():
            return None  # time_to_signing fails on a window without signings (metrics/funnel.py)
        return mx.time_to_signing(self.view("prospects"), as_of=self.label, window_months=12)

    @cached_property
    def effort(self) -> pd.DataFrame | None:
        return self.figures.effort() if self.has("prospects", "interactions") else None

    @cached_property
    def payback(self) -> pd.DataFrame | None:
        cac = self.kpi("cac_t12")
        if not math.isfinite(cac):
            return None
        payback = mx.payback_month(self.panel_part(PANEL_COLUMNS), cac, as_of=self.label, cohort_freq="Y")
        return payback.tail(4).reset_index(drop=True)  # the last four yearly signing cohorts

    @property
    def service(self) -> pd.DataFrame | None:
        return self.figures.service_levels

    @property
    def scorecard(self) -> pd.DataFrame | None:
        return self.figures.scorecard if self.has("orders") else None

    @property
    def breakers(self) -> pd.DataFrame | None:
        return self.figures.rule_breakers

    @cached_property
    def event_kinds(self) -> pd.DataFrame | None:
        if not self.has("events", "event_attendance"):
            return None
        return mx.event_cost_by_kind(self.tables["events"], self.view("event_attendance"), as_of=self.label)

    @cached_property
    def event_effect(self) -> pd.DataFrame | None:
        if not self.has("events", "event_attendance"):
            return None
        return mx.event_effect(self.panel_part(PANEL_COLUMNS), self.tables["events"], self.view("event_attendance"),
                               as_of=self.label)  # fmt: skip


# ---- actions for next month -------------------------------------------------------------

ALERT_ACTIONS = ("purchase_stop", "purchase_drop", "no_reorder", "below_peers", "calls_spike", "calls_drop")
RULE_ACTIONS = ("no_callback", "no_visit_2m", "first_order_only")


def actions(f: DeckData) -> pd.DataFrame:
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
