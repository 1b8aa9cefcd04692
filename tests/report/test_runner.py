"""The report runner: parameters, execution with its failure paths, and the published HTML.

Kernel starts are the cost here (about a second each): one report is executed
and exported once per module and checked from every side; each failure path
runs one tiny notebook.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from channel_analysis.errors import ChannelAnalysisError, ParameterError
from channel_analysis.report import display as report
from channel_analysis.report import runner
from channel_analysis.report.display import format_frame
from channel_analysis.report.export import export_html, external_references
from channel_analysis.report.runner import SENTINEL_TOKEN, ReportFailed, execute_report, notebook_parameters

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>"]
PARAMETERS_CELL = 'month: str = "2026-10"  # report month\nlang: str = "en"  # en or zh\nnote: str = "x"  # shown nowhere'
SENTINEL = "from channel_analysis.report.runner import report_finished\nreport_finished()"


def write_notebook(path: Path, *cells, parameters: str | None = PARAMETERS_CELL, sentinel: bool = True) -> Path:
    """A notebook of code cells (str) and markdown cells (("md", text)), with parameters and sentinel cells."""
    body = [new_markdown_cell(c[1]) if isinstance(c, tuple) else new_code_cell(c) for c in cells]
    if parameters is not None:
        body.insert(0, new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    if sentinel:
        body.append(new_code_cell(SENTINEL))
    nb = new_notebook(cells=body)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


GIVEN = {"month": "2026-10", "lang": "zh", "note": "zz-parameter-only-zz"}

REPORT_CELLS = [
    "import pandas as pd\n"
    "from channel_analysis.report.display import show_table, summary_box\n"
    "from channel_analysis.report.plots import plot_bar\nfrom channel_analysis.report.style import setup_style\n"
    "font = setup_style()",
    f"summary_box(['收入 up 4%', {HOSTILE[0]!r}], lang=lang)",
    ("md", "# Overview\nThe month in one page."),
    ("md", "## 山东 dealers"),
    f"dealers = pd.DataFrame({{'dealer_name': {HOSTILE + ['山东重机']!r}, 'region': ['山东'] * 3,\n"
    "    'status': ['active', 'at_risk', 'lost'], 'revenue': [1234567.0, -12000.0, 0.0]})\n"
    "show_table(dealers, lang=lang, caption='<b>caption</b>', money_columns=['revenue'], label_values=['status'])",
    "show_table(pd.concat([dealers] * 12), lang=lang, long=True, money_columns=['revenue'])",
    "ax = plot_bar(dealers, category='dealer_name', value='revenue', money=True, lang=lang, title='山东 收入')\nax",
    ("md", "### Raw output"),
    "import sys\nfrom IPython.display import HTML, display\n"
    "print('warning text', file=sys.stderr)\n"
    f"display(HTML('<p>raw ' + {HOSTILE[1]!r} + '</p>'))",
]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict:
    """One report executed and exported: the paths and the HTML text."""
    folder = tmp_path_factory.mktemp("report")
    notebook = write_notebook(folder / "demo.ipynb", *REPORT_CELLS)
    executed = execute_report(notebook, GIVEN, workdir=folder, output_notebook=folder / "notebooks" / "demo.ipynb")
    page = export_html(executed, folder / "demo.html", title="经销商健康 — 2026-10", lang="zh")
    return {"executed": executed, "html_path": page, "html": page.read_text(encoding="utf-8")}


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of every element."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.ids: set[str] = set()
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "id" in attrs:
            self.ids.add(attrs["id"])


# --------------------------------------------------------------------------- parameters (no kernel)


def test_parameters_cell_is_read_with_types_defaults_and_comments(tmp_path):
    cell = 'month: str = "2026-10"  # report month\nregions: list[str] = ["华东", "华北"]  # regions\ntop = 20\n'
    path = write_notebook(tmp_path / "p.ipynb", parameters=cell)
    assert notebook_parameters(path) == {
        "month": ("str", "2026-10", "report month"),
        "regions": ("list[str]", ["华东", "华北"], "regions"),
        "top": ("int", 20, ""),
    }


def test_notebook_without_parameters_cell_has_none(tmp_path):
    assert notebook_parameters(write_notebook(tmp_path / "p.ipynb", parameters=None)) == {}


@pytest.mark.parametrize(
    ("cell", "message"),
    [("month: str = today()", "must be a literal"), ("print(1)", "write each parameter as"),
     ("month: str = ", "not valid Python")],
)
def test_parameters_cell_that_is_not_plain_assignments_is_refused(tmp_path, cell, message):
    with pytest.raises(ParameterError, match=message):
        notebook_parameters(write_notebook(tmp_path / "p.ipynb", parameters=cell))


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"month": "2026-10", "lang": "en", "note": "", "mnth": "x"}, "unknown parameter(s) mnth"),
        ({"month": "2026-10"}, "missing parameter(s) lang, note"),
        ({"month": "2026-10", "lng": "en", "note": ""}, "unknown parameter(s) lng; missing parameter(s) lang"),
    ],
)
def test_unknown_and_missing_parameters_are_refused_before_running(tmp_path, given, named):
    notebook = write_notebook(tmp_path / "p.ipynb", "print(1)")
    with pytest.raises(ParameterError) as caught:
        execute_report(notebook, given, workdir=tmp_path, output_notebook=tmp_path / "out.ipynb")
    assert named in str(caught.value)
    assert "Its parameters are: month: str, lang: str, note: str" in str(caught.value)
    assert not (tmp_path / "out.ipynb").exists()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"month": 202610}, "must be str, got int"),
        ({"month": ("2026", "10")}, "is a tuple"),
        ({"month": "postgresql://analyst:hunter2@db/sales"}, "looks like a secret"),
    ],
)
def test_parameters_of_the_wrong_type_or_carrying_a_password_are_refused(tmp_path, given, message):
    notebook = write_notebook(tmp_path / "p.ipynb", parameters='month: str = "2026-10"  # report month')
    with pytest.raises(ParameterError, match=message):
        execute_report(notebook, given, workdir=tmp_path, output_notebook=tmp_path / "out.ipynb")


def test_secret_parameter_names_are_refused():
    declared = {"db_password": runner.Parameter("str", "", "")}
    with pytest.raises(ParameterError, match="looks like a secret"):
        runner.check_parameters(declared, {"db_password": "x"}, "n.ipynb")


def test_notebook_without_the_sentinel_cell_is_refused(tmp_path):
    notebook = write_notebook(tmp_path / "p.ipynb", "print(1)", sentinel=False)
    with pytest.raises(ReportFailed, match="report_finished"):
        execute_report(notebook, {"month": "2026-10", "lang": "en", "note": ""}, workdir=tmp_path,
                       output_notebook=tmp_path / "out.ipynb")


# --------------------------------------------------------------------------- failure paths (one kernel each)


def _run(tmp_path: Path, *cells) -> None:
    notebook = write_notebook(tmp_path / "failing.ipynb", *cells, parameters='month: str = "2026-10"  # month')
    execute_report(notebook, {"month": "2026-11"}, workdir=tmp_path, output_notebook=tmp_path / "out" / "failing.ipynb")


def test_a_cell_that_raises_fails_the_report_naming_the_cell(tmp_path):
    with pytest.raises(ReportFailed) as caught:
        _run(tmp_path, "x = 1", "raise KeyError('region')", "print('never')")
    message = str(caught.value)
    assert "failing.ipynb failed in cell" in message
    assert "raise KeyError('region')" in message and "KeyError: 'region'" in message
    assert caught.value.exit_status == 1 and isinstance(caught.value, ChannelAnalysisError)


def test_sys_exit_in_a_cell_fails_the_report_because_the_sentinel_never_ran(tmp_path):
    with pytest.raises(ReportFailed) as caught:
        _run(tmp_path, "print(1)", "import sys\nsys.exit(0)", "print('never')")
    message = str(caught.value)
    assert "stopped before its end" in message and "import sys" in message and "SystemExit" in message


def test_a_killed_kernel_fails_the_report_naming_the_cell(tmp_path):
    with pytest.raises(ReportFailed) as caught:
        _run(tmp_path, "print(1)", "import os\nos.kill(os.getpid(), 9)", "print('never')")
    message = str(caught.value)
    assert "kernel died" in message and "import os" in message


def test_cell_timeout_becomes_a_readable_failure(tmp_path, monkeypatch):
    """Mapped without a kernel: papermill raising nbclient's CellTimeoutError."""
    import papermill
    from nbclient.exceptions import CellTimeoutError

    def times_out(*args, **kwargs):
        raise CellTimeoutError("A cell timed out while it was being executed, after 2 seconds.")

    monkeypatch.setattr(papermill, "execute_notebook", times_out)
    notebook = write_notebook(tmp_path / "slow.ipynb", "import time; time.sleep(5)", parameters=None)
    with pytest.raises(ReportFailed, match=r"slow.ipynb: a cell ran longer than the 2 s limit per cell"):
        execute_report(notebook, {}, workdir=tmp_path, output_notebook=tmp_path / "out.ipynb", timeout=2)


