"""What the Spark transpile tests share: the statements sqlglot cannot write as Spark SQL."""

from __future__ import annotations

from collections.abc import Iterable

import sqlglot
from sqlglot.errors import ErrorLevel


def untranspilable(statements: Iterable[str]) -> list[str]:
    """Each distinct statement that does not transpile from DuckDB to Spark, with the reason."""
    failures = []
    for statement in dict.fromkeys(statements):
        try:
            sqlglot.transpile(
                statement, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE
            )
        except sqlglot.errors.SqlglotError as exc:
            failures.append(f"{exc}: {' '.join(statement.split())[:300]}")
    return failures
