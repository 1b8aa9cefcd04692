"""Native PowerPoint charts for the management deck: editable data, re-colourable series.

Every chart's data goes into the chart's own workbook through :class:`SafeChartData`, which
stores text as text: a manager named ``=cmd|' /C calc'!A0`` stays a name when someone
clicks "Edit data", never a formula. A target (95% within the time limit, say) is drawn as
a dashed line series over the columns, in the same chart and the same workbook.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from contextlib import contextmanager

from lxml import etree
from pptx.chart.data import CategoryChartData
from pptx.chart.xlsx import CategoryWorkbookWriter
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION, XL_TICK_LABEL_POSITION
from pptx.oxml.ns import qn
from pptx.util import Pt, lazyproperty
from xlsxwriter import Workbook

from channel_analysis.deck.canvas import BAD, INK, MUTED, Box, Canvas, set_cjk
from channel_analysis.text.labels import label

PERCENT_FORMAT = "0%"  # money formats: Text.chart_money_format (channel_analysis.text.format)
COUNT_FORMAT = "#,##0"
GRID = "E3E6EA"


class _TextSafeWriter(CategoryWorkbookWriter):
    """python-pptx's workbook writer with XlsxWriter told to keep strings as strings."""

    @contextmanager
    def _open_worksheet(self, xlsx_file):
        options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                   "strings_to_numbers": False}  # fmt: skip
        workbook = Workbook(xlsx_file, options)
        worksheet = workbook.add_worksheet()
        yield workbook, worksheet
        workbook.close()


class SafeChartData(CategoryChartData):
    """Category chart data whose embedded workbook never turns a name into a formula."""

    @lazyproperty
    def _workbook_writer(self):
        return _TextSafeWriter(self)


def _clean(values: Sequence[float | None]) -> list[float | None]:
    return [None if v is None or v != v else float(v) for v in values]  # NaN → gap


def _font(chart, lang: str, size: float = 11) -> None:
    chart.font.size = Pt(size)
    chart.font.color.rgb = RGBColor.from_string(INK)
    set_cjk(chart.font._rPr, lang)


def _axes(chart, fmt: str, vmin: float | None, vmax: float | None, lang: str, size: float) -> None:
    value, category = chart.value_axis, chart.category_axis
    value.has_major_gridlines = True
    value.major_gridlines.format.line.color.rgb = RGBColor.from_string(GRID)
    value.format.line.fill.background()
    value.tick_labels.number_format = fmt
    value.tick_labels.number_format_is_linked = False
    value.tick_labels.font.size = Pt(size - 1)
    value.tick_labels.font.color.rgb = RGBColor.from_string(MUTED)
    set_cjk(value.tick_labels.font._rPr, lang)
    if vmin is not None:
        value.minimum_scale = vmin
    if vmax is not None:
        value.maximum_scale = vmax
    category.tick_labels.font.size = Pt(size)
    category.tick_label_position = XL_TICK_LABEL_POSITION.LOW
    category.format.line.color.rgb = RGBColor.from_string("BBBBBB")
    set_cjk(category.tick_labels.font._rPr, lang)


def _legend(chart, lang: str, position=XL_LEGEND_POSITION.BOTTOM, size: float = 10) -> None:
    chart.has_legend = True
    chart.legend.position = position
    chart.legend.include_in_layout = False
    chart.legend.font.size = Pt(size)
    set_cjk(chart.legend.font._rPr, lang)


def _labels(plot, fmt: str, lang: str, size: float, position=XL_LABEL_POSITION.OUTSIDE_END) -> None:
    plot.has_data_labels = True
    labels = plot.data_labels
    labels.number_format = fmt
    labels.number_format_is_linked = False
    labels.font.size = Pt(size)
    labels.font.color.rgb = RGBColor.from_string(INK)
    set_cjk(labels.font._rPr, lang)
    if position is not None:
        labels.position = position


def _target_line(chart, colour: str = BAD) -> None:
    """Move the last series of the (column) chart into a line chart on the same axes: the target."""
    plot_area = chart._chartSpace.chart.plotArea
    bar = plot_area.find(qn("c:barChart"))
    ser = bar.findall(qn("c:ser"))[-1]
    bar.remove(ser)
    for tag in ("c:invertIfNegative", "c:spPr", "c:dLbls", "c:shape"):
        for el in ser.findall(qn(tag)):
            ser.remove(el)
    sppr = etree.fromstring(
        f'<c:spPr xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
        f'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:ln w="28575" cap="rnd">'
        f'<a:solidFill><a:srgbClr val="{colour}"/></a:solidFill><a:prstDash val="dash"/></a:ln></c:spPr>'
    )
    marker = etree.fromstring(
        '<c:marker xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart"><c:symbol val="none"/></c:marker>'
    )
    ser.find(qn("c:tx")).addnext(sppr)
    sppr.addnext(marker)
    etree.SubElement(ser, qn("c:smooth")).set("val", "0")
    line = etree.Element(qn("c:lineChart"))
    etree.SubElement(line, qn("c:grouping")).set("val", "standard")
    etree.SubElement(line, qn("c:varyColors")).set("val", "0")
    line.append(ser)
    etree.SubElement(line, qn("c:marker")).set("val", "1")
    for ax in bar.findall(qn("c:axId")):
        line.append(copy.deepcopy(ax))
    bar.addnext(line)


