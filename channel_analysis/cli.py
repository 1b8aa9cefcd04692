"""The command line: a thin wrapper; every step lives in the library.

Exit status: 0 success; 2 the input cannot be used (or ``--strict`` found bad
rows); 1 anything else failed. A user error prints one message, no traceback.
"""

from __future__ import annotations

import errno
import logging
import re
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import click

from channel_analysis.errors import ChannelAnalysisError, ParameterError

# ASCII digits only: \d also matches "２０２５", and "$" would let "2025-06\n" through
# Names in a database URL's query string that carry a secret (?password=... would be shown and stored)
_SECRET_QUERY = re.compile(r"(pass(word|wd)?|pwd|secret|token|api_?key|credentials?)$", re.IGNORECASE)
# Bookkeeping entries of an output folder (see publish.py): a link there would carry writes out of DIR
# Problems printed per table by `validate`; the rest are in DIR/quarantine/.
_SHOWN_PER_TABLE = 100


def _month(value: str, flag: str) -> str:
    from channel_analysis.months import Month  # the one month check (ASCII digits, 01-12)

    try:
        return Month.parse(value).label
    except ParameterError:
        raise ParameterError(f"{flag} {value!r} is not a month: write it as YYYY-MM, e.g. 2026-10") from None


def _data(value: str) -> str:
    """``--data`` as given, unless it is a database URL with a secret in its query string."""
    if "://" in value:
        from urllib.parse import parse_qsl, urlsplit

        query = urlsplit(value).query
        secret = [name for name, _ in parse_qsl(query, keep_blank_values=True) if _SECRET_QUERY.search(name)]
        if secret:
            raise ParameterError(
                f"--data: the database URL carries '{secret[0]}' in its query string, which would be shown in "
                "messages and stored in the manifest; remove it and give the password in PGPASSWORD or "
                "CHANNEL_ANALYSIS_DB_PASSWORD"
            )
    return value


def _out(value: str, months: list[str] = ()) -> str:
    """``--out`` as given, unless a working folder (or a month's lock) in it is a symbolic link
    (checked before the source is read, so the refusal comes first)."""
    from channel_analysis.run.publish import refuse_links

    refuse_links(Path(value), list(months))
    return value


def _err(message: str) -> None:
    click.echo(f"channel-analysis: {message}", err=True)


@contextmanager
def _step(label: str):
    """Show a spinner with ``label`` on a terminal; stay quiet when scheduled."""
    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status(label):
            yield
    else:
        yield


@contextmanager
def _progress(label: str):
    """Yield a callback that shows the current step on a terminal (silent when scheduled)."""
    if not sys.stderr.isatty():
        yield lambda step: None
        return
    from rich.console import Console

    with Console(stderr=True).status(label) as status:
        yield lambda step: status.update(f"{label}: {step}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="channel-analysis")
def cli() -> None:
    """Dealer-network health analytics: data checks, monthly reports, early warning."""


@cli.command("demo-data")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Folder to write the tables into.")
@click.option("--dealers", default=1000, show_default=True, type=int, help="Number of dealers (at least 20).")
@click.option("--start", default="2023-01", show_default=True, help="First month (YYYY-MM).")
@click.option("--end", default=None, help="Last month (YYYY-MM) [default: the demo's last month].")
@click.option("--seed", default=7, show_default=True, type=int, help="Random seed: the same seed gives the same files.")
@click.option("--format", "fmt", default="csv", show_default=True, type=click.Choice(["csv", "parquet"]))
def demo_data(out: str, dealers: int, start: str, end: str | None, seed: int, fmt: str) -> None:
    """Write a synthetic data source in the contract's shape, with its planted truth beside it."""
    from channel_analysis import synthetic

    end = end or synthetic.DEMO_DEFAULT_END
    _month(start, "--start")
    _month(end, "--end")
    if start > end:
        raise ParameterError(f"--start {start} is after --end {end}")
    with _step(f"writing {dealers:,} dealers, {start}..{end}"):
        truth = synthetic.write_demo_data(out, dealers=dealers, start=start, end=end, seed=seed, fmt=fmt)
    click.echo(f"demo data written to {out}; planted truth in {truth}")


@cli.command()
@click.option("--data", "data", required=True, help="Folder, database file or SQLAlchemy URL (password from the environment).")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False), help="Also write data_quality.csv and quarantine/ here.")
def validate(data: str, out: str | None) -> None:
    """Check a data source against the contract; print counts per table and every problem."""
    from channel_analysis.sources.postgres import postgres_url
    from channel_analysis.sources.read import read_source
    from channel_analysis.validate.memory import validate_source
    from channel_analysis.validate.postgres import validate_postgres
    from channel_analysis.validate.quality import data_quality, write_quality
    from channel_analysis.validate.stream import large_parquet, validate_parquet

    _data(data)
    large = large_parquet(data)
    if postgres_url(data):  # counted and judged in the server: only rows that may be bad come back
        with _step("validating inside the database"):
            validated = validate_postgres(data)
    elif large is not None:  # tens of millions of rows: a slice at a time, never whole in memory
        with _step("validating, a million rows at a time"), tempfile.TemporaryDirectory(prefix="validate-") as work:
            validated = validate_parquet(*large, Path(work))
    else:
        with _step("reading the source"):
            source = read_source(data)
        with _step("validating"):
            validated = validate_source(source)
    quality = write_quality(validated, Path(out)) if out else data_quality(validated)
    click.echo(f"source: {validated.location}")
    for row in quality.itertuples(index=False):
        encoding = validated.encodings.get(row.table)
        enc = f", {encoding}" if encoding else ""
        click.echo(
            f"{row.table:<17} read {row.rows_read:>9,}  accepted {row.rows_accepted:>9,}  "
            f"quarantined {row.rows_quarantined:>7,}  ({validated.origins[row.table]}{enc})"
        )
    for table, bad in validated.quarantine.items():
        for source_row, reason in list(bad["reason"].items())[:_SHOWN_PER_TABLE]:
            click.echo(f"  {table} row {source_row}: {reason}")
        if len(bad) > _SHOWN_PER_TABLE:
            where = f"{out}/quarantine/{table}.csv" if out else "the quarantine (add --out DIR)"
            click.echo(f"  {table}: {len(bad) - _SHOWN_PER_TABLE:,} more quarantined rows, all listed in {where}")
    if validated.quarantined_total == 0:
        click.echo("no problems found")


