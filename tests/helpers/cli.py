"""Shared by the tests: cli."""

from __future__ import annotations

import contextlib
import io as _io

from channel_analysis.cli import main


def cli(*args: str) -> tuple[int, str, str]:
    """``channel-analysis ARGS`` in-process → (status, stdout, stderr); any traceback propagates."""
    out, err = _io.StringIO(), _io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return status, out.getvalue(), err.getvalue()
