"""The Spark engine: the same interface as :class:`casebridge.engine.Engine`, over a SparkSession.

Stages hand it the same statements, in DuckDB's dialect; this adapter holds every difference
between the engines (``docs/workspace.md``, Engines, lists them;
``tests/spark_engine/test_adapter.py`` tests each):

- Statements are transpiled with sqlglot (DuckDB to Spark). Parameter markers (``?``) are
  replaced by literals of the values before transpiling (Spark's own markers do not reach DDL).
- A table is Parquet in the workspace (``spark/tables/NAME/SEGMENT/``), listed in
  ``spark/catalogue.json`` with its schema and segments, and seen by Spark as a temporary view
  over those files. ``CREATE TABLE … AS`` writes one segment; ``INSERT`` adds one; ``DELETE``
  and ``UPDATE`` (which Spark cannot do on Parquet) write the rows that stay as a new segment
  in place of the old. ``transaction()`` writes ``catalogue.json`` once, at its end: on an
  error the catalogue is as it was (changed rows are written only at its end; files no table
  names any more are removed when the engine closes).
- A temporary table (``CREATE TEMP TABLE``) is the query's rows cached by Spark; its plan reads
  only files and held rows that never change, so later changes to the tables it was made from
  do not reach it, as they do not reach DuckDB's copy. A temporary view is Spark's own.
- Reading extracts (CSV, text lines) is done by an in-memory DuckDB on the driver, exactly as
  the DuckDB engine reads them, and the rows are handed to Spark: the extract files are on the
  machine that runs casebridge.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa
import sqlglot
from sqlglot import exp

from casebridge.engine import Engine
from casebridge.errors import WorkspaceError

if TYPE_CHECKING:  # pyspark is imported only when a workspace runs on Spark
    from pyspark.sql import DataFrame, SparkSession

logger = logging.getLogger(__name__)
CATALOGUE = "catalogue.json"
DEFAULT_CONFIG = {
    "spark.driver.memory": "2g",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",  # DuckDB's casts of bad values are errors as well, but
    # the stages guard their casts: Spark's non-ANSI mode keeps Splink's SQL as Splink tests it
    "spark.sql.shuffle.partitions": "4",
    # joins chosen on the sizes met, shuffles' partitions merged: a screening rule ran in 26
    # jobs of one stage each instead of 173 stages (2 to 3 times faster)
    "spark.sql.adaptive.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",  # DuckDB's TIMESTAMP has no zone
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    "spark.sql.parquet.int96RebaseModeInWrite": "CORRECTED",
    "spark.sql.caseSensitive": "false",
    "spark.sql.codegen.wholeStage": "false",
    # Catalyst infers every constraint a plan's filters and aliases imply; over Splink's
    # comparison columns (a CASE per level, aliased, under a UNION of rules) the sets grow until
    # the driver does nothing else: at 1,000,000 records link spent over an hour planning one
    # local checkpoint, its 10 GB heap full and the JVM collecting garbage (bench_spark.py)
    "spark.sql.constraintPropagation.enabled": "false",
}
# A local master's JVM lives for one command: the JIT's quick tier only, and one GC thread, so
# that compiling Spark's own code does not take the cores its queries need (measured on 2 busy
# cores: the session started in 11 s instead of 23-32 s, link's input built in 13 s instead of 37)
LOCAL_CONFIG = {
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC "
    "-XX:ReservedCodeCacheSize=256m"  # the quick tier alone fills the default 48 MB
}


def spark_session(master: str, config: dict[str, str]) -> SparkSession:
    """The process's SparkSession (made on first use, with Splink's similarity functions' jar),
    as a new session of it: each engine has its own temporary views."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    active = SparkSession.getActiveSession()
    if active is None:
        builder = SparkSession.builder.master(master).appName("casebridge")
        for key, value in {
            **DEFAULT_CONFIG,
            **(LOCAL_CONFIG if master.startswith("local") else {}),
            "spark.jars": similarity_jar_location(),
            **config,
        }.items():
            builder = builder.config(key, value)
        active = builder.getOrCreate()
        active.sparkContext.setLogLevel("ERROR")
    session = active.newSession()
    _register_similarity(session)
    return session