def _nothing(canvas: Canvas, slide, box: Box) -> None:
    """In place of a chart with nothing to show: one line saying so."""
    canvas.text(slide, box.part(0, 0, 1, 0.2), [label("no_data", canvas.lang)], size=12, colour=MUTED)


def bar_chart(canvas: Canvas, slide, box: Box, categories: Sequence[str], series: Sequence[tuple[str, Sequence]],
              *, name: str, fmt: str, colours: Sequence[str], horizontal: bool = False,
              target: tuple[str, float] | None = None, vmin: float | None = None, vmax: float | None = None,
              labels: bool = True, legend: bool = True, size: float = 11, gap: int = 60,
              point_colours: Sequence[str] | None = None):  # fmt: skip
    """Clustered columns (bars with ``horizontal``) of ``series`` [(name, values)] per category;
    ``target`` (name, value) adds a dashed target line across the columns."""
    if not len(categories):
        return _nothing(canvas, slide, box)
    data = SafeChartData(number_format=fmt)
    data.categories = list(categories)
    for sname, values in series:
        data.add_series(sname, _clean(values))
    if target is not None:
        data.add_series(target[0], [float(target[1])] * len(categories))
    kind = XL_CHART_TYPE.BAR_CLUSTERED if horizontal else XL_CHART_TYPE.COLUMN_CLUSTERED
    frame = slide.shapes.add_chart(kind, box.left, box.top, box.width, box.height, data)
    frame.name = name
    chart = frame.chart
    chart.has_title = False
    _font(chart, canvas.lang, size)
    plot = chart.plots[0]
    plot.gap_width = gap
    plot.overlap = -10 if len(series) > 1 else 0
    plot.vary_by_categories = False
    for s, colour in zip(plot.series, colours):
        s.format.fill.solid()
        s.format.fill.fore_color.rgb = RGBColor.from_string(colour)
        s.invert_if_negative = False
    if point_colours:
        for point, colour in zip(plot.series[0].points, point_colours):
            point.format.fill.solid()
            point.format.fill.fore_color.rgb = RGBColor.from_string(colour)
    if labels:  # inside the columns when a target line runs across their tops
        inside = target is not None
        where = XL_LABEL_POSITION.INSIDE_END if inside else XL_LABEL_POSITION.OUTSIDE_END
        _labels(plot, fmt, canvas.lang, size - 1, where)
        if inside:
            plot.data_labels.font.color.rgb = RGBColor.from_string("FFFFFF")
    _axes(chart, fmt, vmin, vmax, canvas.lang, size)
    if horizontal:
        chart.category_axis.reverse_order = True  # first category on top
        if labels:  # the bars carry their values: no value axis needed
            chart.value_axis.visible = False
            chart.value_axis.has_major_gridlines = False
    if target is not None:
        _target_line(chart)
    if legend and (len(series) > 1 or (target is not None and not point_colours)):
        _legend(chart, canvas.lang)
    else:
        chart.has_legend = False
    return chart


def doughnut_chart(canvas: Canvas, slide, box: Box, categories: Sequence[str], values: Sequence[float], *,
                   name: str, colours: Sequence[str], size: float = 11):  # fmt: skip
    """A doughnut of ``values`` by category, coloured point by point, with a legend (put counts in the categories)."""
    if not len(categories):
        return _nothing(canvas, slide, box)
    data = SafeChartData(number_format=COUNT_FORMAT)
    data.categories = list(categories)
    data.add_series(name, _clean(values))
    frame = slide.shapes.add_chart(XL_CHART_TYPE.DOUGHNUT, box.left, box.top, box.width, box.height, data)
    frame.name = name
    chart = frame.chart
    chart.has_title = False
    _font(chart, canvas.lang, size)
    plot = chart.plots[0]
    for point, colour in zip(plot.series[0].points, colours):
        point.format.fill.solid()
        point.format.fill.fore_color.rgb = RGBColor.from_string(colour)
        point.format.line.color.rgb = RGBColor.from_string("FFFFFF")
    hole = plot._element.find(qn("c:holeSize"))
    if hole is None:
        hole = etree.SubElement(plot._element, qn("c:holeSize"))
    hole.set("val", "55")
    _legend(chart, canvas.lang, XL_LEGEND_POSITION.RIGHT, size)
    return chart
