"""One figure, every surface: the month's revenue and its most urgent alert read the same on the
page, the chart, the deck, the action list workbook and the CSV, because all of them take their
words and numbers from the one container (MonthFigures) through the one text layer.

The expected text is rendered here from the figures (``Text.money``, ``alert_reason``); each
surface is then opened back as its reader gets it: the page's HTML, the chart's bar labels, the
deck's shapes and tables, the workbook's cells, the CSV's column.
"""

from __future__ import annotations

import html

import IPython.display
import openpyxl
import pandas as pd
import pytest
from matplotlib import pyplot as plt
from pptx import Presentation

from channel_analysis.deck.build import build_deck
from channel_analysis.report.month_data import MonthData
from channel_analysis.report.plots import plot_bar
from channel_analysis.report.sections import dealer_health
from channel_analysis.run.outputs import alerts_table, write_action_list
from channel_analysis.text.format import text_for
from channel_analysis.text.labels import LANGS
from channel_analysis.text.reasons import alert_reason


def _page(monkeypatch, *sections) -> str:
    """What the sections put on the page: their HTML as the notebook would display it, unescaped."""
    shown: list[str] = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, *a, **k: shown.append(str(getattr(obj, "data", obj))))
    for show in sections:
        show()
    return html.unescape("\n".join(shown))


def _deck_text(path) -> list[str]:
    """Every text of the deck: its text boxes' paragraphs and its tables' cells."""
    out = []
    for slide in Presentation(str(path)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                out += [p.text for p in shape.text_frame.paragraphs]
            if shape.has_table:
                out += [c.text for row in shape.table.rows for c in row.cells]
    return out


@pytest.fixture(scope="module")
def urgent(demo_figures) -> pd.Series:
    alerts = demo_figures.alerts
    assert len(alerts), "the demo world's month has alerts"
    return alerts.iloc[0]  # the most urgent


@pytest.fixture(scope="module", params=LANGS)
def deck(request, demo_figures, tmp_path_factory):
    lang = request.param
    return lang, _deck_text(build_deck(demo_figures, tmp_path_factory.mktemp(lang) / "deck.pptx", lang=lang))


def test_the_months_revenue_reads_the_same_on_the_page_the_chart_and_the_deck(demo_figures, deck, monkeypatch):
    lang, deck_text = deck
    revenue = demo_figures.kpi("revenue")
    said = text_for(lang).money(revenue)
    assert said and said != text_for(lang).money(revenue * 1.5)  # a figure that a wrong value would not give

    md = MonthData(demo_figures, lang)
    assert said in _page(monkeypatch, lambda: dealer_health.at_a_glance(md))

    ax = plot_bar(pd.DataFrame({"m": [demo_figures.label], "revenue": [revenue]}), category="m", value="revenue",
                  money=True, lang=lang)
    labels = [t.get_text() for t in ax.texts]
    plt.close(ax.figure)
    assert said in labels

    assert any(said in text for text in deck_text), said


def test_the_most_urgent_alerts_reason_reads_the_same_on_the_page_the_deck_the_workbook_and_the_csv(
        demo_figures, urgent, deck, monkeypatch, tmp_path):
    lang, deck_text = deck
    reason = alert_reason(urgent.alert, urgent.figures, lang, region=urgent.region)
    md = MonthData(demo_figures, lang)
    assert reason in _page(monkeypatch, lambda: dealer_health.action_list(md))
    assert reason in deck_text

    # the action list files: reasons in English (the contract's alerts.csv and alerts.xlsx)
    english = alert_reason(urgent.alert, urgent.figures, "en", region=urgent.region)
    write_action_list(alerts_table(demo_figures.alerts), tmp_path)
    csv = pd.read_csv(tmp_path / "alerts.csv", dtype=str, keep_default_na=False)
    sheet = openpyxl.load_workbook(tmp_path / "alerts.xlsx", read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("reason")
    assert csv["reason"].iloc[0] == english
    assert rows[1][column] == english
