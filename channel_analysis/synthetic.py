"""The demo world: a synthetic dealer network in the data contract's shape, with its planted truth.

``generate_world(dealers=, start=, end=, seed=)`` → :class:`World` (the nine contract tables and
the truth as pandas frames); ``write_demo_data(out, ...)`` writes the same world to
``out/<table>.csv|parquet`` and the truth to the sibling folder ``<out>.truth/``.

How the world is built, in order:

1. **Network** (all in memory, one row per dealer / manager): provinces as regions, sales managers
   of varying diligence, dealers signed over the years and throughout the period (ids follow the
   signing date), their order profile (tier, parts and machine order rates, rhythm, sparse
   orderers), planted problems, regional downturns, events and who attended them.
2. **Activity** (orders, interactions, service requests), generated per chunk of dealers from
   dealer × month matrices so that 100,000 dealers stay near 1 GB of memory; each chunk has its own
   random stream, so the output is byte-identical per seed whatever is done with it.
3. **Books** (expenses, prospects), from the network.

Every random draw comes from ``numpy.random.Generator`` streams keyed by (seed, part, chunk).
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from channel_analysis import schema
from channel_analysis.config import SLA_HOURS
from channel_analysis.errors import ParameterError

DEMO_DEFAULT_DEALERS = 1000
DEMO_DEFAULT_START = "2023-01"
DEMO_DEFAULT_END = "2026-10"
DEMO_DEFAULT_SEED = 7
DEMO_DEFAULT_FORMAT = "csv"
DEMO_FORMATS = ("csv", "parquet")
MIN_DEALERS = 20
MIN_MONTHS = 12
_DAY_BINS = 4096  # resolution of day sampling within a month
CHUNK_DEALERS = 5000  # dealers per activity chunk: bounds memory, and fixes the random streams

PATTERNS = ("stop", "drop", "decline", "calls_spike_then_drop", "no_reorder", "terminate")
STOP, DROP, DECLINE, CALLS_SPIKE, NO_REORDER, TERMINATE = range(len(PATTERNS))
# Share of all dealers planted with each pattern (about 13.5% in all).
_PLANT_SHARE = (0.025, 0.025, 0.025, 0.02, 0.02, 0.02)
_RECENT_MONTHS = 24  # most onsets fall in the last 24 months, where a backtest can see them
_RECENT_SHARE = 0.85

# Chinese New Year, the day the spring-festival dip centres on.
CNY_DATES = {
    2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01", 2023: "2023-01-22",
    2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17", 2027: "2027-02-06",
    2028: "2028-01-26", 2029: "2029-02-13", 2030: "2030-02-03", 2031: "2031-01-23",
    2032: "2032-02-11",
}  # fmt: skip

# (region, abbreviation used in trade names, cities), largest market first.
_PROVINCES = (
    ("山东", "鲁", ("济南", "青岛", "临沂", "潍坊", "济宁", "烟台")),
    ("江苏", "苏", ("南京", "苏州", "徐州", "无锡", "南通", "常州")),
    ("广东", "粤", ("广州", "深圳", "佛山", "东莞", "湛江")),
    ("河南", "豫", ("郑州", "洛阳", "南阳", "新乡", "商丘")),
    ("四川", "川", ("成都", "绵阳", "宜宾", "南充", "达州")),
    ("浙江", "浙", ("杭州", "宁波", "温州", "金华", "台州")),
    ("河北", "冀", ("石家庄", "唐山", "保定", "邯郸", "沧州")),
    ("湖北", "鄂", ("武汉", "襄阳", "宜昌", "荆州", "十堰")),
    ("湖南", "湘", ("长沙", "株洲", "衡阳", "岳阳", "常德")),
    ("安徽", "皖", ("合肥", "芜湖", "阜阳", "蚌埠", "安庆")),
    ("福建", "闽", ("福州", "厦门", "泉州", "漳州")),
    ("陕西", "陕", ("西安", "宝鸡", "咸阳", "榆林")),
    ("辽宁", "辽", ("沈阳", "大连", "鞍山", "锦州")),
    ("江西", "赣", ("南昌", "赣州", "九江", "上饶")),
    ("云南", "滇", ("昆明", "曲靖", "大理", "红河")),
    ("广西", "桂", ("南宁", "柳州", "桂林", "玉林")),
    ("山西", "晋", ("太原", "大同", "长治", "运城")),
    ("贵州", "黔", ("贵阳", "遵义", "六盘水", "毕节")),
    ("内蒙古", "蒙", ("呼和浩特", "包头", "鄂尔多斯", "赤峰")),
    ("新疆", "新", ("乌鲁木齐", "克拉玛依", "库尔勒", "哈密")),
    ("黑龙江", "黑", ("哈尔滨", "大庆", "齐齐哈尔", "牡丹江")),
    ("吉林", "吉", ("长春", "吉林", "四平", "松原")),
    ("重庆", "渝", ("重庆", "万州", "涪陵")),
    ("甘肃", "甘", ("兰州", "天水", "酒泉")),
)
_TRADE_CHARS = "起重力通达盛恒宏鑫隆昌泰安顺华兴利丰汇信诚远腾建工宇航固坤"
_BUSINESS = ("工程机械", "起重设备", "机械设备", "建设机械", "重工机械", "吊装设备")
_SUFFIX = ("有限公司", "有限责任公司", "销售有限公司", "贸易有限公司", "租赁有限公司")
_LONG_BUSINESS = ("工程机械设备销售租赁维修服务", "起重吊装设备销售与技术服务", "建筑工程机械配件销售及售后服务")
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋"
    "蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚华建国志文斌鹏辉宇浩凯健俊帆旭宁龙林欣晨峰海波鑫亮"

_TIERS = ("A", "B", "C")
_TIER_P = (0.15, 0.35, 0.50)
_PARTS_RATE = np.array([11.0, 5.5, 2.7])  # parts orders per month, by tier
_PARTS_MEAN = np.array([40_000.0, 25_000.0, 12_000.0])  # mean parts order, ¥
_MACHINE_RATE = np.array([0.15, 0.06, 0.02])  # machine orders per month
_MACHINE_MEDIAN = 1_100_000.0
_SPARSE_P = np.array([0.03, 0.10, 0.22])
_INBOUND_RATE = np.array([3.0, 2.0, 1.2])  # dealer's calls to the maker per month
_RETURN_P = 0.03  # share of parts orders followed by a return or credit note
_EVENT_UPLIFT = 0.06  # true effect of attending an event on the next three months' orders
_MACHINES = ("汽车起重机", "随车起重机", "履带起重机")
_PARTS = ("配件", "属具")
_PRODUCTS = _MACHINES + _PARTS  # product_line codes index this
_DEPARTMENTS = {
    "order": ("销售内勤部",),
    "payment": ("财务部",),
    "logistics": ("物流部", "仓储部"),
    "support": ("技术服务部", "配件部"),
    "complaint": ("客服中心", "质量部"),
}
_DEPARTMENT_LIST = tuple(dep for p in schema.PROCESSES for dep in _DEPARTMENTS[p])
_PROCESS_P = (0.35, 0.20, 0.20, 0.15, 0.10)  # in the order of schema.PROCESSES
# Interaction types, the last axis of the interaction counts: (kind, direction) codes.
_INTERACTION_TYPES = ((0, 0), (1, 0), (0, 1), (2, 0), (2, 1))  # follow-up call, visit, dealer's call, messages
_SLOWDOWN = 2.8
# (kind, national?, base attendance probability, fixed cost, cost per attendee, month, name template)
_EVENT_KINDS = (
    ("conference", True, 0.35, 300_000, 2_500, 3, "{y}年全国经销商大会"),
    ("annual_meeting", True, 0.25, 200_000, 3_000, 12, "{y}年度经销商年会"),
    ("training", True, 0.10, 50_000, 800, 7, "{y}年全国服务技术培训会"),
    ("forum", False, 0.45, 10_000, 600, 5, "{y}年{r}区域经销商恳谈会"),
    ("social", False, 0.35, 8_000, 500, 9, "{y}年{r}经销商联谊会"),
    ("training", False, 0.40, 6_000, 400, 11, "{y}年{r}产品与维修培训会"),
)


@dataclass
class World:
    """A generated demo world: ``tables`` in the contract's shape, ``truth`` planted in it.

    ``tables``: table name → frame with the contract's columns (dates as datetime64, ids as text).
    ``truth``: ``planted_problems``, ``regional_downturns``, ``dealer_profiles``,
    ``sales_manager_profiles``. ``params``: what ``world.json`` holds.
    """

    tables: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]
    params: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- public API


def generate_world(
    *,
    dealers: int = DEMO_DEFAULT_DEALERS,
    start: str = DEMO_DEFAULT_START,
    end: str = DEMO_DEFAULT_END,
    seed: int = DEMO_DEFAULT_SEED,
) -> World:
    """Generate the demo world in memory (the same data ``write_demo_data`` writes)."""
    net = _build_network(dealers, start, end, seed)
    tables = {}
    for name in schema.TABLES:
        chunks = list(_table_chunks(net, name))
        tables[name] = _to_pandas(pa.concat_tables(chunks) if chunks else _empty(name))
    counts = {name: len(frame) for name, frame in tables.items()}
    return World(tables=tables, truth=_truth_frames(net), params=_params(net, counts))


def write_demo_data(
    out: str | Path,
    *,
    dealers: int = DEMO_DEFAULT_DEALERS,
    start: str = DEMO_DEFAULT_START,
    end: str = DEMO_DEFAULT_END,
    seed: int = DEMO_DEFAULT_SEED,
    fmt: str = DEMO_DEFAULT_FORMAT,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Write a synthetic source into `out` (one file per table: <table>.csv or .parquet) and its planted truth
    beside it, in the sibling folder `<out>.truth/` (never inside `out`). Returns the truth folder path."""
    if fmt not in DEMO_FORMATS:
        raise ParameterError(f"unknown demo-data format {fmt!r}: use one of {', '.join(DEMO_FORMATS)}")
    out = Path(out).resolve()
    truth_dir = truth_dir_for(out)
    _check_no_other_format(out, fmt)
    say = progress or (lambda message: None)
    net = _build_network(dealers, start, end, seed)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name in schema.TABLES:
        counts[name] = _write_table(out / f"{name}.{fmt}", _table_chunks(net, name), name, fmt)
        say(f"{name}: {counts[name]:,} rows")
    _write_truth(truth_dir, net, counts)
    say(f"truth: {truth_dir}")
    return truth_dir


