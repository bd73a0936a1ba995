"""The Spark tests share one local Spark (two cores, 2 GB for the driver, four shuffle
partitions), started once per test session. Without Java or pyspark they are skipped with a
note, except under ``CI``, where they fail: CI runs ``make test`` as root, which installs
Debian's Java runtime (pyspark comes from requirements.lock)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from casebridge.spark_engine import SparkEngine

TEST_CONFIG = {
    "spark.driver.memory": "2g",
    "spark.sql.shuffle.partitions": "4",
}


def pytest_configure(config: pytest.Config) -> None:
    """The Spark tests are one xdist group (``make test`` runs ``--dist loadgroup``), so that
    one worker starts one Spark for all of them; without xdist the mark means nothing."""
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")


def _missing() -> str | None:
    if shutil.which("java") is None:
        return "Java is not installed here ('sudo make test' installs Debian's runtime)"
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed ('make test' installs it from requirements.lock)"
    return None


@pytest.fixture(scope="session")
def spark_ready() -> None:
    """Skip (or, under CI, fail) the test when Spark cannot run here."""
    why = _missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"{why} (CI has it)", pytrace=False)
        pytest.skip(why)


@pytest.fixture
def spark_engine(spark_ready: None, tmp_path: Path) -> Iterator[SparkEngine]:
    """A Spark engine over an empty store of its own."""
    engine = SparkEngine(tmp_path / "spark", master="local[2]", config=TEST_CONFIG)
    try:
        yield engine
    finally:
        engine.close()
