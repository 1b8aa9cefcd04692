"""The label catalogues, one per language (``catalogues/en.toml``, ``catalogues/zh.toml``):
``label("revenue", "zh")`` → "销售额".

Keys are the project's own names (column names, metric names, status, alert and severity
codes, ``h.*`` headings, ``t.*`` explanations, ``n.*`` notes, ``sum.*`` summary sentences,
``reason.*`` the early warning's sentences ...), so a report can label a column or a value by
passing it through :func:`label`. An unknown key comes back unchanged, which keeps a new column
readable until it is given a label; every key the code names is in both catalogues
(tests/text/test_catalogues.py).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Sequence
from importlib.resources import files

LANGS = ("en", "zh")


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a supported report language, else raise ``ValueError``."""
    if lang not in LANGS:
        raise ValueError(f"language '{lang}' is not supported: use one of {', '.join(LANGS)}")
    return lang


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """Every label of ``lang``, by key, as its catalogue file gives them."""
    path = files("channel_analysis.text") / "catalogues" / f"{check_lang(lang)}.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def label(key: str, lang: str = "en") -> str:
    """The reader-facing word for ``key`` in ``lang`` ("en" or "zh"); an unknown key is returned as is."""
    return catalogue(lang).get(key, key)


def has_label(key: str) -> bool:
    """True when ``key`` has words of its own (``label`` returns an unknown key unchanged)."""
    return key in catalogue("en")


def list_separator(lang: str) -> str:
    """What separates the items of a list in a sentence: ", " in English, "、" in Chinese."""
    return label("list_separator", lang)


def table_names(tables: Sequence[str], lang: str = "en") -> str:
    """Contract tables as a reader names them, the last joined by "or": "Prospects or
    Interactions", "意向客户或联络记录"; "A, B or C" for more."""
    names = [label(f"table.{t}", lang) for t in tables]
    if len(names) < 2:
        return "".join(names)
    return list_separator(lang).join(names[:-1]) + label("or", lang) + names[-1]
