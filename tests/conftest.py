"""Shared fixtures."""

import pytest
from pg import PostgresUnavailable, start_postgres  # tests/pg.py (pytest puts tests/ on sys.path)


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
