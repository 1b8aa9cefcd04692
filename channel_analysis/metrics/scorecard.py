"""Validated tables → the sales-manager scorecard (DOMAIN.md §2.2): each manager against the
article's three maintenance rules, the dealers that break them, the trend and a ranking.

The rules' figures are the contract's KPIs for scope ``sales_manager``, taken from
:func:`~channel_analysis.metrics.kpis.monthly_kpis`, so the scorecard and ``kpis.csv``
never disagree. A dealer belongs to the sales manager named in ``dealers`` (its current
owner), whoever made the call or visit.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from channel_analysis import schema
from channel_analysis.config import Settings
from channel_analysis.metrics._common import SALES_MANAGER
from channel_analysis.metrics.kpis import monthly_kpis
from channel_analysis.months import report_month

D, O, I, SM = schema.Dealers, schema.Orders, schema.Interactions, schema.SalesManagers

# rule (what a dealer breaks) -> the contract KPI that measures it, in the article's order
RULES: dict[str, str] = {
    "no_callback": "callback_coverage",
    "no_visit_2m": "visit_coverage_2m",
    "first_order_only": "first_order_only_share",
}
_MET = {"no_callback": "callback_met", "no_visit_2m": "visit_met", "first_order_only": "first_order_only_met"}
_BREAKERS = {
    "no_callback": "callback_breakers",
    "no_visit_2m": "visit_breakers",
    "first_order_only": "first_order_only_dealers",
}

SCORECARD_COLUMNS = [
    "month", D.sales_manager_id, SM.name, SM.region, "dealers_in_network",
    *RULES.values(), *_MET.values(), *_BREAKERS.values(),
    "rules_met", "rules_checked", "compliance", "revenue", "revenue_t12", "rank",
]  # fmt: skip
BREAKER_COLUMNS = [
    "month", D.sales_manager_id, D.dealer_id, D.dealer_name, D.region, "rule", "metric",
    "last_call_date", "days_since_last_call", "last_visit_date", "days_since_last_visit", "first_order_date",
]  # fmt: skip
TREND_COLUMNS = ["month", D.sales_manager_id, "metric", "value", "target", "meets_target"]


def _kpis_for(kpis: pd.DataFrame, label: str, metrics: list[str], column: str = "value") -> pd.DataFrame:
    """kpis rows → one row per sales manager of month ``label``, one column per metric."""
    rows = kpis[(kpis["month"] == label) & (kpis["scope"] == SALES_MANAGER) & kpis["metric"].isin(metrics)]
    wide = rows.pivot(index="scope_id", columns="metric", values=column).reindex(columns=metrics)
    wide.index.name, wide.columns.name = D.sales_manager_id, None
    return wide


def _met(meets_target: pd.Series) -> pd.Series:
    """kpis.csv's "true" / "false" / "" → boolean, empty where the KPI is."""
    return meets_target.map({"true": True, "false": False}).astype("boolean")


def _per_dealer(ids: pd.Series, by_dealer: pd.Series) -> pd.Series:
    """a value per dealer_id (e.g. a groupby result) → aligned to ``ids``; missing where absent."""
    return pd.Series(by_dealer.reindex(ids.to_numpy()).to_numpy(), index=ids.index)


def _manager_names(tables: Mapping[str, pd.DataFrame], managers: pd.Index, end_day: pd.Timestamp) -> pd.DataFrame:
    """name and region of each manager: from ``sales_managers`` where given, else (region only)
    the region most of the manager's dealers are in (ties: alphabetical)."""
    out = pd.DataFrame({SM.name: pd.Series(pd.NA, index=managers, dtype="str"), SM.region: pd.NA}, index=managers)
    if "sales_managers" in tables:
        known = tables["sales_managers"].drop_duplicates(SM.sales_manager_id).set_index(SM.sales_manager_id)
        out[SM.name] = known[SM.name].reindex(managers)
        if SM.region in known:
            out[SM.region] = known[SM.region].reindex(managers)
    dealers = tables["dealers"]
    if D.sales_manager_id in dealers:
        dealers = dealers[dealers[D.signed_date] <= end_day]
        counts = dealers.groupby([D.sales_manager_id, D.region]).size().rename("n").reset_index()
        counts = counts.sort_values([D.sales_manager_id, "n", D.region], ascending=[True, False, True])
        usual = counts.drop_duplicates(D.sales_manager_id).set_index(D.sales_manager_id)[D.region]
        out[SM.region] = out[SM.region].fillna(usual.reindex(managers))
    return out.astype("str")


