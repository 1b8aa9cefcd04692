"""Shared by the tests: kpi_tables."""

from __future__ import annotations

import pandas as pd

from helpers.tables import frame

M = "2026-10"


BASE_DEALERS = [
    ("D1", "North", "S1", "2024-01-15", None),
    ("D2", "North", "S2", "2025-03-01", None),
    ("D3", "South", "S1", "2026-10-05", None),
    ("D4", "South", "S4", "2023-06-01", "2026-09-20"),
    ("D5", "South", None, "2025-12-01", "2026-11-15"),
    ("D6", "East", "S3", "2026-11-10", None),
]


def base(**extra: pd.DataFrame) -> dict[str, pd.DataFrame]:
    tables = {
        "dealers": frame("dealers", "dealer_id region sales_manager_id signed_date terminated_date", BASE_DEALERS),
        "orders": frame("orders", "dealer_id order_date amount", []),
    }
    return tables | extra


def orders(*rows: tuple) -> pd.DataFrame:
    return frame("orders", "dealer_id order_date amount", list(rows))


REVENUE_ORDERS = orders(
    ("D1", "2026-10-03", 100.0),
    ("D1", "2026-10-20", -30.0),  # a return counts, negative
    ("D2", "2026-10-15", 50.0),
    ("D3", "2026-10-06", 40.0),
    ("D4", "2026-10-02", 10.0),  # after D4 left: counts by order_date whatever the status
    ("D1", "2026-11-02", 999.0),  # M+1: not seen as of M
    ("D2", "2026-03-10", 200.0),  # in T12 only
    ("D1", "2025-10-31", 77.0),  # the day before T12 starts
)


EXPENSES = frame(
    "expenses",
    "spent_on amount purpose category region",
    [
        ("2026-02-01", 1000.0, "acquisition", "advertising", "North"),
        ("2026-10-31", 500.0, "acquisition", "travel", "South"),
        ("2025-10-31", 9999.0, "acquisition", "travel", "North"),  # before T12
        ("2026-11-01", 8888.0, "acquisition", "travel", "North"),  # after M
        ("2026-05-01", 300.0, "acquisition", "setup", None),  # no region: network only
        ("2026-04-01", 240.0, "retention", "support", "North"),
        ("2026-06-01", 120.0, "retention", "events", None),
        ("2026-07-01", 60.0, "retention", "travel", "East"),  # a region no dealer of M has: network only
    ],
)


def interactions(*rows: tuple) -> pd.DataFrame:
    return frame("interactions", "dealer_id occurred_at kind direction", list(rows))


def requests(*rows: tuple) -> pd.DataFrame:
    return frame("service_requests", "dealer_id process opened_at closed_at via_sales_manager", list(rows))


SLA_REQUESTS = requests(
    ("D1", "order", "2026-10-10 08:00", "2026-10-10 20:00", False),  # 12 h of 24: within
    ("D1", "payment", "2026-10-20 00:00", "2026-10-23 00:00", False),  # 72 h of 48: late
    ("D2", "complaint", "2026-10-29 00:00", None, False),  # limit ends Nov 1 00:00 = M.end 24:00; open: late
    ("D2", "order", "2026-09-30 12:00", "2026-10-01 12:00", False),  # limit ends Oct 1 12:00; exactly 24 h: within
    ("D2", "logistics", "2026-10-30 00:00", None, False),  # limit ends Nov 2: not this month
    ("D1", "order", "2026-09-29 00:00", "2026-09-29 01:00", False),  # limit ends Sep 30: not this month
)


EVENTS = frame(
    "events",
    "event_id held_on kind cost",
    [
        ("V1", "2026-03-01", "conference", 1000.0),
        ("V2", "2025-10-15", "forum", 500.0),  # before T12
        ("V3", "2026-10-31", "training", 200.0),
        ("V4", "2026-11-05", "social", 700.0),  # after M
    ],
)


ATTENDANCE = frame(
    "event_attendance",
    "event_id dealer_id",
    [("V1", "D1"), ("V1", "D2"), ("V1", "D5"), ("V2", "D1"), ("V3", "D1"), ("V4", "D2")],
)


CALLS = interactions(
    ("D1", "2026-10-10 09:00", "phone", "outbound"),
    ("D2", "2026-10-12 09:00", "phone", "inbound"),
    ("D1", "2026-09-01 09:00", "visit", "outbound"),
    ("D5", "2026-10-31 23:30", "phone", "outbound"),
)


FIRST_ORDERS = orders(
    ("D1", "2026-01-10", 100.0), ("D1", "2026-02-01", -20.0), ("D5", "2026-05-04", 100.0), ("D5", "2026-11-05", 100.0)
)


PROSPECTS = frame(
    "prospects",
    "prospect_id region first_contact_date stage_reached status closed_date dealer_id",
    [
        ("P1", "North", "2026-01-01", "signed", "signed", "2026-03-01", "D2"),
        ("P2", "North", "2026-01-01", "visited", "lost", "2026-06-01", None),
        ("P5", "South", "2026-01-01", "contacted", "open", None, None),
    ],
)


HAND_MADE = {
    "base": base(),
    "revenue": base(orders=REVENUE_ORDERS),
    "first_orders": base(orders=FIRST_ORDERS),
    "costs": base(orders=REVENUE_ORDERS, expenses=EXPENSES),
    "coverage": base(interactions=CALLS),
    "service": base(service_requests=SLA_REQUESTS),
    "events": base(events=EVENTS, event_attendance=ATTENDANCE),
    "funnel": base(prospects=PROSPECTS),
    "everything": base(
        orders=REVENUE_ORDERS,
        expenses=EXPENSES,
        interactions=CALLS,
        service_requests=SLA_REQUESTS,
        events=EVENTS,
        event_attendance=ATTENDANCE,
        prospects=PROSPECTS,
    ),
}
