"""The plot helpers every report uses.

Plots draw, they never compute: each ``plot_*`` takes a frame a metric already
produced, draws it on ``ax`` (a new figure when ``ax`` is None) and returns the
Axes. Axis titles come from the label catalogues and every tick and bar label is written by
the text layer (:mod:`channel_analysis.text.format`), so a figure reads on a chart as it does
in a table or on a slide, in English and Chinese.

Call :func:`channel_analysis.report.style.setup_style` once at the top of a notebook; it
applies the house style and puts a Chinese-capable font first.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import Formatter, MaxNLocator, ScalarFormatter

from channel_analysis.palette import PALETTE, SEVERITY_COLOURS, status_palette
from channel_analysis.text.format import CURRENCY, text_for
from channel_analysis.text.labels import label


def _with_unit(text: str, unit: str) -> str:
    return text if not text or f"({unit})" in text else f"{text} ({unit})"


def money_axis(ax: Axes, *, axis: str = "y", lang: str = "en") -> Axes:
    """Format ``axis`` ticks as compact money, as every page writes it (¥1.2M, ¥350k; ¥120万), each tick
    exact (¥2.5k), and add the currency to its label."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(_TextFormatter(text_for(lang).money_ticks, text_for(lang).money))
    target.set_label_text(_with_unit(target.get_label_text(), CURRENCY))
    return ax


def percent_axis(ax: Axes, *, axis: str = "y", lang: str = "en") -> Axes:
    """Format ``axis`` ticks of shares (0–1) as percentages, with decimals only when the axis
    spans a few points (2.5%, not 2% and 2% again)."""
    t = text_for(lang)
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(_TextFormatter(t.share_ticks, t.share))
    return ax


class _TextFormatter(Formatter):
    """Tick labels from the text layer: ``ticks`` formats the axis' ticks together (so that
    neighbours differ), ``one`` a single value (the cursor's)."""

    def __init__(self, ticks, one):
        self.ticks, self.one = ticks, one

    def format_ticks(self, values):
        return self.ticks(list(values))

    def __call__(self, x, pos=None):
        return self.one(x)


