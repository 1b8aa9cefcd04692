"""Panel → per-dealer warning signals as of a month, vectorised over all dealers.

The panel is pivoted once into dealer × month matrices (:class:`History`); each
report month then reads a few columns of them, so a backtest over many months
costs little more than one month.

Every signal compares the dealer with an *expectation* built from its own
history (縱向) and scaled by what its market did over the same months (the
dealers of its region), so that seasons, the Chinese New Year dip and a
region-wide downturn move the expectation instead of raising alarms:

``ordering months``
    A month with at least one order. Counting months rather than orders or
    amounts makes one big machine order weigh no more than a parts order.
``silence``
    Months since the last ordering month, counted in "market months" (a month
    in which the region orders at half its usual rate counts half). A dealer
    with at least three gaps between ordering months in the 24 months before its
    last order is judged by those gaps (a gamma distribution with their mean and
    variance: a dealer that orders every four months is not late after two);
    otherwise by its share of ordering months in the 12 months up to its last
    order, as a Poisson chance of so many silent months. A second opinion,
    ``p_silence_count``: the chance of not one order in the silent months at the
    dealer's order rate of those 12 months times the region's order-count factor
    (negative binomial with the network's dispersion).
``order counts``
    Orders over the last 1, 2, 3 and 6 months against the baseline rate (the 12
    months ending 3 months before the report month) times the market factor;
    the window that looks worst is kept and its chance doubled. The test is a
    quasi-Poisson whose dispersion is the larger of the dealer's own (bursts of
    sparse orderers) and the network's extra-Poisson variance.
``inbound calls``
    The dealer's calls over the last 1 or 2 months (a spike) or 3 months (a
    collapse) against its own baseline rate, tested the same way.
``peers`` (橫向)
    The dealer's change (recent 6 months against its baseline) against the
    changes of the other dealers of its region and tier, as a robust z-score.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from channel_analysis import schema

P, D = schema.Panel, schema.Dealers
BASELINE_MONTHS = 12  # the dealer's own history used for expectations
RECENT_MONTHS = 3  # the window judged for a drop
PEER_WINDOW = 6  # the window compared with peers
MIN_HISTORY = 6  # months of baseline needed before a dealer is judged at all
NEW_DEALER_MONTHS = 6  # months after signing a dealer counts as new (ramping up)
MIN_GAPS = 3  # gaps between ordering months needed to judge a silence by the dealer's rhythm
MAX_GAP_SHAPE = 4.0  # how regular a rhythm may look: gamma shape cap (1 = exponential)
DROP_WINDOWS = (1, 2, 3, 6)  # months over which a fall of orders is judged


# The panel columns the early warning reads (a large panel is read from its file with these only).
HISTORY_COLUMNS = [P.dealer_id, P.month, P.in_network, P.order_count, P.gross_orders, P.calls_in, P.calls_out,
                   P.visits, P.complaints]


@dataclass
class History:
    """Dealer × month matrices of a panel (months from the first month with data), and the
    figures derived from them that do not depend on the report month, computed once for all
    the months a History serves."""

    dealers: pd.DataFrame  # one row per dealer, index aligned with the matrices' rows
    months: pd.DatetimeIndex  # column labels
    orders: np.ndarray  # positive orders
    gross: np.ndarray  # value of positive orders
    calls_in: np.ndarray
    calls_out: np.ndarray
    visits: np.ndarray
    complaints: np.ndarray
    present: np.ndarray  # bool: the dealer has a panel row (signed or active) that month
    in_network: np.ndarray  # bool: in the network on the month's last day
    since_signed: np.ndarray  # months since signing (negative before)
    # derived (see __post_init__)
    eligible: np.ndarray = field(init=False)  # bool: a month that counts (past the signing month)
    ordering: np.ndarray = field(init=False)  # bool: an eligible month with an order
    last_ordering: np.ndarray = field(init=False)  # the last ordering month up to each month (-1: none)
    regions: np.ndarray = field(init=False)  # each dealer's region code: its row in the region sums
    region_dealers: np.ndarray = field(init=False)  # (regions, months): eligible dealers
    region_ordering: np.ndarray = field(init=False)  # (regions, months): of them, those with an order
    region_orders: np.ndarray = field(init=False)  # (regions, months): their orders
    region_calls: np.ndarray = field(init=False)  # (regions, months): their inbound calls

    def __post_init__(self) -> None:
        # a baseline month counts once the dealer was past its first batch (signing month + 1)
        self.eligible = self.present & (self.since_signed >= 1)
        self.ordering = (self.orders > 0) & self.eligible
        months = np.arange(self.orders.shape[1], dtype=np.int32)
        self.last_ordering = np.maximum.accumulate(np.where(self.ordering, months, -1), axis=1)
        self.regions, names = pd.factorize(self.dealers[D.region].to_numpy())
        shape = (len(names), len(months))
        size = shape[0] * shape[1]
        # each eligible dealer-month's cell in the (regions, months) sums, the others' one extra cell
        # that is dropped: one bincount adds up a whole matrix (counts: exact in any order)
        cells = (self.regions[:, None] * shape[1] + months).ravel()
        cells[~self.eligible.ravel()] = size

        def region_sums(weights: np.ndarray | None) -> np.ndarray:
            return np.bincount(cells, weights, minlength=size + 1)[:size].reshape(shape).astype(float)

        self.region_dealers = region_sums(None)
        self.region_ordering = region_sums(self.ordering.ravel())
        self.region_orders = region_sums(self.orders.ravel())
        self.region_calls = region_sums(self.calls_in.ravel())

    def col(self, month: pd.Period | str) -> int:
        """Column of ``month`` in the matrices."""
        ts = pd.Period(month, freq="M").start_time
        idx = self.months.get_indexer([ts])[0]
        if idx < 0:
            raise KeyError(f"{month} is outside the panel ({self.months[0]:%Y-%m}..{self.months[-1]:%Y-%m})")
        return int(idx)

    def has_dealers_in(self, month: pd.Period | str) -> bool:
        """True when some dealer has a panel row in ``month``; False before the first month with
        data and after the last dealer left. KeyError (as :meth:`col`) for a month after the
        panel's end while dealers were still in the network then: the panel is too short."""
        start = pd.Period(month, freq="M").start_time
        if len(self.months) == 0 or start < self.months[0]:
            return False
        if start > self.months[-1] and not self.in_network[:, -1].any():
            return False
        return bool(self.present[:, self.col(month)].any())


