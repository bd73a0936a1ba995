"""Same seed, same bytes: even in another process with another string-hash seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from casebridge.synth.generate import generate
from casebridge.synth.profile import load_profile


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_the_same_bytes_across_processes(tmp_path: Path) -> None:
    generate(3_000, 5, load_profile("default"), tmp_path / "here")
    env = os.environ | {"PYTHONHASHSEED": "12345"}
    command = "from casebridge.cli import app; app()"
    subprocess.run(
        [
            sys.executable,
            "-c",
            command,
            "synth",
            "--people",
            "3000",
            "--seed",
            "5",
            "--out",
            str(tmp_path / "there"),
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    here, there = _files(tmp_path / "here"), _files(tmp_path / "there")
    assert sorted(here) == sorted(there)
    differing = [name for name in here if here[name] != there[name]]
    assert differing == []


def test_another_seed_gives_other_extracts(tmp_path: Path) -> None:
    generate(3_000, 5, load_profile("default"), tmp_path / "a")
    generate(3_000, 6, load_profile("default"), tmp_path / "b")
    name = "extracts/northshire_police_crimes.csv"
    assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()
