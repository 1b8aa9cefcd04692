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
from dataclasses import dataclass

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
    """Dealer × month matrices of a panel (months from the first month with data)."""

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
    seen = pd.Index(panel.loc[since_first, P.dealer_id].unique())
    ids = seen.intersection(info.index).sort_values().rename(D.dealer_id)
    rows = ids.get_indexer(panel[P.dealer_id])
    keep = (rows >= 0) & since_first
    rows, cols = rows[keep], months.get_indexer(panel[P.month])[keep]
    shape = (len(ids), len(months))

    def matrix(column: str, dtype=np.float64, fill=0) -> np.ndarray:
        out = np.full(shape, fill, dtype=dtype)
        out[rows, cols] = panel[column].to_numpy()[keep]
        return out

    present = np.zeros(shape, dtype=bool)
    present[rows, cols] = True
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
        in_network=matrix(P.in_network, dtype=bool, fill=False),
        since_signed=np.arange(len(months))[None, :] - signed_col.to_numpy()[:, None],
    )


def _window(h: History, end: int, length: int) -> slice:
    return slice(max(0, end - length + 1), end + 1)


def _sum_by(codes: np.ndarray, groups: int, values: np.ndarray) -> np.ndarray:
    """(rows, months) → (groups, months): column sums per group code."""
    return np.stack([np.bincount(codes, weights=values[:, j], minlength=groups) for j in range(values.shape[1])], 1)


def _market_factor(h: History, values: np.ndarray, eligible: np.ndarray, base: slice, end: int) -> np.ndarray:
    """(dealers, months up to end) factor of each dealer's region: the region's mean per
    eligible dealer in a month over its mean in the baseline months, shrunk to the network's."""
    region = h.dealers[D.region].to_numpy()
    codes, uniq = pd.factorize(region)
    per = np.where(eligible, values, 0.0)[:, : end + 1]
    n = eligible[:, : end + 1].astype(float)
    reg_sum = _sum_by(codes, len(uniq), per)
    reg_n = _sum_by(codes, len(uniq), n)
    net_rate = per.sum(0) / np.maximum(n.sum(0), 1)
    # shrink small regions towards the network: k dealers' worth of network evidence
    k = 10.0
    reg_rate = (reg_sum + k * net_rate[None, :]) / (reg_n + k)
    baseline = reg_rate[:, base]
    # no baseline month yet (the first months of the data): no factor, and no warning about it
    base_rate = baseline.mean(axis=1, keepdims=True) if baseline.shape[1] else np.full((len(uniq), 1), np.nan)
    factor = reg_rate / np.maximum(base_rate, 1e-9)
    return factor[codes]


