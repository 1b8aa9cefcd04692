"""The network: regions (provinces), sales managers, dealers with their order profiles and names.

``_build_network(dealers, start, end, seed)`` → :class:`_Network`, everything generated once for
the whole world: one row per manager and per dealer (dealers sorted by signing), with the planted
problems and downturns of :mod:`.planted` and the events of :mod:`.events`. Also the
sales_managers and dealers tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from channel_analysis import schema
from channel_analysis.synthetic.arrow import _take
from channel_analysis.synthetic.calendar import _Calendar, _calendar, _check_params, _lognormal, _rng
from channel_analysis.synthetic.events import _events
from channel_analysis.synthetic.planted import _downturns, _plant_problems

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
_DEPARTMENTS = {
    "order": ("销售内勤部",),
    "payment": ("财务部",),
    "logistics": ("物流部", "仓储部"),
    "support": ("技术服务部", "配件部"),
    "complaint": ("客服中心", "质量部"),
}


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


# --------------------------------------------------------------------------- the network's tables


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
