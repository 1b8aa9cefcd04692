"""Acquisition vs retention in money (DOMAIN.md §1): what a new dealer costs, what keeping
one costs, what established dealers bring, and which retention activities go with higher
later orders.

Yearly figures use 12-month windows ending with the report month M and stepping back
by 12 months (``year_ending`` M, M−12, …), so every window is complete and the first
one is the contract's T12.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from channel_analysis import schema
from channel_analysis.errors import ParameterError, TooLittleData
from channel_analysis.metrics._common import month_ordinal as _ordinal
from channel_analysis.metrics._common import optional_column as _col
from channel_analysis.metrics._common import ratio as _ratio
from channel_analysis.months import panel_as_of, report_month

X, D, P = schema.Expenses, schema.Dealers, schema.Panel
ACQUISITION, RETENTION = schema.PURPOSES
PERIOD, YEAR_ENDING, SEGMENT = "period", "year_ending", "segment"
# Segments of a dealer-month's revenue. Established is the contract's definition: in the
# network on the month's last day and signed before its first day.
ESTABLISHED, NEW, LEFT = "established", "new", "left"
_FREQS = {"ME": "M", "M": "M", "QE": "Q", "Q": "Q", "YE": "Y", "Y": "Y"}


def _period_freq(freq: str) -> str:
    if freq not in _FREQS:
        raise ParameterError(f"freq must be one of {sorted(_FREQS)}; got {freq!r}")
    return _FREQS[freq]


def _keys(by: str | Sequence[str] | None, allowed: Sequence[str]) -> list[str]:
    keys = [by] if isinstance(by, str) else list(by or ())
    if unknown := [k for k in keys if k not in allowed]:
        raise ParameterError(f"by must name columns among {list(allowed)}; got {unknown}")
    return keys


def _grid(levels: dict[str, list]) -> pd.DataFrame:
    out = pd.MultiIndex.from_product(list(levels.values()), names=list(levels)).to_frame(index=False)
    for column in {X.region, X.category} & set(out):
        out[column] = out[column].astype("str")  # as the tables', even when only missing regions are found
    return out


def _regions(*series: pd.Series) -> list:
    """Sorted regions found, plus a missing region last when some rows have none."""
    values = pd.concat(series)
    return sorted(set(values.dropna())) + ([np.nan] if values.isna().any() else [])


def _categories(frame: pd.DataFrame) -> list[str]:
    return [c for c in schema.EXPENSE_CATEGORIES if c in set(frame[X.category])]


def _year_endings(month: pd.Period, first: pd.Series, years: int | None) -> list[pd.Period]:
    """M, M−12, … back to the window holding the earliest of ``first`` (dates), or ``years`` windows."""
    if years is None:
        earliest = _ordinal(first.dropna()).min() if first.notna().any() else month.ordinal
        years = max(1, (month.ordinal - int(earliest)) // 12 + 1)
    return [month - 12 * k for k in range(years)]


def _year_ending(dates: pd.Series, month: pd.Period) -> pd.Series:
    """dates on or before M's end → the ``year_ending`` month of their 12-month window."""
    ordinals = month.ordinal - 12 * ((month.ordinal - _ordinal(dates)) // 12)
    return pd.Series(pd.PeriodIndex.from_ordinals(ordinals.to_numpy(), freq="M"), index=dates.index)


def _spend(expenses: pd.DataFrame, purpose: str, month: pd.Period) -> pd.DataFrame:
    rows = expenses[(expenses[X.purpose] == purpose) & (expenses[X.spent_on] < (month + 1).start_time)]
    columns = {X.spent_on: rows[X.spent_on], X.region: _col(rows, X.region), X.category: rows[X.category]}
    return pd.DataFrame(columns | {"spend": rows[X.amount]})


def acquisition_cost_per_dealer(
    expenses: pd.DataFrame,
    dealers: pd.DataFrame,
    *,
    as_of: str | pd.Period,
    freq: str = "QE",
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """expenses, dealers → one row per period (× ``by``: region and/or category):
    period, spend, dealers_signed, cac, period_complete.

    CAC = spend with purpose ``acquisition`` in the period / dealers whose signed_date is in
    the period (as the contract's ``cac_t12``). ``freq`` is ``"ME"``, ``"QE"`` or ``"YE"``;
    periods run from the first acquisition spend to the one holding ``as_of``, zero-filled;
    the last is incomplete unless ``as_of`` ends it. By category, every row divides by all
    the period's signings, so the categories' cac add up to the CAC. By region, expenses go
    by their own region and dealers by theirs; spend without a region is a row with an empty
    region and no cac. Spending leads the signings it wins, so one quarter's CAC is noisy.
    """
    month, pf = report_month(as_of), _period_freq(freq)
    keys = _keys(by, (X.region, X.category))
    spend = _spend(expenses, ACQUISITION, month)
    spend[PERIOD] = spend[X.spent_on].dt.to_period(pf)
    signed = dealers[dealers[D.signed_date] < (month + 1).start_time]
    signed = pd.DataFrame({PERIOD: signed[D.signed_date].dt.to_period(pf), D.region: signed[D.region]})
    # Before the first recorded spend, spending is unknown rather than 0: no CAC of 0 for those periods.
    first = spend[PERIOD].min() if len(spend) else month.asfreq(pf)
    levels = {PERIOD: list(pd.period_range(first, month.asfreq(pf), freq=pf))}
    if X.region in keys:
        levels[X.region] = _regions(spend[X.region], signed[D.region])
    if X.category in keys:
        levels[X.category] = _categories(spend)
    sign_keys = [PERIOD] + ([D.region] if X.region in keys else [])
    out = (
        _grid(levels)
        .merge(spend.groupby([PERIOD, *keys], dropna=False)["spend"].sum().reset_index(), how="left")
        .merge(signed.groupby(sign_keys).size().rename("dealers_signed").reset_index(), how="left")
    )
    out["spend"] = out["spend"].fillna(0.0).astype(float)
    out["dealers_signed"] = out["dealers_signed"].fillna(0).astype("int64")
    out["cac"] = _ratio(out["spend"], out["dealers_signed"])
    out["period_complete"] = out[PERIOD].dt.asfreq("M", how="end") <= month
    return out


def _mean_in_network(dealers: pd.DataFrame, year_ending: pd.Period, by_region: bool) -> pd.Series:
    """dealers → mean count in the network over the 12 month ends of the window (per region)."""
    total = pd.Series(0.0, index=pd.Index(sorted(set(dealers[D.region])), name=D.region))
    for k in range(12):
        day = (year_ending - k + 1).start_time - pd.Timedelta(days=1)
        gone = dealers[D.terminated_date] if D.terminated_date in dealers else pd.Series(pd.NaT, index=dealers.index)
        inside = (dealers[D.signed_date] <= day) & (gone.isna() | (gone > day))
        total = total.add(inside.groupby(dealers[D.region]).sum(), fill_value=0)
    mean = total / 12
    return mean if by_region else pd.Series([mean.sum()], index=pd.Index(["_all"], name="_all"))


def retention_cost_per_dealer(
    expenses: pd.DataFrame,
    dealers: pd.DataFrame,
    *,
    as_of: str | pd.Period,
    by: str | Sequence[str] | None = X.category,
    years: int | None = None,
) -> pd.DataFrame:
    """expenses, dealers → one row per 12-month window (× ``by``: category and/or region):
    year_ending, spend, mean_dealers_in_network, cost_per_dealer.

    cost_per_dealer = spend with purpose ``retention`` in the window / the mean number of
    dealers in the network over its 12 month ends: the contract's
    ``retention_cost_per_dealer_t12`` for the window ending M. Categories share one
    denominator, so they add up; spend without a region has no denominator.
    ``years`` windows (default: back to the first retention spend).
    """
    month = report_month(as_of)
    keys = _keys(by, (X.region, X.category))
    spend = _spend(expenses, RETENTION, month)
    endings = _year_endings(month, spend[X.spent_on], years)
    spend[YEAR_ENDING] = _year_ending(spend[X.spent_on], month)
    levels = {YEAR_ENDING: endings}
    if X.region in keys:
        levels[X.region] = _regions(spend[X.region], dealers[D.region])
    if X.category in keys:
        levels[X.category] = _categories(spend)
    out = _grid(levels).merge(
        spend.groupby([YEAR_ENDING, *keys], dropna=False)["spend"].sum().reset_index(), how="left"
    )
    out["spend"] = out["spend"].fillna(0.0).astype(float)
    by_region = X.region in keys
    means = {e: _mean_in_network(dealers, e, by_region) for e in endings}
    out["mean_dealers_in_network"] = [
        means[e].get(r if by_region else "_all", np.nan)
        for e, r in zip(out[YEAR_ENDING], out[X.region] if by_region else [None] * len(out))
    ]
    out["cost_per_dealer"] = _ratio(out["spend"], out["mean_dealers_in_network"])
    return out


def _segment(panel: pd.DataFrame) -> pd.Series:
    established = panel[P.in_network] & (panel[P.months_since_signed] >= 1)
    return pd.Series(
        np.select([established, panel[P.months_since_signed] <= 0], [ESTABLISHED, NEW], LEFT), index=panel.index
    )


def revenue_by_segment(
    panel: pd.DataFrame, *, as_of: str | pd.Period, by: str | None = None, years: int | None = None
) -> pd.DataFrame:
    """panel → one row per 12-month window (× region) and segment: year_ending, segment,
    revenue, dealer_months, revenue_share.

    A dealer-month is ``established`` (in the network at month end, signed before the month
    began: the contract's retained dealer), ``new`` (its signing month, or a first batch
    ordered before signing) or ``left`` (orders or returns in or after the month it left).
    """
    month = report_month(as_of)
    keys = _keys(by, (P.region,))
    rows = panel_as_of(panel, as_of=month)
    endings = _year_endings(month, rows[P.month], years)
    rows = rows.assign(**{YEAR_ENDING: _year_ending(rows[P.month], month), SEGMENT: _segment(rows)})
    levels = {YEAR_ENDING: endings} | ({P.region: sorted(set(rows[P.region]))} if keys else {})
    levels[SEGMENT] = [ESTABLISHED, NEW, LEFT]
    sums = rows.groupby([YEAR_ENDING, *keys, SEGMENT]).agg(
        revenue=(P.revenue, "sum"), dealer_months=(P.dealer_id, "size")
    )
    out = _grid(levels).merge(sums.reset_index(), how="left")
    out["revenue"] = out["revenue"].fillna(0.0).astype(float)
    out["dealer_months"] = out["dealer_months"].fillna(0).astype("int64")
    total = out.groupby([YEAR_ENDING, *keys])["revenue"].transform("sum")
    out["revenue_share"] = _ratio(out["revenue"], total)
    return out


def retention_spend_roi(
    panel: pd.DataFrame,
    expenses: pd.DataFrame,
    *,
    as_of: str | pd.Period,
    by: str | None = None,
    years: int | None = None,
) -> pd.DataFrame:
    """panel, expenses → one row per 12-month window (× region): year_ending,
    retention_spend, established_revenue, revenue_per_retention_spend.

    revenue_per_retention_spend = revenue of established dealer-months in the window (see
    :func:`revenue_by_segment`) / spend with purpose ``retention`` in the window. It is
    revenue per unit of spend, not a return caused by the spend: established dealers would
    bring much of this revenue with no retention spend at all. By region, spend without a
    region counts for no region. ``years`` windows (default: back to the first retention spend).
    """
    month = report_month(as_of)
    keys = _keys(by, (P.region,))
    spend = _spend(expenses, RETENTION, month)
    spend[YEAR_ENDING] = _year_ending(spend[X.spent_on], month)
    years = years or len(_year_endings(month, spend[X.spent_on], None))
    spend = spend.groupby([YEAR_ENDING, *keys])["spend"].sum().rename("retention_spend").reset_index()
    out = revenue_by_segment(panel, as_of=month, by=by, years=years)
    out = out[out[SEGMENT] == ESTABLISHED].rename(columns={"revenue": "established_revenue"})
    out = out.merge(spend, how="left")
    out["retention_spend"] = out["retention_spend"].fillna(0.0).astype(float)
    out["revenue_per_retention_spend"] = _ratio(out["established_revenue"], out["retention_spend"])
    columns = [YEAR_ENDING, *keys, "retention_spend", "established_revenue", "revenue_per_retention_spend"]
    return out[columns].reset_index(drop=True)


# The panel columns the functions of this module read (a report may pass only these).
PANEL_COLUMNS = [P.dealer_id, P.month, P.region, P.tier, P.months_since_signed, P.in_network, P.revenue,
                 P.calls_out, P.visits]  # fmt: skip
_ACTIVITIES = {  # panel column or spend → unit of its coefficient
    P.calls_out: "per outbound call (電話回訪) in the {w} months",
    P.visits: "per on-site visit (上門拜訪) in the {w} months",
    "retention_spend": "per {u:,.0f} of retention spend booked to the dealer in the {w} months",
}
_LIMITS = (
    "Association, not causation: sales managers choose whom to call, visit and spend on — often "
    "dealers already doing well, or ones already in trouble — so a coefficient mixes any effect of "
    "the activity with the reasons it was done. The controls (past revenue, months since signing, "
    "region, tier, period) remove only what they measure. Confidence intervals are 95%, with "
    "standard errors clustered by dealer; exp(coef) − 1 is the relative change in later orders."
)


def _observations(panel, expenses, month: pd.Period, window: int, horizon: int) -> pd.DataFrame:
    """panel (+ expenses) → one row per dealer and ``window``-month activity window: activity
    and revenue in it, revenue of the ``horizon`` months after (``outcome``), controls.
    Windows step back from the one ending M − horizon, so no outcome reaches past M; a dealer
    counts when in the network at the window's end and signed before it began."""
    rows = panel_as_of(panel, as_of=month)
    ordinal = _ordinal(rows[P.month])
    first, last = int(ordinal.min()), month.ordinal
    dealer_ids, months = pd.Index(sorted(set(rows[P.dealer_id]))), range(first, last + 1)

    def monthly(values: pd.Series, dealer: pd.Series, at: pd.Series) -> pd.DataFrame:  # dealers × months
        table = values.groupby([dealer, at]).sum().unstack(fill_value=0)
        return table.reindex(index=dealer_ids, columns=months, fill_value=0).cumsum(axis=1)

    totals = {c: monthly(rows[c].astype(float), rows[P.dealer_id], ordinal) for c in (P.revenue, P.calls_out, P.visits)}
    if expenses is not None and X.dealer_id in expenses:
        spent = _spend(expenses, RETENTION, month).join(expenses[X.dealer_id]).dropna(subset=[X.dealer_id])
        totals["retention_spend"] = monthly(spent["spend"], spent[X.dealer_id], _ordinal(spent[X.spent_on]))
    in_network = rows.assign(_m=ordinal).pivot(index=P.dealer_id, columns="_m", values=P.in_network)
    in_network = in_network.reindex(index=dealer_ids, columns=months).eq(True)
    signed = (ordinal - rows[P.months_since_signed]).groupby(rows[P.dealer_id]).first().reindex(dealer_ids)
    static = rows.groupby(P.dealer_id)[[P.region, P.tier]].last().fillna("unknown")

    def between(table: pd.DataFrame, a: int, b: int) -> pd.Series:  # sum over months a … b
        return table[b] - (table[a - 1] if a > first else 0)

    frames = []
    for end in range(last - horizon, first + window - 2, -window):
        frame = pd.DataFrame({k: between(v, end - window + 1, end) for k, v in totals.items()})
        frame["outcome"] = between(totals[P.revenue], end + 1, end + horizon)
        frame["months_signed"] = end - signed
        frame["anchor"] = str(pd.Period(ordinal=end, freq="M"))
        frames.append(frame[in_network[end] & (frame["months_signed"] >= window)])
    if not frames:
        return pd.DataFrame(columns=[P.dealer_id])
    return pd.concat(frames).rename_axis(P.dealer_id).reset_index().join(static, on=P.dealer_id)


def _without_effects(data: pd.DataFrame, columns: list[str], effects: list[str]) -> tuple[np.ndarray, int]:
    """``columns`` of ``data`` with the intercept and the dummies of ``effects`` partialled out: each
    column minus its least-squares fit on them (rows × columns); and how many parameters that fit
    has (the intercept and the dummies).

    By the Frisch–Waugh–Lovell theorem, regressing the partialled outcome on the partialled
    regressors gives the full regression's coefficients and residuals, hence the same
    cluster-robust covariance of those coefficients, without the dummies in the design: for a
    large network the full design has millions of rows and about a hundred columns (gigabytes),
    while the dummies' own cross-products fit in a small matrix. Rows sharing their levels of every
    effect (a cell) share their fit, so the fit is solved over cells.
    """
    codes = [pd.factorize(data[c], sort=True)[0] for c in effects]
    cell = np.zeros(len(data), dtype=np.int64)
    for k in codes:  # one code per combination of levels
        cell = cell * (int(k.max()) + 1) + k
    _, first, cell = np.unique(cell, return_index=True, return_inverse=True)
    levels = [k[first] for k in codes]  # each cell's level of each effect
    width = 1 + sum(int(k.max()) for k in codes)
    design = np.zeros((len(first), width))  # a cell's row of the dummy design: intercept, then
    design[:, 0] = 1.0  # each effect's levels but the first (the reference)
    start = 1
    for k, level in zip(codes, levels):
        dummy = level > 0
        design[np.flatnonzero(dummy), start + level[dummy] - 1] = 1.0
        start += int(k.max())
    values = data[columns].to_numpy(float)
    count = np.bincount(cell, minlength=len(first)).astype(float)
    sums = np.stack([np.bincount(cell, weights=values[:, j], minlength=len(first)) for j in range(len(columns))], 1)
    fit = np.linalg.lstsq(design.T @ (design * count[:, None]), design.T @ sums, rcond=None)[0]
    return values - (design @ fit)[cell], width


def retention_activity_effect(
    panel: pd.DataFrame,
    expenses: pd.DataFrame | None = None,
    *,
    as_of: str | pd.Period,
    window_months: int = 3,
    horizon_months: int = 3,
    spend_unit: float = 1000.0,
    min_dealers: int = 20,
) -> pd.DataFrame:
    """panel (+ expenses) → one row per retention activity: term, unit, coef, ci_low, ci_high,
    p_value, relative_change, n_obs, n_dealers, outcome, limits.

    OLS of log(1 + revenue of the ``horizon_months`` after a window) on the outbound calls,
    visits and dealer-booked retention spend (per ``spend_unit``) in the ``window_months``
    window, controlling for log(1 + revenue in the window), log(1 + months since signing),
    region, tier and the window (period fixed effects); one observation per dealer in the
    network at the window's end and signed before it began, per non-overlapping window.
    Revenue is net of returns, floored at 0. Standard errors are clustered by dealer. The
    dummies are partialled out rather than estimated: the same estimates, intervals and p-values
    as the regression with them (tested), in a fraction of the memory. An activity that never
    varies (no visits recorded, no spend booked to dealers) is left out.
    Read ``limits``: this is an association, not the effect of the activity.

    Raises TooLittleData when fewer than ``min_dealers`` dealers can be observed, or no activity varies.
    """
    month = report_month(as_of)
    data = _observations(panel, expenses, month, window_months, horizon_months)
    n_dealers = data[P.dealer_id].nunique()
    if n_dealers < max(min_dealers, 2):
        raise TooLittleData(
            f"retention_activity_effect: {n_dealers} dealers can be observed as of {month} (established,"
            f" with {horizon_months} months of later orders); at least {min_dealers} are needed",
            reason="why.too_few_dealers", n=n_dealers, horizon=horizon_months, needed=max(min_dealers, 2),
        )
    data["y"] = np.log1p(data["outcome"].clip(lower=0))
    data["past_log_revenue"] = np.log1p(data[P.revenue].clip(lower=0))
    data["log_months_signed"] = np.log1p(data["months_signed"].astype(float))
    if "retention_spend" in data:
        data["retention_spend"] = data["retention_spend"] / spend_unit
    terms = [t for t in _ACTIVITIES if t in data and data[t].var() > 0]
    if not terms:
        raise TooLittleData("retention_activity_effect: no retention activity varies across dealers",
                            reason="why.no_activity_varies")
    controls = ["past_log_revenue"]
    if data.groupby("anchor")["log_months_signed"].nunique().max() > 1:  # else the period effects hold it
        controls.append("log_months_signed")
    effects = [c for c in (P.region, P.tier, "anchor") if data[c].nunique() > 1]
    from scipy import stats
    from statsmodels.regression.linear_model import OLS  # seconds to load: only this model needs it

    partialled, absorbed = _without_effects(data, ["y", *terms, *controls], effects)
    fit = OLS(partialled[:, 0], partialled[:, 1:]).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(data[P.dealer_id])[0]}
    )
    # statsmodels' small-sample factor (N − 1)/(N − K) counts only the slopes fitted here; the
    # dummy regression's K also counts the intercept and the dummies partialled out
    n, fitted = len(partialled), partialled.shape[1] - 1
    se = np.sqrt(np.diag(fit.cov_params()) * (n - fitted) / (n - fitted - absorbed))[: len(terms)]
    params = fit.params[: len(terms)]  # the terms come first, then the controls
    z = stats.norm.ppf(0.975)  # the normal, as statsmodels uses for cluster-robust OLS
    ci, p_values = np.column_stack([params - z * se, params + z * se]), 2 * stats.norm.sf(np.abs(params) / se)
    return pd.DataFrame(
        {
            "term": terms,
            "unit": [_ACTIVITIES[t].format(w=window_months, u=spend_unit) for t in terms],
            "coef": params,
            "ci_low": ci[:, 0],
            "ci_high": ci[:, 1],
            "p_value": p_values,
            "relative_change": np.expm1(params),
            "n_obs": int(fit.nobs),
            "n_dealers": n_dealers,
            "outcome": f"log(1 + revenue of the {horizon_months} months after the window)",
            "limits": _LIMITS,
        }
    )