def signals_at(h: History, month: pd.Period | str) -> pd.DataFrame:
    """History, month → one row per dealer in the network at the month's end: the figures and
    probabilities every detector and the health score use (see the module docstring)."""
    end = h.col(month)
    base = slice(max(0, end - RECENT_MONTHS - BASELINE_MONTHS + 1), max(0, end - RECENT_MONTHS + 1))
    recent = _window(h, end, RECENT_MONTHS)
    # a baseline month counts once the dealer was past its first batch (signing month + 1)
    eligible = h.present & (h.since_signed >= 1)
    base_n = eligible[:, base].sum(1)
    ordered = (h.orders > 0) & eligible

    f_order = _market_factor(h, ordered.astype(float), eligible, base, end)
    f_count = _market_factor(h, h.orders, eligible, base, end)
    f_calls = _market_factor(h, h.calls_in, eligible, base, end)

    # silence: months since the last ordering month, judged by the dealer's rhythm in the
    # 12 months up to that order (so a long silence does not become its own baseline)
    rows_ = np.arange(len(base_n))
    idx = np.arange(end + 1)
    last = np.where(ordered[:, : end + 1], idx[None, :], -1).max(1)
    cum_ord = np.concatenate([np.zeros((len(last), 1)), np.cumsum(ordered[:, : end + 1], axis=1)], axis=1)
    cum_elig = np.concatenate([np.zeros((len(last), 1)), np.cumsum(eligible[:, : end + 1], axis=1)], axis=1)
    lo = np.maximum(last - BASELINE_MONTHS + 1, 0)
    rhythm_n = np.where(last >= 0, cum_elig[rows_, last + 1] - cum_elig[rows_, lo], 0)
    share = np.where(last >= 0, (cum_ord[rows_, last + 1] - cum_ord[rows_, lo]) / np.maximum(rhythm_n, 1), 0.0)
    mu = -np.log(np.clip(1 - share, 0.02, 1.0))  # ordering intensity per month
    silent_from = np.minimum(last + 1, end + 1)
    cum_f = np.concatenate([np.zeros((len(last), 1)), np.cumsum(f_order, axis=1)], axis=1)
    expected_silent = mu * (cum_f[:, end + 1] - cum_f[rows_, silent_from])
    # the silence in "market months": a month in which the region orders at half its usual
    # rate counts as half a month of silence (the New Year, a downturn)
    market_silent = cum_f[:, end + 1] - cum_f[rows_, silent_from]
    gap_mean, gap_n, p_gap = _gap_chance(ordered[:, : end + 1], last, market_silent)
    # a regular orderer is judged by its gaps (gamma renewal); others by the Poisson chance
    p_silence = np.where(gap_n >= MIN_GAPS, p_gap, np.exp(-expected_silent))

    # order counts over the last 1, 2, 3 and 6 months against the baseline rate; the window
    # that looks worst is kept, its chance multiplied by the number of windows tried
    rate = h.orders[:, base].sum(1) / np.maximum(base_n, 1)
    kappa = _network_kappa(h.orders, eligible, base, rate, f_count)
    drop = _worst_window(h, h.orders, eligible, base, end, rate, f_count, kappa, DROP_WINDOWS, lower=True)
    # silence by counts: the chance of not one order in the silent months (negative binomial zero)
    # for a dealer ordering at its rate of the 12 months up to its last order times the region's
    # order-count factor: a second opinion on the silence that follows a downturn month by month
    cum_cnt = np.concatenate([np.zeros((len(last), 1)), np.cumsum(np.where(eligible, h.orders, 0)[:, : end + 1], axis=1)], axis=1)
    rate_at_last = np.where(last >= 0, (cum_cnt[rows_, last + 1] - cum_cnt[rows_, lo]) / np.maximum(rhythm_n, 1), 0.0)
    cum_fc = np.concatenate([np.zeros((len(last), 1)), np.cumsum(f_count[:, : end + 1], axis=1)], axis=1)
    m_silent = rate_at_last * (cum_fc[:, end + 1] - cum_fc[rows_, silent_from])
    p_silence_count = np.exp(-np.log1p(kappa * m_silent) / kappa) if kappa > 1e-9 else np.exp(-m_silent)
    # the level a dealer used to have: its monthly orders in the two years before the last one
    old_ = slice(max(0, end - 35), max(0, end - 11))
    old_n = eligible[:, old_].sum(1)
    former_rate = np.where(old_n >= MIN_HISTORY, h.orders[:, old_].sum(1) / np.maximum(old_n, 1), np.nan)
    six = _window(h, end, PEER_WINDOW)
    expected_6m = rate * f_count[:, six].sum(1)
    orders_6m = h.orders[:, six].sum(1)
    gross_rate = _robust_level(h.gross, eligible, base)
    win = drop["window"]
    f_cum = np.concatenate([np.zeros((len(rate), 1)), np.cumsum(f_count, axis=1)], axis=1)
    g_cum = np.concatenate([np.zeros((len(rate), 1)), np.cumsum(h.gross[:, : end + 1], axis=1)], axis=1)
    exp_gross = gross_rate * (f_cum[:, end + 1] - f_cum[rows_, end + 1 - win])
    obs_gross = g_cum[:, end + 1] - g_cum[rows_, end + 1 - win]

    # inbound calls: a spike over the last 1 or 2 months, a collapse over the last 3
    call_rate = h.calls_in[:, base].sum(1) / np.maximum(base_n, 1)
    call_kappa = _network_kappa(h.calls_in, eligible, base, call_rate, f_calls)
    spike = _worst_window(h, h.calls_in, eligible, base, end, call_rate, f_calls, call_kappa, (1, 2), lower=False)
    quiet = _worst_window(h, h.calls_in, eligible, base, end, call_rate, f_calls, call_kappa, (3,), lower=True)

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
        market_change=np.log(np.maximum(f_count[:, recent].mean(1), 1e-9)),
        orders_total=h.orders[:, : end + 1].sum(1),
        first_order_month=first,
        orders_in_first_month=h.orders[np.arange(len(first)), np.maximum(first, 0)] * (first >= 0),
        complaints_recent=h.complaints[:, recent].sum(1),
        calls_out_recent=h.calls_out[:, recent].sum(1),
        visits_recent=h.visits[:, _window(h, end, 2)].sum(1),
    )
    frame["peer_z"] = _peer_z(frame, eligible_now=(base_n >= MIN_HISTORY) & h.in_network[:, end])
    frame = frame[h.present[:, end] | h.in_network[:, end]]
    return frame.reset_index(drop=True)


