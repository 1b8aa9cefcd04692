"""Shared by the tests: funnel_tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

T = pd.to_datetime


def _prospects(rows: list[tuple]) -> pd.DataFrame:
    columns = ["prospect_id", "region", "sales_manager_id", "first_contact_date", "stage_reached", "status"]
    frame = pd.DataFrame(rows, columns=[*columns, "closed_date", "dealer_id", "touches", "hours_spent"])
    for column in ("first_contact_date", "closed_date"):
        frame[column] = T(frame[column])
    for column in ("prospect_id", "region", "sales_manager_id", "stage_reached", "status", "dealer_id"):
        frame[column] = frame[column].astype("str")
    frame["touches"] = frame["touches"].astype("Int64")
    frame["hours_spent"] = frame["hours_spent"].astype(float)
    return frame


# K1 established all 2024; K2 signs 2024-06-10 (established July–December); K3 leaves 2024-07-15
# (established January–June). 12 + 6 + 6 = 24 established month ends → 2.0 dealers on average.
RETAINED = pd.DataFrame(
    {
        "dealer_id": ["K1", "K2", "K3"],
        "region": "N",
        "signed_date": T(["2023-05-01", "2024-06-10", "2022-01-01"]),
        "terminated_date": T([None, None, "2024-07-15"]),
    }
)


INTERACTIONS = pd.DataFrame(
    {
        "interaction_id": [f"i{k}" for k in range(1, 9)],
        "dealer_id": ["K1", "K1", "K1", "K2", "K2", "K3", "K1", "K1"],
        "occurred_at": T(
            [
                "2024-03-05 10:00",
                "2024-09-01 09:00",
                "2024-04-01 14:30",
                "2024-06-20 10:00",
                "2024-08-01 08:00",
                "2024-07-01 10:00",
                "2023-12-20 10:00",
                "2025-01-05 10:00",
            ]
        ),
        "kind": ["phone", "visit", "phone", "visit", "phone", "visit", "phone", "phone"],
        "direction": ["outbound", "outbound", "inbound", "outbound", "outbound", "outbound", "outbound", "outbound"],
        "duration_minutes": [30.0, 90.0, 20.0, 60.0, np.nan, 120.0, 15.0, 10.0],
    }
)
