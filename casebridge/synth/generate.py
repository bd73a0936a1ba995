"""Write a folder of synthetic multi-agency extracts and the truth behind them.

``generate`` is the one entry point: same seed and profile, same bytes.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import shutil
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

from casebridge.errors import OutputError, UsageError
from casebridge.synth.background import generate_background
from casebridge.synth.malformed import Planted, break_lines, plant_bad_values, plant_broken_rows
from casebridge.synth.people import People, draw_people
from casebridge.synth.plan import MIN_PEOPLE, Plan, plan_world
from casebridge.synth.profile import Profile
from casebridge.synth.records import build_records, reference_events
from casebridge.synth.scenarios import generate_scenario_events
from casebridge.synth.sources import SOURCES, Source, export_order
from casebridge.synth.truth import age_only_adults, calendar_age, review_targets
from casebridge.synth.world import EventLog

Progress = Callable[[str], None]
MAX_PEOPLE = 20_000_000
STEPS = ("people", "events", "records", "truth", "extracts")


@dataclass(frozen=True)
class Summary:
    """What a run wrote: counts per source and of the truth."""

    people: int
    person_records: int
    rows: dict[str, int]
    networks: int
    review_targets: int
    quarantine_rows: int
    set_aside_values: int


def _staging_folder(out: Path) -> Path:
    """A new folder beside ``out`` to write into; ``out`` only appears once all is written."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()):
        raise OutputError(f"{out} is not empty; choose an empty or new folder for --out")
    staging = out.parent / f".{out.name}.partial"
    try:
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "truth").mkdir(parents=True)
        (staging / "extracts").mkdir()
    except OSError as exc:
        raise OutputError(f"cannot create {out}: {exc.strerror}; choose a writable --out") from exc
    return staging


def _rows_with_facts(
    rng: np.random.Generator,
    profile: Profile,
    people: People,
    events: pl.DataFrame,
    rows: pl.DataFrame,
    records: pl.DataFrame,
) -> pl.DataFrame:
    """Join each involvement to its event, its record's recorded values and its true age."""
    noise = profile.noise
    flag_rate = np.where(
        events["is_cse"].to_numpy(), noise.cse_flag_when_cse, noise.cse_flag_when_not
    )
    events = events.with_columns(cse_flag=pl.Series(rng.random(events.height) < flag_rate))
    rows = (
        rows.join(events.drop("source", "date", "event_ref"), on="event")
        .join(
            records.drop("source", "person", "local_id", "first_date", "role", "is_suspect"),
            on="record",
        )
        .sort(["event", "person", "role"])  # joins may reorder; what follows draws per row
    )
    size = rows.height
    rows = rows.with_columns(
        true_dob=pl.Series(people.dob[rows["person"].to_numpy()].astype(np.int32))
    ).with_columns(age=calendar_age(pl.col("date"), pl.col("true_dob")))
    # what a reporter knows: a suspect's age give or take two years, a child's give or take one
    # (now and then not given), and only sometimes a suspect's birth date
    child_age = pl.col("age") + pl.Series(rng.choice([-1, 0, 0, 0, 1], size=size))
    person = rows["person"].to_numpy()
    return rows.with_columns(
        true_phone=pl.Series(people.phone[person], dtype=pl.String),
        work_email=pl.Series(_work_emails(people, rows), dtype=pl.String),
        approx_age=(pl.col("age") + pl.Series(rng.integers(-2, 3, size=size))).cast(pl.Int32),
        child_age=pl.when(pl.Series(rng.random(size) < 0.15)).then(None).otherwise(child_age),
        dob_known=pl.Series(rng.random(size) < 0.1),
    )


WORKPLACES = {
    "teacher": "school",
    "school nurse": "nhs",
    "GP": "nhs",
    "youth worker": "youthservice",
    "sports coach": "club",
    "foster carer": "fostering",
}


def _work_emails(people: People, rows: pl.DataFrame) -> np.ndarray:
    """A professional's work address, for duty reports' reporters (empty for everyone else)."""
    emails = np.full(rows.height, "", dtype=object)
    reporters = np.flatnonzero((rows["role"] == "reporter").to_numpy())
    person, details = rows["person"].to_numpy(), rows["detail"].to_numpy()
    for row in reporters.tolist():
        index, role = int(person[row]), str(details[row]).split("|")[0]
        name = f"{people.forename[index]}.{people.surname[index]}".lower().replace(" ", "")
        plain = unicodedata.normalize("NFKD", name.translate(SPECIAL_FOLDS))
        ascii_name = "".join(c for c in plain if c.isascii() and (c.isalnum() or c == "."))
        emails[row] = f"{ascii_name}@{WORKPLACES.get(role, 'service')}.example"
    return emails


