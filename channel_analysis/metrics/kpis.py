"""Validated tables → the contract's monthly KPI table (``kpis.csv``), per network, region
and sales manager, each metric exactly as DATA_CONTRACT.md defines it.

Computed from the tables, not the panel: several definitions are day-exact (180 days,
opened_at + limit), and a row of a dealer not signed by M.end counts for the network only.
As of M, a dealer signed after M.end does not exist yet (the dealers table is dated by
signed_date), so the result is the same whether or not the caller cut the tables first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from channel_analysis import schema
from channel_analysis.config import Settings
from channel_analysis.panel import report_month

D, O, I, S = schema.Dealers, schema.Orders, schema.Interactions, schema.ServiceRequests
X, R, E, A = schema.Expenses, schema.Prospects, schema.Events, schema.EventAttendance

NETWORK, REGION, SALES_MANAGER = "network", "region", "sales_manager"
KPI_COLUMNS = ["month", "metric", "scope", "scope_id", "value", "target", "meets_target"]

# The contract's metrics in its order, with the scopes written besides `network` (◆ region, ★ sales manager).
METRICS: dict[str, tuple[str, ...]] = {
    "dealers_in_network": (REGION, SALES_MANAGER),
    "dealers_signed_t12": (REGION,),
    "dealers_lost_t12": (REGION,),
    "revenue": (REGION, SALES_MANAGER),
    "revenue_t12": (REGION, SALES_MANAGER),
    "acquisition_spend_t12": (REGION,),
    "cac_t12": (REGION,),
    "retention_spend_t12": (REGION,),
    "retention_cost_per_dealer_t12": (REGION,),
    "callback_coverage": (REGION, SALES_MANAGER),
    "visit_coverage_2m": (REGION, SALES_MANAGER),
    "first_order_only_share": (REGION, SALES_MANAGER),
    "prospect_conversion_t12": (REGION,),
    "sla_compliance": (),
    "via_sales_manager_share": (SALES_MANAGER,),
    "complaints": (REGION,),
    "event_cost_per_attendee_t12": (),
}


@dataclass(frozen=True)
class _Month:
    """Day boundaries of the report month M: every interval below is [from, to)."""

    period: pd.Period

    @property
    def start(self) -> pd.Timestamp:
        return self.period.start_time

    @property
    def next_start(self) -> pd.Timestamp:  # M.end 24:00
        return (self.period + 1).start_time

    @property
    def t12_start(self) -> pd.Timestamp:
        return (self.period - 11).start_time

    @property
    def end_day(self) -> pd.Timestamp:
        return self.next_start - pd.Timedelta(days=1)


def _in(dates: pd.Series, start: pd.Timestamp, stop: pd.Timestamp) -> pd.Series:
    return (dates >= start) & (dates < stop)


def _in_network(dealers: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """signed_date ≤ day and terminated_date empty or > day (dates are whole days)."""
    return (dealers[D.signed_date] <= day) & (dealers[D.terminated_date].isna() | (dealers[D.terminated_date] > day))


def _dealers(tables: Mapping[str, pd.DataFrame], month: _Month) -> pd.DataFrame:
    """dealers signed by M.end → dealer_id, region, sales_manager_id, signed and terminated day (NaT when absent)."""
    frame = tables["dealers"]
    frame = frame[frame[D.signed_date] < month.next_start]
    out = pd.DataFrame({D.dealer_id: frame[D.dealer_id], D.region: frame[D.region]})
    out[D.sales_manager_id] = frame[D.sales_manager_id] if D.sales_manager_id in frame else np.nan
    out[D.signed_date] = frame[D.signed_date].dt.normalize()
    out[D.terminated_date] = (
        frame[D.terminated_date].dt.normalize() if D.terminated_date in frame else pd.Series(pd.NaT, index=frame.index)
    )
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class _Scopes:
    regions: list[str]
    managers: list[str]

    @cached_property
    def index(self) -> pd.MultiIndex:
        keys = [(NETWORK, "")] + [(REGION, r) for r in self.regions] + [(SALES_MANAGER, m) for m in self.managers]
        return pd.MultiIndex.from_tuples(keys, names=["scope", "scope_id"])


def _scopes(dealers: pd.DataFrame) -> _Scopes:
    """Every region and non-empty sales_manager_id among dealers signed on or before M.end, leavers included."""
    managers = dealers[D.sales_manager_id].dropna().astype(str)
    return _Scopes(sorted(set(dealers[D.region].dropna())), sorted(set(managers[managers != ""])))


def _totals(frame: pd.DataFrame, columns: list[str], scopes: _Scopes, *, region: str | None, manager: str | None):
    """rows with values → one row per scope: sums of ``columns`` over the network, each region
    (by the frame's ``region`` column) and each sales manager; 0 where a scope has no rows."""
    parts = [frame[columns].sum().to_frame().T.astype(float)]
    for keys, by in ((scopes.regions, region), (scopes.managers, manager)):
        grouped = frame.groupby(by)[columns].sum() if by is not None and by in frame else None
        parts.append(
            grouped.reindex(keys, fill_value=0).astype(float)
            if grouped is not None
            else pd.DataFrame(0.0, index=keys, columns=columns)
        )
    out = pd.concat(parts, ignore_index=True)
    out.index = scopes.index
    return out


def _dealer_totals(frame: pd.DataFrame, columns: list[str], scopes: _Scopes) -> pd.DataFrame:
    return _totals(frame, columns, scopes, region=D.region, manager=D.sales_manager_id)


def _attributed(frame: pd.DataFrame, dealers: pd.DataFrame, **values: pd.Series) -> pd.DataFrame:
    """rows of a dealer's table → ``values`` with the region and sales manager of the row's dealer
    (empty for a dealer not signed by M.end: such a row counts for the network only)."""
    attributes = dealers.set_index(D.dealer_id)
    out = pd.DataFrame(values, index=frame.index)
    for column in (D.region, D.sales_manager_id):
        out[column] = frame[O.dealer_id].map(attributes[column])
    return out


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator != 0)).astype(float)


