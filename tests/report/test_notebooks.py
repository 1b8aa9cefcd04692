"""The notebooks in notebooks/: stored clean, parameterized alike, thin, and the dealer-health
report runs end to end on a small demo world and exports a page with its contents."""

from __future__ import annotations

import io
import re
import time
import tokenize
from importlib import import_module
from pathlib import Path

import nbformat
import pytest

from channel_analysis.report.export import export_html, external_references
from channel_analysis.report.runner import Parameter, execute_report, notebook_parameters

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
REPORTS = ("dealer_health", "acquisition_vs_retention", "sales_managers", "service_flow", "events")
PAGES = (*REPORTS, "index")  # the reports and the landing page follow the same conventions
PARAMETERS = {
    "data": Parameter("str", "../data/demo",
                      "data source: folder, database file or URL (password from the environment)"),
    "month": Parameter("str", "2026-10", "report month, YYYY-MM"),
    "lang": Parameter("str", "en", "en or zh"),
}
PARAMETERS_SOURCE = (
    'data: str = "../data/demo"  # data source: folder, database file or URL (password from the environment)\n'
    'month: str = "2026-10"  # report month, YYYY-MM\n'
    'lang: str = "en"  # en or zh'
)
ALL = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def _read(name: str):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def _code(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def test_the_five_reports_and_the_analysts_notebook_are_there():
    assert ALL == sorted([f"{name}.ipynb" for name in PAGES] + ["explore.ipynb"])


@pytest.mark.parametrize("name", ALL)
def test_parameters_cell_declares_exactly_data_month_and_lang(name):
    assert notebook_parameters(NOTEBOOKS / name) == PARAMETERS
    nb = _read(name)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1 and cells[0].source == PARAMETERS_SOURCE
    assert _code(nb)[0] is cells[0]  # the first code cell


@pytest.mark.parametrize("name", ALL)
def test_stored_without_outputs_or_execution_counts(name):
    nb = _read(name)
    nbformat.validate(nb)
    for cell in _code(nb):
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    assert "papermill" not in nb.metadata and "widgets" not in nb.metadata


@pytest.mark.parametrize("name", [f"{r}.ipynb" for r in PAGES])
def test_report_notebooks_are_thin(name):
    """No definitions, lambdas or loops; one call per section; markdown notes stay out of the page
    (headings come from the library in the report's language); the sentinel last."""
    nb = _read(name)
    for cell in _code(nb):
        tokens = tokenize.generate_tokens(io.StringIO(cell.source).readline)
        words = {t.string for t in tokens if t.type == tokenize.NAME}
        assert not words & {"def", "class", "lambda", "for", "while"}, cell.source
    assert all("remove-cell" in c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "markdown")
    code = [c.source for c in _code(nb)]
    assert "setup_style()" in code[1] and code[-1] == "report_finished()"
    assert code[2] == "md = month_data(data, month, lang=lang)"
    sections = code[3:-1]
    assert all(re.fullmatch(r"report\.\w+\(md\);", s) for s in sections), sections


@pytest.mark.parametrize("name", PAGES)
def test_every_section_of_the_library_is_in_its_notebook_once(name):
    module = import_module(f"channel_analysis.report.sections.{name}")
    called = [re.fullmatch(r"report\.(\w+)\(md\);", c.source)[1] for c in _code(_read(f"{name}.ipynb"))[3:-1]]
    assert called == list(module.__all__)


@pytest.fixture(scope="module")
def small_world(demo_world) -> Path:

    return demo_world.parent


@pytest.mark.slow
def test_dealer_health_runs_end_to_end_and_exports_a_page_with_contents_and_no_code(small_world, tmp_path):
    from channel_analysis.sources.read import read_source
    from channel_analysis.store.prepared import write_prepared_source
    from channel_analysis.text.labels import label
    from channel_analysis.validate.memory import validate_source

    started = time.monotonic()
    prepared = write_prepared_source(validate_source(read_source(small_world / "source")).tables, tmp_path / "src")
    executed = execute_report(NOTEBOOKS / "dealer_health.ipynb", {"data": str(prepared), "month": "2025-12",
                                                                    "lang": "en"},
                              workdir=tmp_path, output_notebook=tmp_path / "notebooks" / "dealer_health.ipynb")
    page_path = export_html(executed, tmp_path / "dealer_health.html", title="Dealer health — 2025-12", lang="en")
    elapsed = time.monotonic() - started
    page = page_path.read_text(encoding="utf-8")

    nav = re.search(r'<nav[^>]*class="ca-toc".*?</nav>', page, re.DOTALL)[0]
    contents = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', nav)
    headings = [label(f"h.{key}", "en") for key in ("at_a_glance", "status", "health_scores", "action_list",
                                                      "health_falls", "control_charts", "survival", "churn")]
    assert [text for _, text in contents] == headings
    assert all(f'id="{anchor}"' in page for anchor, _ in contents)
    assert label("what_changed", "en") in page  # the summary box
    for code in ("report.", "month_data(", "setup_style", "report_finished", "import ", "def ", "md ="):
        assert code not in page, code
    assert "remove-cell" not in page and "Keep the notebook thin" not in page  # the notebook's own notes
    assert page.count("data:image/png;base64,") >= 6
    assert external_references(page) == []
    assert page_path.stat().st_size < 3_000_000
    assert elapsed < 120, f"{elapsed:.0f} s"


@pytest.mark.slow
def test_explore_runs_top_to_bottom(small_world, tmp_path):
    import papermill

    papermill.execute_notebook(str(NOTEBOOKS / "explore.ipynb"), str(tmp_path / "explore.ipynb"),
                               parameters={"data": str(small_world / "source"), "month": "2025-12", "lang": "zh"},
                               cwd=str(tmp_path), progress_bar=False, kernel_name="python3")
    executed = nbformat.read(tmp_path / "explore.ipynb", as_version=4)
    assert not [o for c in _code(executed) for o in c.outputs if o.output_type == "error"]


# --------------------------------------------------------------------------- display helpers the sections use


def test_long_text_columns_get_the_width_and_numbers_their_own_decimals():
    import pandas as pd

    from channel_analysis.report.display import _column_widths, format_frame

    shown = pd.DataFrame({"Severity": ["High"], "Region": ["黑龙江"], "Reason": ["no order since 2025-02 " * 6]})
    widths = [float(w.rstrip("%")) for w in _column_widths(shown, wrap=[2])]
    assert sum(widths) == pytest.approx(100, abs=0.5) and widths[2] > 2 * max(widths[:2])
    frame = pd.DataFrame({"median_hours": [7.916], "satisfaction_mean": [4.1667]})
    assert format_frame(frame, decimals={"median_hours": 1}).iloc[0].tolist() == ["7.9", "4.17"]


def test_a_long_ranking_is_charted_by_its_two_ends():
    import pandas as pd

    from channel_analysis.report.sections.sales_managers import ranking_ends

    ranking = pd.DataFrame({"sales_manager": [f"M{i}" for i in range(1, 8)], "compliance": [0.9 - i / 10 for i in range(7)]})
    # up to twice ``shown`` managers: all of them, in rank order; beyond: the first and the last ``shown``
    assert [list(p["sales_manager"]) for p in ranking_ends(ranking, shown=4)] == [[f"M{i}" for i in range(1, 8)]]
    assert [list(p["sales_manager"]) for p in ranking_ends(ranking, shown=3)] == [["M1", "M2", "M3"], ["M5", "M6", "M7"]]
    assert [list(p["sales_manager"]) for p in ranking_ends(ranking.head(6), shown=3)] == [["M1", "M2", "M3", "M4", "M5", "M6"]]


def test_every_code_of_a_family_keeps_a_colour_of_its_own():
    from channel_analysis import schema
    from channel_analysis.report.sections._base import colours_of

    for family, codes in (("expense_category", schema.EXPENSE_CATEGORIES), ("event_kind", schema.EVENT_KINDS),
                          ("process", schema.PROCESSES)):
        colours = colours_of(codes, family)
        assert len(set(colours)) == len(codes), family
    # "support" is an expense category and a process step: as a category it is not travel's colour
    travel, support = colours_of(["cat.travel", "cat.support"], "expense_category", "cat.")
    assert support != travel
