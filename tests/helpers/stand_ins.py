"""Stand-in report notebooks for tests of the monthly run: real papermill kernels, no reports."""

from collections.abc import Callable
from pathlib import Path

from channel_analysis.run import month as monthly


def use_stand_ins(tmp_path: Path, monkeypatch, stand_in: Callable[[Path, str], None]) -> Path:
    """Write a stand-in (``stand_in(folder, name)``) for every report and the landing page into
    ``tmp_path/notebooks`` and point the run at them; returns that folder."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in (*monthly.REPORTS, monthly.LANDING):
        stand_in(folder, name)
    monkeypatch.setattr(monthly, "NOTEBOOKS", folder)
    return folder
