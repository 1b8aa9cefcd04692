"""The management deck: built for a small demo world, opened back with python-pptx and checked
against the library's own figures (never against the deck's)."""

from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from pptx import Presentation
from pptx.oxml.ns import qn
from pptx.util import Inches

from channel_analysis import metrics as mx
from channel_analysis.config import Settings
from channel_analysis.deck import DECK_NAME, SLIDES, build_deck
from channel_analysis.deck.canvas import CJK_FONT, fit, text_width
from channel_analysis.early_warning.detect import SEVERITY_ORDER
from channel_analysis.errors import ParameterError
from channel_analysis.figures.compute import tables_by_month
from channel_analysis.figures.month import MonthFigures
from channel_analysis.months import Month, as_of
from channel_analysis.panel import dealer_month_panel
from channel_analysis.text.format import text_for
from channel_analysis.text.labels import label
from channel_analysis.text.reasons import alert_reasons

MONTH = "2025-12"
SCRIPT, FORMULA = "<script>alert(1)</script>", "=cmd|' /C calc'!A0"
LONG_ZH = "中华人民共和国山东省青岛市黄岛区经济技术开发区" "远顺起重设备工程机械租赁销售服务有限责任公司"
TITLE_KEYS = ["deck_glance", "what_changed", "deck_at_risk", "deck_costs", "deck_funnel", "deck_scorecard",
              "deck_service", "deck_events", "deck_actions"]  # fmt: skip


# ---- the demo world and its decks -----------------------------------------------------------


@pytest.fixture(scope="module")
def tables(demo_tables) -> dict[str, pd.DataFrame]:
    return demo_tables


@pytest.fixture(scope="module")
def expected(tables):
    """The library's figures for the month, computed here without the deck's code."""
    m = Month(MONTH)
    now = tables_by_month(tables, [m], settings=Settings())[MONTH]
    cut = as_of(tables, m)
    return {"figures": now, "tables": cut, "panel": dealer_month_panel(cut, as_of=MONTH)}


@pytest.fixture(scope="module")
def figures(demo_figures):
    return demo_figures  # the session's figures of MONTH (MonthFigures)


@pytest.fixture(scope="module")
def deck_en(figures, tmp_path_factory):
    return Presentation(str(build_deck(figures, tmp_path_factory.mktemp("en") / "deck.pptx", lang="en")))


@pytest.fixture(scope="module")
def deck_zh(figures, tmp_path_factory):
    return Presentation(str(build_deck(figures, tmp_path_factory.mktemp("zh"), lang="zh")))


@pytest.fixture(scope="module")
def hostile(tables, tmp_path_factory):
    """The same world with dealer names that are markup, formulas and very long, and a manager
    named like a formula; every dealer carries one of them."""
    names = [SCRIPT, FORMULA, LONG_ZH]
    renamed = dict(tables)
    dealers = tables["dealers"].copy()
    dealers["dealer_name"] = [names[i % 3] for i in range(len(dealers))]
    renamed["dealers"] = dealers
    managers = tables["sales_managers"].copy()
    managers.loc[managers.index[0], "name"] = FORMULA
    renamed["sales_managers"] = managers
    path = build_deck(MonthFigures(renamed, MONTH), tmp_path_factory.mktemp("hostile") / "deck.pptx")
    return path, Presentation(str(path)), managers


def shape(slide, name: str):
    found = [s for s in slide.shapes if s.name == name]
    assert found, f"no shape {name!r} on the slide: {[s.name for s in slide.shapes]}"
    return found[0]


def chart(deck, name: str):
    for slide in deck.slides:
        for s in slide.shapes:
            if s.name == name and s.has_chart:
                return s.chart
    raise AssertionError(f"no chart {name!r}")


def series(ch, name: str) -> list[float | None]:
    found = [s for s in ch.series if s.name == name]
    assert found, f"no series {name!r}: {[s.name for s in ch.series]}"
    return list(found[0].values)


def table_rows(slide, name: str) -> list[list[str]]:
    tbl = shape(slide, name).table
    return [[cell.text for cell in row.cells] for row in tbl.rows]


def title_of(slide) -> str:
    return slide.shapes.title.text if slide.shapes.title is not None else ""


def network(kpis: pd.DataFrame, metric: str) -> float:
    return float(kpis.loc[(kpis["metric"] == metric) & (kpis["scope"] == "network"), "value"].iloc[0])


def close(a, b) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)):
        return (a is None or math.isnan(a)) and (b is None or math.isnan(b))
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


