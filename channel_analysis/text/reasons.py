"""The early warning's sentences in the report's language.

The detectors write each alert's ``reason`` and each dealer's ``why_changed`` in English
(the contract's CSV files keep them so). A Chinese report shows them in Chinese:
:func:`alert_reason` recognises every sentence :mod:`channel_analysis.early_warning.detect`
writes and rewrites it with the same figures; a sentence it does not know is shown as
written, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from channel_analysis.text.format import compact_money
from channel_analysis.text.labels import check_lang, label

_NUM = r"-?[\d,.]+"
_MONEY = r"¥-?[\d.]+[kMB]?"
_PCT = r"[+-]\d+%"


def _months_zh(text: str) -> str:
    """``month`` / ``3 months`` (as detect writes them) → ``1个月`` / ``3个月``."""
    return "1个月" if text == "month" else text.replace(" months", "个月")


def _money_zh(text: str) -> str:
    """``¥1.2M`` / ``¥350k`` / ``¥950`` → ``¥120万`` / ``¥35万`` / ``¥950``."""

    match = re.fullmatch(r"¥(-?[\d.]+)([kMB]?)", text)
    if not match:
        return text
    value = float(match[1]) * {"": 1, "k": 1e3, "M": 1e6, "B": 1e9}[match[2]]
    return compact_money(value, "¥", "zh")


def _chance_zh(text: str | None) -> str:
    """``1.25%`` → ``仅为1.25%``; no figure (the reason said "under a 0.01% chance") → ``不足0.01%``."""
    return "不足0.01%" if text is None or text == "0.00%" else f"仅为{text}"


_ZH: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (
        re.compile(rf"no order since (?P<last>\d{{4}}-\d{{2}}) \((?P<n>\d+) months\); it ordered in (?P<share>\d+%) "
                   rf"of the (?P<k>\d+) months before, so a gap this long had (?:a (?P<p>[\d.]+%) chance|under a 0\.01% chance); "
                   rf"dealers in "
                   rf"(?P<region>.+?) (?P<pct>{_PCT}) over the last 3 months"),
        lambda m: (f"自{m['last']}起未再进货（已{m['n']}个月）；此前{m['k']}个月中有{m['share']}的月份进货，"
                   f"出现这么长空档的概率{_chance_zh(m['p'])}；{m['region']}经销商近3个月进货{m['pct']}"),
    ),
    (
        re.compile(rf"(?P<a>{_NUM}) orders for (?P<m1>{_MONEY}) in the last (?P<w>month|\d+ months) against "
                   rf"(?P<b>{_NUM}) for (?P<m2>{_MONEY}) expected from its own history; dealers in (?P<region>.+?) "
                   rf"(?P<pct>{_PCT}) over the same months"),
        lambda m: (f"近{_months_zh(m['w'])}进货{m['a']}笔、{_money_zh(m['m1'])}，按其自身历史预计{m['b']}笔、"
                   f"{_money_zh(m['m2'])}；同期{m['region']}经销商进货{m['pct']}"),
    ),
    (
        re.compile(rf"(?P<a>{_NUM}) calls from the dealer in the last (?P<w>month|\d+ months) against about "
                   rf"(?P<x>{_NUM}) usual: find out what it needs"),
        lambda m: f"近{_months_zh(m['w'])}该经销商来电{m['a']}次，平时约{m['x']}次：请了解其需求",
    ),
    (
        re.compile(rf"(?P<a>{_NUM}) calls from the dealer in the last 3 months against about (?P<b>{_NUM}) usual: "
                   rf"it has gone quiet"),
        lambda m: f"近3个月该经销商来电{m['a']}次，平时约{m['b']}次：已明显沉寂",
    ),
    (
        re.compile(rf"orders in the last 6 months (?P<pct>{_PCT}) against its own baseline, far below dealers of "
                   rf"the same region and tier \(z = (?P<z>{_NUM})\)"),
        lambda m: f"近6个月订单较自身基线{m['pct']}，远低于同区域、同等级的经销商（z = {m['z']}）",
    ),
    (
        re.compile(r"only the first order, (?P<g>\d+) months ago, and no reorder since: visit and find out why"),
        lambda m: f"仅有{m['g']}个月前的首单，此后未再复购：请上门了解原因",
    ),
]


def alert_reason(reason: str, lang: str = "en") -> str:
    """An alert's ``reason`` in ``lang``; an unknown sentence comes back as written."""
    if check_lang(lang) == "en" or not isinstance(reason, str):
        return reason
    for pattern, zh in _ZH:
        match = pattern.fullmatch(reason.strip())
        if match:
            return zh(match)
    return reason


def knows_reason(reason: str) -> bool:
    """True when :func:`alert_reason` can translate ``reason``."""
    return any(pattern.fullmatch(reason.strip()) for pattern, _ in _ZH)


_COMPONENT = re.compile(r"(?P<name>[a-z_]+) (?P<move>[+-]\d+)")


def why_changed(text: str, lang: str = "en") -> str:
    """``"recency -12, level -3"`` → ``"Recency −12, Level −3"`` / ``"最近进货 −12，进货水平 −3"``;
    ``new this month`` and ``left the network`` translated; anything else as written."""
    check_lang(lang)
    if not isinstance(text, str) or not text:
        return "" if not isinstance(text, str) else text
    if text in ("new this month", "left the network"):
        return label(text.replace(" ", "_"), lang)
    parts = [_COMPONENT.fullmatch(part.strip()) for part in text.split(",")]
    if not all(parts):
        return text
    shown = [f"{label('component_' + m['name'], lang)} {m['move'].replace('-', '−')}" for m in parts]
    return ("，" if lang == "zh" else ", ").join(shown)
