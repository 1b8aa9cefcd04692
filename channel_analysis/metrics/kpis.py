"""Validated tables → the contract's monthly KPI table (``kpis.csv``), per network, region
and sales manager, each metric exactly as DATA_CONTRACT.md defines it.

Computed from the tables, not the panel: several definitions are day-exact (180 days,
opened_at + limit), and a row of a dealer not signed by M.end counts for the network only.
As of M, a dealer signed after M.end does not exist yet (the dealers table is dated by
signed_date), so the result is the same whether or not the caller cut the tables first.

The row-level work runs in a SQL engine through Ibis, once for every kind of input: each
large table (orders, interactions, service requests, expenses, prospects, events) is reduced
in the engine to one row per dealer (or per region, or a single row), and only those
aggregates come back to pandas, where the dealers' own figures, the scope totals and the
ratios are formed. Validated pandas frames run on an in-memory DuckDB; the Ibis tables of
:func:`channel_analysis.panel.ibis_tables` run where they live (e.g. Parquet files scanned by
DuckDB), so 20 million orders never pass through pandas.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from channel_analysis import schema
from channel_analysis.config import Settings
from channel_analysis.metrics._common import NETWORK, REGION, SALES_MANAGER
from channel_analysis.metrics._common import ratio as _ratio
from channel_analysis.panel import report_month
from channel_analysis.sources.engine import engine_tables

D, O, I, S = schema.Dealers, schema.Orders, schema.Interactions, schema.ServiceRequests
X, R, E, A = schema.Expenses, schema.Prospects, schema.Events, schema.EventAttendance

KPI_COLUMNS = ["month", "metric", "scope", "scope_id", "value", "target", "meets_target"]

MONEY, SHARE, COUNT = "money", "share", "count"


@dataclass(frozen=True)
class Metric:
    """A KPI of the contract: the kind of figure it is (how every page, slide and workbook shows
    it) and the scopes it is written for besides ``network`` (◆ region, ★ sales manager)."""

    kind: str
    scopes: tuple[str, ...] = ()


# The contract's metrics in its order.
METRICS: dict[str, Metric] = {
    "dealers_in_network": Metric(COUNT, (REGION, SALES_MANAGER)),
    "dealers_signed_t12": Metric(COUNT, (REGION,)),
    "dealers_lost_t12": Metric(COUNT, (REGION,)),
    "revenue": Metric(MONEY, (REGION, SALES_MANAGER)),
    "revenue_t12": Metric(MONEY, (REGION, SALES_MANAGER)),
    "acquisition_spend_t12": Metric(MONEY, (REGION,)),
    "cac_t12": Metric(MONEY, (REGION,)),
    "retention_spend_t12": Metric(MONEY, (REGION,)),
    "retention_cost_per_dealer_t12": Metric(MONEY, (REGION,)),
    "callback_coverage": Metric(SHARE, (REGION, SALES_MANAGER)),
    "visit_coverage_2m": Metric(SHARE, (REGION, SALES_MANAGER)),
    "first_order_only_share": Metric(SHARE, (REGION, SALES_MANAGER)),
    "prospect_conversion_t12": Metric(SHARE, (REGION,)),
    "sla_compliance": Metric(SHARE),
    "via_sales_manager_share": Metric(SHARE, (SALES_MANAGER,)),
    "complaints": Metric(COUNT, (REGION,)),
    "event_cost_per_attendee_t12": Metric(MONEY),
}
KINDS = {name: metric.kind for name, metric in METRICS.items()}  # metric → money, share or count


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
    def previous_start(self) -> pd.Timestamp:  # the first day of M−1
        return (self.period - 1).start_time

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


# --------------------------------------------------------------------------- in the engine


def _at(column: ir.Value, when: pd.Timestamp) -> ir.Value:
    """``when`` as a literal of ``column``'s kind: a date for a date column, else a timestamp."""
    return ibis.literal(when.date()) if column.type().is_date() else ibis.literal(when.to_pydatetime())


def _within(column: ir.Value, start: pd.Timestamp, stop: pd.Timestamp) -> ir.BooleanValue:
    """start ≤ column < stop."""
    return (column >= _at(column, start)) & (column < _at(column, stop))


def _count(condition: ir.BooleanValue) -> ir.IntegerValue:
    """1 where ``condition`` holds, else 0 (also where it is null); sum it to count."""
    return condition.fill_null(False).ifelse(1, 0)