# ---- structure --------------------------------------------------------------------------------


def test_slide_count_titles_notes_and_native_charts(deck_en):
    slides = list(deck_en.slides)
    assert 8 <= len(slides) <= 12 and len(slides) == len(SLIDES)
    assert title_of(slides[0]).startswith(label("deck_title", "en"))
    assert [title_of(s) for s in slides[1:]] == [label(k, "en") for k in TITLE_KEYS]
    for slide in slides:
        assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text.strip(), title_of(slide)
    charts = [s.chart for slide in slides for s in slide.shapes if s.has_chart]
    assert len(charts) >= 3
    for ch in charts:  # native charts with their data in an embedded workbook
        assert ch.part.chart_workbook.xlsx_part is not None


def test_deck_is_widescreen_without_template(deck_en):
    assert (deck_en.slide_width, deck_en.slide_height) == (Inches(13.333), Inches(7.5))


# ---- the figures on the slides are the library's ----------------------------------------------------


def test_headline_cards_equal_kpis(deck_en, expected):
    kpis = expected["figures"].kpis
    glance = deck_en.slides[1]
    for metric in ("dealers_in_network", "dealers_signed_t12", "dealers_lost_t12"):
        assert shape(glance, f"card:{metric}").text_frame.paragraphs[0].text == f"{network(kpis, metric):,.0f}"
    for metric in ("revenue", "revenue_t12"):
        value = network(kpis, metric)
        assert shape(glance, f"card:{metric}").text_frame.paragraphs[0].text == text_for("en").money(value)
        assert f"¥{value:,.2f}" in glance.notes_slide.notes_text_frame.text
    costs = deck_en.slides[4]
    assert shape(costs, "card:cac_t12").text_frame.paragraphs[0].text == text_for("en").money(network(kpis, "cac_t12"))
    sla = network(kpis, "sla_compliance")
    assert shape(deck_en.slides[7], "card:sla_compliance").text_frame.paragraphs[0].text == text_for("en").share(sla)


def test_revenue_chart_matches_orders_and_kpis(deck_en, expected):
    kpis, orders = expected["figures"].kpis, expected["tables"]["orders"]
    ch = chart(deck_en, "chart:revenue")
    this_year = series(ch, label("deck_this_year", "en"))
    assert len(this_year) == 12
    assert close(this_year[-1], network(kpis, "revenue"))
    assert math.isclose(sum(this_year), network(kpis, "revenue_t12"), rel_tol=1e-9)
    year_ago = orders[orders["order_date"].dt.to_period("M") == pd.Period("2024-12", freq="M")]["amount"].sum()
    assert close(series(ch, label("deck_year_earlier", "en"))[-1], float(year_ago))
    assert list(ch.plots[0].categories)[-1] == MONTH


def test_money_charts_reaching_half_a_billion_are_written_in_billions():
    en, zh = text_for("en"), text_for("zh")
    millions = en.chart_money_format([3.2e8, None, float("nan")])
    assert millions.startswith('[>=1000000]"¥"#,##0.0,,"M"')  # ¥320.0M
    assert en.chart_money_format([1.8e10, -6e8]).startswith('[>=1000000000]"¥"#,##0.0,,,"B"')  # an axis to ¥20.0B
    assert en.chart_money_format([5e8]).startswith('[>=1000000000]')  # its axis may reach ¥1B
    assert zh.chart_money_format([1.8e10]).startswith('[>=10000000]"¥"0\\.00,,"亿"')  # ¥180.00亿
    assert en.chart_money_format() == millions


def test_status_categories_say_their_counts_with_separators():
    from channel_analysis.deck.slides import status_labels

    counts = pd.Series({"active": 87_667, "lost": 268})
    assert status_labels(counts, "en") == ["Active: 87,667", "Lost: 268"]
    assert status_labels(counts, "zh") == ["活跃: 87,667", "流失: 268"]


def test_scorecard_chart_equals_scorecard(deck_en, expected):
    sc = mx.sales_manager_scorecard(expected["tables"], as_of=MONTH, kpis=expected["figures"].kpis)
    sc = sc.sort_values("rank")
    ch = chart(deck_en, "chart:scorecard")
    assert list(ch.plots[0].categories) == sc["name"].tolist()
    assert all(close(a, b) for a, b in zip(series(ch, label("callback_coverage", "en")), sc["callback_coverage"]))
    assert all(close(a, b) for a, b in zip(series(ch, label("visit_coverage_2m", "en")), sc["visit_coverage_2m"]))
    line = [p for p in ch.plots if p._element.tag == qn("c:lineChart")]  # the target, drawn as a line
    assert len(line) == 1 and set(line[0].series[0].values) == {Settings().callback_target}
    rows = table_rows(deck_en.slides[6], "table:scorecard")[1:]
    assert [r[0] for r in rows] == sc["name"].tolist()