def _missing(scopes: _Scopes) -> pd.Series:
    return pd.Series(np.nan, index=scopes.index)


def _dealer_metrics(dealers: pd.DataFrame, month: _Month, scopes: _Scopes) -> dict[str, pd.Series]:
    frame = dealers.assign(
        in_network=_in_network(dealers, month.end_day),
        signed_t12=_in(dealers[D.signed_date], month.t12_start, month.next_start),
        lost_t12=_in(dealers[D.terminated_date], month.t12_start, month.next_start),
        # dealer-months in the network over the 12 month ends of T12; /12 is the mean count
        months_t12=sum(_in_network(dealers, _Month(month.period - k).end_day).astype(int) for k in range(12)),
    )
    totals = _dealer_totals(frame, ["in_network", "signed_t12", "lost_t12", "months_t12"], scopes)
    return {
        "dealers_in_network": totals["in_network"],
        "dealers_signed_t12": totals["signed_t12"],
        "dealers_lost_t12": totals["lost_t12"],
        "_mean_in_network_t12": totals["months_t12"] / 12,
    }


def _spend(tables: Mapping[str, pd.DataFrame], purpose: str, month: _Month, scopes: _Scopes) -> pd.Series:
    if "expenses" not in tables:
        return _missing(scopes)
    frame = tables["expenses"]
    frame = frame[(frame[X.purpose] == purpose) & _in(frame[X.spent_on], month.t12_start, month.next_start)]
    return _totals(frame, [X.amount], scopes, region=X.region, manager=None)[X.amount]


def _touched(tables, dealers, kind: str, start: pd.Timestamp, stop: pd.Timestamp, direction: str | None = None):
    """interactions → per row of ``dealers``: at least one of ``kind`` (and ``direction``) in [start, stop)."""
    frame = tables["interactions"]
    hit = (frame[I.kind] == kind) & _in(frame[I.occurred_at], start, stop)
    if direction is not None:
        hit &= frame[I.direction] == direction
    return dealers[D.dealer_id].isin(frame.loc[hit, I.dealer_id])


