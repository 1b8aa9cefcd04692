"""House style, Chinese fonts, the plot helpers and the labels they use."""

from __future__ import annotations

import io
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from channel_analysis.report import plots, style  # noqa: E402
from channel_analysis.text.format import text_for  # noqa: E402
from channel_analysis.text.labels import label  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def cjk_font() -> str:
    """The house style with the CJK font this machine has (CI installs fonts-noto-cjk)."""
    family = style.setup_style()
    assert family is not None, "no CJK font installed: apt-get install fonts-noto-cjk"
    return family


def months(n: int = 6) -> list[str]:
    return [str(p) for p in pd.period_range("2026-05", periods=n, freq="M")]


# --------------------------------------------------------------------------- fonts


def test_a_cjk_font_is_found_and_put_first(cjk_font):
    assert cjk_font in style.CJK_FONTS
    assert plt.rcParams["font.sans-serif"][0] == cjk_font
    assert plt.rcParams["axes.unicode_minus"] is False
    chosen = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    assert font_manager.get_font(chosen).family_name == cjk_font


def test_chinese_text_draws_without_missing_glyphs(cjk_font):
    frame = pd.DataFrame({"region": ["山东", "江苏"], "revenue": [1_200_000.0, -35_000.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise here
        ax = plots.plot_bar(frame, category="region", value="revenue", money=True, lang="zh", title="山东 销售额")
        ax.figure.savefig(io.BytesIO(), format="png")
    title_font = font_manager.findfont(ax.title.get_fontproperties())
    assert font_manager.get_font(title_font).family_name == cjk_font


def test_names_with_dollar_signs_are_drawn_as_text(cjk_font):
    frame = pd.DataFrame({"dealer_name": ["$$$ Trading", "$x^{2"], "revenue": [1.0, 2.0]})
    ax = plots.plot_bar(frame, category="dealer_name", value="revenue")
    ax.figure.savefig(io.BytesIO(), format="png")  # mathtext would raise ValueError here
    assert [t.get_text() for t in ax.get_yticklabels()] == ["$$$ Trading", "$x^{2"]


def test_missing_cjk_font_warns_with_install_instructions(monkeypatch):
    monkeypatch.setattr(style, "_discover_cjk_font", lambda: None)
    with pytest.warns(style.CJKFontWarning, match="apt-get install fonts-noto-cjk") as caught:
        assert style.find_cjk_font() is None
    message = str(caught[0].message)
    assert "fonts-wqy-microhei" in message and "Microsoft YaHei" in message and "PingFang SC" in message


def test_cjk_font_missing_from_a_stale_font_cache_is_registered_from_the_system(monkeypatch, cjk_font):
    without_cjk = [f for f in font_manager.fontManager.ttflist if f.name not in style.CJK_FONTS]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", without_cjk)
    assert style._installed_cjk_font() is None
    assert style._discover_cjk_font.__wrapped__() in style.CJK_FONTS


# --------------------------------------------------------------------------- money and axes


def test_money_axis_formats_ticks_as_the_text_layer_and_names_the_unit(cjk_font):
    frame = pd.DataFrame({"month": months(), "revenue": [8e5, 1.1e6, 1.6e6, 2.0e6, 2.4e6, 3.1e6]})
    ax = plots.plot_line_over_months(frame, x="month", y="revenue", money=True)
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    values = [v for v, t in zip(ax.get_yticks(), ax.get_yticklabels()) if t.get_text()]
    assert ticks == text_for("en").money_ticks(values)  # as every page writes money: ¥500k, ¥1M, ¥1.5M …
    assert any(t.endswith("M") for t in ticks) and len(set(ticks)) == len(ticks)
    assert ax.get_ylabel() == "Revenue (¥)"
    assert ax.get_xlabel() == "Month"


# --------------------------------------------------------------------------- plot helpers draw, never compute


def test_plot_helpers_return_axes_and_leave_the_frame_alone(cjk_font):
    lines = pd.DataFrame({"month": months() * 2, "callback_coverage": [0.9, 0.95, 1.0, 0.8, 0.85, 0.9] * 2,
                          "region": ["山东"] * 6 + ["江苏"] * 6})
    bars = pd.DataFrame({"status": ["active", "at_risk", "lost"], "dealers": [240, 31, 7]})
    before = (lines.copy(), bars.copy())
    fig, (left, right) = plt.subplots(1, 2)
    assert plots.plot_line_over_months(lines, x="month", y="callback_coverage", hue="region", percent=True,
                                       lang="zh", ax=left) is left
    assert plots.plot_bar(bars, category="status", value="dealers", lang="zh", ax=right,
                          palette=plots.status_palette(bars["status"])) is right
    pd.testing.assert_frame_equal(lines, before[0])
    pd.testing.assert_frame_equal(bars, before[1])
    assert left.get_ylabel() == "电话回访覆盖率"
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["山东", "江苏"]
    assert [t.get_text() for t in right.get_yticklabels()] == ["活跃", "有风险", "流失"]


def test_bar_labels_show_the_values(cjk_font):
    bars = pd.DataFrame({"status": ["active", "lost"], "dealers": [1240, 7]})
    ax = plots.plot_bar(bars, category="status", value="dealers")
    assert [t.get_text() for t in ax.texts] == ["1,240", "7"]


def test_control_chart_marks_the_months_outside_the_band(cjk_font):
    frame = pd.DataFrame({"month": months(), "revenue": [100.0, 104, 97, 60, 101, 150],
                          "expected": 100.0, "lower": 80.0, "upper": 120.0})
    ax = plots.plot_control_chart(frame, value="revenue", expected="expected", lower="lower", upper="upper",
                                  lang="zh")
    flagged = ax.collections[-1].get_offsets()
    assert len(flagged) == 2 and list(flagged[:, 1]) == [60.0, 150.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["预期范围", "预期", "实际", "预警"]


def test_control_chart_follows_the_detectors_flag_when_given(cjk_font):
    frame = pd.DataFrame({"month": months(3), "value": [1.0, 2, 3], "expected": 2.0, "lower": 0.0, "upper": 9.0,
                          "alert": [False, False, True]})
    ax = plots.plot_control_chart(frame, value="value", expected="expected", lower="lower", upper="upper",
                                  flag="alert")
    assert list(ax.collections[-1].get_offsets()[:, 1]) == [3.0]


def test_months_axis_accepts_strings_periods_and_dates(cjk_font):
    for values in (months(3), pd.period_range("2026-05", periods=3, freq="M"),
                   pd.date_range("2026-05-01", periods=3, freq="MS")):
        frame = pd.DataFrame({"month": values, "revenue": [1.0, 2.0, 3.0]})
        assert isinstance(plots.plot_line_over_months(frame, x="month", y="revenue"), Axes)


# --------------------------------------------------------------------------- labels


def test_labels_in_both_languages_and_unknown_keys_fall_back():
    assert label("sales_manager", "en") == "Sales manager"
    assert label("sales_manager", "zh") == "业务经理"
    assert [label(s, "zh") for s in ("new", "active", "at_risk", "dormant", "lost")] == ["新签", "活跃", "有风险", "休眠", "流失"]
    assert label("purchase_drop", "zh") == "进货大幅下降"
    assert label("some_new_column", "zh") == "some_new_column"
    with pytest.raises(ValueError, match="use one of en, zh"):
        label("month", "fr")


def test_count_ticks_reaching_thousands_get_separators_as_the_bar_labels_do(cjk_font):
    bars = pd.DataFrame({"process": ["order", "payment"], "opened": [13_901, 8_229]})
    ax = plots.plot_bar(bars, category="process", value="opened")
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "10,000" in ticks and all("," in t for t in ticks if t != "0"), ticks
    assert ax.xaxis.get_offset_text().get_text() == ""
    small = plots.plot_bar(bars.assign(opened=[0.5, 1.5]), category="process", value="opened")
    small.figure.canvas.draw()
    assert "0.4" in [t.get_text() for t in small.get_xticklabels()]  # other ticks as matplotlib writes them


def test_a_few_whole_counts_get_whole_ticks(cjk_font):
    # 2 requests and 0: ticks 0, 1, 2, not 0.25, 0.5 …; the same range of means keeps its fractions
    bars = pd.DataFrame({"process": ["order", "payment"], "opened": [2, 0]})
    ax = plots.plot_bar(bars, category="process", value="opened")
    ax.figure.canvas.draw()
    ticks = [float(t) for t in ax.get_xticks() if 0 <= t <= 2]
    assert ticks and all(t.is_integer() for t in ticks), ticks
    dots = plots.plot_scatter(pd.DataFrame({"attendees": [1, 2], "cost": [5.0, 7.5]}), x="attendees", y="cost")
    dots.figure.canvas.draw()
    assert all(float(t).is_integer() for t in dots.get_xticks())  # attendees: 1, 2, not 1.2, 1.4 …
    means = plots.plot_bar(bars.assign(opened=[2.0, 0.5]), category="process", value="opened")
    means.figure.canvas.draw()
    assert not all(float(t).is_integer() for t in means.get_xticks())


def test_stacked_bars_list_their_parts_as_stacked_and_say_the_total(cjk_font):
    frame = pd.DataFrame({"quarter": ["2026Q1"] * 3 + ["2026Q2"] * 3, "category": ["cat.setup", "cat.advertising", "cat.other"] * 2,
                          "cac": [100.0, 50.0, 25.0, 80.0, 40.0, 10.0]})
    ax = plots.plot_stacked_bars(frame, x="quarter", y="cac", hue="category", money=True)
    # bottom to top: setup, advertising, other; the legend reads top to bottom
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Other", "Advertising", "Set-up"]
    assert [t.get_text() for t in ax.texts] == ["¥175", "¥130"]