def _fetch(con: ibis.BaseBackend, expr: ir.Expr):
    with warnings.catch_warnings():
        # ibis 12 reads pandas' deprecated `future.infer_string` option on every column
        warnings.filterwarnings("ignore", message=".*future.infer_string", module="ibis")
        return con.execute(expr)


def _dealers(con: ibis.BaseBackend, dealers: ir.Table, month: _Month) -> pd.DataFrame:
    """dealers signed by M.end → dealer_id, region, sales_manager_id, signed and terminated day (NaT when absent)."""
    signed = dealers.filter(dealers[D.signed_date] < _at(dealers[D.signed_date], month.next_start))
    out = _fetch(con, signed.select(D.dealer_id, D.region, D.sales_manager_id, D.signed_date, D.terminated_date))
    for column in (D.signed_date, D.terminated_date):
        out[column] = pd.to_datetime(out[column])
    return out


def _order_facts(con: ibis.BaseBackend, orders: ir.Table, month: _Month) -> pd.DataFrame:
    """orders dated by M.end → one row per dealer with such an order: revenue (sum of amounts in M),
    revenue_t12 (in T12), first_day and last_day of its positive orders (NaT when none)."""
    seen = orders.filter(orders[O.order_date] < _at(orders[O.order_date], month.next_start))
    day, amount = seen[O.order_date], seen[O.amount]
    facts = _fetch(
        con,
        seen.group_by(O.dealer_id).agg(
            revenue=amount.sum(where=day >= _at(day, month.start)),
            revenue_t12=amount.sum(where=day >= _at(day, month.t12_start)),
            first_day=day.cast("date").min(where=amount > 0),  # a reorder: a later day than the first
            last_day=day.cast("date").max(where=amount > 0),
        ),
    )
    facts[["revenue", "revenue_t12"]] = facts[["revenue", "revenue_t12"]].fillna(0.0)
    for column in ("first_day", "last_day"):
        facts[column] = pd.to_datetime(facts[column])
    return facts


def _touches(con: ibis.BaseBackend, interactions: ir.Table, month: _Month) -> pd.DataFrame:
    """interactions from the first day of M−1 to M.end → one row per dealer with any: called (a phone
    call, outbound, in M) and visited (a visit in those two months)."""
    recent = interactions.filter(_within(interactions[I.occurred_at], month.previous_start, month.next_start))
    at, kind = recent[I.occurred_at], recent[I.kind]
    called = (kind == "phone") & (recent[I.direction] == "outbound") & (at >= _at(at, month.start))
    facts = _fetch(con, recent.group_by(I.dealer_id).agg(called=called.any(), visited=(kind == "visit").any()))
    return facts.astype({"called": "boolean", "visited": "boolean"}).fillna({"called": False, "visited": False})


def _sla_limit(process: ir.StringValue, sla_hours: Mapping[str, float]) -> ir.IntervalValue:
    """each request's time limit by its process (null for a process without one)."""
    micros = [(process == name, int(round(hours * 3_600_000_000))) for name, hours in sla_hours.items()]
    limit = ibis.cases(*micros, else_=ibis.null("int64")) if micros else ibis.null("int64")
    return limit.as_interval("us")


def _request_facts(
    con: ibis.BaseBackend, requests: ir.Table, month: _Month, sla_hours: Mapping[str, float]
) -> pd.DataFrame:
    """service requests → one row per dealer with any of: due (time limit ends in M: M.start 00:00
    ≤ opened_at + limit ≤ M.end 24:00), within (of those, closed_at ≤ opened_at + limit; one still
    open is not), opened (in M), via (opened in M through the sales manager), complaint (opened in M)."""
    opened, closed = requests[S.opened_at], requests[S.closed_at]
    deadline = opened + _sla_limit(requests[S.process], sla_hours)
    due = (deadline >= _at(opened, month.start)) & (deadline <= _at(opened, month.next_start))
    in_month = _within(opened, month.start, month.next_start)
    flags = requests.select(
        S.dealer_id,
        due=_count(due),
        within=_count(due & closed.notnull() & (closed <= deadline)),
        opened=_count(in_month),
        via=_count(in_month & requests[S.via_sales_manager]),
        complaint=_count(in_month & (requests[S.process] == "complaint")),
    )
    counted = ["due", "within", "opened", "via", "complaint"]
    rows = flags.filter((flags.due + flags.opened) > 0)
    return _fetch(con, rows.group_by(S.dealer_id).agg(**{c: rows[c].sum() for c in counted}))