@cli.command()
@click.option("--data", "data", required=True, help="Folder, database file or SQLAlchemy URL (password from the environment).")
@click.option("--month", "month", required=True, help="Report month, YYYY-MM.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Publish into OUT/YYYY-MM/.")
@click.option("--strict", is_flag=True, help="Stop (exit status 2) if any row is quarantined.")
@click.option("--lang", default="en", show_default=True, type=click.Choice(["en", "zh"]), help="Report language.")
@click.option("--deck-template", "deck_template", default=None, type=click.Path(dir_okay=False),
              help="Build deck.pptx on this company template (.pptx): its master and layouts.")
@click.option("--log", "log", default=None, type=click.Path(dir_okay=False), help="Append the steps and the outcome to this file.")
def run(data: str, month: str, out: str, strict: bool, lang: str, deck_template: str | None, log: str | None) -> None:
    """Run the month: validate, compute, and publish OUT/YYYY-MM/ only if everything succeeded."""
    _month(month, "--month")
    _data(data)
    _out(out, [month])
    from channel_analysis.run.month import run_month

    logger = _logger(log)
    logger.info("run %s into %s started", month, out)
    try:
        with _progress(f"running {month}") as show:

            def progress(step: str) -> None:
                logger.info("%s: %s", month, step)
                show(step)

            def warn(message: str) -> None:
                logger.warning("%s: %s", month, message)
                _err(f"warning: {message}")

            published = run_month(data, month, out, strict=strict, lang=lang, deck_template=deck_template,
                                  progress=progress, warn=warn)  # fmt: skip
    except Exception as exc:
        logger.error("run %s failed: %s", month, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise
    logger.info("run %s published %s", month, published)
    click.echo(f"published {published / 'index.html'}")


def _logger(path: str | None) -> logging.Logger:
    """A logger that appends to ``path`` (or does nothing); messages never hold a password."""
    logger = logging.getLogger("channel_analysis.run")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO)
    if path:
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    else:
        logger.addHandler(logging.NullHandler())
    return logger


@cli.command()
@click.option("--data", "data", required=True, help="Folder, database file or SQLAlchemy URL (password from the environment).")
@click.option("--months", "months", required=True, help="Range of months, YYYY-MM..YYYY-MM.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Write OUT/YYYY-MM/ for each month.")
def backtest(data: str, months: str, out: str) -> None:
    """Alerts, dealer health and KPIs for every month of a range, as a run writes them (no HTML)."""
    from channel_analysis.run.backtest import backtest as run_backtest
    from channel_analysis.run.backtest import months_in

    wanted = months_in(months)  # a bad range fails before anything is read
    _data(data)
    _out(out, [m.label for m in wanted])
    with _step(f"backtesting {months}"):
        written = run_backtest(data, months, out)
    click.echo(f"wrote {len(written)} months into {out}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command, turn user errors into one message and an exit status."""
    try:
        cli.main(args=argv, prog_name="channel-analysis", standalone_mode=False)
    except ChannelAnalysisError as exc:
        _err(str(exc))
        return exc.exit_status
    except click.exceptions.Abort:
        _err("interrupted")
        return 1
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except OSError as exc:  # the machine, not the input: a full disk, a read-only or forbidden folder
        _err(_os_error(exc))
        return 1
    return 0


_OS_ADVICE = {
    errno.ENOSPC: "no space left on its disk; free some space or give another --out folder, then run again",
    errno.EDQUOT: "the disk quota is used up; free some space or give another --out folder, then run again",
    errno.EROFS: "it is on a read-only file system; give an --out folder on a writable disk",
    errno.EACCES: "permission denied; give an --out folder you may write to, or fix its permissions",
    errno.EPERM: "operation not permitted; give an --out folder you may write to, or fix its permissions",
    errno.ENOTDIR: "a part of that path is a file, not a folder; give an --out folder",
}


def _os_error(exc: OSError) -> str:
    """An OSError → one line: the file it concerns, what happened and the fix (no traceback)."""
    where = str(exc.filename) if exc.filename else "into the output folder"
    advice = _OS_ADVICE.get(exc.errno, f"{exc.strerror or exc}; check the --out folder and the disk, then run again")
    return f"cannot write {where}: {advice}"


if __name__ == "__main__":
    sys.exit(main())