# DuckDB's similarity functions as sqlglot writes them for Spark, and the class of Splink's jar
# that computes each (Splink's own Spark levels call the same classes by other names)
SIMILARITY_FUNCTIONS = {
    "jarowinkler_similarity": "uk.gov.moj.dash.linkage.JaroWinklerSimilarity",
    "jaro_similarity": "uk.gov.moj.dash.linkage.JaroSimilarity",
}


def _register_similarity(session: SparkSession) -> None:
    from pyspark.sql.types import DoubleType

    for name, java_class in SIMILARITY_FUNCTIONS.items():
        session.udf.registerJavaFunction(name, java_class, DoubleType())


class SparkEngine(Engine):
    """A Spark session that runs the stages' DuckDB-dialect statements (see the module)."""

    dialect = "spark"

    def __init__(
        self,
        store: Path,
        *,
        master: str = "local[2]",
        config: dict[str, str] | None = None,
        read_only: bool = False,
    ) -> None:
        """Open the Spark store in folder ``store`` (made if missing, unless ``read_only``)."""
        if read_only and not (store / CATALOGUE).is_file():
            raise WorkspaceError(
                f"{store} holds no Spark tables yet; run 'casebridge ingest' first"
            )
        self.store = store
        if not read_only:
            store.mkdir(parents=True, exist_ok=True)
        self.read_only = read_only
        self.statements: list[str] = []
        self.timings: list[tuple[str, float]] = []  # (statement kind, seconds), in order
        self._depth = 0
        self.spark = spark_session(master, config or {})
        self._scratch = store / "tmp" / uuid.uuid4().hex
        self._tables: dict[str, dict[str, Any]] = {}
        self._temporary: set[str] = set()
        self._doomed: list[Path] = []  # segments to remove once the catalogue no longer names them
        self._pending: dict[str, list[DataFrame]] = {}  # rows not yet written, by table
        self._held: dict[str, DataFrame] = {}  # temporary tables' rows
        self._splink_held: dict[str, DataFrame] = {}  # Splink's working tables' rows
        self._cte_held: list[tuple[str, DataFrame]] = []  # the running statement's CTEs' rows
        self._removable: list[Path] = []  # segments no table names since a commit: at close
        self._local: Engine | None = None  # DuckDB on the driver, for reading extracts
        if (store / CATALOGUE).is_file():
            self._tables = json.loads((store / CATALOGUE).read_text(encoding="utf-8"))
        for name in self._tables:
            self._register(name)

    # The engine's interface ------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[object] | None = None) -> None:
        """Run one portable statement (recorded, as the DuckDB engine records it)."""
        self.statements.append(sql)
        with self._timed(sql):
            self._run(sql, params)

    def query(self, sql: str, params: Sequence[object] | None = None) -> list[tuple[Any, ...]]:
        """Run one portable query and return its rows."""
        self.statements.append(sql)
        with self._timed(sql):
            frame = self._run(sql, params)
            assert frame is not None, "query() needs a statement that returns rows"
            return [tuple(row) for row in frame.collect()]

    def frame(self, sql: str, params: Sequence[object] | None = None) -> pl.DataFrame:
        """Run one portable query and return it as a polars frame."""
        self.statements.append(sql)
        with self._timed(sql):
            found = self._run(sql, params)
            assert found is not None, "frame() needs a statement that returns rows"
            result = pl.from_arrow(found.toArrow())
        assert isinstance(result, pl.DataFrame)
        return result

    @contextmanager
    def _timed(self, sql: str) -> Iterator[None]:
        """Time one statement into :attr:`timings` (its kind and seconds), logged at DEBUG;
        free the rows of the CTEs it computed once (:meth:`_materialise_ctes`) at its end."""
        started = time.perf_counter()
        try:
            yield
        finally:
            for name, frame in self._cte_held:
                self.spark.catalog.dropTempView(name)
                _release(frame)
            self._cte_held = []
            seconds = time.perf_counter() - started
            kind = statement_kind(sql)
            self.timings.append((kind, seconds))
            logger.debug("spark statement %s: %.3f s", kind, seconds)

    def create_table_from_arrow(
        self, name: str, table: pa.Table | pl.DataFrame, *, temporary: bool = False
    ) -> None:
        """Create (or replace) table ``name`` from an in-memory table."""
        arrow = table.to_arrow() if isinstance(table, pl.DataFrame) else table
        arrow = _spark_ready(arrow)
        self._store(name, self.spark.createDataFrame(arrow), temporary=temporary)

    def table_exists(self, name: str) -> bool:
        """Say whether a table (or view) of this name exists."""
        return bool(self.spark.catalog.tableExists(name))

    def table_names(self) -> list[str]:
        """The stored tables (those of the catalogue, not temporary ones), sorted."""
        return sorted(self._tables)

    def columns(self, name: str) -> list[str]:
        """Return a table's column names in order."""
        return list(self.spark.table(_quoted(name)).columns)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block as one change of the catalogue: all of it lands, or none of it."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        before = json.loads(json.dumps(self._tables))
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._rollback(before)
            raise
        else:
            self._depth = 0
            self._commit()
        finally:
            self._depth = 0

    def close(self) -> None:
        """Drop this engine's temporary data (its views, and its scratch folder)."""
        if self._local is not None:
            self._local.close()
        for name in list(self._temporary):
            self.spark.catalog.dropTempView(name)
        for held in [*self._held.values(), *self._splink_held.values()]:
            _release(held)
        for frames in self._pending.values():
            for frame in frames:
                _release(frame)
        named = {s for entry in self._tables.values() for s in entry["segments"]}
        for segment in self._removable:
            if str(segment) not in named:
                shutil.rmtree(segment, ignore_errors=True)
        shutil.rmtree(self._scratch, ignore_errors=True)

    def splink_api(self) -> Any:
        """Splink's database API over this engine's session (its Spark backend)."""
        return _splink_api(self)

    def native_view(self, name: str, sql: str) -> None:
        """A temporary view over a statement already in Spark's dialect (Splink's own), made
        ready for Spark as Splink's Spark backend makes its statements ready."""
        from splink.internals.spark.database_api import SparkAPI

        ready = SparkAPI._setup_for_execute_sql(None, sql, name)  # type: ignore[arg-type]
        self.spark.sql(ready).createOrReplaceTempView(name)
        self._temporary.add(name)

    # Readers: a DuckDB on the driver reads the file; Spark gets its rows -------------------------

    def _reader(self) -> Engine:
        if self._local is None:
            self._local = Engine(":memory:")
        return self._local

    def _hand_over(self, table: str) -> None:
        local = self._reader()
        arrow = local.connection.sql(f'SELECT * FROM "{table}"').to_arrow_table()
        self.create_table_from_arrow(table, arrow, temporary=True)

    def read_delimited(
        self, path: Path, table: str, columns: list[str], delimiter: str, skip: int
    ) -> tuple[int, list[tuple[int, str, str]], int]:
        """As :meth:`Engine.read_delimited`, read by DuckDB on the driver."""
        found = self._reader().read_delimited(path, table, columns, delimiter, skip)
        self._hand_over(table)
        return found

    def read_lines(self, path: Path, table: str, skip: int = 0) -> int:
        """As :meth:`Engine.read_lines`, read by DuckDB on the driver."""
        found = self._reader().read_lines(path, table, skip)
        self._hand_over(table)
        return found

    def rows_with_json_paths(self, table: str, paths: list[str]) -> list[int]:
        """As :meth:`Engine.rows_with_json_paths`, over the driver's copy of the lines."""
        return self._reader().rows_with_json_paths(table, paths)

    def read_parquet_arrow(self, path: Path) -> pa.Table:
        """A Parquet file's rows in file order, as Arrow."""
        return self._reader().read_parquet_arrow(path)

    # Statements --------------------------------------------------------------------------------

    def _run(self, sql: str, params: Sequence[object] | None) -> DataFrame | None:
        tree = sqlglot.parse_one(sql, read="duckdb")
        if params:
            tree = _bind(tree, list(params))
        if not (isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "VIEW"):
            self._materialise_ctes(tree)  # a view's CTEs stay in the view, computed when read
        if isinstance(tree, exp.Create):
            self._create(tree)
        elif isinstance(tree, exp.Insert):
            self._insert(tree)
        elif isinstance(tree, exp.Delete):
            self._delete(tree)
        elif isinstance(tree, exp.Update):
            self._update(tree)
        elif isinstance(tree, exp.Drop):
            self._drop(tree)
        elif isinstance(tree, exp.Command):
            raise WorkspaceError(
                f"the Spark engine cannot read this statement as DuckDB's SQL: {sql[:60]}"
            )
        elif isinstance(tree, exp.Transaction | exp.Commit | exp.Rollback):
            raise WorkspaceError("use engine.transaction(), not BEGIN/COMMIT, on the Spark engine")
        else:
            return self.spark.sql(to_spark(tree))
        return None

    def _materialise_ctes(self, tree: exp.Expr) -> None:
        """Compute once each CTE that the statement reads more than once, as DuckDB does: Spark
        computes a CTE again for each reference (a screening rule reading its CTEs five times
        ran 173 stages). Its rows are held until the statement ends, under a name of their own
        that its references now read (keeping the CTE's name as their alias)."""
        for with_ in list(tree.find_all(exp.With)):
            scope = with_.parent
            if with_.args.get("recursive") or scope is None:
                continue
            for cte in list(with_.expressions):
                alias = cte.alias
                references = [t for t in scope.find_all(exp.Table) if not t.db and t.name == alias]
                if len(references) < 2 or cte.this.args.get("with_") is not None:
                    continue
                body = cte.this.copy()
                place = next(i for i, c in enumerate(with_.expressions) if c is cte)
                earlier = with_.expressions[:place]
                if earlier:
                    body.set("with_", exp.With(expressions=[c.copy() for c in earlier]))
                name = f"cb_cte_{uuid.uuid4().hex[:12]}"
                held = self.spark.sql(to_spark(body)).localCheckpoint(eager=True)
                held.createOrReplaceTempView(name)
                self._cte_held.append((name, held))
                for table in references:
                    alias = table.args.get("alias") or exp.TableAlias(
                        this=exp.to_identifier(table.name)
                    )
                    table.replace(exp.Table(this=exp.to_identifier(name), alias=alias.copy()))
                cte.pop()
            if not with_.expressions:
                with_.pop()

    def _select(self, tree: exp.Expr) -> DataFrame:
        return self.spark.sql(to_spark(tree))

    def _create(self, tree: exp.Create) -> None:
        kind = str(tree.args.get("kind", "")).upper()
        target = tree.this
        name = (target.this if isinstance(target, exp.Schema) else target).name
        temporary = any(
            isinstance(p, exp.TemporaryProperty)
            for p in (tree.args.get("properties") or exp.Properties()).expressions
        )
        exists = self.table_exists(name)
        if tree.args.get("exists") and exists:
            return
        if kind == "VIEW":
            self.spark.sql(
                f"CREATE OR REPLACE TEMP VIEW {_quoted(name)} AS {to_spark(tree.expression)}"
            )
            self._temporary.add(name)
            return
        if kind != "TABLE":
            raise WorkspaceError(f"the Spark engine cannot CREATE {kind or 'this'}: {name}")
        if exists and not tree.args.get("replace"):
            raise WorkspaceError(f"table {name} exists already")
        if isinstance(target, exp.Schema):
            schema = ", ".join(
                f"`{column.name}` {column.args['kind'].sql(dialect='spark')}"
                for column in target.expressions
            )
            self._store(name, self.spark.createDataFrame([], schema), temporary=temporary)
        else:
            self._store(name, self._select(tree.expression), temporary=temporary)

    def _insert(self, tree: exp.Insert) -> None:
        target = tree.this
        named = target.expressions if isinstance(target, exp.Schema) else []
        name = (target.this if isinstance(target, exp.Schema) else target).name
        source = tree.expression
        if isinstance(source, exp.Values):
            source = (
                exp.select(
                    *[
                        exp.alias_(value, f"c{i}")
                        for i, value in enumerate(source.expressions[0].expressions)
                    ]
                )
                if len(source.expressions) == 1
                else exp.select("*").from_(source)
            )
        rows = self._select(source)
        table = self.spark.table(_quoted(name))
        columns = [c.name for c in named] if named else table.columns
        if len(columns) != len(rows.columns):
            raise WorkspaceError(
                f"INSERT INTO {name}: {len(rows.columns)} values for {len(columns)} columns"
            )
        from pyspark.sql import functions

        # by position, as DuckDB inserts: the query's own names may repeat
        rows = rows.toDF(*[f"cb_value_{i}" for i in range(len(columns))])
        given = {column: f"cb_value_{i}" for i, column in enumerate(columns)}
        types = {field.name: field.dataType for field in table.schema.fields}
        aligned = rows.select(
            *[
                (functions.col(given[c]) if c in given else functions.lit(None))
                .cast(types[c])
                .alias(c)
                for c in table.columns
            ]
        )
        self._append(name, aligned)

    def _delete(self, tree: exp.Delete) -> None:
        name = tree.this.name
        condition = tree.args.get("where")
        kept = (
            f"SELECT * FROM {_quoted(name)} WHERE coalesce(NOT ({to_spark(condition.this)}), true)"
            if condition
            else f"SELECT * FROM {_quoted(name)} WHERE false"
        )
        self._rewrite(name, self.spark.sql(kept))

    def _update(self, tree: exp.Update) -> None:
        name = tree.this.name
        condition = tree.args.get("where")
        sets = {eq.this.name: eq.expression for eq in tree.expressions}
        table = self.spark.table(_quoted(name))
        when = to_spark(condition.this) if condition else "true"
        selected = ", ".join(
            f"CASE WHEN {when} THEN CAST({to_spark(sets[c])} AS {field.dataType.simpleString()}) "
            f"ELSE `{c}` END AS `{c}`"
            if c in sets
            else f"`{c}`"
            for c, field in ((f.name, f) for f in table.schema.fields)
        )
        self._rewrite(name, self.spark.sql(f"SELECT {selected} FROM {_quoted(name)}"))

    def _drop(self, tree: exp.Drop) -> None:
        for table in tree.args.get("tables") or [tree.this]:
            self._drop_one(table.name, persistent_only=table.db == "main",
                           exists=bool(tree.args.get("exists")))  # fmt: skip

    def _drop_one(self, name: str, *, persistent_only: bool, exists: bool) -> None:
        """Drop a temporary table or view (DuckDB looks there first), else a stored table;
        ``main.NAME`` names the stored table only."""
        if name in self._temporary and not persistent_only:
            self.spark.catalog.dropTempView(name)
            self._temporary.discard(name)
            if name in self._held:
                _release(self._held.pop(name))
        elif name in self._tables:
            self._refuse_if_read_only()
            self._drop_persistent(name)
            self.spark.catalog.dropTempView(name)
            self._changed()
        elif not exists:
            raise WorkspaceError(f"no table {name} to drop")

    # Storage -----------------------------------------------------------------------------------
    # A persistent table is its committed Parquet segments plus the rows changed since the last
    # commit, held by Spark (local checkpoints); a commit writes those as one new segment each.

    def _store(self, name: str, frame: DataFrame, *, temporary: bool) -> None:
        """Make ``name`` hold ``frame``'s rows (a temporary table, or a table of the store)."""
        if temporary:
            self._drop_persistent(name)
            self._hold(name, frame)
            return
        held = frame.localCheckpoint(eager=True)
        self._refuse_if_read_only()
        if name in self._temporary:
            self.spark.catalog.dropTempView(name)
            self._temporary.discard(name)
        self._drop_persistent(name)
        self._tables[name] = {"schema": frame.schema.json(), "segments": []}
        self._pending[name] = [held]
        self._register(name)
        self._changed()

    def _hold(self, name: str, frame: DataFrame) -> None:
        """A temporary table: the query's rows, computed now and kept by Spark (a local
        checkpoint: in memory, spilled to local disk), a snapshot as DuckDB's temporary table
        is. Not ``cache()``: a cached table keeps its whole plan, which every later statement
        reading it analyses again, and dropping one makes Spark compare it with every other
        cached plan (measured: a DROP took 10 to 30 s in link's scoring)."""
        held = frame.localCheckpoint(eager=True)
        held.createOrReplaceTempView(name)
        self._temporary.add(name)
        if name in self._held:
            _release(self._held[name])
        self._held[name] = held

    def _drop_persistent(self, name: str) -> None:
        if name in self._tables:
            self._doomed += [Path(s) for s in self._tables.pop(name)["segments"]]
        for frame in self._pending.pop(name, []):
            _release(frame)

    def _append(self, name: str, frame: DataFrame) -> None:
        if name in self._temporary:
            self._hold(name, self.spark.table(_quoted(name)).unionByName(frame))
            return
        held = frame.localCheckpoint(eager=True)
        self._refuse_if_read_only()
        self._pending.setdefault(name, []).append(held)
        self._register(name)
        self._changed()

    def _rewrite(self, name: str, frame: DataFrame) -> None:
        if name in self._temporary:
            self._hold(name, frame)
            return
        schema = self._tables[name]["schema"]
        self._store(name, frame, temporary=False)
        self._tables[name]["schema"] = schema

    def _register(self, name: str) -> None:
        from pyspark.sql.types import StructType

        entry = self._tables[name]
        schema = StructType.fromJson(json.loads(entry["schema"]))
        parts = (
            [self.spark.read.schema(schema).parquet(*entry["segments"])]
            if entry["segments"]
            else []
        )
        parts += self._pending.get(name, [])
        frame = parts[0] if parts else self.spark.createDataFrame([], schema)
        for part in parts[1:]:
            frame = frame.union(part)
        frame.createOrReplaceTempView(name)

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise WorkspaceError("this connection is read-only; open the workspace to write")

    def _changed(self) -> None:
        if not self._depth:
            self._commit()

    def _commit(self) -> None:
        """Write every table's changed rows as a segment, then the catalogue, then remove the
        segments it no longer names."""
        for name, frames in self._pending.items():
            if name not in self._tables or not frames:
                continue
            rows = frames[0]
            for frame in frames[1:]:
                rows = rows.union(frame)
            segment = self.store / "tables" / name / uuid.uuid4().hex
            rows.write.parquet(str(segment))
            self._tables[name]["segments"].append(str(segment))
        written, self._pending = self._pending, {}
        for name in written:
            if name in self._tables:
                self._register(name)
        for frames in written.values():
            for frame in frames:
                _release(frame)
        self.store.mkdir(parents=True, exist_ok=True)
        catalogue = self.store / f"{CATALOGUE}.{uuid.uuid4().hex}"
        catalogue.write_text(json.dumps(self._tables, indent=1), encoding="utf-8")
        catalogue.replace(self.store / CATALOGUE)
        self._removable += self._doomed
        self._doomed = []

    def _rollback(self, before: dict[str, dict[str, Any]]) -> None:
        for name in set(self._tables) - set(before):
            self.spark.catalog.dropTempView(name)
        self._tables = before
        self._doomed = []
        for frames in self._pending.values():
            for frame in frames:
                _release(frame)
        self._pending = {}
        for name in self._tables:
            self._register(name)