def _coverage(dealers: pd.DataFrame, eligible: pd.Series, covered: pd.Series, scopes: _Scopes) -> pd.Series:
    """share of ``eligible`` dealers that are ``covered``."""
    frame = dealers.assign(eligible=eligible, covered=eligible & covered)
    totals = _dealer_totals(frame, ["eligible", "covered"], scopes)
    return _ratio(totals["covered"], totals["eligible"])


def _first_order_only_share(orders, dealers, month: _Month, scopes: _Scopes, age_days: int) -> pd.Series:
    positive = orders[(orders[O.amount] > 0) & (orders[O.order_date] < month.next_start)]
    dates = positive[O.order_date].groupby(positive[O.dealer_id])
    first, last = dates.min().dt.normalize(), dates.max().dt.normalize()  # a reorder: a later day than the first
    first_day = pd.Series(first.reindex(dealers[D.dealer_id]).to_numpy(), index=dealers.index)
    last_day = pd.Series(last.reindex(dealers[D.dealer_id]).to_numpy(), index=dealers.index)
    eligible = _in_network(dealers, month.end_day) & (first_day <= month.end_day - pd.Timedelta(days=age_days))
    only_first = eligible & (last_day == first_day)
    totals = _dealer_totals(dealers.assign(eligible=eligible, only=only_first), ["eligible", "only"], scopes)
    return _ratio(totals["only"], totals["eligible"])


def _prospect_conversion(tables, month: _Month, scopes: _Scopes) -> pd.Series:
    if "prospects" not in tables:
        return _missing(scopes)
    frame = tables["prospects"]
    closed = _in(frame[R.closed_date], month.t12_start, month.next_start)
    frame = frame.assign(
        signed=closed & (frame[R.status] == "signed"), decided=closed & frame[R.status].isin(["signed", "lost"])
    )
    totals = _totals(frame, ["signed", "decided"], scopes, region=R.region, manager=None)
    return _ratio(totals["signed"], totals["decided"])


def _sla_compliance(tables, month: _Month, scopes: _Scopes, sla_hours: Mapping[str, float]) -> pd.Series:
    if "service_requests" not in tables:
        return _missing(scopes)
    frame = tables["service_requests"]
    limit = pd.to_timedelta(frame[S.process].map(sla_hours).astype(float), unit="h")
    deadline = frame[S.opened_at] + limit
    due = (deadline >= month.start) & (deadline <= month.next_start)  # M.start 00:00 ≤ … ≤ M.end 24:00
    closed = frame[S.closed_at] if S.closed_at in frame else pd.Series(pd.NaT, index=frame.index)
    within = due & closed.notna() & ((closed - frame[S.opened_at]) <= limit)
    n_due, n_within = float(due.sum()), float(within.sum())
    out = _missing(scopes)
    out[(NETWORK, "")] = n_within / n_due if n_due else np.nan
    return out


def _request_metrics(tables, dealers: pd.DataFrame, month: _Month, scopes: _Scopes) -> dict[str, pd.Series]:
    """service requests opened in M → the share through the sales manager, and complaints."""
    if "service_requests" not in tables:
        return {"via_sales_manager_share": _missing(scopes), "complaints": _missing(scopes)}
    frame = tables["service_requests"]
    frame = frame[_in(frame[S.opened_at], month.start, month.next_start)]
    rows = _attributed(
        frame,
        dealers,
        opened=pd.Series(1, index=frame.index),
        via=frame[S.via_sales_manager].fillna(False).astype(int),
        complaint=(frame[S.process] == "complaint").astype(int),
    )
    totals = _dealer_totals(rows, ["opened", "via", "complaint"], scopes)
    return {"via_sales_manager_share": _ratio(totals["via"], totals["opened"]), "complaints": totals["complaint"]}


def _event_cost_per_attendee(tables, month: _Month, scopes: _Scopes) -> pd.Series:
    out = _missing(scopes)
    if "events" in tables and "event_attendance" in tables:
        events = tables["events"]
        held = events[_in(events[E.held_on], month.t12_start, month.next_start)]
        attendees = float(tables["event_attendance"][A.event_id].isin(held[E.event_id]).sum())
        out[(NETWORK, "")] = float(held[E.cost].sum()) / attendees if attendees else np.nan
    return out


