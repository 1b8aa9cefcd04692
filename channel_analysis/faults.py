"""Named kill points, so the tests can prove a run killed anywhere leaves no damage.

``checkpoint(name)`` does nothing unless the environment variable
``CHANNEL_ANALYSIS_FAULT`` is ``kill:<name>``: then the process sends itself
SIGKILL on the spot, as the out-of-memory killer or a pulled plug would: no
``finally``, no clean-up. It is for the tests (tests/test_kill.py); never set it
in production.

The points, in run order:

- every step of :func:`channel_analysis.monthly.run_month`, named as the step
  (``reading the source``, ``validating``, ``figures of the month``,
  ``management deck``, ``report <name>``, ``landing page``, ``publishing``);
- ``publish:staging`` (the staging folder was just made);
- ``report:<notebook>:execute`` and ``report:<notebook>:executed`` (before and
  after papermill runs the notebook), ``report:<notebook>:html`` (page rendered,
  not yet written) and ``report:<notebook>:html-written``;
- ``publish:synced`` (staged files on disk, nothing moved yet),
  ``publish:exchanged`` (the new month in place, the old one in the staging
  folder), ``publish:set-aside`` (only where the exchange is not available: the
  old month renamed aside, the new one not yet in), ``publish:retired`` (the old
  month under ``.retired``, not yet deleted) and ``publish:done``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

FAULT_ENV = "CHANNEL_ANALYSIS_FAULT"


def checkpoint(name: str) -> None:
    """Kill this process with SIGKILL when ``CHANNEL_ANALYSIS_FAULT`` is ``kill:<name>``."""
    if os.environ.get(FAULT_ENV) == f"kill:{name}":
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def with_checkpoints(progress: Callable[[str], None]) -> Callable[[str], None]:
    """A progress callback → the same callback, each step first a checkpoint of the step's name."""

    def step(name: str) -> None:
        checkpoint(name)
        progress(name)

    return step
