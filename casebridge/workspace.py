"""A workspace: a folder with ``casebridge.toml``, ``mappings/`` and the DuckDB database.

``casebridge.toml`` names the sources to load; ``docs/workspace.md`` documents every setting.
"""

from __future__ import annotations

import datetime as dt
import enum
import glob
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from casebridge.audit.settings import AuditSettings
from casebridge.engine import Engine
from casebridge.errors import WorkspaceError
from casebridge.standard.codelists import CODES_FOLDER, code_files, load_code_lists
from casebridge.standard.tables import create_tables
from casebridge.standard.vocabulary import DUTY_REPORT_KINDS

SETTINGS_FILE = "casebridge.toml"
# a workspace holds personal data: its folders and files are for their owner alone
OWNER_ONLY_FOLDER = 0o700
OWNER_ONLY_FILE = 0o600


class EngineName(enum.StrEnum):
    """The engines a workspace runs on (``engine`` in casebridge.toml, ``run --engine``)."""

    duckdb = "duckdb"
    spark = "spark"


SourceKind = Literal["police", "social_care", "health", "education", "duty_report", "other"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSettings(_Strict):
    """One source: where its extract is, which mapping reads it, and whose it is."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    agency: str
    kind: SourceKind
    path: str
    mapping: str
    extracted_at: dt.date | None = None
    # false: the source holds each person once, so no pair of its own records is compared
    dedupe: bool = True


MenuName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
# the [link] settings that shape the model: a change to any retrains it (docs/linking.md)
MODEL_SETTINGS = (
    "comparisons_drop", "blocking_drop", "blocking_add", "identifier_weight", "location_weight",
    "model",
)  # fmt: skip


class LinkSettings(_Strict):
    """How persons are resolved (``[link]`` in casebridge.toml); the menu of comparisons and
    rules is ``casebridge/link/model.py``'s, listed in ``docs/linking.md``."""

    threshold: float = Field(default=0.9, gt=0, le=1)
    review_low: float = Field(default=0.3, ge=0, le=1)
    review_high: float = Field(default=0.95, ge=0, le=1)
    seed: int = Field(default=42, ge=0)
    comparisons_drop: tuple[MenuName, ...] = ()
    blocking_drop: tuple[MenuName, ...] = ()
    blocking_add: tuple[MenuName, ...] = ()
    identifier_weight: float | None = Field(default=None, ge=0, le=40)
    location_weight: float | None = Field(default=None, ge=0, le=40)
    model: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _band(self) -> LinkSettings:
        if not self.review_low < self.review_high:
            raise ValueError("review_low must be below review_high")
        return self

    @model_validator(mode="after")
    def _menu(self) -> LinkSettings:
        shaping = [key for key in MODEL_SETTINGS[:-1] if getattr(self, key) not in ((), None)]
        if self.model is not None and shaping:
            raise ValueError(
                f"model names a frozen model, used as it is: remove {shaping[0]} (it shapes a "
                "model casebridge trains), or remove model to train on this workspace"
            )
        for weight, comparison in (("identifier_weight", "identifiers"),
                                   ("location_weight", "location")):  # fmt: skip
            if getattr(self, weight) is not None and comparison in self.comparisons_drop:
                raise ValueError(f"{weight} weighs {comparison}, which comparisons_drop leaves out")
        if self.comparisons_drop or self.blocking_drop or self.blocking_add:
            # the menu is the model's: read only when a workspace chooses from it
            from casebridge.link.model import menu_problem

            problem = menu_problem(self.comparisons_drop, self.blocking_drop, self.blocking_add)
            if problem:
                raise ValueError(problem)
        return self

    def model_shaping(self) -> dict[str, object]:
        """The settings that shape the model, as the saved model records them (names sorted,
        so that their order in casebridge.toml does not matter)."""
        return {
            key: sorted(value) if isinstance(value, list) else value
            for key, value in self.model_dump(mode="json", include=set(MODEL_SETTINGS)).items()
        }


LowerName = Annotated[str, Field(pattern=r"^[a-z][a-z_]*$")]
# an event kind as a source writes it: any case, spaces, hyphens or underscores between words
KindWord = Annotated[str, Field(pattern=r"^\s*[A-Za-z0-9][A-Za-z0-9 _-]*$", max_length=60)]


class VocabularySettings(_Strict):
    """Which event kinds mean what to the networks and screen stages (``[vocabulary]`` in
    casebridge.toml). Kinds are compared on their key (lower case, trimmed, runs of spaces,
    hyphens and underscores as one space), so ``Missing_Episode`` meets ``missing episode``;
    ``docs/mapping.md`` lists the defaults and why bare ``report`` is not among them."""

    missing_kinds: tuple[KindWord, ...] = (
        "missing", "missing episode", "missing person", "missing from home",
        "missing from care",
    )  # fmt: skip
    assessment_kinds: tuple[KindWord, ...] = (
        "cse assessment", "cse risk assessment", "cse screening", "exploitation assessment",
        "exploitation risk assessment",
    )  # fmt: skip
    duty_report_kinds: tuple[KindWord, ...] = DUTY_REPORT_KINDS


class NetworkSettings(_Strict):
    """How group-based networks are found (``[networks]`` in casebridge.toml);
    ``docs/networks.md`` says why each default is what it is."""

    suspect_roles: tuple[LowerName, ...] = Field(default=("suspect", "offender"), min_length=1)
    victim_roles: tuple[LowerName, ...] = Field(default=("victim",), min_length=1)
    event_kinds: tuple[KindWord, ...] = ()
    window_days: int | None = Field(default=None, ge=1)
    min_suspects: int = Field(default=2, ge=2)
    same_person_floor: float = Field(default=0.1, gt=0, le=1)

    @model_validator(mode="after")
    def _sides_apart(self) -> NetworkSettings:
        both = sorted(set(self.suspect_roles) & set(self.victim_roles))
        if both:
            raise ValueError(f"a role cannot be on both sides: {', '.join(both)}")
        return self


class SparkSettings(_Strict):
    """Where Spark runs and how (``[spark]`` in casebridge.toml, read when ``engine =
    "spark"``): the master URL, Spark settings passed to the session as they are, and the
    folder of the workspace's tables (Parquet, ``docs/scale.md``)."""

    master: str = Field(default="local[2]", min_length=1)
    config: dict[str, str] = Field(default_factory=dict)
    store: str = Field(default="spark", min_length=1)


class Settings(_Strict):
    """The whole of ``casebridge.toml``."""

    name: str = "casebridge workspace"
    engine: Literal["duckdb", "spark"] = "duckdb"
    database: str = "casebridge.duckdb"
    spark: SparkSettings = SparkSettings()
    link: LinkSettings = LinkSettings()
    networks: NetworkSettings = NetworkSettings()
    vocabulary: VocabularySettings = VocabularySettings()
    audit: AuditSettings = AuditSettings()
    sources: list[SourceSettings] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_keys(self) -> Settings:
        keys = [source.key for source in self.sources]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"source keys must be unique; repeated: {', '.join(duplicates)}")
        return self