def rule_breakers(
    tables: Mapping[str, pd.DataFrame], *, as_of: str | pd.Period, settings: Settings = Settings()
) -> pd.DataFrame:
    """dealers, orders, interactions → one row per (sales manager, dealer, rule) that the dealer
    breaks in M, with the dates of its last follow-up call, last visit and first order.

    Rules, exactly as the contract's KPIs count them: ``no_callback`` (an established dealer
    without an outbound phone call in M), ``no_visit_2m`` (a dealer in the network on M.end,
    signed before M−1, without a visit from M−1's first day to M.end), ``first_order_only``
    (first positive order at least ``first_order_only_age_days`` before M.end, none on a later
    day). Without ``interactions`` the first two cannot be checked and give no rows. Dealers
    with no sales manager are listed with an empty ``sales_manager_id``: nobody answers for them.
    ``days_since_*`` count whole days to M.end (empty: never).
    """
    period = report_month(as_of)
    start, stop = period.start_time, (period + 1).start_time
    end_day = stop - pd.Timedelta(days=1)
    dealers = tables["dealers"].reset_index(drop=True)
    ids = dealers[D.dealer_id]
    signed = dealers[D.signed_date].dt.normalize()
    terminated = (
        dealers[D.terminated_date].dt.normalize()
        if D.terminated_date in dealers
        else pd.Series(pd.NaT, index=dealers.index, dtype="datetime64[ns]")
    )
    in_network = (signed <= end_day) & (terminated.isna() | (terminated > end_day))

    # masks over the few columns used, never copies of whole tables (tens of millions of rows)
    orders = tables["orders"]
    ordered = orders[O.order_date]
    positive = (orders[O.amount] > 0) & (ordered < stop)
    # days of the first and the last positive order (the day of the first time = the first day)
    times = ordered.where(positive).groupby(orders[O.dealer_id]).agg(["min", "max"])
    first = _per_dealer(ids, times["min"]).astype("datetime64[ns]").dt.normalize()
    last = _per_dealer(ids, times["max"]).astype("datetime64[ns]").dt.normalize()
    age = pd.Timedelta(days=settings.first_order_only_age_days)
    breaks = {"first_order_only": in_network & (first <= end_day - age) & (last == first)}

    last_call = last_visit = pd.Series(pd.NaT, index=dealers.index, dtype="datetime64[ns]")
    if "interactions" in tables:
        seen = tables["interactions"]
        occurred = seen[I.occurred_at]
        before = occurred < stop
        call = before & (seen[I.kind] == "phone") & (seen[I.direction] == "outbound")
        visit = before & (seen[I.kind] == "visit")
        by_dealer = seen[I.dealer_id]
        last_call = _per_dealer(ids, occurred.where(call).groupby(by_dealer).max()).astype("datetime64[ns]")
        last_visit = _per_dealer(ids, occurred.where(visit).groupby(by_dealer).max()).astype("datetime64[ns]")
        two_months = (period - 1).start_time
        breaks["no_callback"] = in_network & (signed < start) & ~(last_call >= start)
        breaks["no_visit_2m"] = in_network & (signed < two_months) & ~(last_visit >= two_months)

    facts = pd.DataFrame(
        {
            D.sales_manager_id: dealers[D.sales_manager_id] if D.sales_manager_id in dealers else pd.NA,
            D.dealer_id: ids,
            D.dealer_name: dealers[D.dealer_name] if D.dealer_name in dealers else pd.NA,
            D.region: dealers[D.region],
            "last_call_date": last_call,
            "days_since_last_call": (end_day - last_call.dt.normalize()).dt.days.astype("Int64"),
            "last_visit_date": last_visit,
            "days_since_last_visit": (end_day - last_visit.dt.normalize()).dt.days.astype("Int64"),
            "first_order_date": first,
        }
    )
    parts = [facts[mask].assign(rule=rule, metric=RULES[rule]) for rule, mask in breaks.items()]
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "month", period.strftime("%Y-%m"))
    out[D.sales_manager_id] = out[D.sales_manager_id].astype("str")
    order = out["rule"].map({rule: k for k, rule in enumerate(RULES)})
    out = out.assign(_order=order).sort_values([D.sales_manager_id, "_order", D.dealer_id], na_position="last")
    return out[BREAKER_COLUMNS].reset_index(drop=True)


