"""The books, whole tables from the network: events and attendance, expenses, prospects.

Events with their cost and who attended; acquisition and retention spend in every category
(set-up, advertising, recruiting and training, travel, support, incentives, events); the
acquisition funnel, one signed prospect per dealer signed in the period and the rest lost or open.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from channel_analysis import schema
from channel_analysis.synthetic.activity import _in_network, _manager_employed
from channel_analysis.synthetic.arrow import _ids, _take
from channel_analysis.synthetic.calendar import _lognormal, _sample_days
from channel_analysis.synthetic.events import _EVENT_KINDS
from channel_analysis.synthetic.network import _Network

# --------------------------------------------------------------------------- events and attendance


def _events_table(net: _Network, rng: np.random.Generator) -> dict:
    e, ev = net.events, schema.Events
    region = _take(net.regions, e["region"])
    return {
        ev.event_id: _ids("EV", 1, len(e["kind"]), 5),
        ev.held_on: net.cal.days[e["day"]],
        ev.kind: np.array([k[0] for k in _EVENT_KINDS])[e["kind"]],
        ev.name: e["name"],
        ev.region: region,
        ev.cost: e["cost"].astype(np.float64),
    }


def _attendance_table(net: _Network, rng: np.random.Generator) -> dict:
    a, ea = net.attendance, schema.EventAttendance
    event_ids = _ids("EV", 1, len(net.events["kind"]), 5)
    order = np.lexsort((a["dealer"], a["event"]))
    return {
        ea.event_id: event_ids.take(pa.array(a["event"][order])),
        ea.dealer_id: net.dealer["id"][a["dealer"][order]],
    }


# --------------------------------------------------------------------------- expenses


def _expenses(net: _Network, rng: np.random.Generator) -> dict:
    """Acquisition and retention spend in every category (rows sorted by spent_on)."""
    parts = [
        _setup_costs(net, rng),
        *_region_costs(net, rng),
        *_manager_costs(net, rng),
        *_dealer_care_costs(net, rng),
        _event_costs(net),
    ]
    cols = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.lexsort((cols["category"], cols["day"]))
    cols = {key: value[order] for key, value in cols.items()}
    ex = schema.Expenses
    return {
        ex.expense_id: _ids("E", 1, len(order), 8),
        ex.spent_on: cols["day"],
        ex.amount: np.round(np.maximum(cols["amount"], 100.0), 2),
        ex.purpose: _take(schema.PURPOSES, cols["purpose"]),
        ex.category: _take(schema.EXPENSE_CATEGORIES, cols["category"]),
        ex.region: _take(net.regions, cols["region"]),
        ex.dealer_id: _take(net.dealer["id"], cols["dealer"]),
        ex.sales_manager_id: _take(net.mgr["id"], cols["mgr"]),
    }


def _spend(day, amount, purpose, category, region, dealer=None, mgr=None) -> dict[str, np.ndarray]:
    n = len(day)
    none = np.full(n, -1)
    return {
        "day": np.asarray(day),
        "amount": np.asarray(amount, dtype=np.float64),
        "purpose": np.full(n, schema.PURPOSES.index(purpose)),
        "category": np.full(n, schema.EXPENSE_CATEGORIES.index(category)),
        "region": np.asarray(region),
        "dealer": none if dealer is None else np.asarray(dealer),
        "mgr": none if mgr is None else np.asarray(mgr),
    }


def _setup_costs(net: _Network, rng: np.random.Generator) -> dict:
    """A set-up cost for every dealer signed in the period, within a month of signing."""
    d, cal = net.dealer, net.cal
    new = np.flatnonzero(d["signed_m"] >= 0)
    day = np.minimum(d["signed"][new] + rng.integers(0, 31, len(new)).astype("timedelta64[D]"), cal.days[-1])
    amount = _lognormal(rng, 40_000, 0.35, len(new))
    return _spend(day, amount, "acquisition", "setup", d["region"][new], new, d["mgr"][new])


def _region_months(net: _Network, every: int) -> tuple[np.ndarray, np.ndarray]:
    """All (region, month) pairs, flattened (R·M/every,), for months that are multiples of ``every``."""
    months = np.arange(0, net.cal.n_months, every)
    region, month = np.meshgrid(np.arange(len(net.regions)), months, indexing="ij")
    return region.ravel(), month.ravel()


def _region_costs(net: _Network, rng: np.random.Generator) -> list[dict]:
    """Advertising, recruiting/training (acquisition) and other (retention) per region and month/quarter."""
    cal, d = net.cal, net.dealer
    new_per_month = np.bincount(d["region"][d["signed_m"] >= 0], minlength=len(net.regions)) / cal.n_months
    size = np.bincount(d["region"], minlength=len(net.regions))
    out = []
    region, month = _region_months(net, 1)
    ad = rng.random(len(region)) < 0.6
    amount = new_per_month[region] * 60_000 / 0.6 * _lognormal(rng, 1.0, 0.5, len(region))
    day = cal.days[_sample_days(cal.work_days, month, rng)]
    out.append(_spend(day[ad], amount[ad], "acquisition", "advertising", region[ad]))
    region, month = _region_months(net, 3)
    day = cal.days[_sample_days(cal.work_days, month, rng)]
    amount = np.maximum(new_per_month[region], 0.2) * 3 * 45_000 * _lognormal(rng, 1.0, 0.3, len(region))
    out.append(_spend(day, amount, "acquisition", "recruiting_training", region))
    amount = 150 * size[region] * _lognormal(rng, 1.0, 0.4, len(region))
    out.append(_spend(day, amount, "retention", "other", region))
    return out


def _manager_costs(net: _Network, rng: np.random.Generator) -> list[dict]:
    """Travel per manager and month: prospecting trips (acquisition) and dealer visits (retention)."""
    cal, d, m = net.cal, net.dealer, net.mgr
    k = len(m["id"])
    mgr, month = np.meshgrid(np.arange(k), np.arange(cal.n_months), indexing="ij")
    mgr, month = mgr.ravel(), month.ravel()
    day = cal.days[_sample_days(cal.work_days, month, rng)]
    employed = _manager_employed(net, mgr, day)
    has = d["mgr"] >= 0
    new_per_month = np.bincount(d["mgr"][has & (d["signed_m"] >= 0)], minlength=k) / cal.n_months
    load = np.bincount(d["mgr"][has], minlength=k)
    prospecting = (new_per_month[mgr] + 0.1) * 70_000 * _lognormal(rng, 1.0, 0.3, len(mgr))
    visiting = load[mgr] * 0.5 * m["diligence"][mgr] * 450 * _lognormal(rng, 1.0, 0.2, len(mgr))
    region = m["region"][mgr]
    return [
        _spend(day[employed], prospecting[employed], "acquisition", "travel", region[employed], mgr=mgr[employed]),
        _spend(day[employed], visiting[employed], "retention", "travel", region[employed], mgr=mgr[employed]),
    ]


def _dealer_care_costs(net: _Network, rng: np.random.Generator) -> list[dict]:
    """Support now and then, and quarterly incentives (rebates) for dealers in the network."""
    cal, d = net.cal, net.dealer
    n, months = net.n, cal.n_months
    out = []
    for category, every, chance in (
        ("support", 1, np.full(n, 0.04)),
        ("incentives", 3, np.where(d["tier"] == 0, 0.7, 0.35)),
    ):
        month_grid = np.arange(0, months, every)
        hit = rng.random((n, len(month_grid))) < chance[:, None]
        dealer, slot = np.nonzero(hit)
        month = month_grid[slot]
        day = cal.days[_sample_days(cal.work_days, month, rng)]
        ok = _in_network(net, dealer, day) & ~((d["pattern"][dealer] >= 0) & (month >= d["onset"][dealer]))
        dealer, day = dealer[ok], day[ok]
        if category == "support":
            amount = _lognormal(rng, 8_000, 0.6, len(dealer))
        else:
            amount = d["base_revenue"][dealer] * 3 * rng.uniform(0.01, 0.03, len(dealer))
        out.append(_spend(day, amount, "retention", category, d["region"][dealer], dealer, d["mgr"][dealer]))
    return out


def _event_costs(net: _Network) -> dict:
    e = net.events
    return _spend(net.cal.days[e["day"]], e["cost"], "retention", "events", e["region"])


# --------------------------------------------------------------------------- prospects


def _prospects(net: _Network, rng: np.random.Generator) -> dict:
    """The acquisition funnel: one signed prospect per dealer signed in the period, the rest lost or open."""
    d = net.dealer
    new = np.flatnonzero(d["signed_m"] >= 0)
    signed = _signed_prospects(d, new, rng)
    others = _unsigned_prospects(net, rng, round(len(new) * (1 / net.conversion - 1)))
    cols = {key: np.concatenate([signed[key], others[key]]) for key in signed}
    order = np.lexsort((cols["region"], cols["first"]))
    cols = {key: value[order] for key, value in cols.items()}
    pr = schema.Prospects
    return {
        pr.prospect_id: _ids("P", 1, len(order), 8),
        pr.region: net.regions[cols["region"]],
        pr.sales_manager_id: _take(net.mgr["id"], cols["mgr"]),
        pr.first_contact_date: cols["first"],
        pr.stage_reached: _take(schema.STAGES, cols["stage"]),
        pr.status: _take(schema.PROSPECT_STATUSES, cols["status"]),
        pr.closed_date: cols["closed"],
        pr.dealer_id: _take(d["id"], cols["dealer"]),
        pr.touches: cols["touches"],
        pr.hours_spent: np.round(cols["hours"], 1),
    }


def _signed_prospects(d: dict, new: np.ndarray, rng: np.random.Generator) -> dict:
    n = len(new)
    touches = rng.integers(8, 31, n)
    lead = np.clip(rng.lognormal(np.log(150), 0.5, n), 30, 720).astype("timedelta64[D]")
    return {
        "region": d["region"][new], "mgr": d["mgr"][new], "first": d["signed"][new] - lead,
        "stage": np.full(n, schema.STAGES.index("signed")), "closed": d["signed"][new],
        "status": np.full(n, schema.PROSPECT_STATUSES.index("signed")),
        "dealer": new, "touches": touches, "hours": touches * rng.uniform(1.5, 4.0, n),
    }  # fmt: skip


def _unsigned_prospects(net: _Network, rng: np.random.Generator, n: int) -> dict:
    """Prospects that were lost or are still open, first contacted from 8 months before the period."""
    cal, d, m = net.cal, net.dealer, net.mgr
    first = cal.days[0] - np.timedelta64(240, "D") + rng.integers(0, len(cal.days) + 240, n).astype("timedelta64[D]")
    stage = rng.choice(3, size=n, p=[0.62, 0.25, 0.13])
    days_to_close = np.array([30, 75, 150])[stage] * rng.lognormal(0, 0.5, n)
    closed = first + np.round(days_to_close).astype("timedelta64[D]")
    is_open = closed > cal.days[-1]  # not decided yet at the end of the period
    region = d["region"][rng.integers(0, net.n, n)]  # prospects are where the dealers are
    mgr = _random_manager_of(region, m["region"], rng)
    touches = np.select(
        [stage == 0, stage == 1], [rng.integers(1, 4, n), rng.integers(2, 7, n)], rng.integers(4, 16, n)
    )
    return {
        "region": region, "mgr": mgr, "first": first, "stage": stage,
        "status": np.where(is_open, schema.PROSPECT_STATUSES.index("open"), schema.PROSPECT_STATUSES.index("lost")),
        "closed": np.where(is_open, np.datetime64("NaT"), closed),
        "dealer": np.full(n, -1), "touches": touches, "hours": touches * rng.uniform(0.5, 3.0, n),
    }  # fmt: skip


def _random_manager_of(region: np.ndarray, mgr_region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(n,) a random manager of each region (-1 for about 10%: prospects nobody owns yet)."""
    order = np.argsort(mgr_region, kind="stable")
    first = np.searchsorted(mgr_region[order], region)
    count = np.searchsorted(mgr_region[order], region, side="right") - first
    pick = order[first + (rng.random(len(region)) * count).astype(np.int64)]
    return np.where(rng.random(len(region)) < 0.9, pick, -1)