def _write_source(
    rng: np.random.Generator, profile: Profile, source: Source, rows: pl.DataFrame, folder: Path
) -> tuple[int, list[Planted]]:
    """Render, damage and write one extract; return its row count and the malformed rows."""
    ordered = export_order(rows)
    table = source.render(ordered, rng, profile.wording)
    if source.key == "dtr":  # one line a report
        ordered = ordered.group_by("event_ref", maintain_order=True).first()
    background = ordered["scenario"].to_numpy() == "background"
    birth_years = ordered.select(pl.col("dob").cast(pl.Date).dt.year())["dob"].to_numpy()
    table, set_aside = plant_bad_values(
        rng, source, table, background, birth_years, profile.malformed.bad_value
    )
    unbroken = background.copy()
    unbroken[[planted.row_number - 1 for planted in set_aside]] = False
    table, breaks, quarantined = plant_broken_rows(
        rng, source, table, unbroken, profile.malformed.broken_row
    )
    _serialise(table, source, breaks, folder / source.file_name)
    return table.height, quarantined + set_aside


def _fold_unencodable(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a letter the encoding lacks is written as its plain Latin letter,
    as systems that cannot store 'Ł' store 'L'."""
    assert isinstance(error, UnicodeEncodeError)
    text = error.object[error.start : error.end]
    folded = unicodedata.normalize("NFKD", text.translate(SPECIAL_FOLDS))
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return plain.encode("ascii", errors="replace").decode("ascii"), error.end


SPECIAL_FOLDS = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ø": "o"})
codecs.register_error("casebridge_fold", _fold_unencodable)


def _serialise(table: pl.DataFrame, source: Source, breaks: dict[int, str], path: Path) -> None:
    if source.file_format == "jsonl":
        text, separator, newline = table.write_ndjson(), "", "\n"
    else:
        separator = "\t" if source.file_format == "tsv" else ","
        newline = "\r\n" if source.encoding == "cp1252" else "\n"
        # an empty value is written as nothing at all, as agencies' exports do
        table = table.with_columns(pl.col(pl.String).replace("", None))
        text = table.write_csv(separator=separator, line_terminator=newline)
    lines = text.split(newline)
    break_lines(lines, breaks, separator)
    path.write_bytes(newline.join(lines).encode(source.encoding, errors="casebridge_fold"))


def _networks(plan: Plan, people: People) -> tuple[pl.DataFrame, pl.DataFrame]:
    networks = pl.DataFrame(
        {
            "network_id": [f"N{n.network + 1:04d}" for n in plan.networks],
            "forces": [list(n.forces) for n in plan.networks],
            "start": [n.start for n in plan.networks],
            "end": [n.end for n in plan.networks],
            "suspects": [len(n.suspects) for n in plan.networks],
            "victims": [len(n.victims) for n in plan.networks],
            "charged": [n.charged for n in plan.networks],
        },
        schema_overrides={"start": pl.Int32, "end": pl.Int32},
    ).with_columns(pl.col("start", "end").cast(pl.Date))
    members = [
        (f"N{n.network + 1:04d}", str(people.person_id[p]), role)
        for n in plan.networks
        for role, group in (("suspect", n.suspects), ("victim", n.victims))
        for p in group.tolist()
    ]
    schema = {"network_id": pl.String, "person_id": pl.String, "role": pl.String}
    return networks, pl.DataFrame(members, schema=schema, orient="row")


def _people_truth(people: People, records: pl.DataFrame) -> pl.DataFrame:
    seen = np.unique(records["person"].to_numpy())
    return (
        pl.DataFrame(
            {
                "person_id": people.person_id[seen],
                "name_origin_group": people.group[seen],
                "sex": people.sex[seen],
                "date_of_birth": people.dob[seen],
                "ethnicity_18plus1": people.ethnicity[seen],
                "ic_code": people.ic_code[seen],
                "nationality": people.nationality[seen],
                "home_force": people.home_force[seen],
            },
            schema_overrides={"date_of_birth": pl.Int32},
        )
        .with_columns(pl.col("date_of_birth").cast(pl.Date))
        .sort("person_id")
    )


def generate(
    people_count: int, seed: int, profile: Profile, out: Path, progress: Progress | None = None
) -> Summary:
    """Write extracts and truth for ``people_count`` people into the empty folder ``out``."""
    if people_count < MIN_PEOPLE:
        raise UsageError(f"--people must be at least {MIN_PEOPLE}, got {people_count}")
    if people_count > MAX_PEOPLE:
        raise UsageError(
            f"--people must be at most {MAX_PEOPLE:,} on one machine, got {people_count:,}"
        )
    if seed < 0:
        raise UsageError(f"--seed must be zero or more, got {seed}")
    staging = _staging_folder(out)
    try:
        summary = _generate_into(staging, people_count, seed, profile, progress)
        out.mkdir(parents=True, exist_ok=True)
        for entry in sorted(staging.iterdir()):
            entry.rename(out / entry.name)
        staging.rmdir()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary


def _generate_into(
    out: Path, people_count: int, seed: int, profile: Profile, progress: Progress | None
) -> Summary:
    step = progress or (lambda name: None)
    rng = np.random.default_rng(seed)
    plan = plan_world(rng, profile, people_count)
    people = draw_people(rng, profile, plan.share_male, plan.dob, plan.home_force)
    step("people")
    log = EventLog()
    generate_scenario_events(rng, profile, people, plan, log)
    generate_background(rng, profile, people, plan, log)
    events, involvements = log.frames()
    events = reference_events(events)
    step("events")
    records, rows = build_records(rng, profile, people, events, involvements, plan.birth_year_only)
    rows = _rows_with_facts(rng, profile, people, events, rows, records)
    step("records")
    targets = review_targets(rows)
    networks, members = _networks(plan, people)
    truth = out / "truth"
    records.select("source", "local_id", "person_id").sort("source", "local_id").write_parquet(
        truth / "record_person.parquet"
    )
    _people_truth(people, records).write_parquet(truth / "person.parquet")
    networks.write_parquet(truth / "network.parquet")
    members.write_parquet(truth / "network_member.parquet")
    targets.write_parquet(truth / "review_target.parquet")
    age_only_adults(rows).write_parquet(truth / "age_only_adult.parquet")
    step("truth")
    planted: list[Planted] = []
    written: dict[str, int] = {}
    for source in SOURCES:
        written[source.key], malformed_rows = _write_source(
            rng, profile, source, rows.filter(pl.col("source") == source.key), out / "extracts"
        )
        planted += malformed_rows
    schema = {
        name: pl.Int64 if name == "row_number" else pl.String
        for name in Planted.__dataclass_fields__
    }
    malformed = pl.DataFrame([asdict(p) for p in planted], schema=schema)
    malformed.write_parquet(truth / "malformed_row.parquet")
    step("extracts")
    summary = Summary(
        people=int(records["person"].n_unique()),
        person_records=records.height,
        rows=written,
        networks=networks.height,
        review_targets=targets.height,
        quarantine_rows=int((malformed["handling"] == "quarantine").sum()),
        set_aside_values=int((malformed["handling"] == "set_aside").sum()),
    )
    _write_workspace(out, profile, written)
    _write_manifest(out, seed, profile, people_count, summary)
    return summary


MAPPINGS = Path(__file__).parent / "mappings"


def _write_workspace(out: Path, profile: Profile, written: dict[str, int]) -> None:
    """Make ``out`` a ready workspace: casebridge.toml and one mapping file per source. A
    source that got no rows (a small run can plant no duty reports) is left out of the
    settings, as an agency with nothing to send would be: ingest refuses an empty file."""
    (out / "mappings").mkdir()
    lines = [
        "# A casebridge workspace over synthetic extracts. Settings: docs/workspace.md.",
        f'name = "synthetic ({profile.name} profile)"',
        'database = "casebridge.duckdb"',
        "",
    ]
    for source in SOURCES:
        mapping = f"mappings/{source.key}.yaml"
        (out / mapping).write_bytes((MAPPINGS / f"{source.key}.yaml").read_bytes())
        if not written[source.key]:
            lines += [f"# {source.key}: no rows at this size, so not listed", ""]
            continue
        lines += [
            "[[sources]]",
            f'key = "{source.key}"',
            f'agency = "{source.agency}"',
            f'kind = "{source.kind}"',
            f'path = "extracts/{source.file_name}"',
            f'mapping = "{mapping}"',
            f"extracted_at = {profile.extracted_at.isoformat()}",
            "",
        ]
    (out / "casebridge.toml").write_text("\n".join(lines), encoding="utf-8")


def _write_manifest(out: Path, seed: int, profile: Profile, people: int, summary: Summary) -> None:
    files = sorted(p for p in out.rglob("*") if p.is_file())
    manifest = {
        "generator": "casebridge synth",
        "seed": seed,
        "people_requested": people,
        "profile": profile.model_dump(mode="json"),
        "sources": [
            {
                "key": s.key,
                "agency": s.agency,
                "kind": s.kind,
                "file": f"extracts/{s.file_name}",
                "format": s.file_format,
                "encoding": s.encoding,
                "local_id": s.local_id_field,
            }
            for s in SOURCES
        ],
        "summary": asdict(summary),
        "sha256": {
            str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