# --------------------------------------------------------------------------- the published page


def test_report_runs_to_its_sentinel(published):
    executed = nbformat.read(published["executed"], as_version=4)
    last = [c for c in executed.cells if c.cell_type == "code"][-1]
    assert SENTINEL_TOKEN in last.outputs[0].text


def test_page_has_no_code_no_parameters_and_no_sentinel(published):
    page = published["html"]
    for code in ("show_table(", "setup_style", "import pandas", "report_finished", "month =", "def "):
        assert code not in page
    assert "zz-parameter-only-zz" not in page
    assert SENTINEL_TOKEN not in page
    classes = {c for _, attrs in _Tags(page).tags for c in (attrs.get("class") or "").split()}
    assert not classes & {"jp-CodeCell-input", "jp-CodeMirrorEditor", "jp-InputPrompt", "jp-OutputPrompt"}
    assert "injected-parameters" not in page
    assert "warning text" not in page  # stderr is not published
    assert "&lt;Axes" not in page  # nor a bare object repr


def test_page_has_title_language_and_a_table_of_contents(published):
    page = published["html"]
    parsed = _Tags(page)
    assert '<html lang="zh">' in page
    assert "<title>经销商健康 — 2026-10</title>" in page
    nav = re.search(r'<nav[^>]*class="ca-toc".*?</nav>', page, re.DOTALL)[0]
    assert "目录" in nav
    assert [text for text in re.findall(r'<a href="#[^"]+">([^<]+)</a>', nav)] == ["Overview", "山东 dealers", "Raw output"]
    assert all(target in parsed.ids for target in re.findall(r'href="#([^"]+)"', nav))