def statement_kind(sql: str) -> str:
    """A statement's kind for the timings: its first words (``CREATE TEMP TABLE``, ``SELECT``),
    and the name of the table it creates, inserts into or drops (never a value)."""
    words = sql.split()
    head = [w.upper() for w in words[:6]]
    for verb, skip in (("CREATE", ("OR", "REPLACE", "TEMP", "TEMPORARY", "TABLE", "VIEW", "IF",
                       "NOT", "EXISTS")), ("INSERT", ("INTO",)), ("DROP", ("TABLE", "VIEW", "IF",
                       "EXISTS")), ("DELETE", ("FROM",)), ("UPDATE", ())):  # fmt: skip
        if head and head[0] == verb:
            rest = words[1:]
            kept = [verb]
            while rest and rest[0].upper() in skip:
                kept.append(rest.pop(0).upper())
            name = rest[0].split("(")[0].strip('"`') if rest else ""
            return " ".join([*kept, name]).strip()
    return head[0] if head else ""


# Translation ---------------------------------------------------------------------------------


def to_spark(tree: exp.Expr) -> str:
    """A DuckDB-dialect expression as Spark SQL, with the cases sqlglot gets wrong fixed first
    (each has a test in ``tests/spark_engine/test_adapter.py``)."""
    aliases = {table.alias_or_name for table in tree.find_all(exp.Table)} | {
        query.alias for query in tree.find_all(exp.Subquery) if query.alias
    }
    fixed = tree.copy().transform(lambda node: _by_hand(node, aliases))
    return fixed.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