def history_from_panel(panel: pd.DataFrame, dealers: pd.DataFrame) -> History:
    """panel (dealer × month), dealers → :class:`History` matrices from the first month with any order."""
    with_orders = panel.loc[panel[P.order_count] > 0, P.month]
    first = with_orders.min() if len(with_orders) else panel[P.month].min()
    # the rows from the first month are kept by a mask, not by copying the panel (millions of rows)
    since_first = (panel[P.month] >= first).to_numpy()
    # no row at all (no dealer signed yet): no months
    months = pd.date_range(first, panel[P.month].max(), freq="MS") if len(panel) else pd.DatetimeIndex([])
    info = dealers.drop_duplicates(D.dealer_id).set_index(D.dealer_id)
    known = info.index.sort_values()
    at = _positions(panel[P.dealer_id], known)
    keep = (at >= 0) & since_first
    keep = slice(None) if keep.all() else np.flatnonzero(keep)  # usually every row: read without a copy
    # the dealers of the table with a row from the first month on; their rows in the matrices
    seen = np.flatnonzero(np.bincount(at[keep], minlength=len(known)))
    ids = known[seen].rename(D.dealer_id)
    row_of = np.full(len(known), -1)
    row_of[seen] = np.arange(len(seen))
    shape = (len(ids), len(months))
    # one flat index for every matrix: a 1-d scatter of millions of cells is far faster than a 2-d one
    cells = row_of[at[keep]] * shape[1]
    cells += _positions(panel[P.month], months)[keep]

    def matrix(column: str, dtype=np.float64) -> np.ndarray:
        out = np.zeros(shape, dtype=dtype)
        out.reshape(-1)[cells] = panel[column].to_numpy()[keep]
        return out

    present = np.zeros(shape, dtype=bool)
    present.reshape(-1)[cells] = True
    signed = info.loc[ids, D.signed_date]
    start = months[0] if len(months) else pd.Timestamp("2000-01-01")  # any origin: no dealer, no column
    signed_col = (signed.dt.year - start.year) * 12 + signed.dt.month - start.month
    return History(
        dealers=info.loc[ids].reset_index(),
        months=months,
        orders=matrix(P.order_count),
        gross=matrix(P.gross_orders),
        calls_in=matrix(P.calls_in),
        calls_out=matrix(P.calls_out),
        visits=matrix(P.visits),
        complaints=matrix(P.complaints),
        present=present,
        in_network=matrix(P.in_network, dtype=bool),
        since_signed=np.arange(len(months))[None, :] - signed_col.to_numpy()[:, None],
    )


