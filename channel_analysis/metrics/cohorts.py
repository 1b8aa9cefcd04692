"""New dealers against established ones (DOMAIN.md §1): how signing cohorts ramp up, when
a new dealer pays back its acquisition cost, what a retained dealer is worth, how long
dealers stay, and what leaving costs.

Months are calendar months: a dealer's age in a month is ``months_since_signed`` of the
panel (0 in its signing month). Only dealers signed on or before the report month count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from channel_analysis import schema
from channel_analysis.errors import ParameterError
from channel_analysis.metrics._common import month_ordinal as _ordinal
from channel_analysis.metrics._common import optional_column as _col
from channel_analysis.months import panel_as_of, report_month

P, D = schema.Panel, schema.Dealers
COHORT, AGE = "cohort", P.months_since_signed

LOST_MONTHS = 12  # T12: M−11 … M


# The panel columns the functions of this module read (a report may pass only these).
PANEL_COLUMNS = [P.dealer_id, P.month, P.region, P.months_since_signed, P.in_network, P.revenue]


def _cohort(signed_ordinal: pd.Series, freq: str) -> pd.Series:
    months = pd.PeriodIndex.from_ordinals(signed_ordinal.to_numpy(dtype="int64"), freq="M")
    return pd.Series(months.asfreq(freq), index=signed_ordinal.index)


def _dealer_ages(panel: pd.DataFrame, month: pd.Period, cohort_freq: str) -> pd.DataFrame:
    """panel → one row per dealer signed by M and age 0 … its age at M: cohort, revenue
    (zero where nothing happened; orders before signing count at age 0)."""
    rows = panel_as_of(panel, as_of=month)
    signed = (_ordinal(rows[P.month]) - rows[P.months_since_signed]).groupby(rows[P.dealer_id]).first()
    signed = signed[signed <= month.ordinal]
    if signed.empty:
        return pd.DataFrame(columns=[P.dealer_id, AGE, P.revenue, COHORT])
    ages = month.ordinal - signed + 1
    grid = pd.MultiIndex.from_arrays(
        [np.repeat(signed.index, ages), np.concatenate([np.arange(n) for n in ages])],
        names=[P.dealer_id, AGE],
    )
    revenue = rows[P.revenue].groupby([rows[P.dealer_id], rows[P.months_since_signed].clip(lower=0)]).sum()
    out = revenue.rename_axis([P.dealer_id, AGE]).reindex(grid, fill_value=0.0).reset_index()
    out[COHORT] = out[P.dealer_id].map(_cohort(signed, cohort_freq))
    return out


def cohort_ramp_up(
    panel: pd.DataFrame, *, as_of: str | pd.Period, cohort_freq: str = "Q", max_months: int | None = None
) -> pd.DataFrame:
    """panel → one row per signing cohort and months since signing: cohort, months_since_signed,
    cohort_dealers, dealers, revenue, mean, q1, median, q3 (of revenue across dealers).

    Every dealer of the cohort whose age is reached by ``as_of`` counts, those that left
    with 0, so the curve is what a signed dealer brought, churn included; ``dealers`` <
    ``cohort_dealers`` marks ages not yet reached by the whole cohort. Orders before signing
    count at age 0, so the curves add up to the panel's revenue of dealers signed by ``as_of``.
    ``cohort_freq``: ``"M"``, ``"Q"`` or ``"Y"``.
    """
    ages = _dealer_ages(panel, report_month(as_of), cohort_freq)
    if max_months is not None:
        ages = ages[ages[AGE] <= max_months]
    if ages.empty:
        return pd.DataFrame(columns=[COHORT, AGE, "cohort_dealers", "dealers", "revenue", "mean", "q1", "median", "q3"])
    groups = ages.groupby([COHORT, AGE])[P.revenue]
    out = groups.agg(dealers="size", revenue="sum", mean="mean")
    quartiles = groups.quantile([0.25, 0.5, 0.75]).unstack()
    out[["q1", "median", "q3"]] = quartiles.to_numpy()
    out.insert(0, "cohort_dealers", ages.groupby(COHORT)[P.dealer_id].nunique().reindex(out.index, level=COHORT))
    return out.reset_index()


def payback_month(
    panel: pd.DataFrame,
    cac: float | pd.Series,
    *,
    as_of: str | pd.Period,
    gross_margin: float = 0.25,
    cohort_freq: str = "Q",
) -> pd.DataFrame:
    """panel, CAC → one row per signing cohort: cohort, dealers, cac, gross_margin,
    months_observed, payback_month, dealers_paid_back_share.

    payback_month: the first month since signing at which the cohort's mean cumulative gross
    margin (``gross_margin`` × revenue) reaches the CAC, over the months every dealer of the
    cohort has reached (``months_observed`` + 1 months from age 0); empty if not yet.
    dealers_paid_back_share: dealers whose own cumulative margin has reached the CAC by
    ``as_of``. ``cac`` is one amount or a Series by cohort (e.g. ``period`` → ``cac`` of
    :func:`~channel_analysis.metrics.costs.acquisition_cost_per_dealer` at the same frequency).
    """
    ages = _dealer_ages(panel, report_month(as_of), cohort_freq)
    ages["margin"] = gross_margin * ages.groupby(P.dealer_id)[P.revenue].cumsum()
    rows = []
    for cohort, frame in ages.groupby(COHORT):
        cost = float(cac.get(cohort, np.nan)) if isinstance(cac, pd.Series) else float(cac)
        observed = int(frame.groupby(P.dealer_id)[AGE].max().min())
        curve = frame[frame[AGE] <= observed].groupby(AGE)["margin"].mean()
        reached = curve.index[curve >= cost]
        best = frame.groupby(P.dealer_id)["margin"].max()
        rows.append(
            {
                COHORT: cohort,
                "dealers": len(best),
                "cac": cost,
                "gross_margin": gross_margin,
                "months_observed": observed,
                "payback_month": float(reached[0]) if len(reached) else np.nan,
                "dealers_paid_back_share": float((best >= cost).mean()) if np.isfinite(cost) else np.nan,
            }
        )
    columns = [COHORT, "dealers", "cac", "gross_margin", "months_observed", "payback_month", "dealers_paid_back_share"]
    return pd.DataFrame(rows, columns=columns)


def retained_dealer_value(
    panel: pd.DataFrame,
    *,
    as_of: str | pd.Period,
    horizon_months: int = 36,
    annual_discount_rate: float = 0.10,
    gross_margin: float = 0.25,
    lookback_months: int = 12,
    include_churn: bool = True,
    by: str | None = None,
) -> pd.DataFrame:
    """panel → one row (per region with ``by="region"``): established_dealers,
    monthly_revenue_per_dealer, monthly_churn, value, and every assumption echoed.

    value = Σ_{k=1…horizon} gross_margin × r × (1 − h)^k × (1 + annual_discount_rate)^(−k/12):
    the discounted gross margin of keeping one established dealer, where r is the revenue
    per established dealer-month (in the network at month end, signed before the month)
    over the ``lookback_months`` ending M, and h the monthly churn: leavers among dealers
    established the month before / (established dealer-months + leavers) over the same
    months (0 with ``include_churn=False``). Compare with :func:`payback_month` over the
    same horizon: a new dealer must first earn back its CAC.
    """
    if by not in (None, P.region):
        raise ParameterError(f"by must be None or {P.region!r}; got {by!r}")
    month = report_month(as_of)
    rows = panel_as_of(panel, as_of=month).sort_values([P.dealer_id, P.month])
    was_established = rows.groupby(P.dealer_id)[P.in_network].shift(1, fill_value=False) & (
        rows[P.months_since_signed] >= 2
    )
    recent = _ordinal(rows[P.month]) > month.ordinal - lookback_months
    rows = rows.assign(
        established=recent & rows[P.in_network] & (rows[P.months_since_signed] >= 1),
        left=recent & ~rows[P.in_network] & was_established,
        _all="network",
    )
    key = by or "_all"
    est = rows[rows["established"]]
    out = pd.DataFrame(
        {
            "established_dealers": est.groupby(key)[P.dealer_id].nunique(),
            "monthly_revenue_per_dealer": est.groupby(key)[P.revenue].mean(),
            "_months": est.groupby(key).size(),
            "_left": rows.groupby(key)["left"].sum(),
        }
    ).fillna(0)
    churn = out["_left"] / (out["_months"] + out["_left"]).where(lambda n: n > 0)
    out["monthly_churn"] = churn if include_churn else 0.0
    k = np.arange(1, horizon_months + 1)
    weights = [
        float(((1 - h) ** k * (1 + annual_discount_rate) ** (-k / 12)).sum()) for h in out["monthly_churn"]
    ]
    out["value"] = gross_margin * out["monthly_revenue_per_dealer"] * weights
    out = out.drop(columns=["_months", "_left"]).assign(
        gross_margin=gross_margin,
        annual_discount_rate=annual_discount_rate,
        horizon_months=horizon_months,
        lookback_months=lookback_months,
    )
    return out.reset_index(names=by) if by else out.reset_index(drop=True)


def survival_by_cohort(dealers: pd.DataFrame, *, as_of: str | pd.Period, cohort_freq: str | None = "Y") -> pd.DataFrame:
    """dealers → one row per signing cohort and month since signing: cohort, months,
    at_risk, lost, survival, ci_low, ci_high (Kaplan–Meier, statsmodels ``SurvfuncRight``).
    ``cohort_freq=None``: every dealer in one cohort, ``"all"`` (a small network's one curve).

    Duration: calendar months from the signing month to the month of terminated_date; a
    dealer still in the network at ``as_of`` (terminated_date empty or later) is censored
    at its age in M. survival(t) is the share still in the network t months after signing.
    95% pointwise intervals on the log(−log) scale.
    """
    month = report_month(as_of)
    frame = dealers[_ordinal(dealers[D.signed_date]) <= month.ordinal]
    signed = _ordinal(frame[D.signed_date])
    gone = _ordinal(_col(frame, D.terminated_date).astype("datetime64[ns]"))
    lost = gone.notna() & (gone <= month.ordinal)
    duration = (gone.where(lost, month.ordinal) - signed).astype("int64")
    from statsmodels.duration.survfunc import SurvfuncRight  # loaded only when survival is asked for

    z, parts = stats.norm.ppf(0.975), []
    groups = _cohort(signed, cohort_freq) if cohort_freq is not None else pd.Series("all", index=signed.index)
    for cohort, index in frame.groupby(groups).groups.items():
        time, event = duration[index].to_numpy(), lost[index].to_numpy()
        months = np.arange(time.max() + 1)
        fit = SurvfuncRight(time.astype(float), event.astype(int))
        at = np.searchsorted(fit.surv_times, months, side="right")  # events up to t; 0 before the first
        survival = np.concatenate([[1.0], fit.surv_prob])[at]
        se = np.concatenate([[0.0], fit.surv_prob_se])[at]
        with np.errstate(divide="ignore", invalid="ignore"):
            spread = z * se / np.abs(survival * np.log(survival))
            low, high = survival ** np.exp(spread), survival ** np.exp(-spread)
        inside = (survival > 0) & (survival < 1)
        parts.append(
            pd.DataFrame(
                {
                    COHORT: cohort,
                    "months": months,
                    "at_risk": [(time >= t).sum() for t in months],
                    "lost": [(event & (time == t)).sum() for t in months],
                    "survival": survival.astype(float),
                    "ci_low": np.where(inside, low, survival),
                    "ci_high": np.where(inside, high, survival),
                }
            )
        )
    columns = [COHORT, "months", "at_risk", "lost", "survival", "ci_low", "ci_high"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def revenue_lost_to_churn(panel: pd.DataFrame, dealers: pd.DataFrame, *, as_of: str | pd.Period) -> pd.DataFrame:
    """panel, dealers → one row per dealer that left in T12: dealer_id, region,
    sales_manager_id, signed_date, terminated_date, revenue_t12_before_leaving (the 12
    calendar months ending with the month it left), largest first. Their sum is the yearly
    revenue the network lost to churn, if nobody replaced it."""
    month = report_month(as_of)
    gone = _ordinal(_col(dealers, D.terminated_date).astype("datetime64[ns]"))
    lost = dealers[gone.between(month.ordinal - 11, month.ordinal)]
    columns = (D.dealer_id, D.region, D.sales_manager_id, D.signed_date, D.terminated_date)
    # typed as dates even when the optional column is absent (then nobody has left)
    out = pd.DataFrame({c: _col(lost, c) for c in columns}).astype({D.terminated_date: "datetime64[ns]"})
    rows = panel_as_of(panel, as_of=month).merge(out[[D.dealer_id, D.terminated_date]], on=P.dealer_id)
    left = _ordinal(rows[D.terminated_date])
    window = _ordinal(rows[P.month]).between(left - 11, left)
    revenue = rows[window].groupby(P.dealer_id)[P.revenue].sum()
    out["revenue_t12_before_leaving"] = out[D.dealer_id].map(revenue).fillna(0.0).astype(float)
    return out.sort_values("revenue_t12_before_leaving", ascending=False, ignore_index=True)
