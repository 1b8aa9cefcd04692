"""Database sources: DuckDB and SQLite files and SQLAlchemy URLs, a table (or view) per
contract table, read with retries when the server drops the connection. Passwords come from
the environment and never appear in a message.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import duckdb
import sqlalchemy as sa

from channel_analysis.sources.tables import (
    _BATCH,
    RawTable,
    _check_memory,
    _concat,
    _Entry,
    _from_arrow,
    _Listing,
    _names,
    _one_line,
    _rows_to_arrow,
    _Unreadable,
)

PASSWORD_ENV = "CHANNEL_ANALYSIS_DB_PASSWORD"


def _list_duckdb(path: Path, wanted: list[str], stack: ExitStack) -> _Listing:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise _Unreadable(f"{path} cannot be opened as a DuckDB database: {_one_line(exc)}") from None
    stack.callback(con.close)
    names = [row[0] for row in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()]

    def read(name: str, table: str, origin: str) -> RawTable:
        quoted = '"' + name.replace('"', '""') + '"'
        try:
            rows = con.execute(f"SELECT count(*) FROM {quoted}").fetchall()[0][0]
            _check_memory(rows, len(con.sql(f"SELECT * FROM {quoted} LIMIT 0").columns), origin)
            data = con.sql(f"SELECT * FROM {quoted}").to_arrow_table()
        except duckdb.Error as exc:
            raise _Unreadable(f"{origin} cannot be read from {path}: {_one_line(exc)}") from None
        return _from_arrow(data, table, origin)

    return _database_listing(str(path), names, wanted, read)


def _parse_url(spec: str) -> sa.URL:
    try:
        url = sa.make_url(spec)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        url = None
    if url is None or "@" in (url.host or ""):  # an "@" in the password would leak into the host
        raise _Unreadable(
            f"{_hide_password(spec)} is not a valid database URL; write it as postgresql://user@host:port/db "
            f"and give the password in PGPASSWORD or {PASSWORD_ENV}"
        )
    return url


def _list_url(spec: str, url: sa.URL, wanted: list[str], stack: ExitStack) -> _Listing:
    engine, location, secrets, hint = _url_engine(url)
    return _list_engine(engine, location, wanted, stack, secrets, hint, attempts=_DB_ATTEMPTS)


def _url_engine(url: sa.URL) -> tuple[sa.Engine, str, list[str], str]:
    """(engine, location with the password hidden, secrets to hide from messages, what to check when
    it cannot connect) for a database URL; the password from the environment when the URL has none."""
    location = url.render_as_string(hide_password=True)
    password = os.environ.get(PASSWORD_ENV)
    if password and url.password is None:
        url = url.set(password=password)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # the driver this package installs
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        url = url.update_query_dict({"connect_timeout": "10"})  # an unreachable host fails in 10 s, not minutes
    try:
        engine = sa.create_engine(url)
    except sa.exc.NoSuchModuleError:
        raise _Unreadable(
            f"cannot use {location}: unknown kind of database {url.drivername!r}; "
            "use e.g. postgresql://, mysql+pymysql:// or sqlite:///"
        ) from None
    except ImportError as exc:
        raise _Unreadable(
            f"cannot use {location}: its database driver is not installed ({exc}); install one and name it "
            "in the URL, e.g. pip install pymysql and mysql+pymysql://..."
        ) from None
    secrets = [s for s in (url.password, os.environ.get("PGPASSWORD")) if s]
    hint = f"check the URL, that the server is running, and the password (set PGPASSWORD or {PASSWORD_ENV})"
    return engine, location, secrets, hint


_DB_ATTEMPTS = 3  # tries of a whole read from a database server before giving up


_DB_BACKOFF = 0.5  # seconds before the second try, doubled before each later one


# A login the server refused or a database it does not have: another try cannot help.
_REFUSED = re.compile(
    r"authentication failed|no pg_hba\.conf entry|does not exist|permission denied|access denied|unknown database",
    re.IGNORECASE,
)


class _Lost(Exception):
    """A read of a database that failed: what failed, why and the fix; ``again`` when another try may succeed."""

    def __init__(self, what: str, why: str, again: bool):
        super().__init__(f"{what}: {why}")
        self.what, self.why, self.again = what, why, again


def _list_engine(
    engine: sa.Engine, location: str, wanted: list[str], stack: ExitStack, secrets: list[str], hint: str,
    *, attempts: int = 1,
) -> _Listing:
    """Tables and views of a SQLAlchemy database, the wanted ones read at once; ``secrets`` hidden from messages.

    Listing and reading happen on one connection, in one transaction (on
    PostgreSQL a read-only snapshot, so the tables agree with each other). When
    the server cannot be reached, or the connection is lost part-way, the whole
    read is tried again, up to ``attempts`` times with a short pause: the rows of
    a failed try are thrown away, never used. A refused login is not retried.
    """
    stack.callback(engine.dispose)
    names, tables = _tried(attempts, engine, lambda: _read_database(engine, location, wanted, secrets, hint))

    def read(name: str, table: str, origin: str) -> RawTable:
        found = tables[name]
        if isinstance(found, _Unreadable):
            raise found
        return found

    return _database_listing(location, names, wanted, read)


def _tried(attempts: int, engine: sa.Engine, work: Callable):
    """``work()``, tried again up to ``attempts`` times with a short pause while it raises a
    :class:`_Lost` worth another try (a refused login is not); then _Unreadable saying so."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except _Lost as lost:
            if not lost.again or attempt == attempts:
                tried = f" (tried {attempt} times)" if attempt > 1 else ""
                raise _Unreadable(f"{lost.what}{tried}: {lost.why}") from None
        engine.dispose()  # no pooled connection of the failed try is reused
        time.sleep(_DB_BACKOFF * 2 ** (attempt - 1))