def _positions(values: pd.Series, labels: pd.Index) -> np.ndarray:
    """Position of each value in ``labels``, -1 where absent. The values (millions of panel rows)
    are hashed once into their distinct values, and only those are looked up."""
    codes, distinct = pd.factorize(values)
    return np.append(labels.get_indexer(distinct), -1)[codes]  # code -1 (a missing value) → -1


def _window(h: History, end: int, length: int) -> slice:
    return slice(max(0, end - length + 1), end + 1)


def _running(values: np.ndarray) -> np.ndarray:
    """(rows, months) → (rows, months + 1) running sums from 0: the sum over months a … b−1 is
    column b minus column a."""
    out = np.zeros((values.shape[0], values.shape[1] + 1))
    np.cumsum(values, axis=1, out=out[:, 1:])
    return out


def _market_factor(h: History, region_sums: np.ndarray, base: slice, end: int) -> np.ndarray:
    """(regions, months up to end) factor of each region (a dealer's is its region's row,
    ``h.regions``): the region's mean per eligible dealer in a month over its mean in the
    baseline months, shrunk to the network's. ``region_sums``: one of the History's region sums."""
    reg_sum, reg_n = region_sums[:, : end + 1], h.region_dealers[:, : end + 1]
    # the network's sums are the regions' added up (counts: exact in any order)
    net_rate = reg_sum.sum(0) / np.maximum(reg_n.sum(0), 1)
    # shrink small regions towards the network: k dealers' worth of network evidence
    k = 10.0
    reg_rate = (reg_sum + k * net_rate[None, :]) / (reg_n + k)
    baseline = reg_rate[:, base]
    # no baseline month yet (the first months of the data): no factor, and no warning about it
    base_rate = baseline.mean(axis=1, keepdims=True) if baseline.shape[1] else np.full((len(reg_rate), 1), np.nan)
    return reg_rate / np.maximum(base_rate, 1e-9)