def test_status_funnel_service_and_event_charts_equal_metrics(deck_en, expected):
    counts = expected["figures"].health["status"].value_counts()
    ch = chart(deck_en, "chart:status")
    shown = {c.split(":")[0]: v for c, v in zip(ch.plots[0].categories, ch.series[0].values)}
    assert shown == {label(s, "en"): counts[s] for s in counts.index if counts[s] > 0}
    from channel_analysis.early_warning.detect import STATUSES

    assert list(ch.plots[0].categories) == [f"{label(s, 'en')}: {counts[s]:,}" for s in STATUSES if counts.get(s, 0)]
    t = expected["tables"]
    funnel = mx.prospect_funnel(t["prospects"], as_of=MONTH, window_months=12)
    assert list(chart(deck_en, "chart:funnel").series[0].values) == funnel["closed"].astype(float).tolist()
    levels = mx.service_levels(t["service_requests"], as_of=MONTH)
    sla = chart(deck_en, "chart:sla")
    assert all(close(a, b) for a, b in zip(series(sla, label("sla_compliance", "en")), levels["sla_compliance"]))
    kinds = mx.event_cost_by_kind(t["events"], t["event_attendance"], as_of=MONTH)
    ev = chart(deck_en, "chart:events")
    assert all(close(a, b) for a, b in zip(ev.series[0].values, kinds["cost_per_attendee"]))


def test_at_risk_table_lists_exactly_the_top_alerts(deck_en, expected):
    alerts = expected["figures"].alerts
    top = alerts.assign(_s=alerts["severity"].map(SEVERITY_ORDER))
    top = top.sort_values(["_s", "score", "dealer_id"], ascending=[True, False, True], kind="stable").head(8)
    rows = table_rows(deck_en.slides[3], "table:at_risk")
    assert rows[0][1] == label("dealer", "en")
    body = rows[1:]
    assert len(body) == min(8, len(alerts))
    assert [r[1] for r in body] == top["dealer_name"].tolist()  # demo names fit uncut
    assert [r[4] for r in body] == [label(a, "en") for a in top["alert"]]
    assert [r[6] for r in body] == [f"{s:.0f}" for s in top["score"]]
    reasons = alert_reasons(top, "en")  # the alerts' sentences, as alerts.csv carries them
    for cell, reason in zip((r[7] for r in body), reasons):
        assert reason.startswith(cell.removesuffix("…").rstrip())
    notes = deck_en.slides[3].notes_slide.notes_text_frame.text
    assert all(reason in notes for reason in reasons)  # the full reasons are in the notes


def test_actions_name_owners_and_dealers(deck_en, expected):
    rows = table_rows(deck_en.slides[9], "table:actions")[1:]
    names = set(expected["tables"]["sales_managers"]["name"])
    assert rows and all(r[0] in names for r in rows)
    breakers = mx.rule_breakers(expected["tables"], as_of=MONTH)
    calls = breakers[breakers["rule"] == "no_callback"].groupby("sales_manager_id").size()
    by_name = dict(zip(expected["tables"]["sales_managers"]["sales_manager_id"],
                       expected["tables"]["sales_managers"]["name"]))  # fmt: skip
    shown = {r[0]: r[2] for r in rows}
    for manager, n in calls.items():
        assert shown[by_name[manager]].startswith(f"{n}: ")


# ---- Chinese --------------------------------------------------------------------------------------


def test_zh_deck_has_chinese_titles_and_an_east_asian_font(deck_zh):
    slides = list(deck_zh.slides)
    assert [title_of(s) for s in slides[1:]] == [label(k, "zh") for k in TITLE_KEYS]
    assert all(re.search(r"[\u4e00-\u9fff]", title_of(s)) for s in slides)
    for slide in slides:
        runs = slide._element.iter(qn("a:r"))
        for r in runs:
            ea = r.find(qn("a:rPr")).find(qn("a:ea"))
            assert ea is not None and ea.get("typeface") == CJK_FONT
    glance = slides[1]
    assert shape(glance, "card:revenue").text_frame.paragraphs[0].text.endswith(("万", "亿"))
    assert all(slide.notes_slide.notes_text_frame.text.strip() for slide in slides)


