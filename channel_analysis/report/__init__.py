"""The HTML reports: the runner (papermill), the month's data for the pages, the sections of each
report, the plots, and the export to one self-contained page.
"""

from importlib import import_module

_PUBLIC = {
    "execute_report": "channel_analysis.report.runner",
    "report_finished": "channel_analysis.report.runner",
    "ReportFailed": "channel_analysis.report.runner",
    "notebook_parameters": "channel_analysis.report.runner",
    "export_html": "channel_analysis.report.export",
    "MonthData": "channel_analysis.report.month_data",
    "show_table": "channel_analysis.report.display",
    "summary_box": "channel_analysis.report.display",
    "setup_style": "channel_analysis.report.plots",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    # imported on first use: a notebook that needs one name does not load the whole stage
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