def _connect(engine: sa.Engine, location: str, secrets: list[str], hint: str) -> tuple[sa.Connection, list[str], set[str]]:
    """(a connection, on PostgreSQL in a read-only snapshot; the names of its tables and views; the
    views among them). Raises :class:`_Lost` when the database cannot be reached or the connection drops."""
    try:
        conn = engine.connect()
    except sa.exc.SQLAlchemyError as exc:
        reason = _reason(exc, secrets)
        raise _Lost(f"cannot connect to the database {location}", f"{reason}; {hint}", _worth_retry(exc, reason)) from None
    if engine.dialect.name == "postgresql":
        conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    try:
        inspector = sa.inspect(conn)
        view_names = inspector.get_view_names()
        return conn, inspector.get_table_names() + view_names, set(view_names)
    except sa.exc.SQLAlchemyError as exc:
        conn.close()
        reason = _reason(exc, secrets)
        raise _Lost(f"cannot connect to the database {location}", f"{reason}; {hint}", _lost(exc)) from None


def _read_database(
    engine: sa.Engine, location: str, wanted: list[str], secrets: list[str], hint: str
) -> tuple[list[str], dict[str, RawTable | _Unreadable]]:
    """(table and view names, {name: its rows, or why they cannot be read}) for the wanted tables.

    Raises :class:`_Lost` when the database cannot be reached or the connection drops.
    """
    conn, names, views = _connect(engine, location, secrets, hint)
    with conn:
        given = [n.strip().lower() for n in names]
        tables: dict[str, RawTable | _Unreadable] = {}
        for name, table in zip(names, given):
            if table not in wanted or given.count(table) > 1:
                continue  # given twice: reported as such, not read
            tables[name] = _read_table(conn, name, table, location, secrets, view=name in views)
    return names, tables


def _read_table(
    conn: sa.Connection, name: str, table: str, location: str, secrets: list[str], *, view: bool
) -> RawTable | _Unreadable:
    """Table or view ``name`` (a catalog name equal to contract table ``table``) read whole, or why it
    cannot be; raises :class:`_Lost` when the connection drops part-way."""
    origin = f"table {name}"
    quoted = conn.dialect.identifier_preparer.quote_identifier(name)
    try:
        rows = conn.execute(sa.text(f"SELECT count(*) FROM {quoted}")).scalar_one()
        _check_memory(rows, len(sa.inspect(conn).get_columns(name)), origin)
    except _Unreadable as exc:
        return exc
    except sa.exc.SQLAlchemyError:
        pass  # the read below says what is wrong
    try:
        result = conn.execute(
            sa.text(_whole_table(conn.dialect.name, quoted, view)), execution_options={"yield_per": _BATCH}
        )
        columns = list(result.keys())
        data = _concat([_rows_to_arrow(columns, part) for part in result.partitions(_BATCH)], columns)
    except sa.exc.SQLAlchemyError as exc:
        reason = _reason(exc, secrets)
        if _lost(exc):
            raise _Lost(
                f"{origin} cannot be read from {location}",
                f"the connection was lost part-way ({reason}); "
                "check that the server is up and the network stable, then run again",
                True,
            ) from None
        conn.rollback()  # the next table in a fresh transaction
        return _Unreadable(f"{origin} cannot be read from {location}: {reason}")
    try:
        return _from_arrow(data, table, origin)
    except _Unreadable as exc:  # e.g. two columns whose names differ only in case
        return exc


def _whole_table(dialect: str, quoted: str, view: bool) -> str:
    """The query reading a whole table (``quoted``: a catalog name equal to a contract table). A
    PostgreSQL table is read in the order of its rows on disk (``ctid``), so that ``source_row`` is
    the same on every read of the same data (without ORDER BY the server may start a large scan
    part-way through the table) and the same as :mod:`channel_analysis.validate_sql` numbers it."""
    ordered = dialect == "postgresql" and not view
    return f"SELECT * FROM {quoted}" + (" ORDER BY ctid" if ordered else "")


def _lost(exc: sa.exc.SQLAlchemyError) -> bool:
    """The connection broke (server gone, network cut), as opposed to an error in the query."""
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


def _worth_retry(exc: sa.exc.SQLAlchemyError, reason: str) -> bool:
    """A connection that failed for want of a server (refused, timed out, starting up): not a refused login."""
    return _lost(exc) or (isinstance(exc, sa.exc.OperationalError) and not _REFUSED.search(reason))


def _database_listing(location: str, names: list[str], wanted: list[str], read) -> _Listing:
    entries = [
        _Entry(n.strip().lower(), f"table {n}", lambda table, origin, n=n: read(n, table, origin))
        for n in names
        if n.strip().lower() in wanted
    ]
    return _Listing(
        location=location,
        entries=entries,
        found="tables: " + _names(sorted(names)) if names else "no tables",
        expected=lambda t: f"a table or view named {t}",
    )


def _reason(exc: sa.exc.SQLAlchemyError, secrets: list[str]) -> str:
    """The driver's own message in one line, without any password."""
    message = _one_line(getattr(exc, "orig", None) or exc)
    for secret in secrets:
        message = message.replace(secret, "***")
    return message


def _hide_password(spec: str) -> str:
    """``spec`` with everything between ``user:`` and the last ``@`` hidden (for URLs that do not parse)."""
    return re.sub(r"(://[^:/@]*:).*@", r"\1***@", spec, count=1)
