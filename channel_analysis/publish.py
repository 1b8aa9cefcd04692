"""Safe publication of a month: a lock, a staging folder, and a swap into place.

A run writes everything into ``DIR/.staging/YYYY-MM-<pid>/``; only when the whole
run succeeded is that folder moved to ``DIR/YYYY-MM/``. A failed run leaves the
last good publication untouched and keeps its staging folder under
``DIR/.failed/`` for diagnosis. A second run of the same month while one is
running is refused.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from channel_analysis.errors import ParameterError, RunLockedError

STAGING, FAILED, RETIRED = ".staging", ".failed", ".retired"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


@contextmanager
def month_lock(out: Path, month: str):
    """Hold ``DIR/.YYYY-MM.lock`` for the duration; a lock left by a dead process is taken over."""
    out.mkdir(parents=True, exist_ok=True)
    lock = out / f".{month}.lock"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            holder = _lock_holder(lock)
            if holder and _pid_alive(holder):
                raise RunLockedError(
                    f"another run of {month} is in progress (process {holder}, lock {lock}); "
                    "wait for it to finish, or delete the lock file if that process is gone"
                ) from None
            lock.unlink(missing_ok=True)  # stale: its process died
    else:  # pragma: no cover - only when two runs race for a stale lock
        raise RunLockedError(f"could not take the lock {lock}; try again")
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        lock.unlink(missing_ok=True)


def _lock_holder(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


def month_dir(out: Path, month: str) -> Path:
    """``DIR/YYYY-MM`` — refusing anything that is not a plain month name."""
    if not (len(month) == 7 and month[4] == "-" and month.replace("-", "").isdigit()):
        raise ParameterError(f"month '{month}' is not YYYY-MM")
    return out / month


def staging_dir(out: Path, month: str) -> Path:
    path = out / STAGING / f"{month}-{os.getpid()}"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def publish(staging: Path, out: Path, month: str) -> Path:
    """Move the finished ``staging`` folder to ``DIR/YYYY-MM`` with renames only.

    The previous publication is first renamed aside, then the new one renamed in,
    then the old one deleted; a run killed between the two renames is repaired by
    :func:`recover` at the start of the next run.
    """
    target = month_dir(out, month)
    retired = out / RETIRED / f"{month}-{time.time_ns()}"
    if target.exists():
        retired.parent.mkdir(parents=True, exist_ok=True)
        os.rename(target, retired)
    os.rename(staging, target)
    _fsync_dir(out)
    if retired.exists():
        shutil.rmtree(retired, ignore_errors=True)
    return target


def keep_failed(staging: Path, out: Path, month: str) -> Path | None:
    """Move a failed run's staging folder to ``DIR/.failed/YYYY-MM-<time>`` for diagnosis."""
    if not staging.exists():
        return None
    dest = out / FAILED / f"{month}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.rename(staging, dest)
    return dest


def recover(out: Path, month: str) -> None:
    """Put back a publication a killed run had renamed aside, and drop dead staging folders."""
    target = month_dir(out, month)
    retired = sorted((out / RETIRED).glob(f"{month}-*")) if (out / RETIRED).exists() else []
    if retired and not target.exists():
        os.rename(retired[-1], target)
        retired = retired[:-1]
    for old in retired:
        shutil.rmtree(old, ignore_errors=True)
    staging_root = out / STAGING
    if staging_root.exists():
        for stale in staging_root.glob(f"{month}-*"):
            pid = stale.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _pid_alive(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
