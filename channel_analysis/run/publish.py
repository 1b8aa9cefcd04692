"""Safe publication of a month: a lock, a staging folder, and an atomic swap into place.

A run writes everything into ``DIR/.staging/YYYY-MM-<pid>/``; only when the whole
run succeeded does that folder become ``DIR/YYYY-MM/``. A failed run leaves the
last good publication untouched and keeps its staging folder under
``DIR/.failed/`` for diagnosis. A second run of the same month while one is
running is refused.

A reader of ``DIR`` sees complete publications only: whatever starts with a dot
(``.staging``, ``.failed``, ``.retired``, the lock) is work in progress. A run
killed at any point (SIGKILL, power cut) leaves the previous publication or the
new one in place, never a mix and never neither, where the system can exchange
two folders atomically (Linux ``renameat2`` with ``RENAME_EXCHANGE``: ext4, xfs,
btrfs, tmpfs ...). Elsewhere the old month is renamed aside before the new one is
renamed in, and a kill between the two leaves no month until :func:`recover`
puts the old one back at the start of the next run.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from channel_analysis.errors import ParameterError, RunLockedError
from channel_analysis.faults import checkpoint

STAGING, FAILED, RETIRED = ".staging", ".failed", ".retired"
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


@contextmanager
def month_lock(out: Path, month: str):
    """Hold ``DIR/.YYYY-MM.lock`` for the duration; a lock left by a dead process is taken over.

    ``DIR`` is created when missing. What a killed run left behind is repaired
    (:func:`recover`) once the lock is held.
    """
    refuse_links(out, [month])
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
        try:
            os.write(fd, str(os.getpid()).encode())
        except OSError as exc:  # a full disk: say which file could not be written
            exc.filename = str(lock)
            raise
        finally:
            os.close(fd)
        recover(out, month)
        yield
    finally:
        lock.unlink(missing_ok=True)


def refuse_links(out: Path, months: list[str]) -> None:
    """Raise ParameterError when a working folder of ``out`` (``.staging``, ``.failed``,
    ``.retired``) or the lock of one of ``months`` is a symbolic link: the run's writes and
    deletions there, or the reading of the lock, would happen somewhere else."""
    for name in (STAGING, FAILED, RETIRED, *(f".{m}.lock" for m in months)):
        if (out / name).is_symlink():
            raise ParameterError(
                f"--out: {out / name} is a symbolic link; runs write their working files inside {out} only. "
                "Remove the link (or choose another --out)"
            )


def _lock_holder(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


def month_dir(out: Path, month: str) -> Path:
    """``DIR/YYYY-MM`` — refusing anything that is not a plain month name."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}", month):  # ASCII digits only: "２０２５" is no folder of ours
        raise ParameterError(f"month '{month}' is not YYYY-MM")
    return out / month


def _empty_dir(path: Path) -> Path:
    """``path`` as a new, empty folder (whatever an earlier process with this pid left there is removed)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def staging_dir(out: Path, month: str) -> Path:
    path = _empty_dir(out / STAGING / f"{month}-{os.getpid()}")
    checkpoint("publish:staging")
    return path


@contextmanager
def scratch_dir(out: Path, month: str):
    """A folder for the run's intermediate files (the accepted rows of a large source, the panel),
    ``DIR/.staging/YYYY-MM-<pid>-scratch``, removed when the run ends. Not the system's temporary
    folder: a killed run's gigabytes there would stay until a reboot, while here the next run of
    the month removes them (:func:`recover`), and files moved from it into the staging folder stay
    on one file system."""
    path = _empty_dir(out / STAGING / f"{month}-{os.getpid()}-scratch")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def publish(staging: Path, out: Path, month: str) -> Path:
    """Make the finished ``staging`` folder ``DIR/YYYY-MM`` in one atomic step; returns that folder.

    The staged files are flushed to disk first, so that not even a power cut can
    publish a half-written file. A previous publication is exchanged with the new
    one in one system call, then moved under ``.retired`` and deleted. Without
    the exchange (not Linux, or a file system without it) it is renamed aside
    first; :func:`recover` repairs a kill between the two renames.
    """
    target = month_dir(out, month)
    _fsync_tree(staging)
    checkpoint("publish:synced")
    if target.exists() and _exchange(staging, target):
        checkpoint("publish:exchanged")
        old = staging  # the exchange left the previous publication here
    elif target.exists():
        old = out / RETIRED / f"{month}-{time.time_ns()}"
        old.parent.mkdir(exist_ok=True)
        os.rename(target, old)
        checkpoint("publish:set-aside")
        os.rename(staging, target)
    else:
        os.rename(staging, target)
        old = None
    _fsync_dir(out)
    if old is not None:
        try:
            _discard(old, out, month)
        except OSError:
            pass  # the new month is in place; the next run's recover() deletes the old one
    checkpoint("publish:done")
    return target


def _exchange(a: Path, b: Path) -> bool:
    """Swap the folders ``a`` and ``b`` atomically; False where the system cannot (then nothing moved)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2  # glibc 2.28+
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False  # the kernel or the file system does not know the exchange
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _discard(old: Path, out: Path, month: str) -> None:
    """Delete a replaced publication: first renamed to a name :func:`recover` never restores."""
    trash = out / RETIRED / f"{month}-{time.time_ns()}-replaced"
    trash.parent.mkdir(exist_ok=True)
    os.rename(old, trash)
    checkpoint("publish:retired")
    _remove(trash)


def _remove(path: Path) -> None:
    """Delete a folder left behind; a link is removed itself, never followed."""
    if path.is_symlink():
        path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


KEEP_FAILED = 5  # failed runs kept per month: a scheduler retrying a broken month must not fill the disk


def keep_failed(staging: Path, out: Path, month: str) -> Path | None:
    """Move a failed run's staging folder to ``DIR/.failed/YYYY-MM-<time>-<pid>`` for diagnosis;
    of the month's failed runs only the newest :data:`KEEP_FAILED` are kept.

    Returns None when there is nothing to keep or it cannot be moved (a full or
    read-only disk); the staging folder is then removed by the next run's :func:`recover`.
    """
    if not staging.exists():
        return None
    dest = out / FAILED / f"{month}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, dest)
    except OSError:
        return None  # must not hide the error that made the run fail
    kept = sorted(p for p in dest.parent.iterdir() if re.fullmatch(rf"{month}-\d{{8}}T\d{{6}}-\d+", p.name))
    for old in kept[:-KEEP_FAILED]:  # names sort by time
        _remove(old)
    return dest


def recover(out: Path, month: str) -> None:
    """Repair what a killed run of ``month`` left behind; call it holding the month's lock.

    A publication renamed aside without its replacement renamed in is put back;
    replaced publications not yet deleted, and the staging, work and scratch folders
    of runs that are no longer alive, are deleted.
    """
    target = month_dir(out, month)
    retired_root, staging_root = out / RETIRED, out / STAGING
    if retired_root.is_dir():
        left = sorted(retired_root.glob(f"{month}-*"))
        aside = [p for p in left if re.fullmatch(rf"{month}-\d+", p.name)]
        if aside and not target.exists():
            os.rename(aside[-1], target)  # the newest: the publication that was in place
            _fsync_dir(out)
            left.remove(aside[-1])
        for old in left:
            _remove(old)
    if staging_root.is_dir():
        for stale in staging_root.glob(f"{month}-*"):
            run = re.fullmatch(rf"{month}-(\d+)(-work|-scratch)?", stale.name)
            if run and not _pid_alive(int(run.group(1))):
                _remove(stale)


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` (and the folder) to disk."""
    for root, _, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(root))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
