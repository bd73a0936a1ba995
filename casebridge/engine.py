"""The SQL engine adapter: DuckDB now, Spark later.

Stages hand their SQL to :meth:`Engine.execute`, written in DuckDB's dialect using only forms
that mean the same on Spark (see ``../shared/DESIGN.md``, Engines). Every such statement is kept
in :attr:`Engine.statements`, so a test can transpile all of them with sqlglot. Reading files is
engine-specific and lives in the ``read_*`` methods, which are not recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import polars as pl
import pyarrow as pa

from casebridge.errors import WorkspaceError

logger = logging.getLogger(__name__)
CSV_LINE_KEPT = 10_000  # DuckDB's rejects table keeps this many characters of a row


IN_USE = "the workspace database is in use by another casebridge process; wait for it to finish"


class Engine:
    """A DuckDB connection that records the portable SQL it runs."""

    dialect = "duckdb"  # the dialect Splink writes for this engine (link/score.py)

    def __init__(self, database: Path | str = ":memory:", *, read_only: bool = False) -> None:
        """Open ``database``; read-only connections may share the file with each other, but
        not with a writer. A file another process holds is a :class:`WorkspaceError`."""
        try:
            self.connection = duckdb.connect(str(database), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            raise WorkspaceError(IN_USE) from None
        self.read_only = read_only
        self.statements: list[str] = []
        self._depth = 0

    def execute(self, sql: str, params: Sequence[object] | None = None) -> None:
        """Run one portable statement (recorded for the Spark transpile check)."""
        self.statements.append(sql)
        self.connection.execute(sql, params).fetchall()  # DuckDB wants every result finished

    def query(self, sql: str, params: Sequence[object] | None = None) -> list[tuple[Any, ...]]:
        """Run one portable query and return its rows."""
        self.statements.append(sql)
        return self.connection.execute(sql, params).fetchall()

    def frame(self, sql: str, params: Sequence[object] | None = None) -> pl.DataFrame:
        """Run one portable query and return it as a polars frame."""
        self.statements.append(sql)
        frame = pl.from_arrow(self.connection.sql(sql, params=params).to_arrow_table())
        assert isinstance(frame, pl.DataFrame)
        return frame

    def scalar(self, sql: str, params: Sequence[object] | None = None) -> Any:
        """Run one portable query and return its single value."""
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def create_table_from_arrow(
        self, name: str, table: pa.Table | pl.DataFrame, *, temporary: bool = False
    ) -> None:
        """Create (or replace) table ``name`` from an in-memory table."""
        arrow = table.to_arrow() if isinstance(table, pl.DataFrame) else table
        kind = "TEMP TABLE" if temporary else "TABLE"
        self.connection.register("_incoming", arrow)
        try:
            self.connection.execute(f'CREATE OR REPLACE {kind} "{name}" AS SELECT * FROM _incoming')
        finally:
            self.connection.unregister("_incoming")

    def table_exists(self, name: str) -> bool:
        """Say whether a table of this name exists."""
        found = self.connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()
        return bool(found and found[0][0])

    def table_names(self) -> list[str]:
        """The workspace's stored tables (not temporary ones), sorted."""
        rows = self.connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema = 'main' ORDER BY table_name"
        ).fetchall()
        return [str(row[0]) for row in rows]

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

    def splink_api(self) -> Any:
        """Splink's database API over this engine (its DuckDB backend), sampling the records
        Spark's would (``splink_dialects``)."""
        from splink import DuckDBAPI

        from casebridge.splink_dialects import SameSampleDuckDBDialect

        api = DuckDBAPI(connection=self.connection)
        api.sql_dialect = SameSampleDuckDBDialect()  # type: ignore[no-untyped-call]
        return api

    def native_view(self, name: str, sql: str) -> None:
        """A temporary view over a statement already in this engine's dialect (Splink's own,
        written for :attr:`dialect`): not recorded, since it is not the stages' SQL."""
        self.connection.execute(f'CREATE OR REPLACE TEMP VIEW "{name}" AS {sql}')

    # Readers: engine-specific, not recorded -------------------------------------------------

    def read_delimited(
        self, path: Path, table: str, columns: list[str], delimiter: str, skip: int
    ) -> tuple[int, list[tuple[int, str, str]], int]:
        """Load a clean UTF-8 delimited file into temp ``table`` (all text), rows numbered.

        Returns (rows accepted, rejected rows as (row number, raw line, reasons), line breaks
        inside accepted values).
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
            "CREATE OR REPLACE TEMP TABLE cb_read AS SELECT row_number() OVER () AS accepted, * "
            f"FROM read_csv('{_sql_text(str(path))}', {options})"
        )
        rejects = self.connection.execute(
            "SELECT line - 1 - ? AS row_number, trim(any_value(csv_line), chr(13) || chr(10)), "
            "string_agg(DISTINCT error_type, '; ' ORDER BY error_type), "
            "min(line_byte_position) FROM cb_rejects GROUP BY line ORDER BY line",
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
            f'CREATE OR REPLACE TEMP TABLE "{table}" AS SELECT accepted + '
            "(SELECT count(*) FROM cb_gap WHERE gap < accepted) AS row_number, "
            "* EXCLUDE (accepted) FROM cb_read"
        )
        breaks = " + ".join(
            f'coalesce(length("{c}") - length(replace("{c}", chr(10), \'\')), 0)'
            for c in (name.replace('"', '""') for name in columns)
        )
        found = self.connection.execute(
            f'SELECT count(*), sum({breaks}) FROM "{table}"'
        ).fetchall()[0]
        self.connection.execute("DROP TABLE cb_read")
        rejected = [
            (int(row), _whole_row(path, offset, line), str(errors))
            for row, line, errors, offset in rejects
        ]
        accepted = int(found[0]) if found else 0
        return accepted, rejected, int(found[1] or 0) if found else 0

    def read_lines(self, path: Path, table: str, skip: int = 0) -> int:
        """Load a clean text file into temp ``table`` (row_number, line), after ``skip`` lines."""
        self.connection.execute(
            f'CREATE OR REPLACE TEMP TABLE "{table}" AS '
            "WITH f AS (SELECT string_split(content, chr(10)) AS l "
            f"FROM read_text('{_sql_text(str(path))}')) "
            f"SELECT i - {int(skip)} AS row_number, rtrim(l[i], chr(13)) AS line "
            f"FROM f, range({int(skip) + 1}, len(l) + 1) r(i) WHERE l[i] <> ''"
        )
        found = self.connection.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0]
        return found[0] if found else 0

    def rows_with_json_paths(self, table: str, paths: list[str]) -> list[int]:
        """For each path, how many valid JSON lines of ``table`` hold that key (even as null);
        one pass over the table."""
        if not paths:
            return []
        counts = ", ".join("count(*) FILTER (WHERE json_exists(line, ?))" for _ in paths)
        found = self.connection.execute(
            f'SELECT {counts} FROM "{table}" WHERE json_valid(line)', paths
        ).fetchall()[0]
        return [int(value) for value in found]

    def read_parquet_arrow(self, path: Path) -> pa.Table:
        """A Parquet file's rows in file order, as Arrow."""
        return self.connection.sql(
            f"SELECT * EXCLUDE (file_row_number) FROM read_parquet('{_sql_text(str(path))}', "
            "file_row_number = true) ORDER BY file_row_number"
        ).to_arrow_table()


