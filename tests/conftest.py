"""What the tests share: the throw-away PostgreSQL server, the small hand-written source, and one demo
world written once per session (each a fixture; helpers/ holds the hand-made tables and functions)."""

from pathlib import Path

import pytest

from helpers.mini_source import BASE
from helpers.pg import PostgresUnavailable, start_postgres

# The demo world every test that needs a realistic source reads: 120 dealers over two years, every
# kind of planted problem, written once per test session (and once as Parquet files).
DEMO = {"dealers": 120, "start": "2024-01", "end": "2025-12", "seed": 3}
DEMO_MONTH = "2025-12"  # its last month: 24 months of history


@pytest.fixture(scope="session")
def pg_server():
    """A throw-away PostgreSQL server for the session; fails (not skips) without the binaries."""
    try:
        server, failure = start_postgres(), ""
    except PostgresUnavailable as exc:
        server, failure = None, str(exc)
    if server is None:  # failed outside the except block: the message is shown once
        pytest.fail(failure, pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_url(pg_server) -> str:
    """``postgresql://testrole@127.0.0.1:PORT/testdb``; the password is ``pg_server.password``."""
    return pg_server.url


@pytest.fixture(scope="session")
def demo_world(tmp_path_factory) -> Path:
    """The session's demo world (:data:`DEMO`) as a folder of CSV files; its planted truth beside it."""
    from channel_analysis.synthetic import write_demo_data

    folder = tmp_path_factory.mktemp("demo") / "source"
    write_demo_data(folder, **DEMO)
    return folder


@pytest.fixture(scope="session")
def demo_parquet(tmp_path_factory) -> Path:
    """The same demo world as a folder of Parquet files."""
    from channel_analysis.synthetic import write_demo_data

    folder = tmp_path_factory.mktemp("demo-parquet") / "source"
    write_demo_data(folder, **DEMO, fmt="parquet")
    return folder


@pytest.fixture(scope="session")
def demo_tables(demo_world) -> dict:
    """The demo world validated (its tables; read them, never change them)."""
    from channel_analysis.sources.read import read_source
    from channel_analysis.validate.memory import validate_source

    return validate_source(read_source(demo_world)).tables


@pytest.fixture(scope="session")
def demo_figures(demo_tables):
    """The figures of the demo world's last month, computed once (MonthFigures)."""
    from channel_analysis.figures.month import figures_of_month

    return figures_of_month(demo_tables, DEMO_MONTH)


@pytest.fixture()
def mini_csv(tmp_path) -> Path:
    """tests/helpers/mini_source.py's BASE as a folder of CSV files (a fresh copy: tests may damage it)."""
    folder = tmp_path / "csv"
    folder.mkdir()
    for table, text in BASE.items():
        (folder / f"{table}.csv").write_text(text, encoding="utf-8")
    return folder
