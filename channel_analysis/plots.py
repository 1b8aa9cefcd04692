"""House style, Chinese fonts and the plot helpers every report uses.

Plots draw, they never compute: each ``plot_*`` takes a frame a metric already
produced, draws it on ``ax`` (a new figure when ``ax`` is None) and returns the
Axes. Axis titles come from :mod:`channel_analysis.labels`, so one call serves
English and Chinese reports.

Call :func:`setup_style` once at the top of a notebook; it applies the house
style and puts a Chinese-capable font first (see :func:`find_cjk_font`).
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

from channel_analysis.labels import label

# Colour-blind-safe, calm; the first colour is the "actual" series everywhere.
PALETTE = ["#1f5f8b", "#e07b39", "#3a9d5d", "#8e6bbf", "#c0392b", "#7f8c8d", "#d4a017", "#2bb0c4"]
STATUS_COLOURS = {"new": "#2bb0c4", "active": "#3a9d5d", "at_risk": "#e07b39", "dormant": "#7f8c8d", "lost": "#c0392b"}
SEVERITY_COLOURS = {"high": "#c0392b", "medium": "#e07b39", "low": "#d4a017"}
DPI = 110

# Family names in order of preference; SimHei last (bitmap-like, licence doubts).
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Source Han Sans",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "SimHei",
)
# Font files worth registering when matplotlib's font cache predates them.
_CJK_FILE = re.compile(
    r"(NotoSansCJK|NotoSans-?SC|SourceHanSans|wqy-microhei|wqy-zenhei|msyh|PingFang|Hiragino Sans GB|STHeiti|simhei)",
    re.IGNORECASE,
)


class CJKFontWarning(UserWarning):
    """No font able to draw Chinese was found; charts will show boxes for Chinese text."""


def _cjk_font_help() -> str:
    return (
        "no Chinese font found: Chinese text in charts will show as empty boxes. Install one, then rerun:\n"
        "  Debian/Ubuntu: sudo apt-get install fonts-noto-cjk   (or the smaller fonts-wqy-microhei)\n"
        "  Fedora/RHEL:   sudo dnf install google-noto-sans-cjk-fonts\n"
        "  Windows and macOS already have one (Microsoft YaHei / SimHei; PingFang SC / Hiragino Sans GB).\n"
        "If one is installed but not found, delete matplotlib's font cache: "
        f"{matplotlib.get_cachedir()}/fontlist-*.json"
    )


def _installed_cjk_font() -> str | None:
    names = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in names), None)


@functools.cache
def _discover_cjk_font() -> str | None:
    """The preferred CJK family, registering matching system font files the font cache does not know yet."""
    found = _installed_cjk_font()
    if found:
        return found
    for path in font_manager.findSystemFonts():
        if _CJK_FILE.search(Path(path).name):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # unreadable or unsupported font file
                continue
    return _installed_cjk_font()


def find_cjk_font() -> str | None:
    """Find a font that draws Chinese, put it first in ``font.sans-serif`` and return its family name.

    Searches matplotlib's font list, then the system's font folders, for the
    families in :data:`CJK_FONTS`. Returns None, with a :class:`CJKFontWarning`
    saying how to install one, when there is none.
    """
    family = _discover_cjk_font()
    if family is None:
        warnings.warn(_cjk_font_help(), CJKFontWarning, stacklevel=2)
        return None
    rest = [name for name in plt.rcParams["font.sans-serif"] if name != family]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = [family, *rest]
    plt.rcParams["axes.unicode_minus"] = False  # CJK fonts often lack U+2212 MINUS SIGN
    return family


def setup_style() -> str | None:
    """Apply the house style (palette, sizes, grid, dpi) and a CJK font; returns the font family chosen.

    Call it before the first plot of a notebook: it also turns off mathtext, so
    names containing ``$`` are drawn as they are.
    """
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        rc={
            "figure.dpi": DPI,
            "savefig.dpi": DPI,
            "figure.figsize": (8.0, 4.0),
            "figure.constrained_layout.use": True,
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 11,
            "axes.edgecolor": "#cccccc",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "grid.color": "#e6e6e6",
            "legend.frameon": False,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "text.parse_math": False,  # a dealer named "$$$ Trading" is text, not a formula to parse
        },
    )
    return find_cjk_font()


def compact_money(value: float, currency: str = "¥") -> str:
    """``1_234_567`` → ``¥1.2M``, ``350_000`` → ``¥350k``, ``-950`` → ``-¥950``."""
    sign, size = ("-" if value < 0 else ""), abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            number = f"{size / limit:.1f}".removesuffix(".0")
            return f"{sign}{currency}{number}{suffix}"
    return f"{sign}{currency}{size:.0f}"


def _with_unit(text: str, unit: str) -> str:
    return text if not text or f"({unit})" in text else f"{text} ({unit})"


def money_axis(ax: Axes, currency: str = "¥", *, axis: str = "y") -> Axes:
    """Format ``axis`` ticks as compact money (¥1.2M, ¥350k) and add the currency to its label."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _pos: compact_money(v, currency)))
    target.set_label_text(_with_unit(target.get_label_text(), currency))
    return ax