def _whole_row(path: Path, offset: int | None, line: str) -> str:
    """A rejected row's text: DuckDB's copy, or, where DuckDB cut it short (it keeps 10,000
    characters), the whole row read again from the file at its byte offset."""
    if offset is None or len(line) < CSV_LINE_KEPT:
        return line
    with path.open("rb") as handle:
        handle.seek(_row_start(handle, offset))
        row, quotes = b"", 0
        while block := handle.read(1 << 20):
            start = 0
            # the row ends at the first line end after an even number of quotes
            while (end := block.find(b"\n", start)) >= 0:
                quotes += block.count(b'"', start, end)
                if quotes % 2 == 0:
                    return (row + block[:end]).decode("utf-8").rstrip("\r")
                start = end + 1
            quotes += block.count(b'"', start)
            row += block
    return row.decode("utf-8").rstrip("\r\n")


def _row_start(handle: BinaryIO, offset: int) -> int:
    """The offset a row starts at: just after the line end at or before DuckDB's
    ``line_byte_position``, which for the first row below the header is one byte late."""
    before = max(offset - 8, 0)
    handle.seek(before)
    newline = handle.read(offset - before).rfind(b"\n")
    return before + newline + 1 if newline >= 0 else (0 if before == 0 else offset)


def _sql_text(value: str) -> str:
    return value.replace("'", "''")
