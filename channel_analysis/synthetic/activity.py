"""Interactions and service requests, per chunk of dealers.

Interactions: managers' follow-up calls and visits (as diligent as their manager), the dealer's
calls (fewer once in trouble, a spike before a calls_spike_then_drop), messages; minute
timestamps. Service requests: process, department (two of them slow), closing time against the
time limits, whether via the sales manager, and satisfaction.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from channel_analysis import schema
from channel_analysis.config import SLA_HOURS
from channel_analysis.synthetic.arrow import _take
from channel_analysis.synthetic.calendar import _chronological, _sample_days
from channel_analysis.synthetic.network import _DEPARTMENTS, _Network
from channel_analysis.synthetic.planted import CALLS_SPIKE, _pattern_effects

_DEPARTMENT_LIST = tuple(dep for p in schema.PROCESSES for dep in _DEPARTMENTS[p])
_PROCESS_P = (0.35, 0.20, 0.20, 0.15, 0.10)  # in the order of schema.PROCESSES
# Interaction types, the last axis of the interaction counts: (kind, direction) codes.
_INTERACTION_TYPES = ((0, 0), (1, 0), (0, 1), (2, 0), (2, 1))  # follow-up call, visit, dealer's call, messages
_SLOWDOWN = 2.8


def _in_network(net: _Network, dealer: np.ndarray, day: np.ndarray) -> np.ndarray:
    """(n,) whether each dealer is in the network on each day (signed on or before, not yet left)."""
    d = net.dealer
    return (d["signed"][dealer] <= day) & ~(d["terminated"][dealer] <= day)


def _interaction_counts(net: _Network, s: slice, rng: np.random.Generator) -> np.ndarray:
    """Counts (n, M, 5) per _INTERACTION_TYPES: follow-up calls, visits, dealer's calls, messages out and in."""
    d, cal, months = net.dealer, net.cal, net.cal.n_months
    shape = (s.stop - s.start, months)
    t = np.arange(months)[None, :]
    active = (t >= d["signed_m"][s, None]) & ((d["term_m"][s, None] < 0) | (t <= d["term_m"][s, None]))
    has_manager = d["mgr"][s, None] >= 0  # no manager, no follow-up
    dil = np.clip(d["diligence"][s, None] + rng.normal(0, 0.04, shape), 0, 1)  # manager's month-to-month form
    calls = (rng.random(shape) < dil).astype(np.int64) + (rng.random(shape) < 0.15 * dil)
    due = (t + d["visit_phase"][s, None]) % 2 == 0  # a visit every two months
    visits = (due & (rng.random(shape) < dil**1.3)) | (rng.random(shape) < 0.06 * dil)
    _, call_mult = _pattern_effects(d, s, months)
    inbound = rng.poisson(d["inbound_rate"][s, None] * call_mult * cal.work_season[None, :])
    messages = rng.poisson(0.5 * (0.5 + dil), size=(2, *shape))
    counts = np.stack([calls * has_manager, visits * has_manager, inbound, messages[0] * has_manager, messages[1]], -1)
    return counts * active[..., None]


def _interactions(net: _Network, s: slice, rng: np.random.Generator) -> dict[str, np.ndarray | pa.Array]:
    """Interactions of dealers ``s`` with minute timestamps, sorted by time."""
    d, cal, months = net.dealer, net.cal, net.cal.n_months
    counts = _interaction_counts(net, s, rng)
    flat = np.repeat(np.arange(counts.size, dtype=np.int64), counts.ravel())
    n_types = len(_INTERACTION_TYPES)
    typ, dealer, month = flat % n_types, flat // n_types // months + s.start, flat // n_types % months
    day_idx = _sample_days(cal.work_days, month, rng)
    day = cal.days[day_idx]
    visit = typ == 1
    minute = np.where(visit, 9 * 60 + rng.integers(0, 8 * 60, len(flat)), 8 * 60 + rng.integers(0, 11 * 60, len(flat)))
    at = day.astype("datetime64[m]") + minute.astype("timedelta64[m]")
    kind, direction = np.array(_INTERACTION_TYPES).T[:, typ]
    # the dealer calls its own manager or the maker's hotline; messages mostly go to the manager
    own = rng.random(len(flat)) < np.where(kind == 0, 0.4, 0.8)
    mgr = np.where((direction == 0) | own, d["mgr"][dealer], -1)
    keep = _in_network(net, dealer, day) & _manager_employed(net, mgr, day)
    kept = np.flatnonzero(keep)
    order = kept[_chronological(day_idx[kept], minute[kept])]
    ia = schema.Interactions
    return {
        ia.dealer_id: _take(d["id"], dealer[order]),
        ia.sales_manager_id: _take(net.mgr["id"], mgr[order]),
        ia.occurred_at: at[order],
        ia.kind: _take(schema.INTERACTION_KINDS, kind[order]),
        ia.direction: _take(schema.DIRECTIONS, direction[order]),
        ia.duration_minutes: _durations(rng, typ[order]),
    }


