"""Events held in the period (national conferences, regional forums, trainings) and who attends.

``_events`` → events (E,) and attendance (A,): healthy dealers come more, troubled ones stay
away. Part of the network, since attending lifts the next months' orders; the events and
event_attendance tables are built in :mod:`.business`.
"""

from __future__ import annotations

import numpy as np

from channel_analysis.synthetic.calendar import _Calendar, _lognormal, _sample_days

# (kind, national?, base attendance probability, fixed cost, cost per attendee, month, name template)
_EVENT_KINDS = (
    ("conference", True, 0.35, 300_000, 2_500, 3, "{y}年全国经销商大会"),
    ("annual_meeting", True, 0.25, 200_000, 3_000, 12, "{y}年度经销商年会"),
    ("training", True, 0.10, 50_000, 800, 7, "{y}年全国服务技术培训会"),
    ("forum", False, 0.45, 10_000, 600, 5, "{y}年{r}区域经销商恳谈会"),
    ("social", False, 0.35, 8_000, 500, 9, "{y}年{r}经销商联谊会"),
    ("training", False, 0.40, 6_000, 400, 11, "{y}年{r}产品与维修培训会"),
)


def _events(rng: np.random.Generator, d: dict, regions: np.ndarray, cal: _Calendar):
    """Events (E,) held in the period, and attendance (A,) self-selected by dealer health."""
    sizes = np.bincount(d["region"], minlength=len(regions))
    kind, region, month, group, name = _event_plan(rng, sizes, regions, cal)
    day = _sample_days(cal.work_days, month, rng)
    order = np.lexsort((region, kind, day))
    events = {
        "kind": kind[order],
        "region": region[order],
        "day": day[order],
        "name": name[order],
        "group": group[order],
    }
    attendance = _attendance(rng, d, events, cal)
    counts = np.bincount(attendance["event"], minlength=len(order))
    fixed = np.array([e[3] for e in _EVENT_KINDS])[events["kind"]]
    per_head = np.array([e[4] for e in _EVENT_KINDS])[events["kind"]]
    events["cost"] = np.round((fixed + per_head * counts) * _lognormal(rng, 1.0, 0.1, len(order)), -2)
    return events, attendance


def _event_plan(rng: np.random.Generator, sizes: np.ndarray, regions: np.ndarray, cal: _Calendar):
    """Which events are held: arrays (E,) of kind, region (-1: national), month index, group, name.

    A group is one kind of event in one region (or nationally) in one year; big regions hold
    several forums or trainings a year, and a dealer goes to at most one of its group.
    """
    rows, group = [], 0
    first_year, last_year = int(str(cal.months[0])[:4]), int(str(cal.months[-1])[:4])
    for y in range(first_year, last_year + 1):  # a few hundred (kind, region, year) triples: cheap
        for k, (_, national, _, _, _, month, template) in enumerate(_EVENT_KINDS):
            for r in [-1] if national else range(len(regions)):
                per_year = 1 if national else 1 + sizes[r] // (100 if _EVENT_KINDS[k][0] == "training" else 150)
                months = [month] if per_year == 1 else rng.integers(1, 13, per_year).tolist()
                for m in months:
                    t = int((np.datetime64(f"{y}-{m:02d}") - cal.months[0]).astype(np.int64))
                    if 0 <= t < cal.n_months:
                        rows.append((k, r, t, group, template.format(y=y, r=regions[r] if r >= 0 else "")))
                group += 1
    kind, region, month, groups = (np.array([row[i] for row in rows], dtype=np.int64) for i in range(4))
    return kind, region, month, groups, np.array([row[4] for row in rows], dtype=str)


def _attendance(rng: np.random.Generator, d: dict, events: dict, cal: _Calendar) -> dict[str, np.ndarray]:
    """Attendance rows (A,) sorted by dealer: healthy dealers come more; troubled ones stay away."""
    base = np.array([e[2] for e in _EVENT_KINDS])
    propensity = np.exp(0.7 * d["health"] - 0.245)  # mean 1 for health ~ N(0, 1)
    members = {r: np.flatnonzero(d["region"] == r) for r in np.unique(d["region"])}
    members[-1] = np.arange(len(d["signed"]))
    order = np.argsort(events["group"], kind="stable")
    dealer_parts, event_parts = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for group in np.split(order, np.flatnonzero(np.diff(events["group"][order])) + 1):  # a few hundred groups
        invited = members.get(int(events["region"][group[0]]), np.zeros(0, dtype=np.int64))
        event = group[(rng.random(len(invited)) * len(group)).astype(np.int64)]  # the one a dealer would pick
        day, month = cal.days[events["day"][event]], cal.day_month[events["day"][event]]
        in_network = (d["signed"][invited] <= day) & ~(d["terminated"][invited] <= day)
        troubled = (d["pattern"][invited] >= 0) & (d["onset"][invited] <= month)
        p = base[events["kind"][group[0]]] * propensity[invited] * np.where(troubled, 0.3, 1.0)
        go = in_network & (rng.random(len(invited)) < np.minimum(p, 0.95))
        dealer_parts.append(invited[go])
        event_parts.append(event[go])
    dealer, event = np.concatenate(dealer_parts), np.concatenate(event_parts)
    order = np.lexsort((event, dealer))
    return {"dealer": dealer[order], "event": event[order], "month": cal.day_month[events["day"][event[order]]]}