def truth_dir_for(out: str | Path) -> Path:
    """The truth folder of a demo source: the sibling ``<out>.truth/``."""
    out = Path(out).resolve()
    return out.with_name(out.name + ".truth")


# --------------------------------------------------------------------------- parameters and calendar


@dataclass(frozen=True)
class _Calendar:
    """Days and months of the period, with the daily activity weights that shape seasonality.

    ``days`` (D,) datetime64[D]; ``day_month`` (D,) month index; ``month_first`` (M+1,) index of
    each month's first day; ``work_weight`` (D,) daily weight of office work (holidays,
    weekends); ``order_days`` / ``work_days`` (M, _DAY_BINS) day indexes by quantile of the
    month's weights, for orders (also construction seasons) and for office work;
    ``season`` / ``work_season`` (M,) monthly factors of those weights, about 1 on average.
    """

    months: np.ndarray
    days: np.ndarray
    day_month: np.ndarray
    month_first: np.ndarray
    work_weight: np.ndarray
    order_days: np.ndarray
    work_days: np.ndarray
    season: np.ndarray
    work_season: np.ndarray

    @property
    def n_months(self) -> int:
        return len(self.months)


def _parse_month(value: str, what: str) -> np.datetime64:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise ParameterError(f"{what} month {value!r} is not of the form YYYY-MM (e.g. 2026-10)")
    return np.datetime64(value, "M")


