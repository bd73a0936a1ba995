"""The bar: someone with the database edits, deletes, inserts and reorders trail entries with
raw SQL, cuts off its end, or replaces the whole log with a re-hashed forgery, and
``casebridge trail verify`` (driven through typer's CliRunner) reports each; a checkpoint
exported before a legitimate append still verifies as a prefix after it."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from casebridge.cli import app
from casebridge.web.checkpoints import KEY_VARIABLE, install
from casebridge.web.config import DATABASE_URL_VARIABLE, ServiceSettings
from casebridge.web.db import make_engine, migrate, session_factory, transaction
from casebridge.web.deps import Principal
from casebridge.web.trail import entry_digest, record
from casebridge.web.trail_verify import StoredEntry, read_entries

runner = CliRunner()
WIDE = {"COLUMNS": "400"}
REVIEWER = Principal(
    account_id=3, username="a.lindqvist", role="reviewer", scopes=frozenset({"Eastmoor Council"})
)
ENTRIES = 30  # checkpoints are signed at 10, 20 and 30 entries


@dataclasses.dataclass
class Trail:
    """A service database with a trail of 30 entries, and the workspace the CLI is given."""

    workspace: Path
    engine: Engine
    sessions: sessionmaker[Session]

    def append(self, count: int, start: int = 0) -> None:
        for number in range(start, start + count):
            with transaction(self.sessions) as session:
                record(session, REVIEWER, "person.read", "person", [f"person:{number}"])

    def execute(self, statement: str, **values: object) -> None:
        with self.engine.begin() as connection:
            connection.execute(text(statement), values)

    def entries(self) -> list[StoredEntry]:
        with self.sessions() as session:
            return read_entries(session)

    def write(self, entry: StoredEntry) -> None:
        """Store an entry as it is (a forger's INSERT)."""
        fields = dataclasses.asdict(entry)
        names = ", ".join(fields)
        self.execute(
            f"INSERT INTO trail_entry ({names}) VALUES ({', '.join(':' + n for n in fields)})",
            **fields,
        )

    def verify(self, *arguments: str) -> tuple[int, str]:
        result = runner.invoke(
            app, ["trail", "verify", "-w", str(self.workspace), *arguments], env=WIDE
        )
        return result.exit_code, result.stdout


@pytest.fixture
def trail(service_settings: ServiceSettings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Trail]:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    monkeypatch.setenv(DATABASE_URL_VARIABLE, service_settings.database_url)
    engine = make_engine(service_settings.database_url)
    migrate(engine)
    sessions = session_factory(engine)
    install(sessions, service_settings.model_copy(update={"checkpoint_every": 10}))
    built = Trail(service_settings.workspace, engine, sessions)
    built.append(ENTRIES)
    yield built
    engine.dispose()


def _failures(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("FAIL")]


def _forged(entry: StoredEntry, **changes: object) -> StoredEntry:
    """``entry`` changed and re-hashed, as a forger who knows the algorithm would."""
    changed = dataclasses.replace(entry, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(changed, entry_hash=entry_digest(changed))


def test_an_untouched_trail_verifies(trail: Trail) -> None:
    code, output = trail.verify()
    assert code == 0, output
    assert "ok chain: 30 entries" in output
    assert "ok checkpoints: 3 stored" in output
    assert _failures(output) == []


def test_a_checkpoint_from_before_an_append_verifies_as_a_prefix(
    trail: Trail, tmp_path: Path
) -> None:
    kept = tmp_path / "kept-elsewhere.checkpoint"
    result = runner.invoke(
        app, ["trail", "checkpoint", "-w", str(trail.workspace), "--out", str(kept)]
    )
    assert result.exit_code == 0, result.output
    assert kept.read_text().splitlines()[1] == "30"
    public = tmp_path / "trail.pub.pem"
    result = runner.invoke(
        app, ["trail", "public-key", "-w", str(trail.workspace), "--out", str(public)]
    )
    assert result.exit_code == 0
    trail.append(7, start=100)  # a legitimate append
    code, output = trail.verify("--checkpoint", str(kept), "--public-key", str(public))
    assert code == 0, output
    assert f"ok prefix: checkpoint {kept} (size 30)" in output


def test_an_edited_entry_is_reported(trail: Trail) -> None:
    trail.execute("UPDATE trail_entry SET account_id = 99 WHERE seq = 4")
    code, output = trail.verify()
    assert code == 1
    assert _failures(output) == [
        "FAIL edited: entry 4: its contents were changed after it was written: they no longer "
        "match its hash"
    ]


def test_an_entry_edited_and_rehashed_is_reported(trail: Trail) -> None:
    entry = trail.entries()[12]
    forged = _forged(entry, subject_ids='["person:999"]')
    trail.execute(
        "UPDATE trail_entry SET subject_ids = :ids, entry_hash = :hash WHERE seq = 12",
        ids=forged.subject_ids,
        hash=forged.entry_hash,
    )
    code, output = trail.verify()
    assert code == 1
    failures = _failures(output)
    assert any(line.startswith("FAIL replaced: entry 12:") for line in failures)
    # the two checkpoints that covered it no longer match the log
    assert "FAIL not a prefix: checkpoints 2-3 (sizes 20-30): none of these 2" in output


def test_a_deleted_entry_is_reported(trail: Trail) -> None:
    trail.execute("DELETE FROM trail_entry WHERE seq = 7")
    code, output = trail.verify()
    assert code == 1
    failures = _failures(output)
    assert failures[0] == "FAIL deleted: entry 7: missing from the numbering: deleted"
    assert "FAIL deleted: head (size 30): the service appended 30 entries; the log holds 29" in (
        failures
    )


def test_an_inserted_entry_is_reported(trail: Trail) -> None:
    entries = trail.entries()
    # make room at 12, then put in an entry that chains properly onto entry 11
    trail.execute("UPDATE trail_entry SET seq = seq + 1000 WHERE seq >= 12")
    trail.execute("UPDATE trail_entry SET seq = seq - 999 WHERE seq >= 1000")
    trail.write(_forged(entries[12], seq=12, account_id=5, prev_hash=entries[11].entry_hash))
    code, output = trail.verify()
    assert code == 1
    failures = _failures(output)
    assert failures[0] == (
        "FAIL inserted: entry 12: put in later: entry 13 was written straight after entry 11"
    )
    assert failures[1] == (
        "FAIL reordered: entries 13-30: they were written as entries 12-29: the trail was "
        "renumbered (entries before them were inserted)"
    )


def test_an_entry_added_at_the_end_outside_the_service_is_reported(trail: Trail) -> None:
    last = trail.entries()[-1]
    trail.write(_forged(last, seq=30, prev_hash=last.entry_hash, action="person.read"))
    code, output = trail.verify()
    assert code == 1
    assert _failures(output) == [
        "FAIL inserted: entries after 29: 1 more than the service appended: added outside it"
    ]


def test_swapped_contents_are_reported(trail: Trail) -> None:
    trail.execute("UPDATE trail_entry SET subject_ids = '[\"person:8\"]' WHERE seq = 3")
    trail.execute("UPDATE trail_entry SET subject_ids = '[\"person:3\"]' WHERE seq = 8")
    # the two entries differ only in their subject and their time: swap the times too
    entries = trail.entries()
    for seq, other in ((3, 8), (8, 3)):
        trail.execute(
            "UPDATE trail_entry SET at = :at WHERE seq = :seq", at=entries[other].at, seq=seq
        )
    code, output = trail.verify()
    assert code == 1
    assert _failures(output) == [
        "FAIL reordered: entry 3: it holds what was written as entry 8: the trail was reordered",
        "FAIL reordered: entry 8: it holds what was written as entry 3: the trail was reordered",
    ]


def test_swapped_entries_are_reported(trail: Trail) -> None:
    trail.execute("UPDATE trail_entry SET seq = -1 WHERE seq = 5")
    trail.execute("UPDATE trail_entry SET seq = 5 WHERE seq = 6")
    trail.execute("UPDATE trail_entry SET seq = 6 WHERE seq = -1")
    code, output = trail.verify()
    assert code == 1
    failures = _failures(output)
    assert failures[:2] == [
        "FAIL reordered: entry 5: it holds what was written as entry 6: the trail was reordered",
        "FAIL reordered: entry 6: it holds what was written as entry 5: the trail was reordered",
    ]
    # the Merkle tree's leaves are out of order too: the head and the checkpoints disagree
    assert [line.split(":")[0] for line in failures[2:]] == ["FAIL replaced", "FAIL not a prefix"]
    assert "checkpoints 1-3 (sizes 10-30)" in failures[3]


def test_each_of_several_problems_is_reported(trail: Trail) -> None:
    trail.execute("UPDATE trail_entry SET reason = 'nothing to see' WHERE seq = 2")
    trail.execute("DELETE FROM trail_entry WHERE seq = 9")
    trail.execute("UPDATE trail_entry SET seq = -1 WHERE seq = 15")
    trail.execute("UPDATE trail_entry SET seq = 15 WHERE seq = 17")
    trail.execute("UPDATE trail_entry SET seq = 17 WHERE seq = -1")
    code, output = trail.verify()
    assert code == 1
    problems = {line.split(":")[0] for line in _failures(output)}
    assert {"FAIL edited", "FAIL deleted", "FAIL reordered", "FAIL not a prefix"} <= problems
    assert "FAIL edited: entry 2:" in output
    assert "FAIL deleted: entry 9:" in output
    assert "FAIL reordered: entry 15: it holds what was written as entry 17" in output
    assert "FAIL reordered: entry 17: it holds what was written as entry 15" in output


def test_deleting_the_last_entries_is_caught_by_the_checkpoint(trail: Trail) -> None:
    trail.execute("DELETE FROM trail_entry WHERE seq >= 25")
    # a careful forger also winds the head back
    trail.execute("UPDATE trail_head SET size = NULL")
    code, output = trail.verify()
    assert code == 1
    assert _failures(output) == [
        "FAIL truncated: checkpoint 3 (size 30): it covers 30 entries but the log holds 25: "
        "entries 25-29 at the end were deleted"
    ]


def test_a_rehashed_forgery_of_the_whole_log_is_caught_by_the_signatures(
    trail: Trail, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.checkpoint"
    runner.invoke(app, ["trail", "checkpoint", "-w", str(trail.workspace), "--out", str(kept)])
    # the forger rewrites every entry and rebuilds the head: a chain that holds on its own
    trail.execute("DELETE FROM trail_entry")
    trail.execute("UPDATE trail_head SET size = NULL")
    forger = session_factory(trail.engine)  # no signing key: no checkpoints of its own
    for number in range(ENTRIES):
        with transaction(forger) as session:
            record(session, REVIEWER, "person.read", "person", [f"person:{number + 500}"])
    code, output = trail.verify("--checkpoint", str(kept))
    assert code == 1
    failures = _failures(output)
    assert not any("chain" in line or "edited" in line for line in failures)
    assert failures[0].startswith(
        "FAIL not a prefix: checkpoints 1-4 (sizes 10-30): none of these 4 is a prefix of "
        "today's log (no consistency proof holds): its first 10 entries already differ"
    )
    assert failures[1].startswith(f"FAIL not a prefix: checkpoint {kept} (size 30)")
    # without the stored checkpoints, the one kept elsewhere still catches it
    trail.execute("DELETE FROM trail_checkpoint")
    code, output = trail.verify("--checkpoint", str(kept))
    assert code == 1
    assert _failures(output) == [
        f"FAIL not a prefix: checkpoint {kept} (size {ENTRIES + 0}): the log's first 30 entries "
        "are not the ones it signed (no consistency proof holds): entries up to it were changed, "
        "deleted, inserted or reordered"
    ]


def test_a_checkpoint_signed_with_another_key_is_refused(trail: Trail, tmp_path: Path) -> None:
    row = {"size": 30, "root": "00" * 32, "key": "ab" * 32, "sig": "A" * 86 + "=="}
    trail.execute(
        "INSERT INTO trail_checkpoint (tree_size, root_hash, at, key_id, signature) "
        "VALUES (:size, :root, CURRENT_TIMESTAMP, :key, :sig)",
        **row,
    )
    code, output = trail.verify()
    assert code == 1
    failures = _failures(output)
    assert failures[0].startswith("FAIL signature: checkpoint 4 (size 30): signed by key abab")


def test_verify_prints_csv_and_json(trail: Trail) -> None:
    trail.execute("UPDATE trail_entry SET action = 'person.write' WHERE seq = 1")
    code, output = trail.verify("--format", "json")
    assert code == 1
    findings = json.loads(output)["trail_verify"]
    assert {"verdict": "FAIL", "problem": "edited", "where": "entry 1"}.items() <= findings[
        0
    ].items()
    code, output = trail.verify("--format", "csv")
    name, *rest = output.splitlines()
    assert name == "# trail_verify"
    rows = list(csv.DictReader(io.StringIO("\n".join(rest))))
    assert rows[0]["verdict"] == "FAIL" and rows[0]["where"] == "entry 1"


def test_export_gives_every_entry_as_stored(trail: Trail) -> None:
    result = runner.invoke(app, ["trail", "export", "-w", str(trail.workspace), "--format", "json"])
    assert result.exit_code == 0, result.output
    exported = json.loads(result.stdout)["trail"]
    stored = trail.entries()
    assert [row["entry_hash"] for row in exported] == [entry.entry_hash for entry in stored]
    assert exported[0]["at"].endswith("Z") and exported[0]["subject_ids"] == '["person:0"]'
    result = runner.invoke(app, ["trail", "export", "-w", str(trail.workspace)])
    assert result.stdout.splitlines()[:2] == [
        "# trail",
        "seq,at,account_id,action,subject_kind,subject_ids,reason,remote_addr,flagged,"
        "prev_hash,entry_hash",
    ]


def test_export_as_csv_neutralises_reasons_that_start_as_formulas(trail: Trail) -> None:
    formulas = ['=HYPERLINK("http://example.invalid")', "+1-1", "-2+3", "@SUM(A1:A9)", "\tx"]
    with transaction(trail.sessions) as session:
        for reason in formulas:
            record(session, REVIEWER, "person.read", "person", ["person:0"], reason=reason)
    result = runner.invoke(app, ["trail", "export", "-w", str(trail.workspace), "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout.split("\n", 1)[1], newline="")))
    assert [row["reason"] for row in rows[-len(formulas) :]] == ["'" + f for f in formulas]
    assert rows[0]["seq"] == "0" and rows[0]["flagged"] == "False"
    result = runner.invoke(app, ["trail", "export", "-w", str(trail.workspace), "--format", "json"])
    reasons = [row["reason"] for row in json.loads(result.stdout)["trail"]]
    assert reasons[-len(formulas) :] == formulas  # JSON: as stored


def test_a_workspace_without_a_service_database_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATABASE_URL_VARIABLE, raising=False)
    result = runner.invoke(app, ["trail", "verify", "-w", str(tmp_path)])
    assert result.exit_code == 2
    assert "no service database" in result.output
    assert not (tmp_path / "service.sqlite").exists()
