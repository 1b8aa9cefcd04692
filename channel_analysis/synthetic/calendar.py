"""The period and its calendar: checked parameters, months and days, seasons, CNY and holidays.

``_check_params`` → the first and last month; ``_calendar`` → :class:`_Calendar`, the period's days
with the daily weights that shape seasonality (spring and autumn building seasons, the
spring-festival dip around each year's CNY, May Day, Golden Week, weekends) and tables to draw a
day of a month by those weights. Also the random streams every stage draws from.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np

from channel_analysis.errors import ParameterError

MIN_DEALERS = 20
MIN_MONTHS = 12
_DAY_BINS = 4096  # resolution of day sampling within a month

# Chinese New Year, the day the spring-festival dip centres on.
CNY_DATES = {
    2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01", 2023: "2023-01-22",
    2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17", 2027: "2027-02-06",
    2028: "2028-01-26", 2029: "2029-02-13", 2030: "2030-02-03", 2031: "2031-01-23",
    2032: "2032-02-11",
}  # fmt: skip


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
