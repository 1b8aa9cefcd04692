"""The planted truth: dealers that stop, drop, decline, call then drop, never reorder or terminate;
and regional market downturns, which are not planted problems.

``_plant_problems`` adds to the dealer arrays (N,) a pattern, onset month, level, length and
spike; ``_downturns`` → the truth frame and a factor (R, M); ``_pattern_effects`` → the
multipliers (n, M) the patterns put on a dealer's orders and calls.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from channel_analysis.synthetic.calendar import _Calendar

PATTERNS = ("stop", "drop", "decline", "calls_spike_then_drop", "no_reorder", "terminate")
STOP, DROP, DECLINE, CALLS_SPIKE, NO_REORDER, TERMINATE = range(len(PATTERNS))
# Share of all dealers planted with each pattern (about 13.5% in all).
_PLANT_SHARE = (0.025, 0.025, 0.025, 0.02, 0.02, 0.02)
_RECENT_MONTHS = 24  # most onsets fall in the last 24 months, where a backtest can see them
_RECENT_SHARE = 0.85


def _plant_problems(rng: np.random.Generator, d: dict, months: int) -> None:
    """Choose the planted dealers and their onsets; adds pattern arrays (N,) and terminations to ``d``."""
    n = len(d["signed_m"])
    d["pattern"], d["onset"] = np.full(n, -1), np.full(n, -1)
    d["level"], d["length"], d["spike"] = np.ones(n), np.zeros(n, dtype=np.int64), np.ones(n)
    _plant_no_reorder(rng, d, months, max(1, round(n * _PLANT_SHARE[NO_REORDER])))
    for p in (STOP, DROP, DECLINE, CALLS_SPIKE, TERMINATE):
        want = max(1, round(n * _PLANT_SHARE[p]))
        length = _pattern_length(rng, p, n)
        # the onset leaves room for what follows it: a termination, or the drop after a calls spike
        hi = months - {TERMINATE: 3, CALLS_SPIKE: 1}.get(p, 2) - (length if p == CALLS_SPIKE else 0)
        hi = np.broadcast_to(hi, (n,))
        lo = np.maximum(d["signed_m"] + 9, 6)  # enough history before the onset
        free = np.flatnonzero((d["pattern"] < 0) & (lo <= hi))
        pick = rng.choice(free, size=min(want, len(free)), replace=False)
        recent = rng.random(len(pick)) < _RECENT_SHARE
        lo_p = np.minimum(np.where(recent, np.maximum(lo[pick], months - _RECENT_MONTHS), lo[pick]), hi[pick])
        d["pattern"][pick] = p
        d["onset"][pick] = lo_p + (rng.random(len(pick)) * (hi[pick] - lo_p + 1)).astype(np.int64)
        d["length"][pick] = length[pick]
        d["level"][pick] = rng.uniform(0.1, 0.2, len(pick)) if p == DECLINE else rng.uniform(0.1, 0.3, len(pick))
        d["spike"][pick] = rng.uniform(3, 5, len(pick)) if p == CALLS_SPIKE else 1.0
    term = np.flatnonzero(d["pattern"] == TERMINATE)
    d["term_m"][term] = np.minimum(d["onset"][term] + rng.integers(2, 6, len(term)), months - 1)


def _pattern_length(rng: np.random.Generator, p: int, n: int) -> np.ndarray:
    if p == DECLINE:
        return rng.integers(6, 10, n)  # months of gradual decline
    if p == CALLS_SPIKE:
        return rng.integers(2, 4, n)  # months from the start of the calls spike to the order drop
    return np.zeros(n, dtype=np.int64)


def _plant_no_reorder(rng: np.random.Generator, d: dict, months: int, want: int) -> None:
    """New dealers with a first batch order only; more often under less diligent managers."""
    sm = d["signed_m"]
    free = np.flatnonzero((sm >= max(0, months - _RECENT_MONTHS)) & (sm <= months - 7))
    if len(free) == 0:
        return
    weight = (1.05 - d["diligence"][free]) ** 2
    pick = rng.choice(free, size=min(want, len(free)), replace=False, p=weight / weight.sum())
    d["pattern"][pick], d["onset"][pick] = NO_REORDER, sm[pick]


def _downturns(rng: np.random.Generator, regions: np.ndarray, sizes: np.ndarray, cal: _Calendar):
    """Region-wide market downturns (not planted problems): frame for the truth, and factor (R, M)."""
    months = cal.n_months
    count = 1 if len(regions) < 8 else 2
    big = np.argsort(-sizes, kind="stable")[: max(count, len(regions) // 2)]
    chosen = rng.choice(big, size=count, replace=False)
    factor = np.ones((len(regions), months))
    rows = []
    for i, r in enumerate(chosen):  # one or two downturns
        lo, hi = (max(2, months - 20), max(2, months - 8)) if i == 0 else (2, max(2, months - 6))
        first = int(rng.integers(lo, hi + 1))
        last = min(first + int(rng.integers(4, 9)) - 1, months - 1)
        level = round(float(rng.uniform(0.4, 0.6)), 2)
        factor[r, first : last + 1] = level
        rows.append((regions[r], str(cal.months[first]), str(cal.months[last]), level))
    return pd.DataFrame(rows, columns=["region", "start_month", "end_month", "factor"]), factor


def _pattern_effects(d: dict, s: slice, months: int) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers (n, M) of the planted patterns: on orders, and on the dealer's inbound calls."""
    p, lvl = d["pattern"][s, None], d["level"][s, None]
    length, spike = d["length"][s, None], d["spike"][s, None]
    k = np.arange(months)[None, :] - d["onset"][s, None]
    after = k >= 0
    gone = (p == STOP) | (p == TERMINATE) | (p == NO_REORDER)
    decline = 1 - (1 - lvl) * np.clip((k + 1) / np.maximum(length, 1), 0, 1)
    orders = np.select(
        [gone & after, (p == DROP) & after, (p == DECLINE) & after, (p == CALLS_SPIKE) & (k >= length)],
        [0.0, lvl, decline, lvl],
        1.0,
    )
    calls = np.select(
        [(p == CALLS_SPIKE) & after & (k < 2), (p == CALLS_SPIKE) & (k >= length), gone & after, (p >= 0) & after],
        [spike, 0.6, 0.35, 0.7],
        1.0,
    )
    return orders, calls