@dataclass(frozen=True)
class Workspace:
    """An opened workspace folder and its validated settings."""

    root: Path
    settings: Settings

    @property
    def database(self) -> Path:
        """The DuckDB file, or on Spark the folder of its tables."""
        if self.settings.engine == "spark":
            return self.root / self.settings.spark.store
        return self.root / self.settings.database

    def with_engine(self, engine: Literal["duckdb", "spark"]) -> Workspace:
        """This workspace with its tables on ``engine`` instead (``casebridge run --engine``)."""
        return Workspace(self.root, self.settings.model_copy(update={"engine": engine}))

    def _open(self, *, read_only: bool = False) -> Engine:
        """The workspace's engine: DuckDB's file, or a Spark session over its Parquet store."""
        if self.settings.engine == "spark":
            from casebridge.spark_engine import SparkEngine

            spark = self.settings.spark
            return SparkEngine(
                self.database, master=spark.master, config=spark.config, read_only=read_only
            )
        return Engine(self.database, read_only=read_only)

    def source(self, key: str) -> SourceSettings:
        """Return the settings of source ``key``."""
        for source in self.settings.sources:
            if source.key == key:
                return source
        known = ", ".join(s.key for s in self.settings.sources) or "none"
        raise WorkspaceError(f"no source {key!r} in {self.root / SETTINGS_FILE}; sources: {known}")

    def files_of(self, source: SourceSettings) -> list[Path]:
        """Return the files a source's path (or glob) names, in order."""
        path = Path(source.path) if Path(source.path).is_absolute() else self.root / source.path
        # a part of the path that exists as written is a name, even with '[' ']' in it
        literal = pattern = Path(path.anchor)
        for part in path.parts[1:] if path.anchor else path.parts:
            literal = literal / part
            pattern = pattern / (glob.escape(part) if literal.exists() else part)
        files = sorted(Path(match) for match in glob.glob(str(pattern)) if Path(match).is_file())
        if not files:
            raise WorkspaceError(
                f"source {source.key!r}: no file matches {source.path!r} (in {self.root})"
            )
        return files

    def mapping_path(self, source: SourceSettings) -> Path:
        path = Path(source.mapping)
        return path if path.is_absolute() else self.root / path

    @property
    def codes(self) -> Path:
        """The folder of the workspace's own code-list entries (``codes/``, docs/codes.md)."""
        return self.root / CODES_FOLDER

    def audit_settings(self) -> AuditSettings:
        """The workspace's [audit] settings, with the review band from [link], the duty-report
        kinds from [vocabulary] and the population baseline's path taken from the workspace
        (as ``casebridge audit`` and ``casebridge report`` use them, and the review service's
        statistics pages)."""
        settings = self.settings.audit
        baseline = settings.population_baseline
        return settings.model_copy(
            update={
                "link_threshold": self.settings.link.threshold,
                "review_low": self.settings.link.review_low,
                "review_high": self.settings.link.review_high,
                "duty_report_kinds": self.settings.vocabulary.duty_report_kinds,
                "population_baseline": self.root / baseline if baseline else None,
            }
        )

    def code_files(self) -> list[Path]:
        """The workspace's code files, in order (none when there is no ``codes/``)."""
        return code_files(self.codes)

    def connect(self, refresh_code_lists: bool = False, *, read_only: bool = False) -> Engine:
        """Open the database with the standard tables and code lists in place; the code lists
        are (re)loaded from the shipped files and the workspace's ``codes/`` when asked, or
        when the database has none.

        A read-only connection changes nothing (it may make temporary tables), so several can
        be open at once; it finds the tables as the last writer left them."""
        if read_only:
            if not self.database.exists():
                raise WorkspaceError(
                    f"{self.root} has no database yet; run 'casebridge ingest' (or 'casebridge "
                    "run') first"
                )
            return self._open(read_only=True)
        created = not self.database.exists()
        engine = self._open()
        if created:
            self.database.chmod(OWNER_ONLY_FOLDER if self.database.is_dir() else OWNER_ONLY_FILE)
        create_tables(engine)
        if refresh_code_lists or not engine.table_exists("std_offence"):
            try:
                load_code_lists(engine, self.codes)
            except BaseException:
                engine.close()
                raise
        return engine