def _manager_employed(net: _Network, mgr: np.ndarray, day: np.ndarray) -> np.ndarray:
    """(n,) False where the row's manager had left by that day (rows without manager pass)."""
    left = net.mgr["left"][np.maximum(mgr, 0)]
    return (mgr < 0) | ~(left <= day)


def _durations(rng: np.random.Generator, typ: np.ndarray) -> np.ndarray:
    """Minutes (n,) per interaction type: calls of a few minutes, visits of an hour or two, messages NaN."""
    median = np.array([6.0, 90.0, 4.0, np.nan, np.nan])[typ]
    sigma = np.array([0.6, 0.4, 0.6, 0.0, 0.0])[typ]
    low, high = np.array([1, 20, 1, 0, 0])[typ], np.array([60, 300, 60, 0, 0])[typ]
    return np.clip(np.round(median * np.exp(sigma * rng.standard_normal(len(typ)))), low, high)


def _service_requests(net: _Network, s: slice, rng: np.random.Generator) -> dict[str, np.ndarray | pa.Array]:
    """Service requests of dealers ``s``: process, department, timing, route and satisfaction."""
    d, cal, months = net.dealer, net.cal, net.cal.n_months
    t = np.arange(months)[None, :]
    k = t - d["onset"][s, None]
    spike = (d["pattern"][s, None] == CALLS_SPIKE) & (k >= 0) & (k < 2)
    active = (t >= d["signed_m"][s, None]) & ((d["term_m"][s, None] < 0) | (t <= d["term_m"][s, None]))
    counts = rng.poisson(d["service_rate"][s, None] * cal.work_season[None, :] * np.where(spike, 2.5, 1.0)) * active
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    dealer, month, in_spike = flat // months + s.start, flat % months, spike.ravel()[flat]
    day_idx = _sample_days(cal.work_days, month, rng)
    minute = 480 + rng.integers(0, 600, len(flat))
    opened = cal.days[day_idx].astype("datetime64[m]") + minute.astype("timedelta64[m]")
    process = np.where(in_spike & (rng.random(len(flat)) < 0.4), 4, rng.choice(5, size=len(flat), p=_PROCESS_P))
    values = _service_values(net, rng, process, dealer, opened)
    keep = _in_network(net, dealer, cal.days[day_idx])
    kept = np.flatnonzero(keep)
    order = kept[_chronological(day_idx[kept], minute[kept])]
    sr = schema.ServiceRequests
    return {
        sr.dealer_id: _take(d["id"], dealer[order]),
        sr.process: _take(schema.PROCESSES, process[order]),
        sr.opened_at: opened[order],
        sr.closed_at: values["closed"][order],
        sr.department: _take(_DEPARTMENT_LIST, values["department"][order]),
        sr.via_sales_manager: values["via"][order],
        sr.satisfaction: values["satisfaction"][order],
    }


def _service_values(net: _Network, rng, process: np.ndarray, dealer: np.ndarray, opened: np.ndarray) -> dict:
    """Department code, closing time (NaT: open), via_sales_manager and satisfaction for requests (n,)."""
    n = len(process)
    first = np.array([_DEPARTMENT_LIST.index(_DEPARTMENTS[p][0]) for p in schema.PROCESSES])[process]
    choices = np.array([len(_DEPARTMENTS[p]) for p in schema.PROCESSES])[process]
    department = first + (rng.random(n) * choices).astype(np.int64)
    slow = np.isin(department, [_DEPARTMENT_LIST.index(dep) for dep in net.slow_departments])
    limit = np.array([SLA_HOURS[p] for p in schema.PROCESSES])[process]
    hours = rng.lognormal(np.log(limit * 0.35 * np.where(slow, _SLOWDOWN, 1.0)), 0.7)
    closed = opened + np.round(hours * 60).astype("timedelta64[m]")
    period_end = (net.cal.days[-1] + 1).astype("datetime64[m]")
    stuck = rng.random(n) < 0.01
    closed = np.where((closed >= period_end) | stuck, np.datetime64("NaT"), closed)
    dil = net.dealer["diligence"][dealer]
    via = rng.random(n) < np.where(net.dealer["mgr"][dealer] >= 0, 0.08 + 0.45 * (1 - dil), 0.02)
    mood = 4.4 - 1.4 * (hours > limit) - 0.7 * (process == 4) + rng.normal(0, 0.7, n)
    answered = ~np.isnat(closed) & (rng.random(n) < 0.75)
    satisfaction = np.where(answered, np.clip(np.round(mood), 1, 5), np.nan)
    return {"department": department, "closed": closed, "via": via, "satisfaction": satisfaction}