def test_hostile_names_show_literally_and_never_as_markup(published):
    page = published["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<script>alert" not in page
    handlers = [(tag, name) for tag, attrs in _Tags(page).tags for name in attrs if name.startswith("on")]
    assert handlers == []
    assert not any(tag == "img" and attrs.get("src") == "x" for tag, attrs in _Tags(page).tags)
    assert "&lt;b&gt;caption&lt;/b&gt;" in page


def test_page_is_self_contained_and_small(published):
    page = published["html"]
    assert external_references(page) == []
    assert not re.search(r"<(script|link|img)\b[^>]*\b(src|href)=[\"']?(https?:)?//", page)
    images = [attrs for tag, attrs in _Tags(page).tags if tag == "img"]
    assert [(a["src"][:22], a["alt"]) for a in images] == [("data:image/png;base64,", "图表: 山东 dealers")]
    assert "_itables_" in page  # the interactive table's library is inlined
    assert published["html_path"].stat().st_size < 3_000_000


def test_external_references_finds_what_a_browser_would_fetch():
    page = (
        '<script src="https://cdn.example/x.js"></script><link rel="stylesheet" href="//cdn.example/s.css">'
        '<style>@import url("https://fonts.example/f.css");</style><script type="module">import("https://x/m.js")</script>'
        '<a href="https://itables.org/">a link is not fetched</a><img src="data:image/png;base64,AAAA">'
        '<img src="logo.png">'
    )
    assert external_references(page) == [
        "https://cdn.example/x.js", "//cdn.example/s.css", "https://fonts.example/f.css", "https://x/m.js", "logo.png",
    ]


# --------------------------------------------------------------------------- tables (no kernel)


def test_format_frame_formats_money_shares_and_counts_and_labels_codes():
    frame = pd.DataFrame({"status": ["at_risk", None], "revenue": [1234567.4, -12000.0],
                          "share": [0.125, None], "dealers": [1200, 3]})
    shown = format_frame(frame, lang="zh", money_columns=["revenue"], percent_columns=["share"],
                         label_values=["status"])
    assert list(shown.columns) == ["状态", "销售额", "占比", "经销商数"]
    assert shown.to_dict("list") == {
        "状态": ["有风险", ""], "销售额": ["¥123万", "-¥1.2万"], "占比": ["12.5%", ""], "经销商数": ["1,200", "3"],
    }  # money as every surface writes it (the text layer's compact money)


def test_show_table_escapes_every_value_short_and_long(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(report, "_display_escaped", shown.append)
    monkeypatch.setattr(report, "_ensure_itables", lambda: None)
    frame = pd.DataFrame({"dealer_name": HOSTILE, "revenue": [1.0, 2.0]})
    report.show_table(frame, lang="en", caption="<i>c</i>")
    report.show_table(frame, lang="en", caption="<i>c</i>", long=True)
    for markup in shown:
        assert "<script>alert" not in markup and "<img src=x" not in markup
        assert "&lt;i&gt;c&lt;/i&gt;" in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown[0]
    assert "dataTable" in shown[1] or "itables" in shown[1]