_ENGINE_CHOSEN: list[Literal["duckdb", "spark"]] = []


@contextmanager
def engine_chosen(engine: Literal["duckdb", "spark"] | None) -> Iterator[None]:
    """Open every workspace on ``engine`` inside the block, whatever its casebridge.toml says
    (``casebridge run --engine``); None changes nothing."""
    _ENGINE_CHOSEN.extend([engine] if engine else [])
    try:
        yield
    finally:
        del _ENGINE_CHOSEN[len(_ENGINE_CHOSEN) - (1 if engine else 0) :]


def open_workspace(root: Path) -> Workspace:
    """Return the workspace in ``root``, its settings validated (on the engine
    :func:`engine_chosen` chose, if any)."""
    workspace = _read_workspace(root)
    return workspace.with_engine(_ENGINE_CHOSEN[-1]) if _ENGINE_CHOSEN else workspace


def _read_workspace(root: Path) -> Workspace:
    path = root / SETTINGS_FILE
    if not path.is_file():
        raise WorkspaceError(
            f"{root} is not a casebridge workspace (no {SETTINGS_FILE}); "
            "create one with 'casebridge init DIR'"
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return Workspace(root, Settings.model_validate(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "top level"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise WorkspaceError(f"{path}: {where}: {message}") from exc


EXAMPLE_SETTINGS = """\
# casebridge workspace settings. Every setting: docs/workspace.md.
name = "{name}"
database = "casebridge.duckdb"

# One [[sources]] table per extract. path may be a glob; mapping is a YAML file in mappings/.
# [[sources]]
# key = "force_a"                       # short name, lower case
# agency = "Northshire Police"
# kind = "police"                       # police, social_care, health, education, duty_report
# path = "extracts/crimes_*.csv"
# mapping = "mappings/force_a.yaml"
# extracted_at = 2025-06-30
# dedupe = false                        # the extract holds each person once (docs/linking.md)
"""


def init_workspace(root: Path) -> Workspace:
    """Create a workspace in ``root`` (new or empty): settings, mappings/ and the database."""
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise WorkspaceError(f"{root} exists and is not an empty folder; choose a new one")
    try:
        (root / "mappings").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkspaceError(f"cannot create {root}: {exc.strerror}") from exc
    (root / SETTINGS_FILE).write_text(EXAMPLE_SETTINGS.format(name=root.name), encoding="utf-8")
    example = Path(__file__).parent / "ingest" / "example_mapping.yaml"
    (root / "mappings" / "example.yaml").write_text(
        example.read_text(encoding="utf-8"), encoding="utf-8"
    )
    workspace = open_workspace(root)
    workspace.connect().close()
    _restrict_to_owner(root)
    return workspace


def _restrict_to_owner(root: Path) -> None:
    """Make ``root`` and everything in it readable by its owner only, whatever the umask."""
    root.chmod(OWNER_ONLY_FOLDER)
    for path in root.rglob("*"):
        path.chmod(OWNER_ONLY_FOLDER if path.is_dir() else OWNER_ONLY_FILE)