def _spark(template: str, **parts: exp.Expr) -> exp.Expr:
    """A Spark expression from ``template``, its ``{name}`` holes filled with ``parts``."""
    filled = template.format(**{k: v.sql(dialect="spark") for k, v in parts.items()})
    return sqlglot.parse_one(filled, read="spark")


def _by_hand(node: exp.Expr, aliases: set[str]) -> exp.Expr:
    """One node translated by hand where sqlglot leaves a DuckDB function Spark lacks."""
    name = node.name.upper() if isinstance(node, exp.Anonymous) else ""
    aggregate = node.this if isinstance(node, exp.Filter) else node
    if isinstance(aggregate, exp.ArrayAgg) and not aggregate.meta.get("cb_empty_is_null"):
        # DuckDB's list() of no rows is NULL; Spark's collect_list is an empty array
        if isinstance(node, exp.ArrayAgg) and isinstance(node.parent, exp.Filter):
            return node  # wrapped with its FILTER
        held = node.copy()
        (held.this if isinstance(held, exp.Filter) else held).meta["cb_empty_is_null"] = True
        empty = exp.EQ(this=exp.func("size", held.copy()), expression=exp.Literal.number(0))
        return exp.Case(ifs=[exp.If(this=empty, true=exp.null())], default=held)
    if isinstance(node, exp.ArrayConcat) and not node.args.get("null_propagation"):
        # DuckDB's list_concat reads a NULL list as empty (NULL and NULL give []); Spark's
        # concat gives NULL if any list is NULL
        lists = [node.this, *node.expressions]
        return exp.func(
            "concat", *[exp.func("coalesce", part.copy(), exp.func("array")) for part in lists]
        )
    if name == "JSON_VALID":
        # DuckDB: the text is one JSON value. Spark's parser is as strict, but for text after
        # a complete value, which it ignores (docs/workspace.md, Engines)
        return _spark("(try_parse_json({x}) IS NOT NULL)", x=node.expressions[0])
    if isinstance(node, exp.JSONType):
        # DuckDB names every JSON type; the stages ask only for ARRAY and OBJECT. A missing
        # path and a JSON null are both NULL here (DuckDB: NULL and 'NULL')
        value = exp.func("get_json_object", node.this, node.args["expression"])
        return _spark(
            "CASE WHEN {v} IS NULL THEN NULL WHEN left(ltrim({v}), 1) = '[' THEN 'ARRAY' "
            "WHEN left(ltrim({v}), 1) = '{{' THEN 'OBJECT' ELSE 'VALUE' END",
            v=value,
        )
    if name == "TO_JSON" and len(node.expressions) == 1:
        row = node.expressions[0]
        if isinstance(row, exp.Column) and not row.table and row.name in aliases:
            # a whole row as a JSON object, nulls written as DuckDB writes them
            return _spark(f"to_json(struct({row.name}.*), map('ignoreNullFields', 'false'))")
    return node


