"""events, event_attendance (+ the dealer × month panel) → what dealer events cost per attendee,
and how attendees' later orders and retention compare with similar dealers who stayed away
(DOMAIN.md §2.4): an estimate with its uncertainty, not a raw difference."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from channel_analysis import schema
from channel_analysis.months import report_month

E, A, P = schema.Events, schema.EventAttendance, schema.Panel

COST_COLUMNS = [E.event_id, E.held_on, E.kind, E.name, E.region, E.cost, "attendees", "cost_per_attendee"]
EFFECT_COLUMNS = [
    "outcome", "estimate", "ci_low", "ci_high", "p_value", "n_treated", "n_controls",
    "n_treated_dealers", "n_control_dealers", "n_events", "treated_pre_mean", "control_pre_mean", "limits",
]  # fmt: skip
OUTCOMES = {
    "monthly_revenue": "mean monthly revenue over the window",
    "active": "in the network at the window's end and ordering in it (share of dealers)",
}
_LIMITS = (
    "Attendance is self-selected: healthier, more engaged dealers are the ones who come. This compares "
    "the change from the {w} months before each event to the {w} months after it between attendees and "
    "non-attendees of the same region and tier who were in the network at the event, so it is an "
    "association adjusted for pre-event differences, not proof that the events caused it; it assumes "
    "both groups would have moved alike without the event."
)


def _held_t12(events: pd.DataFrame, as_of: str | pd.Period) -> pd.DataFrame:
    period = report_month(as_of)
    held = events[E.held_on]
    return events[(held >= (period - 11).start_time) & (held < (period + 1).start_time)]


def event_costs(events: pd.DataFrame, attendance: pd.DataFrame, *, as_of: str | pd.Period) -> pd.DataFrame:
    """events, event_attendance → one row per event held in T12: event_id, held_on, kind, name,
    region, cost, attendees (attendance rows), cost_per_attendee (empty without attendees)."""
    held = _held_t12(events, as_of).reset_index(drop=True)
    counts = attendance.groupby(A.event_id).size()
    out = held.assign(attendees=held[E.event_id].map(counts).fillna(0).astype("int64"))
    for column in (E.name, E.region):
        if column not in out:
            out[column] = pd.Series(pd.NA, index=out.index, dtype="str")
    out["cost_per_attendee"] = out[E.cost] / out["attendees"].where(out["attendees"] > 0)
    return out.sort_values([E.held_on, E.event_id])[COST_COLUMNS].reset_index(drop=True)


def event_cost_by_kind(events: pd.DataFrame, attendance: pd.DataFrame, *, as_of: str | pd.Period) -> pd.DataFrame:
    """events, event_attendance → one row per event kind held in T12: kind, events, cost,
    attendees, cost_per_attendee (total cost / total attendance rows of that kind)."""
    costs = event_costs(events, attendance, as_of=as_of)
    out = costs.groupby(E.kind).agg(events=(E.event_id, "size"), cost=(E.cost, "sum"), attendees=("attendees", "sum"))
    out["cost_per_attendee"] = out["cost"] / out["attendees"].where(out["attendees"] > 0)
    order = {kind: k for k, kind in enumerate(schema.EVENT_KINDS)}
    return out.reset_index().sort_values(E.kind, key=lambda s: s.map(order)).reset_index(drop=True)


def event_cost_per_attendee_t12(events: pd.DataFrame, attendance: pd.DataFrame, *, as_of: str | pd.Period) -> float:
    """events, event_attendance → one number, the contract's ``event_cost_per_attendee_t12``:
    cost of the events held in T12 / attendance rows of those events (NaN when there are none)."""
    costs = event_costs(events, attendance, as_of=as_of)
    attendees = costs["attendees"].sum()
    return float(costs[E.cost].sum() / attendees) if attendees else float("nan")


def _month_index(months: pd.Series) -> pd.Series:
    return months.dt.year.astype("int64") * 12 + months.dt.month.astype("int64") - 1


def _grid(panel: pd.DataFrame, row: np.ndarray, col: np.ndarray, shape: tuple, column: str, fill: float) -> np.ndarray:
    out = np.full(shape, fill, dtype=float)
    out[row, col] = panel[column].to_numpy(dtype=float)
    return out


def _units(panel, events, attendance, *, chosen: pd.Series, as_of_index: int, window: int) -> pd.DataFrame:
    """panel, events, attendance → one row per (``chosen`` event, dealer) compared: treated,
    cell, pre/post outcomes. Any event, chosen or not, disqualifies a comparison dealer.

    ``event_id``, ``dealer_id`` and ``cell`` are integer codes (the event's and the dealer's
    positions, the event × region × tier cell): a large network compares tens of millions of
    pairs, which as text would take gigabytes; the estimate needs only which rows share them."""
    outcomes = [f"{when}_{outcome}" for outcome in OUTCOMES for when in ("pre", "post")]
    empty = pd.DataFrame(columns=["event_id", P.dealer_id, "treated", "cell", *outcomes])
    if panel.empty:
        return empty
    # dealer × month grids, month columns from `first` to M; no panel row: before signing, after leaving
    mi = _month_index(panel[P.month]).to_numpy()
    first = int(mi.min()) - window
    row, dealers = pd.factorize(panel[P.dealer_id], sort=True)  # no Python string per panel row
    shape, col = (len(dealers), as_of_index + 1 - first), mi - first
    revenue = _grid(panel, row, col, shape, P.revenue, 0.0)
    ordering = _grid(panel, row, col, shape, P.order_count, 0.0) > 0
    member = _grid(panel, row, col, shape, P.in_network, 0.0) > 0
    tenure = _grid(panel, row, col, shape, P.months_since_signed, np.nan)
    strata = panel.drop_duplicates(P.dealer_id).set_index(P.dealer_id).reindex(dealers)
    cell_of = (strata[P.region].fillna("") + "|" + strata[P.tier].fillna("")).to_numpy(dtype=object)

    held = pd.Series(_month_index(events[E.held_on]).to_numpy() - first, index=events[E.event_id].to_numpy())
    who = pd.Index(dealers).get_indexer(attendance[A.dealer_id])
    when = attendance[A.event_id].map(held).to_numpy(dtype=float)
    known = (who >= 0) & ~np.isnan(when) & (when >= 0) & (when < shape[1])
    went = np.zeros(shape, dtype=bool)  # attended some event in that month
    went[who[known], when[known].astype(int)] = True
    attendees = pd.Series(who).groupby(attendance[A.event_id].to_numpy()).agg(list)

    cell_code, cells = pd.factorize(cell_of)
    comparable_in: dict[int, np.ndarray] = {}  # by event month: the dealers that may be compared
    units = []
    for number, (event_id, c) in enumerate(held[held.index.isin(chosen)].items()):
        if c + first + window > as_of_index or c - window < 0:
            continue  # the post window is not over yet (or no data before the event)
        pre, post = slice(c - window, c), slice(c + 1, c + window + 1)
        treated = np.zeros(len(dealers), dtype=bool)
        index = np.asarray(attendees.get(event_id, []), dtype=int)
        treated[index[index >= 0]] = True
        if c not in comparable_in:
            nearby = went[:, c - window : c + window + 1].any(axis=1)  # no event at all around the month
            # comparable: in the network at the event month's end, signed before the pre window began
            comparable_in[c] = member[:, c] & (tenure[:, c] > window) & ~nearby
        # only the cells of an attendee count (the others are left out below): of a large network
        # with thousands of events, each event keeps the dealers of its attendees' regions and tiers
        with_attendee = np.zeros(len(cells), dtype=bool)
        with_attendee[cell_code[treated]] = True
        keep = (treated & member[:, c] & (tenure[:, c] > window)) | (comparable_in[c] & with_attendee[cell_code])
        # only cells with attendees and non-attendees compare anything (cells are per event)
        mixed = np.zeros((len(cells), 2), dtype=bool)
        mixed[cell_code[keep], treated[keep].astype(int)] = True
        keep &= mixed.all(axis=1)[cell_code]
        units.append(
            {
                "event_id": np.full(int(keep.sum()), number),
                P.dealer_id: np.flatnonzero(keep),
                "treated": treated[keep].astype(int),
                "cell": number * len(cells) + cell_code[keep],
                "pre_monthly_revenue": revenue[keep, pre].mean(axis=1),
                "post_monthly_revenue": revenue[keep, post].mean(axis=1),
                "pre_active": ordering[keep, pre].any(axis=1).astype(float),
                "post_active": (ordering[keep, post].any(axis=1) & member[keep, c + window]).astype(float),
            }
        )
    if not units:
        return empty
    out = pd.DataFrame(index=pd.RangeIndex(sum(len(u["cell"]) for u in units)))
    for column in list(units[0]):  # one column at a time, each event's part let go once joined
        out[column] = np.concatenate([u.pop(column) for u in units])
    return out


def _did(units: pd.DataFrame, outcome: str) -> dict[str, float]:
    """(post − pre) ~ treated + cell fixed effects, OLS with dealer-clustered standard errors:
    the two-period difference-in-differences within event × region × tier cells.

    The cells are absorbed by demeaning within cell (Frisch–Waugh–Lovell: the same estimate and
    residuals as the dummy regression, without a dummy per cell); the cluster-robust variance then
    gets the usual small-sample factor G/(G−1)·(N−1)/(N−K) with K counting the absorbed cells,
    and the CI uses t with G−1 degrees of freedom, as statsmodels does for the dummy regression.
    """
    nan = {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    n, g, k = len(units), units[P.dealer_id].nunique(), units["cell"].nunique() + 1
    if n == 0 or units["treated"].nunique() < 2 or g < 3 or n <= k:
        return nan
    change = units[f"post_{outcome}"] - units[f"pre_{outcome}"]
    y = change - change.groupby(units["cell"]).transform("mean")
    x = units["treated"] - units["treated"].groupby(units["cell"]).transform("mean")
    groups = pd.factorize(units[P.dealer_id])[0]
    from statsmodels.regression.linear_model import OLS  # loaded only when a model is fitted

    fit = OLS(y.to_numpy(float), x.to_numpy(float)[:, None]).fit(
        cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False}
    )
    estimate = float(fit.params[0])
    se = float(np.sqrt(fit.cov_params()[0, 0] * g / (g - 1) * (n - 1) / (n - k)))
    if not se > 0:
        return nan | {"estimate": estimate}
    t = stats.t.ppf(0.975, g - 1)
    p_value = float(2 * stats.t.sf(abs(estimate) / se, g - 1))
    return {"estimate": estimate, "ci_low": estimate - t * se, "ci_high": estimate + t * se, "p_value": p_value}


# The panel columns event_effect reads (a report may pass only these).
PANEL_COLUMNS = [P.dealer_id, P.month, P.region, P.tier, P.months_since_signed, P.in_network, P.revenue,
                 P.order_count]  # fmt: skip


def event_effect(
    panel: pd.DataFrame,
    events: pd.DataFrame,
    attendance: pd.DataFrame,
    *,
    as_of: str | pd.Period,
    window_months: int = 6,
    kind: str | None = None,
) -> pd.DataFrame:
    """dealer × month panel, events, event_attendance → one row per outcome (``monthly_revenue``,
    ``active``): the difference-in-differences estimate of attending, its 95% CI and p-value,
    the numbers compared, pre-window means of both groups, and ``limits`` in words.

    For every event (of ``kind``, when given) whose ``window_months`` after the event month end
    by M: attendees are compared with dealers of the same region and tier who were in the
    network at the end of the event month, had been signed before the pre window, and attended
    no event from the pre window's start to the post window's end. Pre = the window before the
    event month, post = the window after it (the event month itself is left out). The change
    post − pre is regressed on attendance with event × region × tier fixed effects; standard
    errors are clustered by dealer (a dealer can be compared at several events). Empty estimates
    when there are too few attendees or comparison dealers.
    """
    period = report_month(as_of)
    as_of_index = period.year * 12 + period.month - 1
    panel = panel[panel[P.month] <= period.start_time]
    chosen = events[E.event_id] if kind is None else events.loc[events[E.kind] == kind, E.event_id]
    units = _units(panel, events, attendance, chosen=chosen, as_of_index=as_of_index, window=window_months)
    treated, controls = units[units["treated"] == 1], units[units["treated"] == 0]
    rows = []
    for outcome in OUTCOMES:
        row = {"outcome": outcome, **_did(units, outcome)}
        row |= {
            "n_treated": len(treated),
            "n_controls": len(controls),
            "n_treated_dealers": treated[P.dealer_id].nunique(),
            "n_control_dealers": controls[P.dealer_id].nunique(),
            "n_events": units["event_id"].nunique(),
            "treated_pre_mean": treated[f"pre_{outcome}"].mean() if len(treated) else np.nan,
            "control_pre_mean": controls[f"pre_{outcome}"].mean() if len(controls) else np.nan,
            "limits": _LIMITS.format(w=window_months),
        }
        rows.append(row)
    out = pd.DataFrame(rows, columns=EFFECT_COLUMNS)
    for column in ("n_treated", "n_controls", "n_treated_dealers", "n_control_dealers", "n_events"):
        out[column] = out[column].astype("int64")
    return out
