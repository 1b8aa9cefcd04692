"""The published HTML in a real browser: headless Chromium renders it, and data never runs.

A report and the landing page are executed with dealer names that would run
script if they were markup; Chromium loads them from disk, its DOM after load
is read back, and a screenshot is taken.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from channel_analysis.report.export import export_html
from channel_analysis.report.runner import execute_report
from channel_analysis.run.month import LANDING, NOTEBOOKS
from channel_analysis.store.prepared import write_prepared_source
from channel_analysis.synthetic import generate_world

HOSTILE = [
    "<script>document.title='PWNED-1'</script>",
    "<img src=x onerror=\"document.title='PWNED-2'\">",
]
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--virtual-time-budget=3000",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.fail("headless Chromium is needed: apt-get install chromium (.ci/run installs it)", pytrace=False)


def browse(page: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """The dealer-health report and the landing page of a small world whose first dealers have
    hostile names and an alert each."""
    folder = tmp_path_factory.mktemp("browser")
    world = generate_world(dealers=120, start="2024-01", end="2025-12", seed=3)
    tables = {name: frame for name, frame in world.tables.items()}
    dealers = tables["dealers"].copy()
    stopped = world.truth["planted_problems"].query("pattern == 'stop'")["dealer_id"].head(len(HOSTILE))
    for dealer_id, name in zip(stopped, HOSTILE):
        dealers.loc[dealers["dealer_id"] == dealer_id, "dealer_name"] = name
    tables["dealers"] = dealers
    prepared = write_prepared_source({k: v.rename_axis("source_row") for k, v in tables.items()}, folder / "source")
    out = {}
    for name in ("dealer_health", LANDING):
        executed = execute_report(
            NOTEBOOKS / f"{name}.ipynb",
            {"data": str(prepared), "month": "2025-12", "lang": "en"},
            workdir=folder,
            output_notebook=folder / "notebooks" / f"{name}.ipynb",
        )
        out[name] = export_html(executed, folder / f"{name}.html", title=f"{name} — 2025-12")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dealer_health", LANDING])
def test_hostile_names_show_as_text_and_run_nothing(pages, name, tmp_path):
    dom = browse(pages[name], tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-500:]
    assert "PWNED" not in dom.stdout.split("</title>")[0]  # no script changed the title
    text = pd.Series([dom.stdout])
    # the names are in the page as text (escaped in the DOM), not as elements
    assert text.str.contains("&lt;script&gt;document.title").all()
    assert "<script>document.title" not in dom.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", ["dealer_health", LANDING])
def test_the_page_renders_in_chromium(pages, name, tmp_path):
    shot = tmp_path / f"{name}.png"
    result = browse(pages[name], tmp_path, f"--screenshot={shot}", "--window-size=1280,1600")
    assert result.returncode == 0, result.stderr[-500:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a real page, not a blank one
