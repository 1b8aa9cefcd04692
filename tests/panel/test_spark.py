"""The panel and the KPIs on Spark: the Ibis code that runs on DuckDB, unchanged, through Ibis's
PySpark backend on a local Spark session, gives the same frames as DuckDB.

Three bindings are checked: a demo world written as Parquet and read by Spark itself, as tables of
its catalog typed by ``contract_tables`` (how a cluster reads the contract tables) and through
``ibis_tables(folder, con=...)``; and the hand-made pandas frames of test_kpis.py sent to Spark as
in-memory tables (their missing values and day boundaries are the edge cases).

Needs a Java runtime (17 or newer) for Spark; CI installs ``default-jre-headless``.
"""

from __future__ import annotations

import os
import shutil

import ibis
import pytest
from pyspark.sql import SparkSession

from channel_analysis.metrics import monthly_kpis
from channel_analysis.panel import dealer_month_panel
from channel_analysis.sources.engine import ENGINE_COLUMNS, contract_tables, ibis_tables
from helpers.kpi_tables import HAND_MADE, M  # test_kpis.py's hand-made tables (each KPI worked out there), their month
from helpers.sql import assert_same  # every column equal; floats up to rtol 1e-12 (summation order)

pytestmark = [
    pytest.mark.spark,
    pytest.mark.xdist_group("spark"),  # with --dist loadgroup: one worker, one Spark session
    # pyspark 4.0 and ibis 12 call pandas APIs that pandas 3 deprecates
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated"),
]

AS_OF = "2025-12"


@pytest.fixture(scope="module")
def spark() -> ibis.BaseBackend:
    """A local one-core Spark session for this module, as an Ibis backend."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail("Spark needs a Java runtime (17 or newer): apt-get install default-jre-headless", pytrace=False)
    session = (
        SparkSession.builder.master("local[1]")
        .appName("channel-analysis-tests")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        # pandas frames cross to Spark through Arrow: without it Spark turns a missing text value
        # (NaN in pandas) into the string "NaN", and a dealer without a sales manager into one named "NaN"
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # a few hundred rows: planning and compiling cost more than running; these settings halve the
        # module's time and change no result (whole-stage code generation, adaptive re-planning, the JIT)
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield ibis.pyspark.connect(session)
    finally:
        session.stop()


@pytest.fixture(scope="module")
def world(demo_parquet):
    """The demo world, written as Parquet files (its last month is AS_OF)."""
    return demo_parquet


def test_spark_gives_the_panel_of_duckdb_on_parquet(spark, world):
    # as on a cluster: Spark reads the files into tables of its catalog, contract_tables types them
    session = SparkSession.getActiveSession()
    for path in world.glob("*.parquet"):
        session.read.parquet(str(path)).createOrReplaceTempView(f"source_{path.stem}")
    tables = contract_tables({name: spark.table(f"source_{name}") for name in ENGINE_COLUMNS})
    on_spark = dealer_month_panel(tables, as_of=AS_OF)
    on_duckdb = dealer_month_panel(ibis_tables(world), as_of=AS_OF)
    assert len(on_duckdb) > 40 * 12  # most dealers span many months: a real panel, not a handful of rows
    assert on_duckdb.order_count.sum() > 0 and on_duckdb.calls_out.sum() > 0 and on_duckdb.requests.sum() > 0
    assert_same(on_spark, on_duckdb)


@pytest.mark.parametrize("month", ["2024-03", "2025-06", AS_OF])
def test_spark_gives_the_kpis_of_duckdb_on_parquet(spark, world, month):
    # ibis_tables(folder, con=spark): Spark reads the Parquet files of a folder it can see
    on_spark = monthly_kpis(ibis_tables(world, con=spark), as_of=month)
    on_duckdb = monthly_kpis(ibis_tables(world), as_of=month)
    assert on_duckdb.value.notna().sum() > 50
    assert_same(on_spark, on_duckdb)


@pytest.mark.parametrize("name", ["everything", "first_orders"])
def test_spark_gives_the_hand_made_kpis_from_pandas_frames(spark, name):
    tables = HAND_MADE[name]
    assert_same(monthly_kpis(tables, as_of=M, con=spark), monthly_kpis(tables, as_of=M))


def test_spark_gives_the_hand_made_panel_from_pandas_frames(spark):
    tables = HAND_MADE["everything"]
    on_spark = dealer_month_panel(tables, as_of=M, con=spark)
    on_duckdb = dealer_month_panel(tables, as_of=M)
    assert on_duckdb.sales_manager_id.isna().any()  # D5 has none: must stay missing on Spark too
    assert_same(on_spark, on_duckdb)