def test_chart_text_carries_the_east_asian_font(deck_zh):
    ch = chart(deck_zh, "chart:scorecard")
    defaults = ch._chartSpace.find(qn("c:txPr")).iter(qn("a:defRPr"))
    assert any(d.find(qn("a:ea")) is not None for d in defaults)


# ---- hostile and long names ---------------------------------------------------------------------------


def test_hostile_names_are_literal_text(hostile):
    path, deck, _ = hostile
    rows = table_rows(deck.slides[3], "table:at_risk")[1:]
    names = [r[1] for r in rows]
    assert SCRIPT in names or FORMULA in names
    for name in names:
        assert name in (SCRIPT, FORMULA) or (name.endswith("…") and LONG_ZH.startswith(name[:-1]))
    with zipfile.ZipFile(path) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("ppt/slides/slide"))
    assert "<script>" not in xml and "&lt;script&gt;alert(1)&lt;/script&gt;" in xml


def test_formula_like_names_stay_strings_in_the_chart_workbook(hostile):
    _, deck, _ = hostile
    ch = chart(deck, "chart:scorecard")
    assert FORMULA in list(ch.plots[0].categories)
    book = openpyxl.load_workbook(io.BytesIO(ch.part.chart_workbook.xlsx_part.blob))
    cells = [c for row in book.active.iter_rows() for c in row if c.value == FORMULA]
    assert cells and all(c.data_type == "s" for c in cells)


def test_long_names_are_shortened_to_fit():
    short = fit(LONG_ZH, 2.0, 10.5, lines=2)
    assert short.endswith("…") and LONG_ZH.startswith(short[:-1])
    assert text_width(short) <= 2 * (2.0 - 0.16) * 72 / 10.5
    assert fit("济宁华丰机械设备贸易有限公司", 3.0, 10.5) == "济宁华丰机械设备贸易有限公司"


# ---- templates --------------------------------------------------------------------------------------------


def _template(path: Path, *, rename: bool = False) -> Path:
    """A company template: 4:3, its own slides (to be removed), optionally odd layout names."""
    prs = Presentation()
    for i in range(2):
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = f"OLD SLIDE {i}"
    if rename:
        for i, layout in enumerate(prs.slide_layouts):
            layout._element.cSld.set("name", f"Firmenlayout {i}")
    prs.save(str(path))
    return path


@pytest.mark.parametrize("rename", [False, True], ids=["named-layouts", "unnamed-layouts"])
def test_template_gives_slide_size_master_and_layouts(figures, tmp_path, rename):
    template = _template(tmp_path / "company.pptx", rename=rename)
    source = Presentation(str(template))
    deck = Presentation(str(build_deck(figures, tmp_path / "out.pptx", template=template)))
    assert (deck.slide_width, deck.slide_height) == (source.slide_width, source.slide_height)
    assert len(deck.slide_masters) == len(source.slide_masters)
    assert [lay.name for lay in deck.slide_layouts] == [lay.name for lay in source.slide_layouts]
    assert len(deck.slides) == len(SLIDES)
    assert not any("OLD SLIDE" in s.text_frame.text for sl in deck.slides for s in sl.shapes if s.has_text_frame)
    names = {lay.name: i for i, lay in enumerate(source.slide_layouts)}
    prefix = "Firmenlayout " if rename else ""
    title_slide = f"{prefix}0" if rename else "Title Slide"
    title_only = f"{prefix}5" if rename else "Title Only"
    assert deck.slides[0].slide_layout.name == title_slide and title_slide in names
    assert {s.slide_layout.name for s in list(deck.slides)[1:]} == {title_only}
    for slide in deck.slides:  # every shape stays on the (4:3) slide
        for s in slide.shapes:
            assert s.left >= 0 and s.left + s.width <= deck.slide_width + 1, (title_of(slide), s.name)


# ---- paths, errors and other inputs --------------------------------------------------------------


def test_folder_path_writes_deck_pptx(figures, tmp_path):
    assert build_deck(figures, tmp_path / "2025-12") == tmp_path / "2025-12" / DECK_NAME
    assert (tmp_path / "2025-12" / DECK_NAME).is_file()


def test_bad_language_and_missing_template(figures, tmp_path):
    with pytest.raises(ValueError, match="language"):
        build_deck(figures, tmp_path, lang="fr")
    with pytest.raises(ParameterError, match="not found"):
        build_deck(figures, tmp_path, template=tmp_path / "missing.pptx")
    (tmp_path / "notes.txt").write_text("not a presentation")
    with pytest.raises(ParameterError, match="cannot be opened"):
        build_deck(figures, tmp_path, template=tmp_path / "notes.txt")