def _bind(tree: exp.Expr, params: list[object]) -> exp.Expr:
    """The statement with each ``?`` replaced by a literal of its value, in order."""
    values = iter(params)

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder):
            return _literal(next(values))
        return node

    bound = tree.transform(replace)
    if next(values, None) is not None:
        raise WorkspaceError("more parameters than '?' markers in a statement")
    return bound


def _literal(value: object) -> exp.Expr:
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, float):
        return exp.cast(exp.Literal.string(repr(value)), "DOUBLE")
    if isinstance(value, decimal.Decimal):
        return exp.Literal.number(str(value))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[_literal(v) for v in value])
    raise WorkspaceError(f"the Spark engine cannot bind a parameter of type {type(value).__name__}")


def _splink_api(engine: SparkEngine) -> Any:
    """Splink's Spark backend over ``engine``'s session, each of Splink's tables computed at
    once as a local checkpoint (as the engine's temporary tables are: not ``persist()``, whose
    cached plans every later statement analyses again), timed into the engine's timings as
    ``splink NAME``, and freed when Splink drops it or the engine closes."""
    from splink.backends.spark import SparkAPI

    class CheckpointingSparkAPI(SparkAPI):
        def _break_lineage_and_repartition(
            self, spark_df: DataFrame, templated_name: str, physical_name: str
        ) -> DataFrame:
            started = time.perf_counter()
            shaped: DataFrame = self._repartition_if_needed(spark_df, templated_name)  # type: ignore[no-untyped-call]
            held = shaped.localCheckpoint(eager=True)
            engine.timings.append((f"splink {templated_name}", time.perf_counter() - started))
            if physical_name in engine._splink_held:
                _release(engine._splink_held[physical_name])
            engine._splink_held[physical_name] = held
            return held

        def delete_table_from_database(self, name: str) -> None:
            super().delete_table_from_database(name)  # type: ignore[no-untyped-call]
            if name in engine._splink_held:
                _release(engine._splink_held.pop(name))

    from casebridge.splink_dialects import SameSampleSparkDialect

    api = CheckpointingSparkAPI(spark_session=engine.spark)  # type: ignore[no-untyped-call]
    # the records DuckDB samples (casebridge.splink_dialects)
    api.sql_dialect = SameSampleSparkDialect()  # type: ignore[no-untyped-call]
    return api


def _release(frame: DataFrame) -> None:
    """Free the blocks of a local checkpoint (a frame whose plan is the checkpointed rows)."""
    plan = frame._jdf.queryExecution().logical()
    if plan.getClass().getSimpleName() == "LogicalRDD":
        plan.rdd().unpersist(False)


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _spark_ready(table: pa.Table) -> pa.Table:
    """Arrow types Spark reads: large and view strings as plain strings."""
    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
            kind = pa.string()
        elif pa.types.is_large_list(kind) or pa.types.is_list_view(kind):
            inner = kind.value_type
            if pa.types.is_large_string(inner) or pa.types.is_string_view(inner):
                inner = pa.string()
            kind = pa.list_(inner)
        fields.append(pa.field(field.name, kind))
    schema = pa.schema(fields)
    if table.num_rows == 0:  # pyspark reads a column of no chunks as an error: one empty chunk
        return pa.Table.from_arrays([pa.array([], type=f.type) for f in schema], schema=schema)
    return table.cast(schema)
