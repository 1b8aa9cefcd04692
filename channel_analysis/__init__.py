"""channel-analysis: keep a manufacturer's dealer network healthy.

The pipeline, stage by stage: :func:`read_source` → :func:`validate_source` →
:func:`dealer_month_panel` → metrics (:mod:`channel_analysis.metrics`) and the
early warning (:func:`monthly_warning`) → the monthly run (:func:`run_month`).

The public names are imported on first use, so the command line starts fast.
"""

from importlib import import_module

from channel_analysis.errors import ChannelAnalysisError, SourceError

__version__ = "0.1.0"

_LAZY = {
    "read_source": "channel_analysis.sources.read",
    "validate_source": "channel_analysis.validate.memory",
    "dealer_month_panel": "channel_analysis.panel",
    "monthly_kpis": "channel_analysis.metrics",
    "monthly_warning": "channel_analysis.early_warning",
    "run_month": "channel_analysis.run.month",
    "backtest": "channel_analysis.run.backtest",
}
__all__ = ["ChannelAnalysisError", "SourceError", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'channel_analysis' has no attribute {name!r}")
