"""A throw-away PostgreSQL server for tests: ``initdb`` + ``pg_ctl`` on a free loopback port.

    server = start_postgres()   # PostgresServer: url, password, connect(), stop()
    ...
    server.stop()               # stops it and deletes its files

The cluster lives in a new temporary directory; clients log in over TCP on
127.0.0.1 with a password (scram-sha-256) that this module generates. initdb refuses
to run as root, so under root the server runs as the ``postgres`` system user (or a
dedicated ``channel-analysis-pg`` user, created if needed). Needs the PostgreSQL
server binaries: on Debian/Ubuntu ``apt-get install postgresql``.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

_FALLBACK_OS_USER = "channel-analysis-pg"
_PREFIX = "channel-analysis-pg-"  # temporary directories of the clusters


class PostgresUnavailable(RuntimeError):
    """The server binaries are missing or the server did not start."""


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str  # a superuser of this cluster, password-authenticated
    password: str
    dbname: str
    base: Path  # temporary directory holding the cluster, socket and log
    bindir: Path
    os_user: str | None  # the system user the server runs as (None: the current user)

    @property
    def url(self) -> str:
        """SQLAlchemy URL without the password (give it via PGPASSWORD)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"

    def connect(self, dbname: str | None = None, **kwargs) -> psycopg.Connection:
        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, password=self.password,
            dbname=dbname or self.dbname, **kwargs,
        )

    def stop(self) -> None:
        _stop(self.base, self.bindir, self.os_user)


def find_bindir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl, else PATH's."""
    candidates = [
        d for d in Path("/usr/lib/postgresql").glob("*/bin") if (d / "initdb").exists() and (d / "pg_ctl").exists()
    ]
    if candidates:
        return max(candidates, key=lambda d: tuple(int(n) for n in re.findall(r"\d+", d.parent.name)))
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    return Path(initdb).parent if initdb and pg_ctl else None


def start_postgres(*, user: str = "testrole", dbname: str = "testdb") -> PostgresServer:
    """Create and start a cluster with role ``user`` (random password) and database ``dbname``."""
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin "
            "or on PATH; install them, e.g. apt-get install postgresql"
        )
    os_user = _os_user()
    _stop_orphans(bindir)
    base = Path(tempfile.mkdtemp(prefix=_PREFIX))
    (base / "owner").write_text(str(os.getpid()))
    server = PostgresServer("127.0.0.1", _free_port(), user, secrets.token_urlsafe(18), dbname, base, bindir, os_user)
    try:
        _chown(base, os_user)
        pwfile = base / "pwfile"
        pwfile.write_text(server.password)
        _chown(pwfile, os_user)
        _run(_as_user(os_user, [
            str(bindir / "initdb"), "-D", str(base / "data"), "-U", user, f"--pwfile={pwfile}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
        ]))
        pwfile.unlink()
        options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {base} -c fsync=off"
        try:
            _run(_as_user(os_user, [
                str(bindir / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "log"),
                "-o", options, "-w", "-t", "60", "start",
            ]))
        except PostgresUnavailable as exc:
            log = (base / "log").read_text(errors="replace")[-2000:] if (base / "log").exists() else ""
            raise PostgresUnavailable(f"{exc}\nserver log:\n{log}") from None
        with server.connect(dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        return server
    except BaseException:
        server.stop()
        raise


def _stop(base: Path, bindir: Path, os_user: str | None) -> None:
    if (base / "data" / "postmaster.pid").exists():
        _run(_as_user(os_user, [str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "immediate", "-w", "stop"]))
    shutil.rmtree(base, ignore_errors=True)


def _stop_orphans(bindir: Path) -> None:
    """Stop the servers of test sessions that were killed before their teardown ran."""
    for base in Path(tempfile.gettempdir()).glob(_PREFIX + "*"):
        try:
            owner = int((base / "owner").read_text())
            os.kill(owner, 0)
            continue  # its session is still running
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue  # not ours to judge (no owner file, or the owner runs as another user)
        os_user = pwd.getpwuid(base.stat().st_uid).pw_name if os.geteuid() == 0 else None
        _stop(base, bindir, os_user)


def _os_user() -> str | None:
    """The unprivileged system user to run the server as, or None when not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", _FALLBACK_OS_USER):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
    _run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _FALLBACK_OS_USER])
    return _FALLBACK_OS_USER


def _as_user(os_user: str | None, cmd: list[str]) -> list[str]:
    if os_user is None:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", os_user, "--", *cmd]
    return ["su", "-s", "/bin/sh", os_user, "-c", shlex.join(cmd)]


def _chown(path: Path, os_user: str | None) -> None:
    if os_user is not None:
        entry = pwd.getpwnam(os_user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
    if done.returncode != 0:
        raise PostgresUnavailable(f"{shlex.join(cmd)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
