"""Everything a reader reads: the label catalogues (English, Chinese), the one formatter of numbers,
and the sentences of the early warning rendered from their codes and figures.
"""

from importlib import import_module

_PUBLIC = {
    "label": "channel_analysis.text.labels",
    "check_lang": "channel_analysis.text.labels",
    "LANGS": "channel_analysis.text.labels",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    # imported on first use: a notebook that needs one name does not load the whole stage
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
