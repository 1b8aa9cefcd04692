"""Panel → one dealer's orders month by month against what its own past leads one to expect:
the series a control chart of the action list draws (actual, expected, band).

The expectation follows the detectors' idea (see :mod:`.signals`) in a form a manager can
read off a chart: the dealer's ordering rate in a *reference year* (the detectors'
baseline, or the year up to its last order for a dealer that stopped), scaled month by
month by what the dealers of its region did against their own reference year, summed
over a rolling window (3 months: one crane order makes a single month noisy). The band is
the range the dealer's own orders kept to around that expectation during the reference
year (10th to 90th percentile by default): a dealer whose orders come in bursts gets a wide
band, a steady one a narrow band.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from channel_analysis import schema
from channel_analysis.panel import panel_as_of, report_month

P = schema.Panel
SERIES_COLUMNS = ["month", "dealer_id", "orders_3m", "expected", "lower", "upper", "reference", "below_band"]
PANEL_COLUMNS = [P.dealer_id, P.month, P.region, P.months_since_signed, P.in_network, P.order_count]  # what it reads
_SHRINK = 10.0  # a region counts k dealers' worth of network evidence (as in signals._market_factor)
_MIN_REFERENCE_MONTHS = 6


def order_control_series(
    panel: pd.DataFrame,
    dealer_id: str,
    *,
    as_of: str | pd.Period,
    months: int = 24,
    reference_end: str | pd.Period | None = None,
    reference_months: int = 12,
    window: int = 3,
    coverage: float = 0.8,
) -> pd.DataFrame:
    """panel, one dealer → one row per month from the start of its reference year (at the
    latest ``months`` before M) to M: month (first day), dealer_id, orders_3m (positive orders
    in the ``window`` months ending the month), expected, lower, upper, reference (the month
    is in the reference year), below_band (orders_3m fell under the band).

    The reference year is the ``reference_months`` ending ``reference_end``: by default M−3,
    the end of the detectors' baseline (the months after it are the ones they judge); for a
    dealer that stopped ordering, its last ordering month, so that the silence is not part of
    its own yardstick. expected = r × Σ f over the window, where r is the dealer's positive
    orders per month in the network (past its signing month) over the reference year, and f
    the factor of its region's orders per dealer in a month (the dealer itself left out)
    against the region's mean over the reference year (shrunk towards the network for small
    regions). The band is expected ×
    the central ``coverage`` range of actual / expected over the reference year: where the
    dealer's own orders were, 8 times in 10 by default, against its expectation. expected and
    the band are empty when the dealer was in the network for fewer than 6 reference months.
    """
    month = report_month(as_of)
    ref_end = month - 3 if reference_end is None else min(report_month(reference_end), month)
    ref_months = pd.period_range(ref_end - reference_months + 1, ref_end, freq="M")
    chart = pd.period_range(min(month - months + 1, ref_months[0]), month, freq="M")
    first = chart[0] - (window - 1)
    rows = panel_as_of(panel, as_of=month)
    rows = rows[rows[P.month] >= first.start_time]
    periods = pd.period_range(first, month, freq="M")
    stamps = periods.to_timestamp()
    eligible = rows[P.in_network] & (rows[P.months_since_signed] >= 1)

    mine = rows[rows[P.dealer_id] == dealer_id]
    region = mine[P.region].iloc[-1] if len(mine) else None
    orders = mine.set_index(P.month)[P.order_count].reindex(stamps).astype(float)  # NaN: no panel row (not signed)
    mine_ok = mine[eligible[mine.index]].set_index(P.month)[P.order_count].reindex(stamps)  # NaN: not eligible

    # orders per eligible dealer by month: the region's, shrunk towards the network's; the dealer
    # itself left out, so that its own fall does not lower its expectation
    ok = rows[eligible & (rows[P.dealer_id] != dealer_id)]
    net = ok.groupby(P.month)[P.order_count].agg(["sum", "size"]).reindex(stamps, fill_value=0)
    net_rate = net["sum"] / net["size"].where(net["size"] > 0)
    reg = ok[ok[P.region] == region].groupby(P.month)[P.order_count].agg(["sum", "size"]).reindex(stamps, fill_value=0)
    reg_rate = (reg["sum"] + _SHRINK * net_rate) / (reg["size"] + _SHRINK)

    reference = pd.Series(stamps.isin(ref_months.to_timestamp()), index=stamps)
    factor = reg_rate / reg_rate[reference].mean()
    reference_orders = mine_ok[reference]
    enough = reference_orders.notna().sum() >= _MIN_REFERENCE_MONTHS
    rate = reference_orders.mean() if enough else np.nan
    expected = rate * factor.fillna(1.0).rolling(window).sum()
    actual = orders.rolling(window).sum()
    ratio = (actual / expected.where(expected > 0))[reference].dropna()
    tail = (1 - coverage) / 2
    low, high = (ratio.quantile([tail, 1 - tail]) if len(ratio) >= 3 else (np.nan, np.nan))
    lower, upper = expected * low, expected * high
    out = pd.DataFrame(
        {
            "month": stamps,
            "dealer_id": dealer_id,
            "orders_3m": actual,
            "expected": expected,
            "lower": lower,
            "upper": upper,
            "reference": reference,
            "below_band": (actual < lower).fillna(False),
        }
    )
    return out[out["month"] >= chart[0].start_time].reset_index(drop=True)[SERIES_COLUMNS]
