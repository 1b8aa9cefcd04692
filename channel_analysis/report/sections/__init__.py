"""The sections of the five monthly reports: one function per section, one call per notebook cell.

Each report notebook reads like its table of contents::

    md = month_data(data, month, lang=lang)
    dealer_health.summary(md)          # "what changed since last month"
    dealer_health.status_shares(md)    # heading, one sentence, one chart
    ...

A section function shows its heading and explanation in the report's language
(:mod:`channel_analysis.labels`), takes its figures from the metrics through
:class:`~channel_analysis.report_data.MonthData`, draws them with
:mod:`channel_analysis.plots` and shows tables with
:func:`~channel_analysis.report.show_table`. A section whose table the source lacks
says so in one line instead of failing the report (DATA_CONTRACT.md, "Tables").
"""

REPORTS = ("dealer_health", "acquisition_vs_retention", "sales_managers", "service_flow", "events")