# --------------------------------------------------------------------------- per scope, in pandas


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


def _order_metrics(con, orders: ir.Table, dealers: pd.DataFrame, month: _Month, scopes: _Scopes, age_days: int):
    """orders → revenue, revenue_t12 and first_order_only_share per scope."""
    facts = _order_facts(con, orders, month)
    out = {
        name: _dealer_totals(_attributed(facts, dealers, amount=facts[name]), ["amount"], scopes)["amount"]
        for name in ("revenue", "revenue_t12")
    }
    out["first_order_only_share"] = _first_order_only_share(facts, dealers, month, scopes, age_days)
    return out


def _first_order_only_share(facts, dealers, month: _Month, scopes: _Scopes, age_days: int) -> pd.Series:
    by_dealer = facts.set_index(O.dealer_id)
    first_day = pd.Series(by_dealer["first_day"].reindex(dealers[D.dealer_id]).to_numpy(), index=dealers.index)
    last_day = pd.Series(by_dealer["last_day"].reindex(dealers[D.dealer_id]).to_numpy(), index=dealers.index)
    eligible = _in_network(dealers, month.end_day) & (first_day <= month.end_day - pd.Timedelta(days=age_days))
    only_first = eligible & (last_day == first_day)
    totals = _dealer_totals(dealers.assign(eligible=eligible, only=only_first), ["eligible", "only"], scopes)
    return _ratio(totals["only"], totals["eligible"])


def _spend(con, expenses: ir.Table | None, month: _Month, scopes: _Scopes) -> dict[str, pd.Series]:
    """expenses in T12 → acquisition_spend_t12 and retention_spend_t12 per scope (by the expense's own region)."""
    purposes = ("acquisition", "retention")
    if expenses is None:
        return {f"{purpose}_spend_t12": _missing(scopes) for purpose in purposes}
    spent = expenses.filter(_within(expenses[X.spent_on], month.t12_start, month.next_start))
    sums = _fetch(con, spent.group_by([X.purpose, X.region]).agg(amount=spent[X.amount].sum()))
    return {
        f"{purpose}_spend_t12": _totals(sums[sums[X.purpose] == purpose], [X.amount], scopes, region=X.region, manager=None)[
            X.amount
        ]
        for purpose in purposes
    }


def _coverage_metrics(con, interactions: ir.Table | None, dealers: pd.DataFrame, month: _Month, scopes: _Scopes):
    """interactions → callback_coverage and visit_coverage_2m per scope."""
    if interactions is None:
        return {"callback_coverage": _missing(scopes), "visit_coverage_2m": _missing(scopes)}
    touches = _touches(con, interactions, month)
    in_network = _in_network(dealers, month.end_day)
    called = dealers[D.dealer_id].isin(touches.loc[touches["called"], I.dealer_id])
    visited = dealers[D.dealer_id].isin(touches.loc[touches["visited"], I.dealer_id])
    established = in_network & (dealers[D.signed_date] < month.start)
    eligible = in_network & (dealers[D.signed_date] < month.previous_start)
    return {
        "callback_coverage": _coverage(dealers, established, called, scopes),
        "visit_coverage_2m": _coverage(dealers, eligible, visited, scopes),
    }


def _coverage(dealers: pd.DataFrame, eligible: pd.Series, covered: pd.Series, scopes: _Scopes) -> pd.Series:
    """share of ``eligible`` dealers that are ``covered``."""
    frame = dealers.assign(eligible=eligible, covered=eligible & covered)
    totals = _dealer_totals(frame, ["eligible", "covered"], scopes)
    return _ratio(totals["covered"], totals["eligible"])


def _prospect_conversion(con, prospects: ir.Table | None, month: _Month, scopes: _Scopes) -> pd.Series:
    if prospects is None:
        return _missing(scopes)
    closed = prospects.filter(_within(prospects[R.closed_date], month.t12_start, month.next_start))
    status = closed[R.status]
    counts = _fetch(
        con,
        closed.group_by(R.region).agg(
            signed=_count(status == "signed").sum(), decided=_count(status.isin(["signed", "lost"])).sum()
        ),
    )
    totals = _totals(counts, ["signed", "decided"], scopes, region=R.region, manager=None)
    return _ratio(totals["signed"], totals["decided"])