def signals_at(h: History, month: pd.Period | str) -> pd.DataFrame:
    """History, month → one row per dealer in the network at the month's end: the figures and
    probabilities every detector and the health score use (see the module docstring)."""
    end = h.col(month)
    base = slice(max(0, end - RECENT_MONTHS - BASELINE_MONTHS + 1), max(0, end - RECENT_MONTHS + 1))
    recent = _window(h, end, RECENT_MONTHS)
    eligible, regions = h.eligible, h.regions
    base_n = eligible[:, base].sum(1)

    # the market factors, one row per region (h.regions picks each dealer's), and their running sums
    f_order = _market_factor(h, h.region_ordering, base, end)
    f_count = _market_factor(h, h.region_orders, base, end)
    f_calls = _market_factor(h, h.region_calls, base, end)
    run_order, run_count, run_calls = _running(f_order), _running(f_count), _running(f_calls)

    # silence: months since the last ordering month, judged by the dealer's rhythm in the
    # 12 months up to that order (so a long silence does not become its own baseline)
    rows_ = np.arange(len(base_n))
    last = h.last_ordering[:, end].astype(np.int64)
    lo = np.maximum(last - BASELINE_MONTHS + 1, 0)
    idx = np.arange(end + 1)
    # the months of that rhythm: the eligible ones among the 12 up to the last ordering month
    rhythm = eligible[:, : end + 1] & (idx >= lo[:, None]) & (idx <= last[:, None])
    rhythm_n = rhythm.sum(1).astype(float)
    share = np.where(last >= 0, (rhythm & h.ordering[:, : end + 1]).sum(1) / np.maximum(rhythm_n, 1), 0.0)
    mu = -np.log(np.clip(1 - share, 0.02, 1.0))  # ordering intensity per month
    silent_from = np.minimum(last + 1, end + 1)
    # the silence in "market months": a month in which the region orders at half its usual
    # rate counts as half a month of silence (the New Year, a downturn)
    market_silent = run_order[regions, end + 1] - run_order[regions, silent_from]
    expected_silent = mu * market_silent
    gap_mean, gap_n, p_gap = _gap_chance(h, end, last, market_silent)
    # a regular orderer is judged by its gaps (gamma renewal); others by the Poisson chance
    p_silence = np.where(gap_n >= MIN_GAPS, p_gap, np.exp(-expected_silent))

    # order counts over the last 1, 2, 3 and 6 months against the baseline rate; the window
    # that looks worst is kept, its chance multiplied by the number of windows tried
    rate = h.orders[:, base].sum(1) / np.maximum(base_n, 1)
    kappa = _network_kappa(h.orders, eligible, base, rate, f_count[regions, base])
    orders_base = _in_base(h.orders, eligible, base)
    drop = _worst_window(h.orders, orders_base, end, rate, run_count, regions, kappa, DROP_WINDOWS, lower=True)
    # silence by counts: the chance of not one order in the silent months (negative binomial zero)
    # for a dealer ordering at its rate of the 12 months up to its last order times the region's
    # order-count factor: a second opinion on the silence that follows a downturn month by month
    rhythm_orders = np.where(rhythm, h.orders[:, : end + 1], 0.0).sum(1)
    rate_at_last = np.where(last >= 0, rhythm_orders / np.maximum(rhythm_n, 1), 0.0)
    m_silent = rate_at_last * (run_count[regions, end + 1] - run_count[regions, silent_from])
    p_silence_count = np.exp(-np.log1p(kappa * m_silent) / kappa) if kappa > 1e-9 else np.exp(-m_silent)
    # the level a dealer used to have: its monthly orders in the two years before the last one
    old_ = slice(max(0, end - 35), max(0, end - 11))
    old_n = eligible[:, old_].sum(1)
    former_rate = np.where(old_n >= MIN_HISTORY, h.orders[:, old_].sum(1) / np.maximum(old_n, 1), np.nan)
    six = _window(h, end, PEER_WINDOW)
    expected_6m = rate * f_count[:, six].sum(1)[regions]
    orders_6m = h.orders[:, six].sum(1)
    gross_rate = _robust_level(h.gross, eligible, base)
    win = drop["window"]
    g_cum = _running(h.gross[:, : end + 1])
    exp_gross = gross_rate * (run_count[regions, end + 1] - run_count[regions, end + 1 - win])
    obs_gross = g_cum[:, end + 1] - g_cum[rows_, end + 1 - win]

    # inbound calls: a spike over the last 1 or 2 months, a collapse over the last 3
    call_rate = h.calls_in[:, base].sum(1) / np.maximum(base_n, 1)
    call_kappa = _network_kappa(h.calls_in, eligible, base, call_rate, f_calls[regions, base])
    calls_base = _in_base(h.calls_in, eligible, base)
    spike = _worst_window(h.calls_in, calls_base, end, call_rate, run_calls, regions, call_kappa, (1, 2), lower=False)
    quiet = _worst_window(h.calls_in, calls_base, end, call_rate, run_calls, regions, call_kappa, (3,), lower=True)

    # peers: 6-month change against the baseline, compared within region and tier
    peer = _window(h, end, PEER_WINDOW)
    change = np.log((h.orders[:, peer].sum(1) + 1) / (rate * PEER_WINDOW + 1))
    first = _first_index(h.orders[:, : end + 1] > 0)
    frame = h.dealers.copy()
    frame = frame.assign(
        _row=np.arange(len(frame)),
        in_network=h.in_network[:, end],
        months_since_signed=h.since_signed[:, end],
        baseline_months=base_n,
        rhythm_months=rhythm_n,
        typical_gap=gap_mean,
        ordering_share=share,
        months_silent=end - last,
        last_order_month=np.where(last >= 0, h.months.strftime("%Y-%m").to_numpy()[np.maximum(last, 0)], ""),
        p_silence=p_silence,
        p_silence_count=p_silence_count,
        drop_window=win,
        expected_orders=drop["expected"],
        recent_orders=drop["observed"],
        p_drop=drop["p"],
        expected_orders_6m=expected_6m,
        former_monthly_orders=former_rate,
        orders_6m=orders_6m,
        expected_gross=exp_gross,
        recent_gross=obs_gross,
        calls_window=spike["window"],
        calls_month=spike["observed"],
        expected_calls_month=spike["expected"],
        p_calls_up=spike["p"],
        calls_recent=quiet["observed"],
        expected_calls_recent=quiet["expected"],
        p_calls_down=quiet["p"],
        change_6m=change,
        market_change=np.log(np.maximum(f_count[:, recent].mean(1), 1e-9))[regions],
        orders_total=h.orders[:, : end + 1].sum(1),
        first_order_month=first,
        orders_in_first_month=h.orders[np.arange(len(first)), np.maximum(first, 0)] * (first >= 0),
        complaints_recent=h.complaints[:, recent].sum(1),
        calls_out_recent=h.calls_out[:, recent].sum(1),
        visits_recent=h.visits[:, _window(h, end, 2)].sum(1),
    )
    tier = frame[D.tier].fillna("") if D.tier in frame else pd.Series("", index=frame.index)
    compared = (base_n >= MIN_HISTORY) & h.in_network[:, end]
    frame["peer_z"] = _peer_z(frame[D.region], tier, np.where(compared, change, np.nan))
    frame = frame[h.present[:, end] | h.in_network[:, end]]
    return frame.reset_index(drop=True)


