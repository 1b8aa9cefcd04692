"""channel-analysis: keep a manufacturer's dealer network healthy.

The pipeline, stage by stage: :func:`read_source` → :func:`validate_source` →
:func:`dealer_month_panel` → metrics (:mod:`channel_analysis.metrics`) and the
early warning (:func:`monthly_warning`) → one month's figures (:func:`month_figures`)
→ the pages (:func:`month_data`), the deck and the monthly run (:func:`run_month`).
The layers and where each part lives: docs/architecture.md.

The public names are imported on first use, so the command line starts fast.
"""

from importlib import import_module

from channel_analysis.errors import ChannelAnalysisError, SourceError

__version__ = "0.1.0"

_LAZY = {
    "read_source": "channel_analysis.sources.read",
    "validate_source": "channel_analysis.validate.memory",
    "data_quality": "channel_analysis.validate.quality",
    "Month": "channel_analysis.months",
    "as_of": "channel_analysis.months",
    "Settings": "channel_analysis.config",
    "dealer_month_panel": "channel_analysis.panel",
    "monthly_kpis": "channel_analysis.metrics",
    "monthly_warning": "channel_analysis.early_warning",
    "month_figures": "channel_analysis.figures.month",
    "month_data": "channel_analysis.report.month_data",
    "alert_reasons": "channel_analysis.text.reasons",
    "text_for": "channel_analysis.text.format",
    "setup_style": "channel_analysis.report.style",
    "run_month": "channel_analysis.run.month",
    "backtest": "channel_analysis.run.backtest",
}
_MODULES = {"metrics": "channel_analysis.metrics", "plots": "channel_analysis.report.plots"}
__all__ = ["ChannelAnalysisError", "SourceError", "__version__", *_LAZY, *_MODULES]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in _MODULES:
        return import_module(_MODULES[name])
    raise AttributeError(f"module 'channel_analysis' has no attribute {name!r}")
