"""Raw tables → the dealer × month panel, pushed down to a SQL engine with Ibis.

:func:`panel_expr` builds one Ibis expression from Ibis tables, so the same
aggregation runs on DuckDB (the default, in memory), PostgreSQL or Spark.
:func:`dealer_month_panel` binds validated pandas frames and executes it.

As of a month, a dealer signed after its last day does not exist yet (the dealers
table is dated by signed_date), so its orders placed before signing join the panel
only from the month it signed.

A backtest computes the panel once, as of its last month, and cuts it with
:func:`panel_as_of`: apart from which dealers exist, a row depends only on data
dated up to its own month, and a termination enters only through ``in_network``
of months that end on or after the termination date, so the cut equals a panel
computed as of the earlier month.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import pandas as pd

from channel_analysis import schema

P, D, O, I, S, E, A = (
    schema.Panel,
    schema.Dealers,
    schema.Orders,
    schema.Interactions,
    schema.ServiceRequests,
    schema.Events,
    schema.EventAttendance,
)
_AMOUNTS = (P.revenue, P.gross_orders, P.returns)
_COUNTS = (
    P.order_count,
    P.return_count,
    P.quantity,
    P.calls_in,
    P.calls_out,
    P.visits,
    P.messages,
    P.requests,
    P.requests_via_sm,
    P.complaints,
    P.events_attended,
)
_MI = "_month_index"  # months since year 0: year * 12 + month - 1, portable across engines


def report_month(as_of: str | pd.Period | pd.Timestamp) -> pd.Period:
    """``"2026-10"``, a Period or a day of the month → the report month as a monthly Period."""
    return pd.Period(as_of, freq="M")


def _month_index(value: ir.TimestampValue | ir.DateValue) -> ir.IntegerValue:
    return value.year().cast("int64") * 12 + value.month().cast("int64") - 1


def _activity(table: ir.Table, date_col: str, as_of_index: int, **measures: ir.Value) -> ir.Table:
    """One row per source row dated up to the report month: dealer, month index and every
    panel measure (those not given are 0), so all tables can be stacked and summed once."""
    table = table.mutate(**{_MI: _month_index(table[date_col])})
    table = table.filter(table[_MI] <= as_of_index)
    return table.select(table[P.dealer_id], table[_MI], **_measures(**measures))


def _measures(**given: ir.Value) -> dict[str, ir.Value]:
    """Every panel measure, typed (amounts float64, counts int64); 0 where not given."""
    return {
        name: (given[name] if name in given else ibis.literal(0)).cast("float64" if name in _AMOUNTS else "int64")
        for name in (*_AMOUNTS, *_COUNTS)
    }


def _flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    return condition.fill_null(False).ifelse(1, 0)


def panel_expr(
    dealers: ir.Table,
    orders: ir.Table,
    *,
    as_of: str | pd.Period,
    interactions: ir.Table | None = None,
    service_requests: ir.Table | None = None,
    events: ir.Table | None = None,
    event_attendance: ir.Table | None = None,
) -> ir.Table:
    """dealers, orders (+ interactions, service_requests, events with attendance) → Ibis
    expression of one row per dealer and month with the columns of ``schema.Panel``.

    Rows: every month from the dealer's signing month or first order month (whichever is
    first) to the report month or the month it left, zero-filled; plus any other month with
    activity (an order after leaving, a visit before signing), so that every row dated up to
    the report month is counted exactly once. A termination after the report month has not
    happened yet, and a dealer signed after it does not exist yet. Tables dated after the
    report month's end are cut at the engine.
    """
    month = report_month(as_of)
    as_of_index = month.year * 12 + month.month - 1
    signed = _month_index(dealers[D.signed_date])
    terminated = (
        _month_index(dealers[D.terminated_date]) if D.terminated_date in dealers.columns else ibis.null("int64")
    )
    dealers = dealers.filter(signed <= as_of_index)
    people = dealers.select(
        dealers[D.dealer_id],
        dealers[D.region].cast("string").name(P.region),
        (dealers[D.tier] if D.tier in dealers.columns else ibis.null()).cast("string").name(P.tier),
        (dealers[D.sales_manager_id] if D.sales_manager_id in dealers.columns else ibis.null())
        .cast("string")
        .name(P.sales_manager_id),
        signed.name("_signed"),
        terminated.name("_terminated"),
    )

    amount = orders[O.amount]
    quantity = orders[O.quantity].fill_null(0).cast("int64") if O.quantity in orders.columns else ibis.literal(0)
    stacked = [
        _activity(
            orders,
            O.order_date,
            as_of_index,
            revenue=amount,
            gross_orders=(amount > 0).ifelse(amount, 0.0),
            returns=(amount < 0).ifelse(-amount, 0.0),
            order_count=_flag(amount > 0),
            return_count=_flag(amount < 0),
            quantity=(amount < 0).ifelse(-quantity, quantity),  # net of units sent back
        )
    ]
    if interactions is not None:
        kind, direction = interactions[I.kind], interactions[I.direction]
        stacked.append(
            _activity(
                interactions,
                I.occurred_at,
                as_of_index,
                calls_in=_flag((kind == "phone") & (direction == "inbound")),
                calls_out=_flag((kind == "phone") & (direction == "outbound")),
                visits=_flag(kind == "visit"),
                messages=_flag(kind == "message"),
            )
        )
    if service_requests is not None:
        stacked.append(
            _activity(
                service_requests,
                S.opened_at,
                as_of_index,
                requests=ibis.literal(1),
                requests_via_sm=_flag(service_requests[S.via_sales_manager]),
                complaints=_flag(service_requests[S.process] == "complaint"),
            )
        )
    if events is not None and event_attendance is not None:
        attended = event_attendance.join(events.select(E.event_id, E.held_on), A.event_id)
        stacked.append(_activity(attended, E.held_on, as_of_index, events_attended=ibis.literal(1)))

    activity = ibis.union(*stacked, distinct=False) if len(stacked) > 1 else stacked[0]
    positive = stacked[0].filter(stacked[0][P.order_count] > 0)
    first_order = positive.group_by(P.dealer_id).agg(_first=positive[_MI].min())
    spans = people.left_join(first_order, P.dealer_id).select(P.dealer_id, "_signed", "_terminated", "_first")
    start = ibis.cases((spans._first.notnull() & (spans._first < spans._signed), spans._first), else_=spans._signed)
    end = ibis.cases(
        (spans._terminated.notnull() & (spans._terminated < as_of_index), spans._terminated), else_=as_of_index
    )
    span_rows = spans.select(P.dealer_id, ibis.range(start, end + 1).unnest().name(_MI))
    span_rows = span_rows.mutate(**_measures())

    stacked_all = ibis.union(span_rows, activity, distinct=False)
    summed = stacked_all.group_by([P.dealer_id, _MI]).agg(
        **{name: stacked_all[name].sum().cast("float64") for name in _AMOUNTS},
        **{name: stacked_all[name].sum().cast("int64") for name in _COUNTS},
    )
    rows = summed.join(people, P.dealer_id)
    month_index = rows[_MI]
    return rows.select(
        rows[P.dealer_id],
        ibis.date(month_index // 12, month_index % 12 + 1, 1).name(P.month),
        rows[P.region],
        rows[P.tier],
        rows[P.sales_manager_id],
        (month_index - rows._signed).cast("int64").name(P.months_since_signed),
        ((rows._signed <= month_index) & (rows._terminated.isnull() | (rows._terminated > month_index))).name(
            P.in_network
        ),
        *(rows[name] for name in (*_AMOUNTS, *_COUNTS)),
    ).order_by([P.dealer_id, P.month])


# Columns the panel reads from each table; the optional ones are bound only when present.
_COLUMNS = {
    "dealers": (D.dealer_id, D.region, D.tier, D.sales_manager_id, D.signed_date, D.terminated_date),
    "orders": (O.dealer_id, O.order_date, O.amount, O.quantity),
    "interactions": (I.dealer_id, I.occurred_at, I.kind, I.direction),
    "service_requests": (S.dealer_id, S.opened_at, S.process, S.via_sales_manager),
    "events": (E.event_id, E.held_on),
    "event_attendance": (A.event_id, A.dealer_id),
}


def _bind(table: str, frame: pd.DataFrame) -> ir.Table:
    frame = frame[[c for c in _COLUMNS[table] if c in frame.columns]].reset_index(drop=True)
    kinds = schema.columns_of(table)
    for column in frame.columns:
        if kinds[column].metadata["kind"] in (schema.TEXT, schema.CODE):
            frame[column] = frame[column].astype("str")  # an all-missing column may arrive as float NaN
    return ibis.memtable(frame)


def dealer_month_panel(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: str | pd.Period,
    con: ibis.BaseBackend | None = None,
) -> pd.DataFrame:
    """validated tables (dealers, orders, optional interactions, service_requests, events,
    event_attendance) → one row per dealer and month up to ``as_of``: the ``schema.Panel`` columns.

    Executes :func:`panel_expr` on ``con`` (a new in-memory DuckDB connection by default).
    For a backtest, compute it once as of the last month and cut it with :func:`panel_as_of`.
    """
    con = con if con is not None else ibis.duckdb.connect()
    with warnings.catch_warnings():
        # ibis 12 reads pandas' deprecated `future.infer_string` option on every column
        warnings.filterwarnings("ignore", message=".*future.infer_string", module="ibis")
        bound = {name: _bind(name, tables[name]) for name in _COLUMNS if name in tables}
        expr = panel_expr(
            bound["dealers"],
            bound["orders"],
            as_of=as_of,
            interactions=bound.get("interactions"),
            service_requests=bound.get("service_requests"),
            events=bound.get("events"),
            event_attendance=bound.get("event_attendance"),
        )
        panel = con.execute(expr)
    panel[P.month] = pd.to_datetime(panel[P.month]).astype("datetime64[ns]")
    for column in (P.dealer_id, P.region, P.tier, P.sales_manager_id):
        panel[column] = panel[column].astype("str")
    panel[P.in_network] = panel[P.in_network].astype(bool)
    for column in _AMOUNTS:
        panel[column] = panel[column].astype("float64")
    for column in (P.months_since_signed, *_COUNTS):
        panel[column] = panel[column].astype("int64")
    return panel[list(schema.Panel.to_schema().columns)].reset_index(drop=True)


def panel_as_of(panel: pd.DataFrame, *, as_of: str | pd.Period) -> pd.DataFrame:
    """panel computed as of a later month → the same panel as of ``as_of``: its rows up to that
    month, of dealers signed by then (see the module docstring for why this is exact)."""
    month = report_month(as_of)
    index = panel[P.month].dt.year * 12 + panel[P.month].dt.month - 1
    as_of_index = month.year * 12 + month.month - 1
    cut = (index <= as_of_index) & (index - panel[P.months_since_signed] <= as_of_index)
    return panel.loc[cut].reset_index(drop=True)