def _gap_chance(h: History, end: int, last: np.ndarray, silent: np.ndarray) -> tuple[np.ndarray, ...]:
    """Gaps between ordering months in the 24 months up to each dealer's last order (``last``, as of
    month ``end``) → (mean gap, number of gaps, chance that a gap is at least as long as the current
    silence) under a gamma distribution with the gaps' mean and variance (its shape capped: a few
    gaps prove little)."""
    # a gap ends at each ordering month j ≥ 1 whose previous ordering month (the last one up to
    # j − 1; −1: none) is within the 24 months (every ordering month up to end is at or before
    # ``last``, so no other bound is needed)
    j = np.arange(1, end + 1, dtype=np.int32)
    before = h.last_ordering[:, :end]
    is_gap = h.ordering[:, 1 : end + 1] & (before >= np.maximum(last - 2 * 12 + 1, 0).astype(np.int32)[:, None])
    gaps = np.where(is_gap, j - before, 0)  # int32: sums and squares of months, exact
    count = is_gap.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = gaps.sum(1) / count
        var = (gaps**2).sum(1) / count - mean**2
        shape = np.clip(mean**2 / np.maximum(var, mean**2 / MAX_GAP_SHAPE), 1.0, MAX_GAP_SHAPE)
    p = stats.gamma.sf(np.maximum(silent, 0) + 0.5, a=np.nan_to_num(shape, nan=1.0),
                       scale=np.nan_to_num(mean / shape, nan=1.0))
    return mean, count, np.where(count > 0, p, 1.0)


def _first_index(mask: np.ndarray) -> np.ndarray:
    any_ = mask.any(1)
    return np.where(any_, mask.argmax(1), -1)


def _dispersion(in_base: np.ndarray, k: int) -> np.ndarray:
    """Variance / mean of the dealer's rolling k-month sums over its baseline months ``in_base``
    (counts; NaN for a month that does not count, which leaves its windows out), at least 1."""
    width = in_base.shape[1] - k + 1
    if width < 2:
        return np.ones(len(in_base))
    # the k-month sums as k shifted slices added up (counts: exact, as any other order of adding)
    windows = in_base[:, :width].copy()
    for i in range(1, k):
        windows += in_base[:, i : i + width]
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(windows, axis=1, keepdims=True)  # nanvar's own mean, computed once
        disp = np.nanvar(windows, axis=1, mean=mean) / mean[:, 0]
    return np.clip(np.nan_to_num(disp, nan=1.0), 1.0, 100.0)


