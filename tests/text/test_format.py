"""The one formatter (channel_analysis.text.format): every figure written the same way on every
surface, in English and Chinese, each case checkable by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channel_analysis.text.format import text_for

EN, ZH = text_for("en"), text_for("zh")


@pytest.mark.parametrize(
    ("value", "en", "zh"),
    [
        (0, "¥0", "¥0"),
        (950, "¥950", "¥950"),
        (7_900, "¥7,900", "¥7,900"),  # under ¥10,000 in full
        (12_345, "¥12.3k", "¥1.23万"),  # from ¥10,000 on in units, three significant digits
        (350_000, "¥350k", "¥35万"),
        (955_400, "¥955k", "¥95.5万"),
        (999_600, "¥1M", "¥100万"),  # 999.6k rounds to the next unit
        (1_234_567, "¥1.23M", "¥123万"),
        (2_000_000, "¥2M", "¥200万"),  # no trailing zero (CLDR's compact forms)
        (19_562_190, "¥19.6M", "¥1956万"),
        (170_000_000, "¥170M", "¥1.7亿"),
        (2.5e9, "¥2.5B", "¥25亿"),
        (1.88e11, "¥188B", "¥1880亿"),
        (-25_000, "-¥25k", "-¥2.5万"),
        (-0.2, "¥0", "¥0"),  # no "-¥0"
    ],
)
def test_money_is_compact_as_each_language_counts(value, en, zh):
    assert EN.money(value) == en
    assert ZH.money(value) == zh


def test_missing_figures_show_a_dash_everywhere():
    for t in (EN, ZH):
        assert {t.money(math.nan), t.count(None), t.share(float("nan")), t.change(1, 0), t.points(0.5, None),
                t.delta(None, 3), t.p_value(math.nan), t.value("revenue", math.nan)} == {"—"}


@pytest.mark.parametrize(
    ("call", "en", "zh"),
    [
        (lambda t: t.count(2422), "2,422", "2,422"),
        (lambda t: t.share(0.734), "73.4%", "73.4%"),
        (lambda t: t.share(0.734, 0), "73%", "73%"),
        (lambda t: t.change(106, 100), "+6%", "+6%"),  # relative change
        (lambda t: t.change(96, 100), "-4%", "-4%"),  # the locale's minus sign
        (lambda t: t.change(100.2, 100), "±0%", "±0%"),  # rounds to nothing
        (lambda t: t.points(0.823, 0.81), "+1.3 pts", "+1.3个百分点"),  # a share's change in points
        (lambda t: t.delta(5, 7), "-2", "-2"),
        (lambda t: t.money_delta(1.2e6, 0), "+¥1.2M", "+¥120万"),
        (lambda t: t.month("2026-09"), "Sep 2026", "2026年9月"),
        (lambda t: t.p_value(0.0041), "0.004", "0.004"),
        (lambda t: t.p_value(0.0004), "<0.001", "<0.001"),
        (lambda t: t.target("first_order_only_share", 0.04), "≤ 4%", "≤ 4%"),
        (lambda t: t.target("sla_compliance", 0.95), "95%", "95%"),
    ],
)
def test_counts_shares_changes_points_and_months(call, en, zh):
    assert call(EN) == en
    assert call(ZH) == zh


def test_a_kpi_is_written_by_the_kind_its_definition_gives_it():
    assert EN.value("revenue", 1_234_567) == "¥1.23M"  # money
    assert EN.value("callback_coverage", 0.787) == "78.7%"  # share
    assert EN.value("dealers_in_network", 980) == "980"  # count
    assert EN.metric_change("callback_coverage", 0.787, 0.807) == "-2.0 pts"  # shares change in points
    assert EN.metric_change("revenue", 106, 100) == "+6%"


@pytest.mark.parametrize(("n", "en"), [(1, "1 dealer"), (0, "0 dealers"), (21, "21 dealers"), (1001, "1,001 dealers"),
                                       (1.5, "2 dealers")])
def test_plural_forms_come_from_the_languages_rules(n, en):
    assert EN._fill.format("{n:count:dealer|dealers}", n=n) == en
    assert ZH._fill.format("{n:count}家", n=n) == ZH.count(n) + "家"  # Chinese has one form


def test_a_sentence_names_how_each_figure_is_shown():
    filled = EN._fill.format("{v:money} {s:share} {r:pct} {c:change} {p:points} {d:delta} {m:month} {x:number:2} {n}",
                             v=123_456, s=0.5, r=-0.004, c=(5, 4), p=(0.6, 0.5), d=(3, 3), m="2026-01", x=3.14159,
                             n=12_345)  # fmt: skip
    assert filled == "¥123k 50.0% ±0% +25% +10.0 pts ±0 Jan 2026 3.14 12,345"


def test_axis_ticks_are_exact_and_neighbours_differ():
    assert EN.money_ticks([0, 2_500, 5_000, 7_500, 10_000]) == ["¥0", "¥2.5k", "¥5k", "¥7.5k", "¥10k"]
    assert ZH.money_ticks([0, 5e7, 1e8, 1.5e8]) == ["¥0", "¥5000万", "¥1亿", "¥1.5亿"]
    assert EN.share_ticks([0.0, 0.025, 0.05]) == ["0.0%", "2.5%", "5.0%"]
    assert EN.share_ticks([-0.0, 0.5, 1.0]) == ["0%", "50%", "100%"]  # no "-0%"


def test_native_charts_get_a_number_format_of_the_same_units():
    assert EN.chart_money_format([3.2e8]) == '[>=1000000]"¥"#,##0.0,,"M";[>=1000]"¥"#,##0,"k";"¥"#,##0'
    assert EN.chart_money_format([1.8e10]).startswith('[>=1000000000]"¥"#,##0.0,,,"B"')  # an axis to ¥20B
    assert ZH.chart_money_format([5e7]).startswith('[>=10000000]"¥"0\\.00,,"亿"')  # not ¥5000.0万
    assert ZH.chart_money_format([2e5]) == '[>=10000]"¥"0\\.0,"万";"¥"#,##0'


@given(st.floats(min_value=-1e13, max_value=1e13, allow_nan=False))
def test_compact_money_reads_back_close_to_the_amount(value):
    """Property: the compact text, read back in its unit, is within half a unit of its last digit."""
    for t, units in ((EN, {"k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}), (ZH, {"万": 1e4, "亿": 1e8, "万亿": 1e12})):
        text = t.money(value)
        assert not text.startswith("-¥0") and text.count("¥") == 1
        number = text.replace("-", "").replace("¥", "").replace(",", "")
        unit = next((u for u in sorted(units, key=len, reverse=True) if number.endswith(u)), "")
        digits = number.removesuffix(unit)
        scale = units.get(unit, 1)
        decimals = len(digits.partition(".")[2])
        shown = float(digits) * scale * (-1 if text.startswith("-") else 1)
        assert abs(shown - value) <= 0.5 * scale * 10**-decimals * (1 + 1e-9) + 1e-9 * abs(value) + 0.5
