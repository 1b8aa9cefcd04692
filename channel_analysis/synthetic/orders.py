"""Orders, per chunk of dealers: dealer × month order counts, then one row per order.

Expected orders are each dealer's rates times season, regional downturn, ramp-up since signing,
planted pattern and event uplift, in the dealer's ordering rhythm; rows get a day, amount,
quantity and product line. With new dealers' first batch orders, and returns (negative amounts).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from channel_analysis import schema
from channel_analysis.synthetic.arrow import _take
from channel_analysis.synthetic.calendar import _chronological, _lognormal, _sample_days
from channel_analysis.synthetic.network import _MACHINE_MEDIAN, _Network
from channel_analysis.synthetic.planted import NO_REORDER, _pattern_effects

_RETURN_P = 0.03  # share of parts orders followed by a return or credit note
_EVENT_UPLIFT = 0.06  # true effect of attending an event on the next three months' orders
_MACHINES = ("汽车起重机", "随车起重机", "履带起重机")
_PARTS = ("配件", "属具")
_PRODUCTS = _MACHINES + _PARTS  # product_line codes index this


def _order_intensity(net: _Network, s: slice, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Expected-order multipliers (n, M) for dealers ``s``: without and with dealer-month noise.

    Product of season, regional downturn, ramp-up since signing, planted pattern and event uplift;
    0 before the month after signing.
    """
    d, months = net.dealer, net.cal.n_months
    k = np.arange(months)[None, :] - d["signed_m"][s, None]  # months since signing
    tau = d["ramp_tau"][s, None]
    ramp = np.where(k >= 1, 1 - np.exp(-np.maximum(k, 0) / tau), 0.0)
    pattern, _ = _pattern_effects(d, s, months)
    base = net.cal.season[None, :] * net.downturn_factor[d["region"][s]] * ramp * pattern * _uplift(net, s)
    sigma = np.where(k < 2 * tau, 0.55, 0.3)  # new dealers ramp up unpredictably
    return base, base * _lognormal(rng, 1.0, sigma)


def _uplift(net: _Network, s: slice) -> np.ndarray:
    """(n, M) order multiplier of 1 + _EVENT_UPLIFT in the three months after attending an event."""
    att, months = net.attendance, net.cal.n_months
    lo, hi = np.searchsorted(att["dealer"], [s.start, s.stop])
    touched = np.zeros((s.stop - s.start, months), dtype=bool)
    for lag in (1, 2, 3):
        m = att["month"][lo:hi] + lag
        keep = m < months
        touched[att["dealer"][lo:hi][keep] - s.start, m[keep]] = True
    return 1 + _EVENT_UPLIFT * touched


def _rhythm_mask(rhythm: np.ndarray, phase: np.ndarray, months: int, rng: np.random.Generator) -> np.ndarray:
    """(n, M) months in which each dealer tends to order: every month, or every ~r months with jitter."""
    n = len(rhythm)
    jitter = rng.choice([-1, 0, 1], size=(n, months), p=[0.2, 0.6, 0.2]) * (rhythm[:, None] > 1)
    gaps = np.maximum(rhythm[:, None] + jitter, 1)
    pos = phase[:, None] + np.cumsum(gaps, axis=1) - gaps[:, :1]
    mask = np.zeros((n, months + 1), dtype=bool)
    rows = np.broadcast_to(np.arange(n)[:, None], pos.shape)
    mask[rows, np.minimum(pos, months)] = True
    return mask[:, :months]


