"""The house style of the report charts and a font that draws Chinese: call :func:`setup_style`
once at the top of a notebook."""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib import font_manager

from channel_analysis.palette import PALETTE

DPI = 110

# Family names in order of preference; SimHei last (bitmap-like, licence doubts).
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Source Han Sans",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "SimHei",
)
# Font files worth registering when matplotlib's font cache predates them.
_CJK_FILE = re.compile(
    r"(NotoSansCJK|NotoSans-?SC|SourceHanSans|wqy-microhei|wqy-zenhei|msyh|PingFang|Hiragino Sans GB|STHeiti|simhei)",
    re.IGNORECASE,
)


class CJKFontWarning(UserWarning):
    """No font able to draw Chinese was found; charts will show boxes for Chinese text."""


def _cjk_font_help() -> str:
    return (
        "no Chinese font found: Chinese text in charts will show as empty boxes. Install one, then rerun:\n"
        "  Debian/Ubuntu: sudo apt-get install fonts-noto-cjk   (or the smaller fonts-wqy-microhei)\n"
        "  Fedora/RHEL:   sudo dnf install google-noto-sans-cjk-fonts\n"
        "  Windows and macOS already have one (Microsoft YaHei / SimHei; PingFang SC / Hiragino Sans GB).\n"
        "If one is installed but not found, delete matplotlib's font cache: "
        f"{matplotlib.get_cachedir()}/fontlist-*.json"
    )


def _installed_cjk_font() -> str | None:
    names = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in names), None)


@functools.cache
def _discover_cjk_font() -> str | None:
    """The preferred CJK family, registering matching system font files the font cache does not know yet."""
    found = _installed_cjk_font()
    if found:
        return found
    for path in font_manager.findSystemFonts():
        if _CJK_FILE.search(Path(path).name):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # unreadable or unsupported font file
                continue
    return _installed_cjk_font()


def find_cjk_font() -> str | None:
    """Find a font that draws Chinese, put it first in ``font.sans-serif`` and return its family name.

    Searches matplotlib's font list, then the system's font folders, for the
    families in :data:`CJK_FONTS`. Returns None, with a :class:`CJKFontWarning`
    saying how to install one, when there is none.
    """
    family = _discover_cjk_font()
    if family is None:
        warnings.warn(_cjk_font_help(), CJKFontWarning, stacklevel=2)
        return None
    rest = [name for name in plt.rcParams["font.sans-serif"] if name != family]
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = [family, *rest]
    plt.rcParams["axes.unicode_minus"] = False  # CJK fonts often lack U+2212 MINUS SIGN
    return family


def setup_style() -> str | None:
    """Apply the house style (palette, sizes, grid, dpi) and a CJK font; returns the font family chosen.

    Call it before the first plot of a notebook: it also turns off mathtext, so
    names containing ``$`` are drawn as they are.
    """
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        rc={
            "figure.dpi": DPI,
            "savefig.dpi": DPI,
            "figure.figsize": (8.0, 4.0),
            "figure.constrained_layout.use": True,
            "axes.titlesize": 13,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.labelsize": 11,
            "axes.edgecolor": "#cccccc",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "grid.color": "#e6e6e6",
            "legend.frameon": False,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "text.parse_math": False,  # a dealer named "$$$ Trading" is text, not a formula to parse
        },
    )
    return find_cjk_font()