def percent_axis(ax: Axes, *, axis: str = "y") -> Axes:
    """Format ``axis`` ticks of shares (0–1) as percentages."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(PercentFormatter(1.0, decimals=0))
    return ax


def _new_axes(ax: Axes | None) -> Axes:
    return ax if ax is not None else plt.subplots()[1]


def _months(values: pd.Series) -> pd.Series:
    """Month labels (``"2026-10"``, Period or Timestamp) as timestamps, for a time axis."""
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.dt.to_timestamp()
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    return pd.to_datetime(values.astype(str), format="%Y-%m")


def _month_axis(ax: Axes) -> None:
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))


def _value_axis(ax: Axes, *, money: bool, percent: bool, currency: str, axis: str = "y") -> None:
    if money:
        money_axis(ax, currency, axis=axis)
    elif percent:
        percent_axis(ax, axis=axis)


def _legend_labels(ax: Axes, lang: str) -> None:
    """Translate legend entries that are label keys (status or alert codes, say)."""
    legend = ax.get_legend()
    if legend is None:
        return
    for text in legend.get_texts():
        text.set_text(label(text.get_text(), lang))
    if legend.get_title().get_text():
        legend.set_title(label(legend.get_title().get_text(), lang))


def plot_line_over_months(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None = None,
    ax: Axes | None = None,
    money: bool = False,
    percent: bool = False,
    currency: str = "¥",
    title: str | None = None,
    lang: str = "en",
) -> Axes:
    """One line per ``hue`` of ``y`` over the months in ``x`` (YYYY-MM strings, Periods or dates)."""
    ax = _new_axes(ax)
    data = frame.assign(**{x: _months(frame[x])})
    # estimator=None: rows are drawn as given; duplicates show up instead of being averaged away
    sns.lineplot(data=data, x=x, y=y, hue=hue, estimator=None, errorbar=None, marker="o", markersize=4,
                 linewidth=2, ax=ax)
    _month_axis(ax)
    ax.set(xlabel=label(x, lang), ylabel=label(y, lang), title=title or "")
    _value_axis(ax, money=money, percent=percent, currency=currency)
    _legend_labels(ax, lang)
    return ax


def plot_bar(
    frame: pd.DataFrame,
    *,
    category: str,
    value: str,
    hue: str | None = None,
    ax: Axes | None = None,
    horizontal: bool = True,
    money: bool = False,
    percent: bool = False,
    currency: str = "¥",
    title: str | None = None,
    lang: str = "en",
    palette: Sequence[str] | None = None,
    bar_labels: bool = True,
) -> Axes:
    """Bars of ``value`` per ``category`` in the frame's own order (sort it before, if wanted).

    Horizontal by default, which keeps long (Chinese) names readable; categories
    that are label keys (``at_risk``, ``purchase_drop`` …) are shown translated.
    ``palette`` colours the bars in order (e.g. ``status_palette(frame.status)``).
    """
    ax = _new_axes(ax)
    data = frame.assign(**{category: frame[category].astype(str).map(lambda k: label(k, lang))})
    if hue is not None:
        data[hue] = data[hue].astype(str)
    axes_xy = {"x": value, "y": category} if horizontal else {"x": category, "y": value}
    colours = {"palette": palette, "hue": hue or category, "legend": hue is not None} if palette else {"hue": hue}
    sns.barplot(data=data, ax=ax, errorbar=None, saturation=1.0, **colours, **axes_xy)
    value_axis = "x" if horizontal else "y"
    ax.set(title=title or "")
    ax.set_xlabel(label(axes_xy["x"], lang))
    ax.set_ylabel(label(axes_xy["y"], lang))
    (ax.yaxis if horizontal else ax.xaxis).grid(False)
    _value_axis(ax, money=money, percent=percent, currency=currency, axis=value_axis)
    if bar_labels and len(data) <= 25:
        _label_bars(ax, axis=value_axis, money=money, percent=percent, currency=currency)
    _legend_labels(ax, lang)
    return ax


def _label_bars(ax: Axes, *, axis: str, money: bool, percent: bool, currency: str) -> None:
    def text(v: float) -> str:
        if money:
            return compact_money(v, currency)
        if percent:
            return f"{v:.0%}"
        return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"

    for container in ax.containers:
        ax.bar_label(container, labels=[text(v) for v in container.datavalues], padding=3, fontsize=9)
    ax.margins(**{axis: 0.12})  # room for the labels at the end of the longest bar


def plot_control_chart(
    series_frame: pd.DataFrame,
    *,
    value: str,
    expected: str,
    lower: str,
    upper: str,
    x: str = "month",
    flag: str | None = None,
    ax: Axes | None = None,
    money: bool = False,
    currency: str = "¥",
    title: str | None = None,
    lang: str = "en",
) -> Axes:
    """Actual ``value`` against the ``expected`` line and its ``lower``–``upper`` band, one row per month.

    Points are marked red where the boolean column ``flag`` is true (the
    detector's verdict) or, without ``flag``, where the value leaves the band.
    """
    ax = _new_axes(ax)
    months = _months(series_frame[x])
    ax.fill_between(months, series_frame[lower], series_frame[upper], color=PALETTE[0], alpha=0.12, linewidth=0,
                    label=label("expected_range", lang))
    ax.plot(months, series_frame[expected], color=PALETTE[0], linestyle="--", linewidth=1.2,
            label=label("expected", lang))
    ax.plot(months, series_frame[value], color="#222222", marker="o", markersize=4, linewidth=1.8,
            label=label("actual", lang))
    if flag is not None:
        outside = series_frame[flag].fillna(False).astype(bool)
    else:
        outside = (series_frame[value] < series_frame[lower]) | (series_frame[value] > series_frame[upper])
    ax.scatter(months[outside.to_numpy()], series_frame.loc[outside, value], color=SEVERITY_COLOURS["high"],
               s=60, zorder=3, label=label("alert", lang))
    _month_axis(ax)
    ax.set(xlabel=label(x, lang), ylabel=label(value, lang), title=title or "")
    _value_axis(ax, money=money, percent=False, currency=currency)
    ax.legend(loc="best")
    return ax


def status_palette(keys: Sequence[str]) -> list[str]:
    """Colours for status or severity codes, in the order given (grey for an unknown code)."""
    colours = {**STATUS_COLOURS, **SEVERITY_COLOURS}
    return [colours.get(key, PALETTE[5]) for key in keys]