def count_axis(ax: Axes, *, axis: str = "y", whole: bool = False, lang: str = "en") -> Axes:
    """Format ``axis`` ticks of counts with thousands separators (12,000, as the bar labels say)
    when they are whole numbers of 1,000 or more; other ticks as matplotlib writes them.
    ``whole`` (the values are whole numbers): ticks on whole numbers only (0, 1, 2 requests,
    not 0.25, 0.5 …)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    if whole:
        target.set_major_locator(MaxNLocator(nbins="auto", integer=True))
    target.set_major_formatter(_CountFormatter(lang))
    return ax


def _whole(values: pd.Series | None) -> bool:
    """True when ``values`` are numbers, all whole (counts): their axis ticks need no fractions."""
    if values is None or not pd.api.types.is_numeric_dtype(values):
        return False
    present = values.dropna().to_numpy(dtype=float)
    return len(present) > 0 and bool(np.all(np.mod(present, 1) == 0))


class _CountFormatter(ScalarFormatter):
    """Whole ticks reaching 1,000 with separators (the text layer's counts) and without an offset or
    a power of ten."""

    def __init__(self, lang: str = "en"):
        super().__init__()
        self.text = text_for(lang)

    def _whole_thousands(self) -> bool:
        ticks = self.axis.get_majorticklocs() if self.axis is not None else []
        return len(ticks) > 0 and all(float(t).is_integer() for t in ticks) and max(abs(t) for t in ticks) >= 1000

    def __call__(self, x, pos=None):
        return self.text.count(x) if self._whole_thousands() else super().__call__(x, pos)

    def get_offset(self):
        return "" if self._whole_thousands() else super().get_offset()


def _new_axes(ax: Axes | None, size: tuple[float, float] | None = None) -> Axes:
    return ax if ax is not None else plt.subplots(figsize=size)[1]


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


def _value_axis(ax: Axes, *, money: bool, percent: bool, axis: str = "y", lang: str = "en",
                values: pd.Series | None = None) -> None:  # fmt: skip
    if money:
        money_axis(ax, axis=axis, lang=lang)
    elif percent:
        percent_axis(ax, axis=axis, lang=lang)
    else:
        count_axis(ax, axis=axis, whole=_whole(values), lang=lang)


def _legend_labels(ax: Axes, lang: str) -> None:
    """Translate legend entries that are label keys (status or alert codes, say)."""
    legend = ax.get_legend()
    if legend is None:
        return
    for text in legend.get_texts():
        text.set_text(label(text.get_text(), lang))
    if legend.get_title().get_text():
        legend.set_title(label(legend.get_title().get_text(), lang))


def _target_line(ax: Axes, target: float | None, lang: str, *, axis: str = "y") -> None:
    """A dashed red line at ``target`` (a share, an amount …), labelled for the legend."""
    if target is None or pd.isna(target):
        return
    line = ax.axhline if axis == "y" else ax.axvline
    line(target, color=SEVERITY_COLOURS["high"], linestyle="--", linewidth=1.2, label=label("target", lang), zorder=1)


def plot_line_over_months(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None = None,
    ax: Axes | None = None,
    money: bool = False,
    percent: bool = False,
    title: str | None = None,
    lang: str = "en",
    target: float | None = None,
    palette: Sequence[str] | None = None,
) -> Axes:
    """One line per ``hue`` of ``y`` over the months in ``x`` (YYYY-MM strings, Periods or dates).

    ``target`` draws the goal (e.g. 0.95 for the service level) as a dashed line.
    """
    ax = _new_axes(ax)
    data = frame.assign(**{x: _months(frame[x])})
    if hue is not None:
        data[hue] = data[hue].astype(str)
    # estimator=None: rows are drawn as given; duplicates show up instead of being averaged away
    sns.lineplot(data=data, x=x, y=y, hue=hue, estimator=None, errorbar=None, marker="o", markersize=4,
                 linewidth=2, ax=ax, palette=palette if hue is not None else None)
    _target_line(ax, target, lang)
    _month_axis(ax)
    ax.set(xlabel=label(x, lang), ylabel=label(y, lang), title=title or "")
    _value_axis(ax, money=money, percent=percent, lang=lang, values=data[y])
    if target is not None and hue is None:
        ax.legend(loc="best")
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
    title: str | None = None,
    lang: str = "en",
    palette: Sequence[str] | None = None,
    bar_labels: bool = True,
    dodge: bool | None = None,
    target: float | None = None,
) -> Axes:
    """Bars of ``value`` per ``category`` in the frame's own order (sort it before, if wanted).

    Horizontal by default, which keeps long (Chinese) names readable; categories
    that are label keys (``at_risk``, ``purchase_drop`` …) are shown translated.
    ``palette`` colours the bars in order (e.g. ``status_palette(frame.status)``),
    or the ``hue`` levels in order; ``dodge=False`` keeps one bar per category when
    ``hue`` only colours them. ``target`` draws the goal as a dashed line.
    """
    ax = _new_axes(ax)
    data = frame.assign(**{category: frame[category].astype(str).map(lambda k: label(k, lang))})
    if hue is not None:
        data[hue] = data[hue].astype(str)
    axes_xy = {"x": value, "y": category} if horizontal else {"x": category, "y": value}
    colours = {"palette": palette, "hue": hue or category, "legend": hue is not None} if palette else {"hue": hue}
    if hue is not None and dodge is not None:
        colours["dodge"] = dodge
    sns.barplot(data=data, ax=ax, errorbar=None, saturation=1.0, **colours, **axes_xy)
    value_axis = "x" if horizontal else "y"
    _target_line(ax, target, lang, axis="x" if horizontal else "y")
    ax.set(title=title or "")
    ax.set_xlabel(label(axes_xy["x"], lang))
    ax.set_ylabel(label(axes_xy["y"], lang))
    (ax.yaxis if horizontal else ax.xaxis).grid(False)
    _value_axis(ax, money=money, percent=percent, axis=value_axis, lang=lang, values=data[value])
    if bar_labels and len(data) <= 25:
        _label_bars(ax, axis=value_axis, money=money, percent=percent, lang=lang)
    _legend_labels(ax, lang)
    return ax


def _value_text(v: float, *, money: bool, percent: bool, lang: str = "en") -> str:
    """A bar's value as the pages write it (the text layer): money, a share, a count."""
    if pd.isna(v):
        return ""
    t = text_for(lang)
    if money:
        return t.money(v)
    if percent:
        return t.share(v)
    return t.count(v) if float(v).is_integer() else t.number(v, 1)


def _label_bars(ax: Axes, *, axis: str, money: bool, percent: bool, lang: str = "en") -> None:
    for container in ax.containers:
        values = container.datavalues
        texts = [_value_text(v, money=money, percent=percent, lang=lang) for v in values]
        ax.bar_label(container, labels=texts, padding=3, fontsize=9)
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
    title: str | None = None,
    lang: str = "en",
    legend: bool = True,
    flag_label: str = "alert",
) -> Axes:
    """Actual ``value`` against the ``expected`` line and its ``lower``–``upper`` band, one row per month.

    Points are marked red where the boolean column ``flag`` is true (the
    detector's verdict) or, without ``flag``, where the value leaves the band;
    ``flag_label`` (a label key) names them in the legend.
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
               s=60, zorder=3, label=label(flag_label, lang))
    _month_axis(ax)
    ax.set(xlabel=label(x, lang), ylabel=label(value, lang), title=title or "")
    _value_axis(ax, money=money, percent=False, lang=lang, values=series_frame[value])
    if legend:
        ax.legend(loc="best")
    return ax


def plot_histogram(
    frame: pd.DataFrame,
    *,
    value: str,
    hue: str | None = None,
    bins: int | Sequence[float] = 20,
    binrange: tuple[float, float] | None = None,
    threshold: float | None = None,
    threshold_label: str | None = None,
    ylabel: str = "dealers",
    ax: Axes | None = None,
    title: str | None = None,
    lang: str = "en",
) -> Axes:
    """How ``value`` is distributed, stacked by ``hue`` (status codes get their status colours).

    ``threshold`` draws a vertical line (e.g. the health score below which a dealer
    is at risk), with ``threshold_label`` (a label key or text) beside it.
    """
    ax = _new_axes(ax)
    data = frame[[value] + ([hue] if hue else [])].copy()
    kwargs = {}
    if hue is not None:
        levels = list(dict.fromkeys(data[hue].astype(str)))
        data[hue] = data[hue].astype(str).map(lambda k: label(k, lang))
        kwargs = {"hue": hue, "hue_order": [label(k, lang) for k in levels], "multiple": "stack",
                  "palette": dict(zip((label(k, lang) for k in levels), status_palette(levels)))}
    sns.histplot(data=data, x=value, bins=bins, binrange=binrange, ax=ax, edgecolor="white", linewidth=0.6,
                 alpha=0.95, **kwargs)
    if threshold is not None:
        ax.axvline(threshold, color=SEVERITY_COLOURS["high"], linestyle="--", linewidth=1.2)
        if threshold_label:
            ax.annotate(label(threshold_label, lang), xy=(threshold, 1), xycoords=("data", "axes fraction"),
                        xytext=(-4, -4), textcoords="offset points", ha="right", va="top", fontsize=9,
                        color=SEVERITY_COLOURS["high"])
    ax.set(xlabel=label(value, lang), ylabel=label(ylabel, lang), title=title or "")
    if hue is not None and ax.get_legend() is not None:
        ax.get_legend().set_title(label(hue, lang))
    return ax


def plot_lines_with_band(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    lower: str,
    upper: str,
    hue: str | None = None,
    ax: Axes | None = None,
    money: bool = False,
    percent: bool = False,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    lang: str = "en",
) -> Axes:
    """A line of ``y`` over a numeric ``x`` per ``hue`` level (in the frame's order), each with
    its ``lower``–``upper`` band shaded: cohort curves with their spread, survival with its CI."""
    ax = _new_axes(ax)
    groups = [(None, frame)] if hue is None else list(frame.groupby(frame[hue].astype(str), sort=False))
    alpha = 0.13 if len(groups) <= 2 else 0.08  # overlapping bands stay readable
    for k, (level, rows) in enumerate(groups):
        colour = PALETTE[k % len(PALETTE)]
        name = label(level, lang) if level is not None else label(y, lang)
        ax.fill_between(rows[x], rows[lower], rows[upper], color=colour, alpha=alpha, linewidth=0)
        ax.plot(rows[x], rows[y], color=colour, linewidth=2, label=name)
    ax.set(xlabel=label(xlabel or x, lang), ylabel=label(ylabel or y, lang), title=title or "")
    _value_axis(ax, money=money, percent=percent, lang=lang, values=frame[y])
    if hue is not None:
        ax.legend(title=label(hue, lang), loc="best")
    return ax


def plot_stacked_bars(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str,
    ax: Axes | None = None,
    money: bool = False,
    percent: bool = False,
    totals: bool = True,
    title: str | None = None,
    lang: str = "en",
    palette: Sequence[str] | None = None,
) -> Axes:
    """Vertical bars of ``y`` per ``x`` (in the frame's order), stacked by ``hue``; the total on top.

    The frame is long (one row per ``x`` and ``hue``); parts must add up to the whole,
    as the categories of a CAC do. ``palette`` colours the ``hue`` levels in their order
    (e.g. ``status_palette(levels)``).
    """
    ax = _new_axes(ax)
    xs = list(dict.fromkeys(frame[x].astype(str)))
    levels = list(dict.fromkeys(frame[hue].astype(str)))
    wide = frame.assign(_x=frame[x].astype(str), _h=frame[hue].astype(str)).pivot(index="_x", columns="_h", values=y)
    wide = wide.reindex(index=xs, columns=levels).fillna(0.0)
    bottom = pd.Series(0.0, index=xs)
    colours = list(palette) if palette is not None else PALETTE
    for k, level in enumerate(levels):
        ax.bar(xs, wide[level], bottom=bottom, color=colours[k % len(colours)], label=label(level, lang),
               width=0.7, edgecolor="white", linewidth=0.5)
        bottom = bottom + wide[level]
    if totals:
        for position, total in enumerate(bottom):
            ax.annotate(_value_text(total, money=money, percent=percent, lang=lang),
                        (position, total), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=9)
        ax.margins(y=0.1)
    ax.xaxis.grid(False)
    ax.set(xlabel=label(x, lang), ylabel=label(y, lang), title=title or "")
    _value_axis(ax, money=money, percent=percent, lang=lang, values=frame[y])
    handles, names = ax.get_legend_handles_labels()  # listed as stacked: the top part first
    ax.legend(handles[::-1], names[::-1], title=label(hue, lang), loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def plot_funnel(
    frame: pd.DataFrame,
    *,
    stage: str,
    count: str,
    conversion: str,
    ax: Axes | None = None,
    title: str | None = None,
    lang: str = "en",
) -> Axes:
    """The funnel: one bar per stage (first stage on top) with its count, and beside each
    later stage the share of the stage before that reached it (``conversion``, 0–1)."""
    ax = _new_axes(ax, (8.0, 0.6 * len(frame) + 1.2))
    names = [label(str(s), lang) for s in frame[stage]]
    positions = range(len(frame))
    ax.barh(list(positions), frame[count], color=PALETTE[0], height=0.6)
    ax.set_yticks(list(positions), names)
    ax.invert_yaxis()
    t = text_for(lang)
    for position, (n, share) in enumerate(zip(frame[count], frame[conversion])):
        text = t.count(n) + ("" if pd.isna(share) else "  (" + t.say("of_stage_before", share=share) + ")")
        ax.annotate(text, (n, position), xytext=(4, 0), textcoords="offset points", va="center", fontsize=9)
    ax.margins(x=0.35)
    ax.yaxis.grid(False)
    ax.set(xlabel=label(count, lang), ylabel="", title=title or "")
    return ax


def plot_estimates(
    frame: pd.DataFrame,
    *,
    term: str,
    estimate: str,
    ci_low: str,
    ci_high: str,
    ax: Axes | None = None,
    money: bool = False,
    percent: bool = False,
    xlabel: str | None = None,
    title: str | None = None,
    lang: str = "en",
) -> Axes:
    """Estimates with their confidence intervals, one row per ``term`` (a label key), and a line at 0:
    an interval that crosses it means the data cannot tell the sign."""
    ax = _new_axes(ax, (8.0, 0.7 * len(frame) + 1.4))
    positions = list(range(len(frame)))
    ax.axvline(0, color="#888888", linewidth=1)
    ax.hlines(positions, frame[ci_low], frame[ci_high], color=PALETTE[0], linewidth=3, alpha=0.6,
              label=label("ci_95", lang))
    ax.scatter(frame[estimate], positions, color=PALETTE[0], s=50, zorder=3, label=label("estimate", lang))
    ax.set_yticks(positions, [label(str(t), lang) for t in frame[term]])
    ax.invert_yaxis()
    ax.set_ylim(len(frame) - 0.4, -0.6)
    ax.yaxis.grid(False)
    ax.set(xlabel=label(xlabel or estimate, lang), ylabel="", title=title or "")
    _value_axis(ax, money=money, percent=percent, axis="x", lang=lang, values=frame[estimate])
    ax.legend(loc="best", fontsize=9)
    return ax


def plot_ranges(
    frame: pd.DataFrame,
    *,
    category: str,
    points: Sequence[str],
    limit: str | None = None,
    ax: Axes | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    lang: str = "en",
) -> Axes:
    """One row per ``category``: a bar from the smallest to the largest of ``points`` (e.g.
    median, p75, p90 hours, or q1, median, q3 days), a marker per point, and ``limit`` (the
    time limit, say) as a red tick."""
    ax = _new_axes(ax, (8.0, 0.45 * len(frame) + 1.4))
    positions = list(range(len(frame)))
    low, high = frame[list(points)].min(axis=1), frame[list(points)].max(axis=1)
    ax.hlines(positions, low, high, color=PALETTE[0], linewidth=6, alpha=0.25)
    markers = ("o", "s", "D", "^")
    for k, column in enumerate(points):
        ax.scatter(frame[column], positions, color=PALETTE[k % len(PALETTE)], marker=markers[k % len(markers)], s=40,
                   zorder=3, label=label(column, lang))
    if limit is not None:
        ax.scatter(frame[limit], positions, color=SEVERITY_COLOURS["high"], marker="|", s=400, linewidths=2.5,
                   zorder=4, label=label(limit, lang))
    ax.set_yticks(positions, [label(str(c), lang) for c in frame[category]])
    ax.invert_yaxis()
    ax.yaxis.grid(False)
    ax.set_xlim(left=0)
    ax.set(xlabel=label(xlabel or points[0], lang), ylabel="", title=title or "")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9)
    return ax


def plot_scatter(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None = None,
    ax: Axes | None = None,
    money_x: bool = False,
    money_y: bool = False,
    title: str | None = None,
    lang: str = "en",
    palette: Sequence[str] | None = None,
) -> Axes:
    """One dot per row: ``y`` against ``x``, coloured by ``hue`` (label keys are translated;
    ``palette`` colours its levels in order of appearance)."""
    ax = _new_axes(ax)
    data = frame.copy()
    if hue is not None:
        data[hue] = data[hue].astype(str).map(lambda k: label(k, lang))
        levels = list(dict.fromkeys(data[hue]))
        colours = list(palette) if palette is not None else PALETTE
        palette = dict(zip(levels, (colours[k % len(colours)] for k in range(len(levels)))))
    sns.scatterplot(data=data, x=x, y=y, hue=hue, ax=ax, s=45, alpha=0.8, palette=palette if hue is not None else None)
    ax.set(xlabel=label(x, lang), ylabel=label(y, lang), title=title or "")
    for axis, column, money in (("x", x, money_x), ("y", y, money_y)):
        _value_axis(ax, money=money, percent=False, axis=axis, lang=lang, values=data[column])
    if hue is not None and ax.get_legend() is not None:
        ax.get_legend().set_title(label(hue, lang))
    return ax
