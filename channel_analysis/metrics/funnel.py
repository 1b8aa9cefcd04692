"""The prospect funnel (DOMAIN.md §1): "visit a hundred prospects, maybe not one signs".
How far prospects get, how long signing takes, what effort one signing costs, set against
the effort of keeping an established dealer.

``stage_reached`` carries no date, so the funnel can only be as of ``as_of`` as far as
the dates allow: a prospect first contacted after M is left out, one closed after M is
still open at M, and one signed after M counts as having reached ``negotiating`` (a later
data extract may also show an open prospect further along than it was at M).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from channel_analysis import schema
from channel_analysis.errors import ParameterError
from channel_analysis.metrics._common import optional_column as _col
from channel_analysis.metrics._common import ratio as _ratio
from channel_analysis.months import report_month

R, I, D = schema.Prospects, schema.Interactions, schema.Dealers
STAGE, PERIOD, YEAR_ENDING = "stage", "period", "year_ending"
SIGNED, LOST, OPEN = "signed", "lost", "open"
_FREQS = {"ME": "M", "M": "M", "QE": "Q", "Q": "Q", "YE": "Y", "Y": "Y"}
_BY = (R.region, R.sales_manager_id)


def _keys(by: str | Sequence[str] | None) -> list[str]:
    keys = [by] if isinstance(by, str) else list(by or ())
    if unknown := [k for k in keys if k not in _BY]:
        raise ParameterError(f"by must name columns among {list(_BY)}; got {unknown}")
    return keys


def _as_of(prospects: pd.DataFrame, month: pd.Period) -> pd.DataFrame:
    """prospects → those first contacted by M's end, with status, stage and closed_date as at M."""
    stop = (month + 1).start_time
    frame = prospects[prospects[R.first_contact_date] < stop].copy()
    closed = frame[R.closed_date].notna() & (frame[R.closed_date] < stop)
    frame[R.status] = frame[R.status].where(closed, OPEN)
    frame[R.closed_date] = frame[R.closed_date].where(closed)
    frame[R.stage_reached] = frame[R.stage_reached].where(closed | (frame[R.stage_reached] != SIGNED), "negotiating")
    frame[R.sales_manager_id] = _col(frame, R.sales_manager_id)
    frame["_rank"] = frame[R.stage_reached].map({s: i for i, s in enumerate(schema.STAGES)}).astype("int64")
    return frame


def _closed_in(frame: pd.DataFrame, month: pd.Period, window_months: int | None) -> pd.Series:
    closed = frame[R.status].isin([SIGNED, LOST])
    if window_months is None:
        return closed
    return closed & (frame[R.closed_date] >= (month - window_months + 1).start_time)


def prospect_funnel(
    prospects: pd.DataFrame,
    *,
    as_of: str | pd.Period,
    by: str | Sequence[str] | None = None,
    window_months: int | None = 12,
) -> pd.DataFrame:
    """prospects → one row per stage (× region and/or sales_manager_id): stage, closed,
    step_conversion, overall_conversion, open.

    ``closed``: prospects closed (signed or lost) in the ``window_months`` ending M (None:
    ever) that reached the stage or beyond; contacted ≥ visited ≥ negotiating ≥ signed.
    step_conversion = closed at the stage / closed at the stage before; overall_conversion
    = closed at the stage / closed prospects, so at ``signed`` it is the contract's
    ``prospect_conversion_t12`` (window 12). ``open``: prospects still open at M that have
    reached the stage: the pipeline, not yet a conversion.
    """
    month = report_month(as_of)
    keys = _keys(by)
    frame = _as_of(prospects, month)
    frame = frame.assign(closed=_closed_in(frame, month, window_months), open=frame[R.status] == OPEN)
    reached = frame.loc[frame.index.repeat(frame["_rank"] + 1)]  # one row per stage a prospect reached
    reached = reached.assign(_stage=reached.groupby(level=0).cumcount())
    counts = reached.groupby([*keys, "_stage"], dropna=False)[["closed", "open"]].sum().reset_index()
    groups = frame[keys].drop_duplicates() if keys else pd.DataFrame(index=[0])
    grid = groups.merge(pd.DataFrame({"_stage": range(len(schema.STAGES))}), how="cross")
    out = grid.merge(counts, how="left").fillna({"closed": 0, "open": 0})
    out = out.sort_values([*keys, "_stage"], ignore_index=True)
    out[["closed", "open"]] = out[["closed", "open"]].astype("int64")
    out[STAGE] = np.asarray(schema.STAGES)[out["_stage"]]
    group = out.groupby(keys, dropna=False, sort=False).ngroup() if keys else np.zeros(len(out))
    by_group = out["closed"].groupby(group)
    out["step_conversion"] = _ratio(out["closed"], by_group.shift(1))
    out["overall_conversion"] = _ratio(out["closed"], by_group.transform("first"))
    return out[[*keys, STAGE, "closed", "step_conversion", "overall_conversion", "open"]]