def _gap_chance(ordered: np.ndarray, last: np.ndarray, silent: np.ndarray) -> tuple[np.ndarray, ...]:
    """Gaps between ordering months in the 24 months up to each dealer's last order → (mean gap,
    number of gaps, chance that a gap is at least as long as the current silence) under a gamma
    distribution with the gaps' mean and variance (its shape capped: a few gaps prove little)."""
    n, m = ordered.shape
    idx = np.arange(m)[None, :]
    prev = np.maximum.accumulate(np.where(ordered, idx, -1), axis=1)
    prev_before = np.concatenate([np.full((n, 1), -1), prev[:, :-1]], axis=1)
    lo = (last - 2 * 12 + 1)[:, None]
    is_gap = ordered & (prev_before >= 0) & (prev_before >= lo) & (idx <= last[:, None])
    gaps = np.where(is_gap, idx - prev_before, 0).astype(float)
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


def _dispersion(values: np.ndarray, eligible: np.ndarray, base: slice, k: int) -> np.ndarray:
    """Variance / mean of the dealer's rolling k-month sums in its baseline (bursts), at least 1."""
    v = np.where(eligible[:, base], values[:, base], np.nan)
    if v.shape[1] < k + 1:
        return np.ones(len(v))
    windows = np.lib.stride_tricks.sliding_window_view(v, k, axis=1).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        disp = np.nanvar(windows, axis=1) / np.nanmean(windows, axis=1)
    return np.clip(np.nan_to_num(disp, nan=1.0), 1.0, 100.0)


def _network_kappa(values: np.ndarray, eligible: np.ndarray, base: slice, rate: np.ndarray, factor: np.ndarray) -> float:
    """Extra-Poisson variance of monthly counts shared by the network, after the market factor:
    the median over dealers of (Σ(x − m)² − Σm) / Σm² with m = rate × factor, so that
    var = m + kappa × m² (a negative binomial)."""
    m = rate[:, None] * factor[:, base]
    x = values[:, base]
    ok = eligible[:, base]
    m_ok, r = np.where(ok, m, 0.0), np.where(ok, x - m, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        k = ((r**2).sum(1) - m_ok.sum(1)) / (m_ok**2).sum(1)
    k = k[(m_ok.sum(1) >= ok.sum(1).clip(min=1)) & np.isfinite(k)]  # dealers with about 1+ a month
    return float(np.clip(np.median(k), 0.0, 2.0)) if len(k) else 0.0


def _worst_window(h, values, eligible, base, end, rate, factor, kappa, windows, *, lower: bool) -> dict:
    """For each dealer, the window (of ``windows`` months ending at ``end``) whose total is least
    plausible, low or high, under a quasi-Poisson with the dealer's own and the network's
    dispersion; its p is doubled when several windows were tried."""
    best = None
    cum_f = np.concatenate([np.zeros((len(rate), 1)), np.cumsum(factor[:, : end + 1], axis=1)], axis=1)
    cum_v = np.concatenate([np.zeros((len(rate), 1)), np.cumsum(values[:, : end + 1], axis=1)], axis=1)
    for k in windows:
        k_ = min(k, end + 1)
        expected = rate * (cum_f[:, end + 1] - cum_f[:, end + 1 - k_])
        observed = cum_v[:, end + 1] - cum_v[:, end + 1 - k_]
        disp = np.maximum(_dispersion(values, eligible, base, k_), 1 + kappa * expected / k_)
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
    v = np.where(eligible[:, base], values[:, base], np.nan)
    positive = np.where(v > 0, v, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cap = 3 * np.nanmedian(positive, axis=1)
    cap = np.nan_to_num(cap, nan=0.0)
    capped = np.minimum(np.nan_to_num(v, nan=0.0), cap[:, None])
    n = np.maximum((~np.isnan(v)).sum(1), 1)
    return capped.sum(1) / n


def _peer_z(frame: pd.DataFrame, eligible_now: np.ndarray) -> np.ndarray:
    """Robust z-score of each dealer's 6-month change within its region and tier (region alone
    when the group is small)."""
    change = frame["change_6m"].where(eligible_now)
    tier = frame[D.tier].fillna("") if D.tier in frame else pd.Series("", index=frame.index)
    z = np.full(len(frame), np.nan)
    for keys in ([frame[D.region], tier], [frame[D.region]]):
        grouped = change.groupby(keys)
        med = grouped.transform("median")
        mad = grouped.transform(lambda s: (s - s.median()).abs().median())
        size = grouped.transform("count")
        scale = np.maximum(1.4826 * mad, 0.25)
        zz = ((change - med) / scale).to_numpy()
        fill = np.isnan(z) & (size.to_numpy() >= 8)
        z[fill] = zz[fill]
    return z

