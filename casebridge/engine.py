"""The SQL engine adapter: DuckDB now, Spark later.

Stages hand their SQL to :meth:`Engine.execute`, written in DuckDB's dialect using only forms
that mean the same on Spark (see ``../shared/DESIGN.md``, Engines). Every such statement is kept
in :attr:`Engine.statements`, so a test can transpile all of them with sqlglot. Reading files is
engine-specific and lives in the ``read_*`` methods, which are not recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

logger = logging.getLogger(__name__)


class Engine:
    """A DuckDB connection that records the portable SQL it runs."""

    def __init__(self, database: Path | str = ":memory:") -> None:
        self.connection = duckdb.connect(str(database))
        self.statements: list[str] = []
        self.seconds: list[float] = []
        self._depth = 0

    def execute(self, sql: str, params: Sequence[object] | None = None) -> None:
        """Run one portable statement (recorded for the Spark transpile check, and timed)."""
        self.statements.append(sql)
        started = time.perf_counter()
        self.connection.execute(sql, params)
        self.seconds.append(time.perf_counter() - started)

    def query(self, sql: str, params: Sequence[object] | None = None) -> list[tuple[Any, ...]]:
        """Run one portable query and return its rows."""
        self.statements.append(sql)
        self.seconds.append(0.0)
        return self.connection.execute(sql, params).fetchall()

    def frame(self, sql: str, params: Sequence[object] | None = None) -> pl.DataFrame:
        """Run one portable query and return it as a polars frame."""
        self.statements.append(sql)
        self.seconds.append(0.0)
        frame = pl.from_arrow(self.connection.sql(sql, params=params).to_arrow_table())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def scalar(self, sql: str, params: Sequence[object] | None = None) -> Any:
        """Run one portable query and return its single value."""
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def create_table_from_arrow(self, name: str, table: pa.Table | pl.DataFrame) -> None:
        """Create (or replace) table ``name`` from an in-memory table."""
        arrow = table.to_arrow() if isinstance(table, pl.DataFrame) else table
        self.connection.register("_incoming", arrow)
        try:
            self.connection.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _incoming')
        finally:
            self.connection.unregister("_incoming")

    def table_exists(self, name: str) -> bool:
        """Say whether a table of this name exists."""
        found = self.connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()
        return bool(found and found[0])

    def columns(self, name: str) -> list[str]:
        """Return a table's column names in order."""
        rows = self.connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [name],
        ).fetchall()
        return [row[0] for row in rows]

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction: all of it lands, or none of it."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.connection.execute("BEGIN TRANSACTION")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        else:
            self.connection.execute("COMMIT")
        finally:
            self._depth = 0

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()

    # Readers: engine-specific, not recorded -------------------------------------------------

    def read_delimited(
        self, path: Path, table: str, columns: list[str], delimiter: str, skip: int
    ) -> tuple[int, list[tuple[int, str, str]]]:
        """Load a UTF-8 delimited file into ``table`` (all text) with each row's data row number.

        Returns (rows accepted, rejected rows as (data row number, raw line, reason)).
        """
        self.connection.execute("DROP TABLE IF EXISTS cb_rejects")
        self.connection.execute("DROP TABLE IF EXISTS cb_scan")
        spec = "{" + ", ".join(f"'{_sql_text(c)}': 'VARCHAR'" for c in columns) + "}"
        options = (
            f"header = true, skip = {skip}, delim = '{_sql_text(delimiter)}', quote = '\"', "
            f"escape = '\"', auto_detect = false, strict_mode = true, columns = {spec}, "
            "store_rejects = true, rejects_table = 'cb_rejects', rejects_scan = 'cb_scan', "
            "parallel = false"
        )
        self.connection.execute(
            f"CREATE OR REPLACE TEMP TABLE cb_read AS SELECT row_number() OVER () AS accepted, * "
            f"FROM read_csv(?, {options})",
            [str(path)],
        )
        rejects = self.connection.execute(
            "SELECT line - 1 - ? AS row_number, trim(any_value(csv_line), chr(13) || chr(10)), "
            "string_agg(DISTINCT error_type, '; ' ORDER BY error_type) "
            "FROM cb_rejects GROUP BY line ORDER BY line",
            [skip],
        ).fetchall()
        # the n-th accepted row sits after every rejected row r_j with r_j - j < n
        self.connection.execute(
            "CREATE OR REPLACE TEMP TABLE cb_gap AS "
            "SELECT r - row_number() OVER (ORDER BY r) AS gap "
            "FROM (SELECT DISTINCT line - 1 - ? AS r FROM cb_rejects)",
            [skip],
        )
        self.connection.execute(
            f'CREATE OR REPLACE TABLE "{table}" AS SELECT accepted + '
            "(SELECT count(*) FROM cb_gap WHERE gap < accepted) AS row_number, "
            "* EXCLUDE (accepted) FROM cb_read"
        )
        accepted = self.connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        self.connection.execute("DROP TABLE cb_read")
        rejected = [(int(row), str(line), str(errors)) for row, line, errors in rejects]
        return (accepted[0] if accepted else 0), rejected

    def read_lines(self, path: Path, table: str) -> int:
        """Load a text file into ``table`` (row_number, line), one row per non-empty line."""
        self.connection.execute(
            f'CREATE OR REPLACE TABLE "{table}" AS '
            "WITH f AS (SELECT string_split(replace(content, chr(13), ''), chr(10)) AS l "
            "FROM read_text(?)) "
            "SELECT i AS row_number, l[i] AS line FROM f, range(1, len(l) + 1) r(i) "
            "WHERE trim(l[i]) <> ''",
            [str(path)],
        )
        found = self.connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        return found[0] if found else 0

    def read_parquet_text(self, path: Path, table: str) -> int:
        """Load a Parquet file into ``table`` with every column as text and a row number."""
        self.connection.execute(
            "CREATE OR REPLACE TEMP VIEW cb_parquet AS "
            f"SELECT * FROM read_parquet('{_sql_text(str(path))}')"
        )
        columns = [row[0] for row in self.connection.execute("DESCRIBE cb_parquet").fetchall()]
        casts = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in columns)
        self.connection.execute(
            f'CREATE OR REPLACE TABLE "{table}" AS '
            f"SELECT row_number() OVER () AS row_number, {casts} FROM cb_parquet"
        )
        self.connection.execute("DROP VIEW cb_parquet")
        found = self.connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        return found[0] if found else 0


def _sql_text(value: str) -> str:
    return value.replace("'", "''")
