"""The run when the machine fails it: a full or read-only disk, a missing output folder, a
database that is down or drops the connection part-way.

Each case ends with one readable message (no traceback) and the contract's exit
status: 1 for the output side, 2 for a source that cannot be read; the last
publication of the month stays as it was, and nothing stale or partial is
published. The disks are real: a size-limited tmpfs mounted as the output folder
(root with CAP_SYS_ADMIN, as in CI); the database is the real server of tests/pg.py,
reached through a TCP proxy that cuts the connection after a set number of bytes.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from channel_analysis.cli import main
from channel_analysis.errors import SourceError
from channel_analysis.sources import database as io
from channel_analysis.sources.read import read_source
from helpers.runs import CONTRACT_FILES, MONTH, killable_stand_in, snapshot, visible
from helpers.stand_ins import use_stand_ins


@pytest.fixture
def source(mini_csv) -> Path:
    return mini_csv


@pytest.fixture
def notebooks(tmp_path, monkeypatch) -> Path:
    return use_stand_ins(tmp_path, monkeypatch, killable_stand_in)


def run(data, out: Path) -> int:
    return main(["run", "--data", str(data), "--month", MONTH, "--out", str(out)])


def publish_tables(source: Path, out: Path) -> dict[str, bytes]:
    """A publication of MONTH in ``out`` (kpis, alerts, dealer health: the quick ``backtest``); its bytes."""
    assert main(["backtest", "--data", str(source), "--months", f"{MONTH}..{MONTH}", "--out", str(out)]) == 0
    return snapshot(out / MONTH)


def one_line(err: str) -> str:
    """The single message line of stderr (asserting there is exactly one, and no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("channel-analysis: "), err
    return lines[0]


@contextmanager
def tmpfs(path: Path, *options: str):
    """A tmpfs mounted at ``path`` for the block; skips when this process may not mount."""
    path.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(path)],
                              capture_output=True, text=True)
    except FileNotFoundError:
        done = None
    if done is None or done.returncode != 0:
        why = done.stderr.strip() if done else "no mount command"
        pytest.skip(f"needs root with CAP_SYS_ADMIN to mount a tmpfs as the output folder ({why})")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def fill(disk: Path, *, leave: int) -> None:
    """Fill the file system of ``disk`` up, then free ``leave`` bytes."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        block = b"\0" * (1 << 16)
        while True:
            try:
                f.write(block)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    os.truncate(filler, filler.stat().st_size - leave)


# --- the output folder ----------------------------------------------------------------


@pytest.mark.parametrize("leave_kb", [0, 24, 64, 400])  # the run stops at different files
def test_a_full_disk_fails_the_run_clearly_and_keeps_the_last_publication(source, notebooks, tmp_path, capsys,
                                                                           leave_kb):
    with tmpfs(tmp_path / "disk", "size=1m") as disk:
        out = disk / "reports"
        before = publish_tables(source, out)
        fill(disk, leave=leave_kb << 10)
        capsys.readouterr()

        assert run(source, out) == 1

        message = one_line(capsys.readouterr().err)
        assert "no space left" in message and str(out) in message
        assert visible(out) == [MONTH]
        assert snapshot(out / MONTH) == before


def test_an_output_folder_that_cannot_be_written_fails_the_run_clearly(source, notebooks, tmp_path, capsys):
    if os.geteuid() != 0:  # permission bits bind everyone but root
        out = tmp_path / "reports"
        before = publish_tables(source, out)
        out.chmod(0o555)
        try:
            assert run(source, out) == 1
            after = snapshot(out / MONTH)
        finally:
            out.chmod(0o755)
        words = "permission denied"
    else:  # root ignores permission bits: a read-only file system stops it
        with tmpfs(tmp_path / "disk", "size=4m") as disk:
            out = disk / "reports"
            before = publish_tables(source, out)
            subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
            assert run(source, out) == 1
            after = snapshot(out / MONTH)
        words = "read-only file system"
    message = one_line(capsys.readouterr().err)
    assert words in message and str(out) in message
    assert after == before


def test_a_missing_output_folder_is_created(source, notebooks, tmp_path):
    out = tmp_path / "not" / "yet" / "reports"

    assert run(source, out) == 0

    assert visible(out) == [MONTH]
    assert CONTRACT_FILES <= {p.name for p in (out / MONTH).iterdir()}


def test_an_output_folder_under_a_file_is_refused_clearly(source, notebooks, tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")

    assert run(source, tmp_path / "file" / "reports") == 1

    message = one_line(capsys.readouterr().err)
    assert str(tmp_path / "file" / "reports") in message and "is a file, not a folder" in message


# --- a PostgreSQL source ------------------------------------------------------------------


class CuttingProxy:
    """A TCP proxy to ``port`` that cuts a connection (both ways) once the server sent ``cut_after``
    bytes on it; only the first ``cuts`` connections are cut (all when None)."""

    def __init__(self, port: int, cut_after: int | None, cuts: int | None = None):
        self.port, self.cut_after, self.cuts = port, cut_after, cuts
        self.connections, self.received = 0, []  # bytes the server sent, per connection
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url_port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            number, self.connections = self.connections, self.connections + 1
            self.received.append(0)
            server = socket.create_connection(("127.0.0.1", self.port))
            cut = self.cut_after if self.cuts is None or number < self.cuts else None
            threading.Thread(target=self._pump, args=(client, server, number, cut), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket, number: int, cut: int | None) -> None:
        try:
            while True:
                ready, _, _ = select.select([client, server], [], [])
                if client in ready:
                    data = client.recv(1 << 16)
                    if not data:
                        return
                    server.sendall(data)
                if server in ready:
                    data = server.recv(1 << 16)
                    if not data:
                        return
                    if cut is not None and self.received[number] + len(data) >= cut:
                        client.sendall(data[: cut - self.received[number]])  # then the line goes dead
                        self.received[number] = cut
                        return
                    self.received[number] += len(data)
                    client.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (client, server):
                sock.close()

    def close(self) -> None:
        self._listener.close()


ORDERS = 20_000


@pytest.fixture(scope="module")
def pg_faults(pg_server) -> str:
    """Database ``faults``: 3 dealers and ORDERS orders (most of the bytes a read moves); its URL."""
    with pg_server.connect(dbname="postgres", autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS faults")
        con.execute("CREATE DATABASE faults")
    with pg_server.connect(dbname="faults", autocommit=True) as con:
        con.execute("CREATE TABLE dealers (dealer_id text, dealer_name text, region text, signed_date date)")
        con.execute("INSERT INTO dealers VALUES ('D1', 'A', 'North', '2023-01-01'), ('D2', 'B', 'South', "
                    "'2023-01-01'), ('D3', 'C', 'East', '2023-01-01')")
        con.execute("CREATE TABLE orders (order_id text, dealer_id text, order_date date, amount numeric(12, 2))")
        con.execute(f"""INSERT INTO orders SELECT 'O' || i, 'D' || (1 + i % 3), DATE '2024-01-01' + (i % 30),
                        100 + i FROM generate_series(1, {ORDERS}) AS i""")
    return pg_server.url.rsplit("/", 1)[0] + "/faults"


@pytest.fixture
def pg_password(pg_server, monkeypatch) -> None:
    monkeypatch.setenv("PGPASSWORD", pg_server.password)


def through(url: str, proxy: CuttingProxy) -> str:
    host_port = url.split("@", 1)[1].split("/", 1)[0]
    return url.replace(host_port, f"127.0.0.1:{proxy.url_port}")


@pytest.mark.postgres
def test_a_database_that_is_down_is_retried_then_reported(source, notebooks, pg_faults, pg_password, tmp_path,
                                                           capsys):
    out = tmp_path / "reports"
    before = publish_tables(source, out)
    with socket.socket() as sock:  # a port nobody listens on: connection refused
        sock.bind(("127.0.0.1", 0))
        down = pg_faults.replace(pg_faults.split("@", 1)[1].split("/", 1)[0], f"127.0.0.1:{sock.getsockname()[1]}")
    capsys.readouterr()
    started = time.monotonic()

    assert run(down, out) == 2

    waited = time.monotonic() - started
    message = one_line(capsys.readouterr().err)
    assert "cannot connect to the database" in message and "refused" in message.lower()
    assert f"(tried {io._DB_ATTEMPTS} times)" in message
    assert waited >= io._DB_BACKOFF * (2 ** (io._DB_ATTEMPTS - 1) - 1)  # it paused between the tries
    assert snapshot(out / MONTH) == before


@pytest.mark.postgres
def test_a_wrong_password_is_not_retried(pg_faults, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "not-the-password")
    proxy = CuttingProxy(int(pg_faults.rsplit(":", 1)[1].split("/")[0]), None)
    try:
        with pytest.raises(SourceError, match="password authentication failed") as failed:
            read_source(through(pg_faults, proxy))
    finally:
        proxy.close()
    assert proxy.connections == 1 and "tried" not in str(failed.value)


@pytest.mark.postgres
def test_a_connection_that_always_drops_part_way_is_reported_and_nothing_published(
    source, notebooks, pg_faults, pg_password, tmp_path, capsys
):
    out = tmp_path / "reports"
    before = publish_tables(source, out)
    proxy = CuttingProxy(int(pg_faults.rsplit(":", 1)[1].split("/")[0]), cut_after=200_000)
    capsys.readouterr()
    try:
        assert run(through(pg_faults, proxy), out) == 2
    finally:
        proxy.close()

    message = one_line(capsys.readouterr().err)
    assert "table orders cannot be read" in message and "connection was lost" in message
    assert f"(tried {io._DB_ATTEMPTS} times)" in message
    assert proxy.connections == io._DB_ATTEMPTS  # each try on a new connection
    assert snapshot(out / MONTH) == before


@pytest.mark.postgres
def test_a_connection_dropped_once_part_way_is_read_again_whole(pg_faults, pg_password, monkeypatch):
    port = int(pg_faults.rsplit(":", 1)[1].split("/")[0])
    monkeypatch.setattr(io, "_BATCH", 500)  # rows arrive in batches: some are in hand when the line dies
    whole = CuttingProxy(port, None)
    try:
        read_source(through(pg_faults, whole))
    finally:
        whole.close()
    cut_at = whole.received[0] * 2 // 3  # inside the orders, the bulk of the bytes
    proxy = CuttingProxy(port, cut_after=cut_at, cuts=1)
    try:
        tables = read_source(through(pg_faults, proxy)).tables
    finally:
        proxy.close()

    assert proxy.connections == 2 and proxy.received[0] == cut_at
    orders = tables["orders"].frame
    assert len(orders) == ORDERS and orders["order_id"].is_unique
    assert set(orders["order_id"]) == {f"O{i}" for i in range(1, ORDERS + 1)}
    assert list(orders.index) == list(range(1, ORDERS + 1))
    assert len(tables["dealers"].frame) == 3


@pytest.mark.postgres
def test_a_connection_dropped_once_while_the_accepted_rows_stream_starts_the_validation_again(
    pg_faults, pg_password, monkeypatch, tmp_path
):
    """A run judges a PostgreSQL source in the server and streams its accepted rows to files in the
    same snapshot: a cut part-way starts all of it again on a new connection, and the files hold
    every accepted row once."""
    from channel_analysis.validate.postgres import validate_postgres
    from channel_analysis.validate.stream import read_accepted

    port = int(pg_faults.rsplit(":", 1)[1].split("/")[0])
    monkeypatch.setattr(io, "_BATCH", 500)  # rows arrive in batches: some are written when the line dies
    whole = CuttingProxy(port, None)
    try:
        validate_postgres(through(pg_faults, whole), accepted_to=tmp_path / "whole")
    finally:
        whole.close()
    cut_at = whole.received[0] * 2 // 3  # inside the orders' stream, the bulk of the bytes
    proxy = CuttingProxy(port, cut_after=cut_at, cuts=1)
    try:
        validated = validate_postgres(through(pg_faults, proxy), accepted_to=tmp_path / "cut")
    finally:
        proxy.close()

    assert proxy.connections == 2 and proxy.received[0] == cut_at
    assert validated.rows_read == {"dealers": 3, "orders": ORDERS}
    orders = read_accepted(validated.accepted["orders"])
    assert orders.index.tolist() == list(range(1, ORDERS + 1))
    assert set(orders["order_id"]) == {f"O{i}" for i in range(1, ORDERS + 1)}
    assert orders.equals(read_accepted(tmp_path / "whole" / "orders.parquet"))