def test_only_required_tables_still_give_every_slide(tables, tmp_path):
    minimal = {name: tables[name] for name in ("dealers", "orders")}
    deck = Presentation(str(build_deck(MonthFigures(minimal, MONTH), tmp_path / "deck.pptx")))
    assert len(deck.slides) == len(SLIDES)
    texts = [s.text_frame.text for sl in deck.slides for s in sl.shapes if s.name == "text:missing"]
    assert "No data for this section: the source has no Expenses table." in texts
    assert "No data for this section: the source has no Service requests table." in texts
    assert all(sl.notes_slide.notes_text_frame.text.strip() for sl in deck.slides)
    # without interactions only the first-order rule can be checked: met of 1, never of 3
    table = next(s.table for sl in deck.slides for s in sl.shapes if s.name == "table:scorecard")
    met = {table.cell(i, 5).text for i in range(1, len(table.rows))}
    assert met and met <= {"0/1", "1/1"}


def test_month_data_is_accepted(tables, tmp_path, expected):
    from channel_analysis.report.month_data import MonthData

    data = MonthData(MonthFigures(tables, MONTH), location="test")
    deck = Presentation(str(build_deck(data, tmp_path / "deck.pptx")))
    card = shape(deck.slides[1], "card:revenue").text_frame.paragraphs[0].text
    assert card == text_for("en").money(network(expected["figures"].kpis, "revenue"))


def test_a_short_order_history_is_said_on_the_title_slide(tables, tmp_path, deck_en):
    # the world's orders begin in 2024-01: in June, 12-month figures cover 6 months and no dealer can be judged
    young = Presentation(str(build_deck(MonthFigures(tables, "2024-06"), tmp_path / "deck.pptx")))
    history = [s.text_frame.text for s in young.slides[0].shapes if s.name == "text:history"]
    assert history == ["Orders in the source begin in Jan 2024: figures over the last 12 months cover only 6 months.\n"
                       "The early warning judges a dealer against its own history after 9 months of orders, so none "
                       "can be judged that way yet: most alerts cannot be raised, and a health score of 100 only means "
                       "that nothing is known against a dealer."]
    assert not [s for s in deck_en.slides[0].shapes if s.name == "text:history"]  # 24 months: nothing to say


def test_a_source_that_names_no_sales_manager_gives_every_slide(tables, tmp_path):
    # sales_manager_id is optional in dealers: without it, alerts and actions have no owner (pd.NA)
    unnamed = {name: frame for name, frame in tables.items() if name != "sales_managers"}
    unnamed["dealers"] = tables["dealers"].drop(columns="sales_manager_id")
    deck = Presentation(str(build_deck(MonthFigures(unnamed, MONTH), tmp_path / "deck.pptx")))
    assert len(deck.slides) == len(SLIDES)
    texts = [s.text_frame.text for sl in deck.slides for s in sl.shapes if s.name == "text:missing"]
    assert texts == ["No sales managers are named in the data."]  # not "no Dealers table"


def test_a_payback_with_nothing_to_show_says_so(tables, tmp_path):
    # no dealer signed in the last 12 months: no cost to acquire one (0 signings), so no payback to show
    old = tables["dealers"]["signed_date"] < pd.Timestamp("2025-01-01")
    ids = set(tables["dealers"].loc[old, "dealer_id"])
    kept = {name: frame[frame["dealer_id"].isna() | frame["dealer_id"].isin(ids)] if "dealer_id" in frame else frame
            for name, frame in tables.items()}
    deck = Presentation(str(build_deck(MonthFigures(kept, MONTH), tmp_path / "deck.pptx")))
    texts = [s.text_frame.text for s in deck.slides[4].shapes if s.has_text_frame]
    assert "No data for this section." in texts
    assert not [s for s in deck.slides[4].shapes if s.name == "table:payback"]


def test_a_source_that_records_no_closing_says_why_nothing_is_on_time(tables, tmp_path):
    kept = dict(tables, service_requests=tables["service_requests"].drop(columns="closed_at"))
    deck = Presentation(str(build_deck(MonthFigures(kept, MONTH), tmp_path / "deck.pptx")))
    texts = " ".join(s.text_frame.text for s in deck.slides[7].shapes if s.has_text_frame)
    assert "No request of these months has a closing time (closed_at)" in texts
