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
    cell, pre/post outcomes; rows by event (in ``events``' order), then dealer. Any event, chosen
    or not, disqualifies a comparison dealer.

    ``event_id``, ``dealer_id`` and ``cell`` are integer codes (the event's and the dealer's
    positions, the event × region × tier cell): a large network compares tens of millions of
    pairs, which as text would take gigabytes; the estimate needs only which rows share them.
    The pairs are found by joins, not by a loop over events (thousands in a large network)."""
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
    # in the network at a month's end and signed before the pre window began
    eligible = member & (tenure > window)
    strata = panel.drop_duplicates(P.dealer_id).set_index(P.dealer_id).reindex(dealers)
    cell_code, cells = pd.factorize((strata[P.region].fillna("") + "|" + strata[P.tier].fillna("")).to_numpy(object))
    cell_code = cell_code.astype(np.int32)

    held = _month_index(events[E.held_on]).to_numpy() - first
    who = pd.Index(dealers).get_indexer(attendance[A.dealer_id])
    when = attendance[A.event_id].map(pd.Series(held, index=events[E.event_id].to_numpy())).to_numpy(dtype=float)
    known = (who >= 0) & ~np.isnan(when) & (when >= 0) & (when < shape[1])
    went = np.zeros(shape, dtype=bool)  # attended some event in that month
    went[who[known], when[known].astype(int)] = True

    # the chosen events whose windows lie within the grid: number = position among the chosen
    picked = events[E.event_id].isin(chosen).to_numpy()
    month = held[picked].astype(np.int32)
    ok = (month + first + window <= as_of_index) & (month - window >= 0)  # post window over, pre in the data
    by_event = pd.DataFrame({"event": np.flatnonzero(ok).astype(np.int32), "month": month[ok]},
                            index=events[E.event_id].to_numpy()[picked][ok])  # fmt: skip
    # treated: the event's attendees, eligible in its month
    pairs = pd.DataFrame({"event_id": attendance[A.event_id].to_numpy(), P.dealer_id: who.astype(np.int32)})
    pairs = pairs[pairs[P.dealer_id] >= 0].join(by_event, on="event_id", how="inner")
    pairs = pairs.drop_duplicates(["event", P.dealer_id])
    d, c = pairs[P.dealer_id].to_numpy(), pairs["month"].to_numpy()
    treated = pd.DataFrame({"event": pairs["event"].to_numpy(), "month": c, P.dealer_id: d, "cell": cell_code[d]})
    treated = treated[eligible[d, c]]
    # comparable in an event month: eligible, and no event at all in the months around it
    comparable = []
    for c in np.unique(treated["month"]):
        ids = np.flatnonzero(eligible[:, c] & ~went[:, c - window : c + window + 1].any(axis=1)).astype(np.int32)
        comparable.append(pd.DataFrame({"month": c, P.dealer_id: ids, "cell": cell_code[ids]}))
    comparable = pd.concat(comparable, ignore_index=True) if comparable else treated.iloc[0:0, 1:]
    # only cells with attendees and comparable dealers compare anything (cells are per event)
    cells_of_event = treated[["event", "month", "cell"]].drop_duplicates()
    controls = cells_of_event.merge(comparable, on=["month", "cell"])
    treated = treated.merge(comparable[["month", "cell"]].drop_duplicates(), on=["month", "cell"])
    if treated.empty:
        return empty
    # by event, then dealer (treated and controls are different dealers)
    both = {name: np.concatenate([treated[name].to_numpy(), controls[name].to_numpy()])
            for name in ("event", P.dealer_id, "month", "cell")}  # fmt: skip
    order = np.lexsort((both[P.dealer_id], both["event"]))
    event, d, c = both["event"][order], both[P.dealer_id][order], both["month"][order]
    out = pd.DataFrame({
        "event_id": event, P.dealer_id: d,
        "treated": (np.arange(len(order)) < len(treated))[order].astype(np.int8),
        "cell": event.astype(np.int64) * len(cells) + both["cell"][order],
    })  # fmt: skip
    del treated, controls, both
    out["pre_monthly_revenue"] = _window_mean(revenue, d, c - window, window)
    out["post_monthly_revenue"] = _window_mean(revenue, d, c + 1, window)
    out["pre_active"] = _window_any(ordering, d, c - window, window).astype(float)
    out["post_active"] = (_window_any(ordering, d, c + 1, window) & member[d, c + window]).astype(float)
    return out


def _window_mean(grid: np.ndarray, rows: np.ndarray, start: np.ndarray, width: int) -> np.ndarray:
    """grid[rows[i], start[i] : start[i] + width].mean() for every i, summed in month order (as
    ``mean(axis=1)`` adds them)."""
    total = grid[rows, start].copy()
    for k in range(1, width):
        total += grid[rows, start + k]
    return total / width


def _window_any(grid: np.ndarray, rows: np.ndarray, start: np.ndarray, width: int) -> np.ndarray:
    """grid[rows[i], start[i] : start[i] + width].any() for every i."""
    found = grid[rows, start].copy()
    for k in range(1, width):
        found |= grid[rows, start + k]
    return found


def _did(units: pd.DataFrame, outcome: str) -> dict[str, float]:
    """(post − pre) ~ treated + cell fixed effects, OLS with dealer-clustered standard errors:
    the two-period difference-in-differences within event × region × tier cells.

    The cells are absorbed by demeaning within cell (Frisch–Waugh–Lovell: the same estimate and
    residuals as the dummy regression, without a dummy per cell); the cluster-robust variance then
    gets the usual small-sample factor G/(G−1)·(N−1)/(N−K) with K counting the absorbed cells,
    and the CI uses t with G−1 degrees of freedom, as statsmodels does for the dummy regression.
    """
    nan = {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    if units.empty:
        return nan
    # cell and dealer are small non-negative integer codes: counted and summed by bincount, which
    # keeps tens of millions of rows cheap (no hashing, no copies)
    cell, dealer = units["cell"].to_numpy(), units[P.dealer_id].to_numpy()
    treated = units["treated"].to_numpy(float)
    per_cell = np.bincount(cell)
    n, g, k = len(units), np.count_nonzero(np.bincount(dealer)), np.count_nonzero(per_cell) + 1
    if treated.min() == treated.max() or g < 3 or n <= k:
        return nan
    change = units[f"post_{outcome}"].to_numpy(float) - units[f"pre_{outcome}"].to_numpy(float)
    per_cell = np.maximum(per_cell, 1)  # cells without rows are never looked up
    y = change - (np.bincount(cell, weights=change) / per_cell)[cell]
    x = treated - (np.bincount(cell, weights=treated) / per_cell)[cell]
    del change, treated
    from statsmodels.regression.linear_model import OLS  # loaded only when a model is fitted

    fit = OLS(y, x[:, None]).fit(
        cov_type="cluster", cov_kwds={"groups": dealer, "use_correction": False}
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
