"""The sections of the five monthly reports: one function per section, one call per notebook cell.

Each report notebook reads like its table of contents::

    md = month_data(data, month, lang=lang)
    dealer_health.summary(md)          # "what changed since last month"
    dealer_health.status_shares(md)    # heading, one sentence, one chart
    ...

A section function shows its heading and explanation in the report's language
(:mod:`channel_analysis.text`), takes its figures from
:class:`~channel_analysis.report.month_data.MonthData`, draws them with
:mod:`channel_analysis.report.plots`, shows tables with
:func:`~channel_analysis.report.display.show_table` and returns the frame it shows (to look at
in JupyterLab). A section whose table the source lacks
says so in one line instead of failing the report (DATA_CONTRACT.md, "Tables").
"""

# The reports of a month, in the order a run executes them and the landing page lists them: each
# is notebooks/<name>.ipynb, its sections in the module of that name here, its title the label <name>.
REPORTS = ("dealer_health", "acquisition_vs_retention", "sales_managers", "service_flow", "events")
LANDING = "index"  # notebooks/index.ipynb → index.html, the landing page, executed last