def sales_manager_scorecard(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: str | pd.Period,
    settings: Settings = Settings(),
    kpis: pd.DataFrame | None = None,
    breakers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """validated tables → one row per sales manager in M: name, region, dealers in the network,
    the three rule KPIs, whether each is met, how many dealers break each, revenue and a rank.

    Managers are the contract's ``sales_manager`` scope (every manager of a dealer signed by
    M.end). A rule with no dealer to check (an empty KPI) is neither met nor broken, and not
    among ``rules_checked`` (3 at most; 1 without interactions, where calls and visits have none).
    ``compliance`` is the mean, over the rules that apply, of the share of the manager's dealers
    that keep the rule (callback_coverage, visit_coverage_2m, 1 − first_order_only_share).
    ``rank`` (1 = best, a permutation of 1..n): most rules met, then higher compliance (empty
    last), then higher revenue_t12 (one crane order makes a single month's revenue noisy),
    then sales_manager_id. ``kpis`` is ``monthly_kpis`` and ``breakers`` is ``rule_breakers``
    for this month, if already computed.
    """
    period = report_month(as_of)
    label = period.strftime("%Y-%m")

    kpis = monthly_kpis(tables, as_of=period, settings=settings) if kpis is None else kpis
    wide = _kpis_for(kpis, label, ["dealers_in_network", *RULES.values(), "revenue", "revenue_t12"]).astype(float)
    out = wide.join(_manager_names(tables, wide.index, (period + 1).start_time - pd.Timedelta(days=1)))
    meets = _kpis_for(kpis, label, list(RULES.values()), column="meets_target").reindex(out.index)
    for rule, metric in RULES.items():
        out[_MET[rule]] = _met(meets[metric])
    breakers = rule_breakers(tables, as_of=period, settings=settings) if breakers is None else breakers
    counts = breakers.groupby([D.sales_manager_id, "rule"]).size().unstack("rule")
    for rule, column in _BREAKERS.items():
        n = counts[rule].reindex(out.index) if rule in counts else pd.Series(np.nan, index=out.index)
        out[column] = n.fillna(0).astype("Int64").mask(out[RULES[rule]].isna())

    out["rules_met"] = out[list(_MET.values())].fillna(False).sum(axis=1).astype("int64")
    out["rules_checked"] = out[list(RULES.values())].notna().sum(axis=1).astype("int64")
    kept = pd.concat(
        [out["callback_coverage"], out["visit_coverage_2m"], 1 - out["first_order_only_share"]], axis=1
    )
    out["compliance"] = kept.mean(axis=1, skipna=True)
    out = out.reset_index().sort_values(
        ["rules_met", "compliance", "revenue_t12", D.sales_manager_id],
        ascending=[False, False, False, True],
        na_position="last",
    )
    out["rank"] = np.arange(1, len(out) + 1, dtype="int64")
    out.insert(0, "month", label)
    out["dealers_in_network"] = out["dealers_in_network"].astype("int64")
    return out[SCORECARD_COLUMNS].reset_index(drop=True)


def scorecard_trend(
    tables: Mapping[str, pd.DataFrame],
    *,
    as_of: str | pd.Period,
    months: int = 12,
    settings: Settings = Settings(),
) -> pd.DataFrame:
    """validated tables → one row per sales manager, month (the ``months`` ending with M) and
    rule KPI: month, sales_manager_id, metric, value, target, meets_target (boolean, empty
    where the value is); exactly ``monthly_kpis`` of each month, sales_manager scope."""
    period = report_month(as_of)

    frames = [monthly_kpis(tables, as_of=period - k, settings=settings) for k in reversed(range(months))]
    kpis = pd.concat(frames, ignore_index=True)
    rows = kpis[(kpis["scope"] == SALES_MANAGER) & kpis["metric"].isin(list(RULES.values()))]
    rows = rows.rename(columns={"scope_id": D.sales_manager_id})
    meets = _met(rows["meets_target"])
    order = rows["metric"].map({metric: k for k, metric in enumerate(RULES.values())})
    rows = rows.assign(meets_target=meets, _order=order).sort_values([D.sales_manager_id, "_order", "month"])
    return rows[TREND_COLUMNS].reset_index(drop=True)