def _request_metrics(
    con, requests: ir.Table | None, dealers: pd.DataFrame, month: _Month, scopes: _Scopes, sla_hours
) -> dict[str, pd.Series]:
    """service requests → sla_compliance (network), the share through the sales manager, and complaints."""
    names = ("sla_compliance", "via_sales_manager_share", "complaints")
    if requests is None:
        return {name: _missing(scopes) for name in names}
    facts = _request_facts(con, requests, month, sla_hours)
    sla = _missing(scopes)
    n_due, n_within = float(facts["due"].sum()), float(facts["within"].sum())
    sla[(NETWORK, "")] = n_within / n_due if n_due else np.nan
    rows = _attributed(facts, dealers, opened=facts["opened"], via=facts["via"], complaint=facts["complaint"])
    totals = _dealer_totals(rows, ["opened", "via", "complaint"], scopes)
    return dict(zip(names, (sla, _ratio(totals["via"], totals["opened"]), totals["complaint"])))


def _event_cost_per_attendee(con, tables: Mapping[str, ir.Table], month: _Month, scopes: _Scopes) -> pd.Series:
    out = _missing(scopes)
    if "events" in tables and "event_attendance" in tables:
        events, attendance = tables["events"], tables["event_attendance"]
        held = events.filter(_within(events[E.held_on], month.t12_start, month.next_start))
        cost = _fetch(con, held[E.cost].sum())
        attendees = float(_fetch(con, attendance.filter(attendance[A.event_id].isin(held[E.event_id])).count()))
        out[(NETWORK, "")] = (0.0 if pd.isna(cost) else float(cost)) / attendees if attendees else np.nan
    return out


def _targets(settings: Settings) -> dict[str, tuple[float, str]]:
    return {
        "callback_coverage": (settings.callback_target, ">="),
        "visit_coverage_2m": (settings.visit_target, ">="),
        "first_order_only_share": (settings.first_order_only_max, "<="),
        "sla_compliance": (settings.sla_target, ">="),
    }


def monthly_kpis(
    tables: Mapping[str, pd.DataFrame] | Mapping[str, ir.Table],
    *,
    as_of: str | pd.Period,
    settings: Settings = Settings(),
    con: ibis.BaseBackend | None = None,
) -> pd.DataFrame:
    """validated tables → one row per metric and scope for the report month ``as_of``:
    month, metric, scope, scope_id, value, target, meets_target (the contract's kpis.csv).

    ``tables``: pandas frames, or Ibis tables from :func:`~channel_analysis.panel.ibis_tables`
    (e.g. Parquet files scanned by DuckDB); either way the same engine code computes every
    metric, on ``con`` (see :func:`~channel_analysis.panel.engine_tables`).
    Rows come in the contract's metric order, then network, region, sales_manager, then scope_id.
    Rows dated after ``as_of``'s last day are ignored, and so is a termination after it.
    """
    month = _Month(report_month(as_of))
    bound, con = engine_tables(tables, con)
    dealers = _dealers(con, bound["dealers"], month)
    scopes = _scopes(dealers)
    values = _dealer_metrics(dealers, month, scopes)
    values |= _order_metrics(con, bound["orders"], dealers, month, scopes, settings.first_order_only_age_days)
    values |= _spend(con, bound.get("expenses"), month, scopes)
    values["cac_t12"] = _ratio(values["acquisition_spend_t12"], values["dealers_signed_t12"])
    values["retention_cost_per_dealer_t12"] = _ratio(values["retention_spend_t12"], values["_mean_in_network_t12"])
    values |= _coverage_metrics(con, bound.get("interactions"), dealers, month, scopes)
    values["prospect_conversion_t12"] = _prospect_conversion(con, bound.get("prospects"), month, scopes)
    values |= _request_metrics(con, bound.get("service_requests"), dealers, month, scopes, settings.sla_hours)
    values["event_cost_per_attendee_t12"] = _event_cost_per_attendee(con, bound, month, scopes)
    return _rows(values, scopes, month, settings)


def _rows(values: dict[str, pd.Series], scopes: _Scopes, month: _Month, settings: Settings) -> pd.DataFrame:
    targets = _targets(settings)
    scope_level = scopes.index.get_level_values("scope")
    parts = []
    for metric, definition in METRICS.items():
        keep = scope_level.isin((NETWORK, *definition.scopes))
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