def _network_kappa(values: np.ndarray, eligible: np.ndarray, base: slice, rate: np.ndarray, factor: np.ndarray) -> float:
    """Extra-Poisson variance of monthly counts shared by the network, after the market factor
    (``factor``: each dealer's over the baseline months): the median over dealers of
    (Σ(x − m)² − Σm) / Σm² with m = rate × factor, so that var = m + kappa × m² (a negative binomial)."""
    m = rate[:, None] * factor
    x = values[:, base]
    ok = eligible[:, base]
    m_ok, r = np.where(ok, m, 0.0), np.where(ok, x - m, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = ((r**2).sum(1) - m_ok.sum(1)) / (m_ok**2).sum(1)
    k = k[(m_ok.sum(1) >= ok.sum(1).clip(min=1)) & np.isfinite(k)]  # dealers with about 1+ a month
    return float(np.clip(np.median(k), 0.0, 2.0)) if len(k) else 0.0


def _in_base(values: np.ndarray, eligible: np.ndarray, base: slice) -> np.ndarray:
    """The baseline months' values, NaN where the month does not count for the dealer."""
    return np.where(eligible[:, base], values[:, base], np.nan)


def _worst_window(values, in_base, end, rate, run_factor, regions, kappa, windows, *, lower: bool) -> dict:
    """For each dealer, the window (of ``windows`` months ending at ``end``) whose total is least
    plausible, low or high, under a quasi-Poisson with the dealer's own (``in_base``, see
    :func:`_in_base`) and the network's dispersion; its p is doubled when several windows were
    tried. ``values`` are counts (their window totals are exact however they are added);
    ``run_factor`` the running sums of the regions' market factor, ``regions`` each dealer's row."""
    best = None
    for k in windows:
        k_ = min(k, end + 1)
        expected = rate * (run_factor[:, end + 1] - run_factor[:, end + 1 - k_])[regions]
        observed = values[:, end + 1 - k_ : end + 1].sum(1)
        disp = np.maximum(_dispersion(in_base, k_), 1 + kappa * expected / k_)
        mu, x = np.maximum(expected, 1e-6) / disp, observed / disp
        p = stats.poisson.cdf(np.floor(x), mu) if lower else stats.poisson.sf(np.ceil(x) - 1, mu)
        if best is None:
            best = {"window": np.full(len(rate), k_), "expected": expected, "observed": observed, "p": p}
            continue
        better = p < best["p"]
        best["window"] = np.where(better, k_, best["window"])
        best["expected"] = np.where(better, expected, best["expected"])
        best["observed"] = np.where(better, observed, best["observed"])
        best["p"] = np.minimum(p, best["p"])
    # the windows are nested, so far from independent: a factor of 2 rather than one per window
    best["p"] = np.minimum(1.0, best["p"] * min(len(windows), 2))
    return best


def _robust_level(values: np.ndarray, eligible: np.ndarray, base: slice) -> np.ndarray:
    """Mean monthly value over the baseline with each month capped at 3× the dealer's median
    ordering month, so that one machine order does not set the expectation."""
    v = _in_base(values, eligible, base)
    cap = np.nan_to_num(3 * _row_median(np.where(v > 0, v, np.nan)), nan=0.0)
    capped = np.minimum(np.nan_to_num(v, nan=0.0), cap[:, None])
    n = np.maximum((~np.isnan(v)).sum(1), 1)
    return capped.sum(1) / n


def _row_median(v: np.ndarray) -> np.ndarray:
    """Median of each row's values that are not NaN (NaN for none), as ``np.nanmedian`` gives it
    (the mean of the two middle values), from one sort of the rows (NaN sorts last)."""
    if v.shape[1] == 0:
        return np.full(len(v), np.nan)
    ordered = np.sort(v, axis=1)
    n = (~np.isnan(v)).sum(1)
    rows = np.arange(len(v))
    return (ordered[rows, np.maximum(n - 1, 0) // 2] + ordered[rows, n // 2]) / 2


def _peer_z(region: pd.Series, tier: pd.Series, change: np.ndarray) -> np.ndarray:
    """Robust z-score of each dealer's 6-month change (NaN: not compared) within its region and
    tier (region alone when the group has fewer than 8 changes)."""
    z = np.full(len(change), np.nan)
    region_codes, regions = pd.factorize(region)
    tier_codes, tiers = pd.factorize(tier)
    by_tier = np.where(region_codes >= 0, region_codes * len(tiers) + tier_codes, -1)
    for codes, groups in ((by_tier, len(regions) * len(tiers)), (region_codes, len(regions))):
        med, size = _group_median(codes, groups, change)
        mad, _ = _group_median(codes, groups, np.abs(change - med[codes]))
        scale = np.maximum(1.4826 * mad, 0.25)
        zz = (change - med[codes]) / scale[codes]  # code −1 (no region) reads a stray group: not filled
        fill = np.isnan(z) & (codes >= 0) & (size[codes] >= 8)
        z[fill] = zz[fill]
    return z


def _group_median(codes: np.ndarray, groups: int, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group code (−1: no group): the median of its values that are not NaN (NaN for none, the
    mean of the two middle values as pandas gives it) and their count, from one sort by group and
    value."""
    ok = (codes >= 0) & ~np.isnan(values)
    order = np.lexsort((values[ok], codes[ok]))
    code, value = codes[ok][order], values[ok][order]
    count = np.bincount(code, minlength=groups)
    start = np.cumsum(count) - count
    median = np.full(groups, np.nan)
    has = count > 0
    median[has] = (value[(start + (count - 1) // 2)[has]] + value[(start + count // 2)[has]]) / 2
    return median, count