def time_to_signing(
    prospects: pd.DataFrame,
    *,
    as_of: str | pd.Period,
    by: str | Sequence[str] | None = None,
    window_months: int | None = None,
) -> pd.DataFrame:
    """prospects → one row (per region and/or sales_manager_id): signed, days_q1,
    days_median, days_q3, days_mean: days from first contact to signing (closed_date) of
    the prospects signed in the ``window_months`` ending M (None: ever). Quartiles by
    linear interpolation (pandas' default)."""
    month = report_month(as_of)
    keys = _keys(by)
    frame = _as_of(prospects, month)
    frame = frame[_closed_in(frame, month, window_months) & (frame[R.status] == SIGNED)]
    days = (frame[R.closed_date] - frame[R.first_contact_date]).dt.days.astype(float).rename("days")
    columns = ["signed", "days_q1", "days_median", "days_q3", "days_mean"]
    if days.empty:  # nobody signed in the window: one empty row (or none per group)
        empty = pd.DataFrame([[0] + [np.nan] * 4] if not keys else [], columns=columns)
        return empty.assign(**{k: pd.Series(dtype="str") for k in keys})[keys + columns] if keys else empty
    grouped = days.groupby([frame[k] for k in keys], dropna=False) if keys else days.groupby(np.zeros(len(days)))
    out = grouped.agg(signed="size", days_mean="mean")
    out[["days_q1", "days_median", "days_q3"]] = grouped.quantile([0.25, 0.5, 0.75]).unstack().reindex(out.index)
    out = out[columns]
    return out.reset_index() if keys else out.reset_index(drop=True)