def _check_params(dealers: int, start: str, end: str, seed: int) -> tuple[np.datetime64, np.datetime64]:
    m0, m1 = _parse_month(start, "start"), _parse_month(end, "end")
    months = int((m1 - m0).astype(int)) + 1
    if months < MIN_MONTHS:
        raise ParameterError(f"the demo period {start}..{end} has {months} months: give at least {MIN_MONTHS}")
    years = min(CNY_DATES), max(CNY_DATES)
    if m0 < np.datetime64(f"{years[0]}-01") or m1 > np.datetime64(f"{years[1]}-12"):
        raise ParameterError(f"the demo period {start}..{end} must lie within {years[0]}-01..{years[1]}-12")
    if not isinstance(dealers, (int, np.integer)) or dealers < MIN_DEALERS:
        raise ParameterError(f"--dealers {dealers!r}: give a whole number of at least {MIN_DEALERS}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"--seed {seed!r}: give a whole number of 0 or more")
    return m0, m1


def _calendar(m0: np.datetime64, m1: np.datetime64) -> _Calendar:
    """The period's days and monthly factors: spring and autumn building seasons, CNY and holidays."""
    months = np.arange(m0, m1 + 1)
    days = np.arange(m0.astype("datetime64[D]"), (m1 + 1).astype("datetime64[D]"))
    day_month = (days.astype("datetime64[M]") - m0).astype(np.int64)
    month_first = np.searchsorted(day_month, np.arange(len(months) + 1))
    day_of_year = (days - days.astype("datetime64[Y]")).astype(np.int64)
    weekday = (days.astype(np.int64) + 3) % 7  # 0 = Monday; 1970-01-01 was a Thursday
    week = np.select([weekday == 5, weekday == 6], [0.55, 0.25], 1.0)
    building = 1 + 0.25 * np.cos(4 * np.pi * (day_of_year - 105) / 365.25)  # peaks mid-April, mid-October
    work_w = week * _holiday_factor(days)
    order_w = work_w * building
    per_month = 30.44
    season = np.bincount(day_month, order_w) / (order_w.mean() * per_month)
    work_season = np.bincount(day_month, work_w) / (work_w.mean() * per_month)
    order_days, work_days = _day_table(order_w, month_first), _day_table(work_w, month_first)
    return _Calendar(months, days, day_month, month_first, work_w, order_days, work_days, season, work_season)


def _holiday_factor(days: np.ndarray) -> np.ndarray:
    """(D,) activity factor: the spring-festival dip around each year's CNY, May Day, Golden Week."""
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    cny = np.array([np.datetime64(CNY_DATES[y]) for y in range(years.min(), years.max() + 1)])
    offset = (days - cny[years - years.min()]).astype(np.int64)
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    conditions = [
        (offset >= -10) & (offset < -3),  # slowing down before the festival
        (offset >= -3) & (offset <= 6),  # the festival itself
        (offset > 6) & (offset <= 15),  # slow restart after it
        (month == 10) & (dom <= 7),  # Golden Week
        (month == 5) & (dom <= 5),  # May Day
        (month == 1) & (dom == 1),  # New Year's Day
    ]
    return np.select(conditions, [0.6, 0.08, 0.5, 0.35, 0.6, 0.3], 1.0)


def _day_table(weight: np.ndarray, month_first: np.ndarray) -> np.ndarray:
    """(M, _DAY_BINS) inverse of each month's cumulative day weights, sampled at bin centres."""
    cdf = np.cumsum(weight)
    lo = np.concatenate([[0.0], cdf])[month_first[:-1]]
    hi = cdf[month_first[1:] - 1]
    quantile = lo[:, None] + (np.arange(_DAY_BINS) + 0.5) / _DAY_BINS * (hi - lo)[:, None]
    return np.searchsorted(cdf, quantile, side="right").astype(np.int32)


def _sample_days(table: np.ndarray, month: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Day index (n,) within each given month (n,), drawn in proportion to the daily weights."""
    return table[month, rng.integers(0, _DAY_BINS, len(month))]


def _chronological(day: np.ndarray, minute: np.ndarray | None = None) -> np.ndarray:
    """Stable order (n,) by day index, then minute of day: O(n) radix sorts on 16-bit keys."""
    order = np.arange(len(day)) if minute is None else np.argsort(minute.astype(np.int16), kind="stable")
    return order[np.argsort(day[order].astype(np.int16), kind="stable")]


def _rng(seed: int, part: str, chunk: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(part.encode()), chunk])


def _lognormal(rng: np.random.Generator, mean, sigma, size=None) -> np.ndarray:
    """Lognormal draws with the given mean (not median)."""
    return rng.lognormal(np.log(mean) - sigma**2 / 2, sigma, size)


# --------------------------------------------------------------------------- the network


@dataclass
class _Network:
    """Everything generated once for the whole world; dealer arrays are (N,), sorted by signing.

    Month indexes count from the first month of the period (negative: before it). ``mgr`` is a
    manager index (-1: none); ``term_m`` is -1 when the dealer stays. ``pattern`` is an index
    into PATTERNS (-1: none) with ``onset``, ``level`` (order level after onset), ``length``
    (decline months or, for calls_spike_then_drop, months from the spike to the drop) and ``spike``.
    """

    seed: int
    start: str
    end: str
    cal: _Calendar
    regions: np.ndarray
    mgr: dict[str, np.ndarray]
    dealer: dict[str, np.ndarray]
    downturns: pd.DataFrame
    downturn_factor: np.ndarray  # (R, M)
    events: dict[str, np.ndarray]
    attendance: dict[str, np.ndarray]  # sorted by dealer
    slow_departments: tuple[str, ...]
    conversion: float

    @property
    def n(self) -> int:
        return len(self.dealer["id"])


def _build_network(dealers: int, start: str, end: str, seed: int) -> _Network:
    m0, m1 = _check_params(dealers, start, end, seed)
    cal = _calendar(m0, m1)
    n_regions = int(np.clip(round(dealers / 45), 4, len(_PROVINCES)))
    rng = _rng(seed, "network")
    weights = 1 / (np.arange(n_regions) + 2.0) ** 0.8
    region = rng.choice(n_regions, size=dealers, p=weights / weights.sum())
    mgr = _managers(rng, region, n_regions, cal)
    d = _dealers(rng, region, mgr, cal)
    _plant_problems(rng, d, cal.n_months)
    term = np.flatnonzero(d["term_m"] >= 0)
    d["terminated"][term] = cal.days[cal.month_first[d["term_m"][term]] + rng.integers(0, 28, len(term))]
    regions = np.array([p[0] for p in _PROVINCES[:n_regions]])
    downturns, factor = _downturns(rng, regions, np.bincount(region, minlength=n_regions), cal)
    d["name"] = _dealer_names(rng, d["region"], d["tier"], n_regions)
    events, attendance = _events(_rng(seed, "events"), d, regions, cal)
    departments = [dep for deps in _DEPARTMENTS.values() for dep in deps]
    slow = tuple(sorted(rng.choice(departments, size=2, replace=False).tolist()))
    return _Network(
        seed=seed, start=start, end=end, cal=cal, regions=regions, mgr=mgr, dealer=d,
        downturns=downturns, downturn_factor=factor, events=events, attendance=attendance,
        slow_departments=slow, conversion=float(rng.uniform(0.015, 0.022)),
    )  # fmt: skip


def _managers(rng: np.random.Generator, region: np.ndarray, n_regions: int, cal: _Calendar) -> dict[str, np.ndarray]:
    """Sales managers, about one per 25 dealers of a region; arrays (K,). Adds nothing to dealers yet."""
    per_region = np.maximum(1, np.round(np.bincount(region, minlength=n_regions) / 25)).astype(np.int64)
    m_region = np.repeat(np.arange(n_regions), per_region)
    k = len(m_region)
    # diligence: most managers keep the rules nearly always, some often miss
    group = rng.choice(3, size=k, p=[0.4, 0.4, 0.2])
    diligence = np.select([group == 0, group == 1], [rng.beta(40, 1.5, k), rng.beta(8, 3, k)], rng.beta(4, 4, k))
    start_day = cal.days[0]
    hired = start_day - rng.integers(60, 10 * 365, size=k).astype("timedelta64[D]")
    left = np.full(k, np.datetime64("NaT"), dtype="datetime64[D]")
    leaving = rng.random(k) < 0.03
    if k >= 10 and not leaving.any():
        leaving[rng.integers(k)] = True  # at least one departure to show in the scorecard
    months = cal.n_months
    left_month = rng.integers(max(0, months - 9), months - 1, size=k)
    left_day = cal.month_first[left_month] + rng.integers(0, 28, size=k)
    left[leaving] = cal.days[left_day[leaving]]
    width = max(4, len(str(k)))
    return {
        "id": np.array([f"SM{i:0{width}d}" for i in range(1, k + 1)]),
        "name": _person_names(rng, k),
        "region": m_region,
        "diligence": np.clip(diligence, 0.2, 0.995),
        "hired": hired,
        "left": left,
    }


def _person_names(rng: np.random.Generator, k: int) -> np.ndarray:
    surname = rng.choice(list(_SURNAMES), size=k)
    given = rng.choice(list(_GIVEN), size=(k, 2))
    two = rng.random(k) < 0.6
    return np.array([s + g[0] + (g[1] if t else "") for s, g, t in zip(surname, given, two, strict=True)])


def _dealers(rng: np.random.Generator, region: np.ndarray, mgr: dict, cal: _Calendar) -> dict[str, np.ndarray]:
    """Dealers (N,): signing, region, manager, tier and order profile, sorted by signed_date."""
    n, months = len(region), cal.n_months
    new = rng.random(n) < min(0.5, 0.0085 * months)  # share signed during the period
    day_new = rng.choice(len(cal.days), size=n, p=cal.work_weight / cal.work_weight.sum())
    back = (30 + 12 * 365 * rng.random(n) ** 1.5).astype("timedelta64[D]")  # older dealers: up to 12 years back
    signed = np.where(new, cal.days[day_new], cal.days[0] - back)
    order = np.argsort(signed, kind="stable")
    signed, region = signed[order], region[order]
    signed_m = (signed.astype("datetime64[M]") - cal.months[0]).astype(np.int64)
    d = {"signed": signed, "signed_m": signed_m, "region": region}
    d["mgr"] = _assign_managers(rng, region, mgr)
    d["id"] = np.array([f"D{i:0{max(5, len(str(n)))}d}" for i in range(1, n + 1)])
    d.update(_order_profile(rng, n))
    d["diligence"] = np.where(d["mgr"] >= 0, mgr["diligence"][d["mgr"]], 0.0)
    d["term_m"] = np.full(n, -1)
    d["terminated"] = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    return d


def _assign_managers(rng: np.random.Generator, region: np.ndarray, mgr: dict) -> np.ndarray:
    """Manager index (N,) within each dealer's region, uneven loads; about 0.5% have none."""
    out = np.empty(len(region), dtype=np.int64)
    for r in np.unique(region):  # one pass per region: cheap
        members = np.flatnonzero(mgr["region"] == r)
        load = rng.dirichlet(np.full(len(members), 6.0))
        idx = np.flatnonzero(region == r)
        out[idx] = rng.choice(members, size=len(idx), p=load)
    out[rng.random(len(region)) < 0.005] = -1
    return out


def _order_profile(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Per-dealer buying habits (N,): tier, rates, amounts, rhythm, ramp-up, call and service rates."""
    tier = rng.choice(3, size=n, p=_TIER_P)
    sparse = rng.random(n) < _SPARSE_P[tier]
    rhythm = np.where(sparse, rng.integers(3, 6, size=n), np.where(rng.random(n) < 0.2, 2, 1))
    parts_rate = _PARTS_RATE[tier] * _lognormal(rng, 1.0, 0.35, n) * np.where(sparse, 0.5, 1.0)
    parts_mean = _PARTS_MEAN[tier] * _lognormal(rng, 1.0, 0.3, n)
    machine_rate = _MACHINE_RATE[tier] * _lognormal(rng, 1.0, 0.4, n)
    machine_mean = _MACHINE_MEDIAN * np.exp(0.45**2 / 2)
    base = parts_rate * parts_mean + machine_rate * machine_mean
    log_base = np.log(base)
    health = 0.7 * (log_base - log_base.mean()) / log_base.std() + 0.7 * rng.standard_normal(n)
    return {
        "tier": tier, "sparse": sparse, "rhythm": rhythm, "phase": rng.integers(0, rhythm),
        "parts_rate": parts_rate, "parts_mean": parts_mean, "machine_rate": machine_rate,
        "base_revenue": base, "ramp_tau": rng.uniform(2, 10, n),
        "inbound_rate": _INBOUND_RATE[tier] * _lognormal(rng, 1.0, 0.4, n),
        "service_rate": (0.15 + 0.05 * parts_rate) * _lognormal(rng, 1.0, 0.3, n),
        "visit_phase": rng.integers(0, 2, size=n), "health": health,
    }  # fmt: skip


def _dealer_names(rng: np.random.Generator, region: np.ndarray, tier: np.ndarray, n_regions: int) -> np.ndarray:
    """Company names (N,) such as 山东鲁起工程机械有限公司 or 临沂恒通起重设备销售有限公司; a few very long."""
    n = len(region)
    chars = list(_TRADE_CHARS)
    first = rng.choice(chars, size=n)
    abbr = np.array([p[1] for p in _PROVINCES[:n_regions]])[region]
    first = np.where(rng.random(n) < 0.35, abbr, first)
    second = rng.choice(chars, size=n)
    business = rng.choice(_BUSINESS, size=n)
    suffix = rng.choice(_SUFFIX, size=n)
    city_pick = rng.random(n)
    by_province = rng.random(n) < np.where(tier == 0, 0.5, 0.3)  # big dealers often carry the province name
    long_name = rng.random(n) < 0.02
    long_business = rng.choice(_LONG_BUSINESS, size=n)
    names = []
    for i in range(n):  # string assembly per dealer: cheap even at 100,000
        province, _, cities = _PROVINCES[region[i]]
        city = cities[int(city_pick[i] * len(cities))]
        if long_name[i]:
            names.append(f"{province}省{city}市{first[i]}{second[i]}{long_business[i]}有限责任公司")
        else:
            place = province if by_province[i] else city
            names.append(f"{place}{first[i]}{second[i]}{business[i]}{suffix[i]}")
    return np.array(names)


# --------------------------------------------------------------------------- planted truth


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


# --------------------------------------------------------------------------- events


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


# --------------------------------------------------------------------------- activity per chunk


def _table_chunks(net: _Network, name: str) -> Iterator[pa.Table]:
    """The rows of table ``name`` as arrow tables, in file order, ids assigned."""
    if name in _CHUNKED:
        make, prefix, width = _CHUNKED[name]
        next_id = 1
        for c, lo in enumerate(range(0, net.n, CHUNK_DEALERS)):
            s = slice(lo, min(lo + CHUNK_DEALERS, net.n))
            cols = make(net, s, _rng(net.seed, name, c))
            key = schema.key_of(name)[0]
            rows = len(next(iter(cols.values())))
            cols[key] = _ids(prefix, next_id, rows, width)
            next_id += rows
            yield _arrow(name, cols)
    else:
        yield _arrow(name, _WHOLE[name](net, _rng(net.seed, name)))


def _ids(prefix: str, first: int, n: int, width: int) -> pa.Array:
    """Text ids (n,): ``prefix`` + running number zero-padded to ``width``, written as bytes."""
    if first + n - 1 >= 10**width:
        raise ValueError(f"{n:,} ids from {first:,} do not fit {width} digits")
    head = prefix.encode("ascii")
    size = len(head) + width
    text = np.empty((n, size), dtype=np.uint8)
    text[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    numbers = np.arange(first, first + n, dtype=np.int64)
    for j in range(width):  # one pass per digit, most significant first
        text[:, len(head) + j] = numbers // 10 ** (width - 1 - j) % 10 + ord("0")
    offsets = np.arange(0, (n + 1) * size, size, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text)).cast(pa.string())


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


# Chunked tables: generator, id prefix, id width.
_CHUNKED = {
    "orders": (_orders, "O", 9),
    "interactions": (_interactions, "I", 10),
    "service_requests": (_service_requests, "R", 8),
}


# --------------------------------------------------------------------------- whole tables


def _sales_managers(net: _Network, rng: np.random.Generator) -> dict:
    m, sm = net.mgr, schema.SalesManagers
    return {
        sm.sales_manager_id: m["id"],
        sm.name: m["name"],
        sm.region: net.regions[m["region"]],
        sm.hired_date: m["hired"],
        sm.left_date: m["left"],
    }


def _dealer_table(net: _Network, rng: np.random.Generator) -> dict:
    d, dl = net.dealer, schema.Dealers
    return {
        dl.dealer_id: d["id"],
        dl.dealer_name: d["name"],
        dl.region: net.regions[d["region"]],
        dl.tier: np.array(_TIERS)[d["tier"]],
        dl.sales_manager_id: _take(net.mgr["id"], d["mgr"]),
        dl.signed_date: d["signed"],
        dl.terminated_date: d["terminated"],
    }


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


def _take(values, index: np.ndarray) -> pa.Array:
    """``values[index]`` as an arrow string array, null where ``index`` < 0 (fast for text columns)."""
    return pa.array(np.asarray(values, dtype=str)).take(pa.array(np.maximum(index, 0), mask=index < 0))


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


_WHOLE = {
    "sales_managers": _sales_managers,
    "dealers": _dealer_table,
    "expenses": _expenses,
    "prospects": _prospects,
    "events": _events_table,
    "event_attendance": _attendance_table,
}


# --------------------------------------------------------------------------- arrow, files, truth


def _arrow_type(table: str, column: str) -> pa.DataType:
    kind = schema.kind_of(table, column)
    return {
        schema.DATE: pa.date32(),
        schema.TIMESTAMP: pa.timestamp("s"),
        schema.NUMBER: pa.float64(),
        schema.INTEGER: pa.int64(),
        schema.BOOLEAN: pa.bool_(),
    }.get(kind, pa.string())


def _arrow_schema(table: str) -> pa.Schema:
    return pa.schema([(c, _arrow_type(table, c)) for c in schema.columns_of(table)])


def _arrow(table: str, cols: dict) -> pa.Table:
    """Columns (numpy or arrow arrays) → arrow table in the contract's column order and types."""
    target = _arrow_schema(table)
    arrays = []
    for f in target:
        value = cols[f.name]
        if isinstance(value, np.ndarray) and value.dtype.kind == "M":  # NaT becomes null
            value = value.astype("datetime64[D]" if f.type == pa.date32() else "datetime64[s]")
        if not isinstance(value, pa.Array):
            value = pa.array(value, from_pandas=True)  # NaN becomes null
        arrays.append(value.cast(f.type))
    return pa.Table.from_arrays(arrays, schema=target)


def _empty(table: str) -> pa.Table:
    return _arrow_schema(table).empty_table()


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    mapping = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    return table.to_pandas(types_mapper=mapping.get, date_as_object=False)


def _check_no_other_format(out: Path, fmt: str) -> None:
    """Refuse to leave two files for one table (say orders.csv and orders.parquet) in ``out``."""
    clash = sorted(
        str(out / f"{name}.{ext}")
        for name in schema.TABLES
        for ext in ("csv", "parquet", "xlsx")
        if ext != fmt and (out / f"{name}.{ext}").exists()
    )
    if (out / "dealer_data.xlsx").exists():
        clash.append(str(out / "dealer_data.xlsx"))
    if clash:
        raise ParameterError(
            f"{out} already holds tables in another format ({', '.join(clash)}): "
            "remove them or choose another --out, since two files for one table make a source unusable"
        )


def _write_table(path: Path, chunks: Iterator[pa.Table], name: str, fmt: str) -> int:
    """Stream ``chunks`` into one CSV (UTF-8, ISO dates, minute timestamps) or Parquet file; returns rows."""
    rows = 0
    target = _arrow_schema(name)
    if fmt == "parquet":
        options = {
            "compression": "zstd",
            "compression_level": 1,
            "use_dictionary": [c for c in target.names if c not in schema.key_of(name)],  # ids are unique
            "write_statistics": [schema.date_column(name)] if schema.date_column(name) else False,
        }
        with pq.ParquetWriter(path, target, **options) as writer:
            for chunk in chunks:
                writer.write_table(chunk, row_group_size=1_000_000)
                rows += chunk.num_rows
        return rows
    csv_schema = pa.schema([(f.name, pa.string() if pa.types.is_timestamp(f.type) else f.type) for f in target])
    with open(path, "wb") as sink:
        sink.write((",".join(target.names) + "\n").encode("utf-8"))
        options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
        with pa_csv.CSVWriter(sink, csv_schema, write_options=options) as writer:
            for chunk in chunks:
                writer.write_table(_csv_ready(chunk, csv_schema))
                rows += chunk.num_rows
    return rows


def _csv_ready(chunk: pa.Table, csv_schema: pa.Schema) -> pa.Table:
    """Timestamps as ``2026-10-31 14:05`` text; everything else as arrow writes it."""
    arrays = [
        pc.strftime(col, format="%Y-%m-%d %H:%M") if pa.types.is_timestamp(col.type) else col for col in chunk.columns
    ]
    return pa.Table.from_arrays(arrays, schema=csv_schema)


def _truth_frames(net: _Network) -> dict[str, pd.DataFrame]:
    """planted_problems, regional_downturns, dealer_profiles, sales_manager_profiles."""
    return {
        "planted_problems": _planted_frame(net),
        "regional_downturns": net.downturns.copy(),
        "dealer_profiles": _profile_frame(net),
        "sales_manager_profiles": _manager_frame(net),
    }


def _planted_frame(net: _Network) -> pd.DataFrame:
    """One row per planted dealer: dealer_id, pattern, onset_month (YYYY-MM), detail."""
    d, months = net.dealer, net.cal.months
    rows = []
    for i in np.flatnonzero(d["pattern"] >= 0):  # about 13% of dealers: a plain loop is fine
        p, onset = int(d["pattern"][i]), int(d["onset"][i])
        rows.append((d["id"][i], PATTERNS[p], str(months[onset]), _detail(net, i, p, onset)))
    return pd.DataFrame(rows, columns=["dealer_id", "pattern", "onset_month", "detail"])


def _detail(net: _Network, i: int, p: int, onset: int) -> str:
    d, months = net.dealer, net.cal.months
    level = f"{d['level'][i]:.0%}"
    if p == STOP:
        return "orders stop completely"
    if p == DROP:
        return f"orders fall to about {level} of normal"
    if p == DECLINE:
        return f"orders decline gradually to about {level} of normal over {d['length'][i]} months"
    if p == CALLS_SPIKE:
        spike = f"inbound calls x{d['spike'][i]:.1f} in {months[onset]}..{months[onset + 1]}"
        return f"{spike}; orders fall to about {level} from {months[onset + d['length'][i]]}"
    if p == NO_REORDER:
        return f"signed {d['signed'][i]}: first batch order only, never reorders"
    return f"orders stop; terminated {d['terminated'][i]}"


def _profile_frame(net: _Network) -> pd.DataFrame:
    d = net.dealer
    pattern = np.array(PATTERNS + ("",))[d["pattern"]]  # -1 picks the trailing ""
    return pd.DataFrame(
        {
            "dealer_id": d["id"],
            "region": net.regions[d["region"]],
            "tier": np.array(_TIERS)[d["tier"]],
            "sales_manager_id": np.where(d["mgr"] >= 0, net.mgr["id"][np.maximum(d["mgr"], 0)], ""),
            "signed_date": d["signed"].astype(str),
            "base_monthly_revenue": np.round(d["base_revenue"], 0),
            "order_rhythm_months": d["rhythm"],
            "is_sparse": d["sparse"],
            "parts_orders_per_month": np.round(d["parts_rate"], 3),
            "parts_order_mean": np.round(d["parts_mean"], 0),
            "machine_orders_per_month": np.round(d["machine_rate"], 4),
            "inbound_calls_per_month": np.round(d["inbound_rate"], 3),
            "ramp_months": np.round(d["ramp_tau"], 2),
            "manager_diligence": np.round(d["diligence"], 3),
            "attendance_propensity": np.round(d["health"], 3),
            "planted_pattern": pattern,
        }
    )


def _manager_frame(net: _Network) -> pd.DataFrame:
    m, d = net.mgr, net.dealer
    left = m["left"].astype(str)
    return pd.DataFrame(
        {
            "sales_manager_id": m["id"],
            "region": net.regions[m["region"]],
            "diligence": np.round(m["diligence"], 3),
            "dealers": np.bincount(d["mgr"][d["mgr"] >= 0], minlength=len(m["id"])),
            "left_date": np.where(left == "NaT", "", left),
        }
    )


def _params(net: _Network, counts: dict[str, int]) -> dict:
    """What world.json records: the parameters, row counts and the world's hidden settings."""
    planted = np.bincount(net.dealer["pattern"][net.dealer["pattern"] >= 0], minlength=len(PATTERNS))
    years = range(int(str(net.cal.months[0])[:4]), int(str(net.cal.months[-1])[:4]) + 1)
    return {
        "generator": "channel_analysis.synthetic",
        "seed": int(net.seed),
        "dealers": int(net.n),
        "start": net.start,
        "end": net.end,
        "counts": counts,
        "planted_problems": dict(zip(PATTERNS, planted.tolist(), strict=True)),
        "regions": net.regions.tolist(),
        "sales_managers": int(len(net.mgr["id"])),
        "cny_dates": [CNY_DATES[y] for y in years],
        "slow_departments": list(net.slow_departments),
        "slow_department_factor": _SLOWDOWN,
        "event_order_uplift": {"factor": 1 + _EVENT_UPLIFT, "months_after": 3},
        "prospect_conversion": round(net.conversion, 4),
        "return_share_of_parts_orders": _RETURN_P,
    }


def _write_truth(truth_dir: Path, net: _Network, counts: dict[str, int]) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in _truth_frames(net).items():
        frame.to_csv(truth_dir / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
    text = json.dumps(_params(net, counts), ensure_ascii=False, indent=2)
    (truth_dir / "world.json").write_text(text + "\n", encoding="utf-8")