def _order_counts(net: _Network, s: slice, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts (n, M) of parts orders, machine orders and returns for dealers ``s``."""
    d, months = net.dealer, net.cal.n_months
    base, mult = _order_intensity(net, s, rng)
    rhythm = d["rhythm"][s]
    mask = _rhythm_mask(rhythm, d["phase"][s], months, rng)
    parts = rng.poisson(d["parts_rate"][s, None] * rhythm[:, None] * mult * mask)
    # a dealer in its ordering month orders at least once, unless business is down
    parts += mask & (parts == 0) & (rng.random(parts.shape) < np.minimum(base, 1.0))
    machines = rng.poisson(d["machine_rate"][s, None] * mult)
    _ensure_reorder(net, s, parts + machines, parts, rng)
    returns = rng.binomial(parts, _RETURN_P)
    return parts, machines, returns


def _ensure_reorder(net: _Network, s: slice, total: np.ndarray, parts: np.ndarray, rng: np.random.Generator) -> None:
    """A new dealer not planted as no_reorder reorders within five months of signing (in place)."""
    d, months = net.dealer, net.cal.n_months
    sm = d["signed_m"][s]
    k = np.arange(months)[None, :] - sm[:, None]
    quiet = ((total * ((k >= 1) & (k <= 5))).sum(axis=1) == 0) & (sm >= 0) & (d["pattern"][s] != NO_REORDER)
    when = sm + rng.integers(1, 5, size=len(sm))
    fix = np.flatnonzero(quiet & (when < months))
    parts[fix, when[fix]] = 1


def _orders(net: _Network, s: slice, rng: np.random.Generator) -> dict[str, np.ndarray | pa.Array]:
    """Orders of dealers ``s``: first batches, parts, machines and returns, sorted by date."""
    d, cal, months = net.dealer, net.cal, net.cal.n_months
    parts, machines, returns = _order_counts(net, s, rng)
    frames = [_first_batches(net, s, rng)]
    for kind, counts in (("parts", parts), ("machine", machines), ("return", returns)):
        flat = np.repeat(np.arange(counts.size), counts.ravel())
        dealer, month = flat // months + s.start, flat % months
        day = _sample_days(cal.order_days, month, rng)
        frames.append({"dealer": dealer, "day": day, **_order_values(rng, d, dealer, kind)})
    cols = {key: np.concatenate([f[key] for f in frames]) for key in frames[0]}
    order = _chronological(cols["day"])
    cols = {key: value[order] for key, value in cols.items()}
    return {
        schema.Orders.dealer_id: _take(d["id"], cols["dealer"]),
        schema.Orders.order_date: cal.days[cols["day"]],
        schema.Orders.amount: cols["amount"],
        schema.Orders.quantity: cols["quantity"],
        schema.Orders.product_line: _take(_PRODUCTS, cols["product"]),
    }


def _order_values(rng: np.random.Generator, d: dict, dealer: np.ndarray, kind: str) -> dict[str, np.ndarray]:
    """Amount (¥, 2 decimals, never 0), quantity and product line for order rows (n,) of one kind."""
    n = len(dealer)
    if kind == "machine":
        unit = np.clip(rng.lognormal(np.log(_MACHINE_MEDIAN), 0.45, n), 500_000, 3_000_000)
        product = rng.choice(len(_MACHINES), size=n, p=[0.55, 0.30, 0.15])
        return {"amount": np.round(unit, -3), "quantity": np.ones(n, dtype=np.int64), "product": product}
    value = np.clip(_lognormal(rng, d["parts_mean"][dealer], 0.6), 5_000, 80_000)
    if kind == "parts":
        quantity = np.maximum(1, np.round(value / rng.uniform(150, 1500, n))).astype(np.int64)
        product = len(_MACHINES) + (rng.random(n) < 0.15)
        return {"amount": np.round(value, 2), "quantity": quantity, "product": product}
    credit_note = rng.random(n) < 0.5  # price corrections carry no quantity; returns of goods do
    quantity = np.where(credit_note, 0, rng.integers(1, 6, n))
    amount = -np.round(value * rng.uniform(0.1, 1.0, n), 2)
    return {"amount": amount, "quantity": quantity, "product": np.full(n, len(_MACHINES))}


def _first_batches(net: _Network, s: slice, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The first batch order of each dealer of ``s`` signed within the period, around its signing day."""
    d, cal = net.dealer, net.cal
    dealer = np.flatnonzero(d["signed_m"][s] >= 0) + s.start
    n = len(dealer)
    day = d["signed"][dealer] + rng.integers(-20, 16, n).astype("timedelta64[D]")
    day = (np.clip(day, cal.days[0], cal.days[-1]) - cal.days[0]).astype(np.int64)  # day index
    machine = rng.random(n) < 0.5
    parts_value = np.round(d["parts_mean"][dealer] * rng.uniform(3, 8, n), 2)
    machine_value = np.round(np.clip(rng.lognormal(np.log(_MACHINE_MEDIAN), 0.35, n), 500_000, 3_000_000), -3)
    return {
        "dealer": dealer,
        "day": day,
        "amount": np.where(machine, machine_value, parts_value),
        "quantity": np.where(machine, 1, np.maximum(1, np.round(parts_value / 400))).astype(np.int64),
        "product": np.where(machine, rng.integers(0, len(_MACHINES), n), len(_MACHINES)),
    }
