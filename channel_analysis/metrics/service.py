"""service_requests → the order-to-complaint process (DOMAIN.md §2.1): volume, time to close,
time limits met, backlog, complaints, satisfaction and the share that still goes through the
sales manager, per process step or department and month.

Months are half-open: a request is opened (closed) in M when M.start ≤ opened_at (closed_at)
< M.end 24:00. Nothing after M.end is used: a closed_at after M.end means still open at M.end.
The time-limit rule is the contract's ``sla_compliance``: requests whose limit ends in M
(M.start 00:00 ≤ opened_at + limit ≤ M.end 24:00), within when closed_at − opened_at ≤ limit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from channel_analysis import schema
from channel_analysis.config import Settings
from channel_analysis.errors import ChannelAnalysisError
from channel_analysis.metrics._common import NETWORK, SALES_MANAGER
from channel_analysis.months import report_month

S, D = schema.ServiceRequests, schema.Dealers
LOW_SATISFACTION = 2  # scores 1 and 2 count as dissatisfied

LEVEL_COLUMNS = [
    "opened", "closed", "median_hours", "p75_hours", "p90_hours",
    "sla_due", "sla_within", "sla_compliance", "sla_target", "backlog", "complaints",
    "satisfaction_mean", "low_satisfaction_share", "via_sales_manager_share",
]  # fmt: skip


def _flags(requests: pd.DataFrame, period: pd.Period, sla_hours: dict[str, float]) -> pd.DataFrame:
    """service_requests → one row per request opened by M.end: what it counts for in M."""
    start, stop = period.start_time, (period + 1).start_time
    frame = requests[requests[S.opened_at] < stop]
    opened = frame[S.opened_at]
    raw_closed = frame[S.closed_at] if S.closed_at in frame else pd.Series(pd.NaT, index=frame.index)
    closed = raw_closed.where(raw_closed < stop)  # closed after M.end: still open at M.end
    closed_in = (closed >= start).fillna(False).astype(bool)
    limit = pd.to_timedelta(frame[S.process].map(sla_hours).astype(float), unit="h")
    deadline = opened + limit
    due = (deadline >= start) & (deadline <= stop)
    # within ⇒ closed_at ≤ deadline ≤ M.end 24:00, so the raw closed_at needs no cut here
    within = due & raw_closed.notna() & ((raw_closed - opened) <= limit)
    opened_in = opened >= start
    score = frame[S.satisfaction].astype("Float64") if S.satisfaction in frame else pd.Series(np.nan, index=frame.index)
    rated = closed_in & score.notna()  # scores are given on closing: those of requests closed in M
    return pd.DataFrame(
        {
            "opened": opened_in,
            "closed": closed_in,
            "hours": ((closed - opened) / pd.Timedelta(hours=1)).where(closed_in),
            "sla_due": due,
            "sla_within": within,
            "backlog": closed.isna(),
            "complaints": opened_in & (frame[S.process] == "complaint"),
            "satisfaction": score.astype(float).where(rated),
            "low": (score <= LOW_SATISFACTION).astype(float).where(rated),
            "via": frame[S.via_sales_manager].fillna(False).astype(float).where(opened_in),
        },
        index=frame.index,
    )


def _levels(flags: pd.DataFrame, key: pd.Series, settings: Settings) -> pd.DataFrame:
    """per-request flags → one row per value of ``key`` (missing values kept as a group)."""
    grouped = flags.groupby(key, dropna=False, sort=True)
    counts = grouped[["opened", "closed", "sla_due", "sla_within", "backlog", "complaints"]].sum().astype("int64")
    hours = grouped["hours"]
    out = counts.assign(
        median_hours=hours.median(),
        p75_hours=hours.quantile(0.75),
        p90_hours=hours.quantile(0.90),
        satisfaction_mean=grouped["satisfaction"].mean(),
        low_satisfaction_share=grouped["low"].mean(),
        via_sales_manager_share=grouped["via"].mean(),
    )
    out["sla_compliance"] = out["sla_within"] / out["sla_due"].where(out["sla_due"] > 0)
    out["sla_target"] = float(settings.sla_target)
    return out


def service_levels(
    service_requests: pd.DataFrame,
    *,
    as_of: str | pd.Period,
    by: str | None = S.process,
    settings: Settings = Settings(),
) -> pd.DataFrame:
    """service_requests → one row per process step (``by=schema.ServiceRequests.process``, all
    five always listed), department (``…department``; requests without one form a group with
    an empty department) or, with ``by=None``, one row for all: month, <by>, opened and closed in M, median,
    p75 and p90 hours to close (requests closed in M), sla_due, sla_within, sla_compliance,
    sla_target, backlog at M.end, complaints opened in M, mean satisfaction and share of scores
    1–2 (requests closed in M that were scored), share of requests opened in M that came via
    the sales manager. Empty where a share or time has nothing to count.
    """
    if by is not None and by not in service_requests:
        raise ChannelAnalysisError(
            f"service_requests has no '{by}' column, so requests cannot be compared by it: "
            f"add the optional column '{by}' to service_requests, or choose by='{S.process}'"
        )
    period = report_month(as_of)
    flags = _flags(service_requests, period, settings.sla_hours)
    key = service_requests.loc[flags.index, by] if by is not None else pd.Series("", index=flags.index)
    out = _levels(flags, key.rename(by or "_all"), settings)
    if by in (S.process, None):  # every step (or the single total) appears, counts 0 when idle
        out = out.reindex(list(schema.PROCESSES) if by == S.process else [""])
        counts = ["opened", "closed", "sla_due", "sla_within", "backlog", "complaints"]
        out[counts] = out[counts].fillna(0).astype("int64")
        out["sla_target"] = float(settings.sla_target)
    out = out.reset_index().drop(columns="_all", errors="ignore")
    out.insert(0, "month", period.strftime("%Y-%m"))
    return out[["month", *([by] if by is not None else []), *LEVEL_COLUMNS]]


def slowest_departments(
    service_requests: pd.DataFrame, *, as_of: str | pd.Period, settings: Settings = Settings()
) -> pd.DataFrame:
    """service_requests → one row per named department with something to count in M (a request
    opened, closed, due or open at its end), slowest first: the ``service_levels`` columns plus
    ``rank`` (1 = slowest). Ordered by SLA compliance (lowest first; departments with nothing due
    in M last), then median hours to close (longest first), then name."""
    levels = service_levels(service_requests, as_of=as_of, by=S.department, settings=settings)
    active = levels[["opened", "closed", "sla_due", "backlog"]].sum(axis=1) > 0
    levels = levels[levels[S.department].notna() & (levels[S.department] != "") & active]
    levels = levels.sort_values(
        ["sla_compliance", "median_hours", S.department], ascending=[True, False, True], na_position="last"
    )
    return levels.assign(rank=np.arange(1, len(levels) + 1, dtype="int64")).reset_index(drop=True)


def _months(as_of: str | pd.Period, months: int) -> list[pd.Period]:
    period = report_month(as_of)
    return [period - k for k in reversed(range(months))]


def sla_compliance_trend(
    service_requests: pd.DataFrame,
    *,
    as_of: str | pd.Period,
    months: int = 12,
    settings: Settings = Settings(),
) -> pd.DataFrame:
    """service_requests → one row per process step and month (the ``months`` ending with M):
    month, process, sla_hours, sla_due, sla_within, sla_compliance, sla_target, meets_target
    (boolean; empty when nothing was due)."""
    frames = []
    for period in _months(as_of, months):
        levels = service_levels(service_requests, as_of=period, by=S.process, settings=settings)
        frames.append(levels[["month", S.process, "sla_due", "sla_within", "sla_compliance", "sla_target"]])
    out = pd.concat(frames, ignore_index=True)
    out.insert(2, "sla_hours", out[S.process].map(settings.sla_hours).astype(float))
    meets = (out["sla_compliance"] >= out["sla_target"]).astype("boolean")
    out["meets_target"] = meets.mask(out["sla_compliance"].isna())
    order = out[S.process].map({p: k for k, p in enumerate(schema.PROCESSES)})
    return out.assign(_order=order).sort_values(["_order", "month"]).drop(columns="_order").reset_index(drop=True)


def via_sales_manager_trend(
    service_requests: pd.DataFrame,
    dealers: pd.DataFrame | None = None,
    *,
    as_of: str | pd.Period,
    months: int = 12,
) -> pd.DataFrame:
    """service_requests (+ dealers) → one row per month (the ``months`` ending with M) and scope:
    month, scope, scope_id, requests opened, via_sales_manager (of those), via_sales_manager_share.

    Scopes as the contract's ``via_sales_manager_share``: the network, and with ``dealers`` every
    non-empty sales_manager_id among dealers signed by that month's end (a dealer's requests
    count for its own manager; those of a dealer not signed yet, for the network only); the
    share is empty for a manager with no request that month.
    """
    frames = []
    for period in _months(as_of, months):
        start, stop = period.start_time, (period + 1).start_time
        opened = service_requests[(service_requests[S.opened_at] >= start) & (service_requests[S.opened_at] < stop)]
        via = opened[S.via_sales_manager].fillna(False).astype(bool)
        rows = [(NETWORK, "", len(opened), int(via.sum()))]
        if dealers is not None and D.sales_manager_id in dealers:
            signed = dealers[dealers[D.signed_date] < stop]
            managers = signed[D.sales_manager_id].dropna().astype(str)
            owner = opened[S.dealer_id].map(signed.set_index(D.dealer_id)[D.sales_manager_id])
            per = pd.DataFrame({"owner": owner, "via": via}).groupby("owner")["via"].agg(["size", "sum"])
            for manager in sorted(set(managers[managers != ""])):
                n, k = per.loc[manager] if manager in per.index else (0, 0)
                rows.append((SALES_MANAGER, manager, int(n), int(k)))
        frame = pd.DataFrame(rows, columns=["scope", "scope_id", "requests", "via_sales_manager"])
        frame.insert(0, "month", period.strftime("%Y-%m"))
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["via_sales_manager_share"] = out["via_sales_manager"] / out["requests"].where(out["requests"] > 0)
    return out
