"""The monthly run and the backtest: lock, staging, the month's outputs, manifest and atomic publication.
"""

from importlib import import_module

_PUBLIC = {
    "run_month": "channel_analysis.run.month",
    "REPORTS": "channel_analysis.run.month",
    "LANDING": "channel_analysis.run.month",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    # imported on first use: a notebook that needs one name does not load the whole stage
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