def acquisition_effort_per_signing(
    prospects: pd.DataFrame,
    *,
    as_of: str | pd.Period,
    freq: str = "QE",
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """prospects → one row per period of closing (× region and/or sales_manager_id):
    period, closed, signed, touches, hours, prospects_per_signed, touches_per_signed,
    hours_per_signed.

    The effort of a signing includes the prospects that were lost: touches and hours of
    every prospect closed in the period / prospects signed in it. Prospects still open are
    left out (their effort is not finished). Missing touches or hours count as 0, so the
    figures are lower bounds when they are not recorded.
    """
    if freq not in _FREQS:
        raise ParameterError(f"freq must be one of {sorted(_FREQS)}; got {freq!r}")
    month = report_month(as_of)
    keys = _keys(by)
    frame = _as_of(prospects, month)
    frame = frame[_closed_in(frame, month, None)]
    frame = frame.assign(
        **{PERIOD: frame[R.closed_date].dt.to_period(_FREQS[freq])},
        signed=frame[R.status] == SIGNED,
        touches=_col(frame, R.touches).astype("Float64").fillna(0).astype(float),
        hours=_col(frame, R.hours_spent).astype("Float64").fillna(0).astype(float),
    )
    out = frame.groupby([PERIOD, *keys], dropna=False).agg(
        closed=(R.prospect_id, "size"), signed=("signed", "sum"), touches=("touches", "sum"), hours=("hours", "sum")
    )
    out["signed"] = out["signed"].astype("int64")
    for measure in ("closed", "touches", "hours"):
        out[f"{'prospects' if measure == 'closed' else measure}_per_signed"] = _ratio(out[measure], out["signed"])
    return out.reset_index()


def _established_months(dealers: pd.DataFrame, month: pd.Period, months: int) -> pd.DataFrame:
    """dealers → one row per dealer and month of the ``months`` ending M in which it was
    established (in the network at month end, signed before the month began)."""
    gone = _col(dealers, D.terminated_date).astype("datetime64[ns]")
    parts = []
    for k in range(months):
        m = month - k
        day = (m + 1).start_time - pd.Timedelta(days=1)
        inside = (dealers[D.signed_date] < m.start_time) & (gone.isna() | (gone > day))
        parts.append(pd.DataFrame({D.dealer_id: dealers.loc[inside, D.dealer_id], "month": m}))
    return pd.concat(parts, ignore_index=True)


def retention_effort_per_dealer(
    interactions: pd.DataFrame,
    dealers: pd.DataFrame,
    *,
    as_of: str | pd.Period,
    directions: Sequence[str] = ("outbound",),
) -> pd.DataFrame:
    """interactions, dealers → one row: established_dealers (mean over the 12 month ends of
    T12), touches, hours, touches_per_dealer_year, hours_per_dealer_year.

    Touches and hours (duration_minutes / 60; missing counts as 0) are those of interactions
    in T12 with ``directions`` (default outbound: the maker's calls and visits) with a dealer
    established in the interaction's month.
    """
    month = report_month(as_of)
    established = _established_months(dealers, month, 12)
    frame = interactions[interactions[I.direction].isin(list(directions))]
    frame = frame.assign(month=frame[I.occurred_at].dt.to_period("M"))
    frame = frame.merge(established, on=[I.dealer_id, "month"])
    hours = _col(frame, I.duration_minutes).astype("Float64").fillna(0).astype(float).sum() / 60
    mean_dealers = len(established) / 12
    out = pd.DataFrame(
        {"established_dealers": [mean_dealers], "touches": [len(frame)], "hours": [hours]}
    )
    out["touches_per_dealer_year"] = _ratio(out["touches"], out["established_dealers"])
    out["hours_per_dealer_year"] = _ratio(out["hours"], out["established_dealers"])
    return out


def acquisition_vs_retention_effort(
    prospects: pd.DataFrame, interactions: pd.DataFrame, dealers: pd.DataFrame, *, as_of: str | pd.Period
) -> pd.DataFrame:
    """prospects, interactions, dealers → two rows, effort = ``per_dealer_signed`` and
    ``per_retained_dealer_year``: effort, touches, hours, basis (signings, or mean
    established dealers), all over T12. Acquisition: touches and hours of prospects closed in
    T12 / prospects signed in T12; retention: :func:`retention_effort_per_dealer`."""
    month = report_month(as_of)
    frame = _as_of(prospects, month)
    frame = frame[_closed_in(frame, month, 12)]
    signed = int((frame[R.status] == SIGNED).sum())
    touches = float(_col(frame, R.touches).astype("Float64").fillna(0).sum())
    hours = float(_col(frame, R.hours_spent).astype("Float64").fillna(0).sum())
    keep = retention_effort_per_dealer(interactions, dealers, as_of=month).iloc[0]
    return pd.DataFrame(
        {
            "effort": ["per_dealer_signed", "per_retained_dealer_year"],
            "touches": [touches / signed if signed else np.nan, keep["touches_per_dealer_year"]],
            "hours": [hours / signed if signed else np.nan, keep["hours_per_dealer_year"]],
            "basis": [float(signed), keep["established_dealers"]],
        }
    )