def _targets(settings: Settings) -> dict[str, tuple[float, str]]:
    return {
        "callback_coverage": (settings.callback_target, ">="),
        "visit_coverage_2m": (settings.visit_target, ">="),
        "first_order_only_share": (settings.first_order_only_max, "<="),
        "sla_compliance": (settings.sla_target, ">="),
    }


def monthly_kpis(
    tables: Mapping[str, pd.DataFrame], *, as_of: str | pd.Period, settings: Settings = Settings()
) -> pd.DataFrame:
    """validated tables → one row per metric and scope for the report month ``as_of``:
    month, metric, scope, scope_id, value, target, meets_target (the contract's kpis.csv).

    Rows come in the contract's metric order, then network, region, sales_manager, then scope_id.
    Rows dated after ``as_of``'s last day are ignored, and so is a termination after it.
    """
    month = _Month(report_month(as_of))
    dealers = _dealers(tables, month)
    scopes = _scopes(dealers)
    values = _dealer_metrics(dealers, month, scopes)

    orders = tables["orders"]
    for name, start in (("revenue", month.start), ("revenue_t12", month.t12_start)):
        rows = orders[_in(orders[O.order_date], start, month.next_start)]
        values[name] = _dealer_totals(_attributed(rows, dealers, amount=rows[O.amount]), ["amount"], scopes)["amount"]
    for purpose in ("acquisition", "retention"):
        values[f"{purpose}_spend_t12"] = _spend(tables, purpose, month, scopes)
    values["cac_t12"] = _ratio(values["acquisition_spend_t12"], values["dealers_signed_t12"])
    values["retention_cost_per_dealer_t12"] = _ratio(values["retention_spend_t12"], values["_mean_in_network_t12"])

    in_network = _in_network(dealers, month.end_day)
    if "interactions" in tables:
        established = in_network & (dealers[D.signed_date] < month.start)
        called = _touched(tables, dealers, "phone", month.start, month.next_start, direction="outbound")
        values["callback_coverage"] = _coverage(dealers, established, called, scopes)
        two_months = (month.period - 1).start_time  # the first day of M−1
        visited = _touched(tables, dealers, "visit", two_months, month.next_start)
        eligible = in_network & (dealers[D.signed_date] < two_months)
        values["visit_coverage_2m"] = _coverage(dealers, eligible, visited, scopes)
    else:
        values["callback_coverage"] = values["visit_coverage_2m"] = _missing(scopes)
    values["first_order_only_share"] = _first_order_only_share(
        orders, dealers, month, scopes, settings.first_order_only_age_days
    )
    values["prospect_conversion_t12"] = _prospect_conversion(tables, month, scopes)
    values["sla_compliance"] = _sla_compliance(tables, month, scopes, settings.sla_hours)
    values |= _request_metrics(tables, dealers, month, scopes)
    values["event_cost_per_attendee_t12"] = _event_cost_per_attendee(tables, month, scopes)
    return _rows(values, scopes, month, settings)


def _rows(values: dict[str, pd.Series], scopes: _Scopes, month: _Month, settings: Settings) -> pd.DataFrame:
    targets = _targets(settings)
    scope_level = scopes.index.get_level_values("scope")
    parts = []
    for metric, extra_scopes in METRICS.items():
        keep = scope_level.isin((NETWORK, *extra_scopes))
        target, comparison = targets.get(metric, (np.nan, ">="))
        value = values[metric].reindex(scopes.index).to_numpy(dtype=float)[keep]
        meets = value <= target if comparison == "<=" else value >= target
        known = ~np.isnan(value) & ~np.isnan(target)
        parts.append(
            pd.DataFrame(
                {
                    "metric": metric,
                    "scope": scope_level[keep],
                    "scope_id": scopes.index.get_level_values("scope_id")[keep],
                    "value": value,
                    "target": float(target),
                    "meets_target": np.where(known, np.where(meets, "true", "false"), ""),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "month", month.period.strftime("%Y-%m"))
    for column in ("month", "metric", "scope", "scope_id", "meets_target"):
        out[column] = out[column].astype("str")
    return out[KPI_COLUMNS]
