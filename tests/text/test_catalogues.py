"""The label catalogues (channel_analysis/text/catalogues/en.toml, zh.toml): the same keys in both,
the same figures in each sentence, and every key the code names present in both."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from channel_analysis import schema
from channel_analysis.early_warning.detect import SEVERITY_ORDER, STATUSES
from channel_analysis.early_warning.health import WEIGHTS
from channel_analysis.metrics.kpis import METRICS
from channel_analysis.report.sections import REPORTS
from channel_analysis.text.labels import catalogue
from channel_analysis.text.reasons import CODES

PACKAGE = Path(__file__).resolve().parents[2] / "channel_analysis"
EN, ZH = catalogue("en"), catalogue("zh")
# calls whose first text argument is a label key (label(key, lang), t.say(key, …), md.text(key), L(key) …)
KEYED = {"label", "say", "text", "L", "has_label", "t"}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogues_hold_the_same_keys():
    assert sorted(set(EN) - set(ZH)) == [] and sorted(set(ZH) - set(EN)) == []


@pytest.mark.parametrize("key", sorted(EN))
def test_each_sentence_has_the_same_figures_in_both_languages(key):
    assert _fields(EN[key]) == _fields(ZH[key]), (EN[key], ZH[key])
    assert ZH[key].strip() and EN[key].strip() or key == "list_separator"


def _keys_named_in_code() -> dict[str, str]:
    """Every label key written as a literal in the package's code → where (file:line)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            args = node.args
            if name == "note" and len(args) >= 2:  # note(md, key, …) in the report sections
                args = args[1:]
            elif name == "section" and args:  # @section("key"): its heading h.key
                if isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                    found[f"h.{args[0].value}"] = f"{path.name}:{node.lineno}"
                continue
            elif name not in KEYED:
                continue
            if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                key = args[0].value
                if re.fullmatch(r"[a-z0-9_.]+", key):
                    found[key] = f"{path.relative_to(PACKAGE)}:{node.lineno}"
    return found


def test_every_key_the_code_names_is_in_both_catalogues():
    named = _keys_named_in_code()
    assert len(named) > 200  # the scan sees the code's keys (about 250 in all)
    missing = {key: where for key, where in named.items() if key not in EN or key not in ZH}
    assert missing == {}


def test_every_code_a_page_labels_is_in_both_catalogues():
    """Codes shown through label(): statuses, severities, alerts, metrics, components, the contract's
    coded values and tables, the reports."""
    codes = [*STATUSES, *SEVERITY_ORDER, *CODES, *METRICS, *REPORTS, *(f"component_{c}" for c in WEIGHTS),
             *(f"cat.{c}" for c in schema.EXPENSE_CATEGORIES), *schema.EVENT_KINDS, *schema.PROCESSES,
             *schema.STAGES, *(f"table.{t}" for t in schema.TABLES), *(f"about.{r}" for r in REPORTS),
             *(f"reason.{c}" for c in CODES)]  # fmt: skip
    assert [c for c in codes if c not in EN or c not in ZH] == []
