"""The generator keeps its own knowledge: it never reads the pipeline's variant, nickname or
wording lists, and it writes values those lists lack at the profile's rates.

These tests may read the pipeline's lists (they are tests, not the generator), to measure how
much of what the generator writes the pipeline could not have known.
"""

from __future__ import annotations

import builtins
import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import casebridge.synth.vocab
from casebridge.standard.datafiles import STANDARD_DATA, read_standard
from casebridge.synth.generate import generate
from casebridge.synth.names import load_pools, nickname_for, respell, spelling_variants
from casebridge.synth.people import load_yaml
from casebridge.synth.profile import Profile, load_profile
from casebridge.synth.vocab import (
    dfe_code_for,
    ethnicity_wordings,
    nationality_wordings,
    styles_of,
)
from tests.synth.extracts import read_source

# the pipeline's lists of words, phrases, spellings and diminutives: knowledge, not code lists
PIPELINE_WORDINGS = frozenset(
    {
        "name_variants",
        "nicknames",
        "ethnicity_words",
        "ethnicity_ambiguous",
        "ethnicity_broad",
        "nationality_words",
        "nationality_ambiguous",
        "dfe_ethnicity",
        "countries",
    }
)
SYNTH_ROOT = Path(casebridge.synth.vocab.__file__).parent


class ReadForbidden(AssertionError):
    """The generator opened one of the pipeline's wording lists."""


def _guard(path: object) -> None:
    resolved = Path(str(path)).resolve()
    if resolved.parent == STANDARD_DATA.resolve() and resolved.stem in PIPELINE_WORDINGS:
        raise ReadForbidden(f"the generator read the pipeline's {resolved.name}")


def _clear_caches() -> None:
    """Forget every cached read, so that a read made earlier in the session is made again."""
    for name, module in list(sys.modules.items()):
        if name.startswith(("casebridge.synth", "casebridge.standard")):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every way of opening a file refuses the pipeline's wording lists while the test runs."""
    real_open, real_read_text = builtins.open, Path.read_text
    real_read_bytes, real_path_open = Path.read_bytes, Path.open

    def opened(file: Any, *args: Any, **kwargs: Any) -> Any:
        _guard(file)
        return real_open(file, *args, **kwargs)

    def read_text(self: Path, *args: Any, **kwargs: Any) -> str:
        _guard(self)
        return real_read_text(self, *args, **kwargs)

    def read_bytes(self: Path) -> bytes:
        _guard(self)
        return real_read_bytes(self)

    def path_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        _guard(self)
        return real_path_open(self, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", opened)
    monkeypatch.setattr(io, "open", opened)
    monkeypatch.setattr(Path, "read_text", read_text)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setattr(Path, "open", path_open)
    _clear_caches()
    yield
    _clear_caches()


def test_the_guard_catches_a_read_of_a_pipeline_list(guarded: None) -> None:
    with pytest.raises(ReadForbidden, match="nicknames"):
        read_standard("nicknames", ("formal", "nickname"))


def test_generating_reads_none_of_the_pipelines_wording_lists(
    guarded: None, tmp_path: Path
) -> None:
    for profile in ("default", "messy"):
        summary = generate(400, 3, load_profile(profile), tmp_path / profile)
        assert summary.person_records > 0


FORBIDDEN_CALL = re.compile(r"read_standard\(\s*[\"'](?!offences[\"'])")
FORBIDDEN_PATH = re.compile(r"STANDARD_DATA|standard/data|standard\" */ *\"data")


@pytest.mark.parametrize("path", sorted(SYNTH_ROOT.rglob("*.py")), ids=lambda p: p.name)
def test_no_generator_module_names_a_pipeline_list(path: Path) -> None:
    """Only the offence code list may be read from the standard (to know which codes exist)."""
    text = path.read_text(encoding="utf-8")
    assert not FORBIDDEN_CALL.search(text), path
    assert not FORBIDDEN_PATH.search(text), path
    for name in PIPELINE_WORDINGS:
        assert f'read_standard("{name}"' not in text, path


def test_the_static_check_would_catch_a_forbidden_read() -> None:
    assert FORBIDDEN_CALL.search('rows = read_standard(\n    "nicknames", ("formal",))')
    assert not FORBIDDEN_CALL.search('read_standard("offences", OFFENCE_COLUMNS)')


# --- the generator's own data: valid codes, every style written for every code it draws -------


def _true_codes(field: str) -> set[str]:
    return {code for group in load_yaml("groups.yaml").values() for code in group[field]}


def test_every_ethnicity_wording_carries_a_valid_18plus1_code_or_group() -> None:
    codes = {row["code"] for row in read_standard("ethnicity_18plus1", ("code", "label", "group"))}
    groups = {code[0] for code in codes if code != "NS"}
    for code, style in ethnicity_wordings():
        assert code in (groups if style == "broad" else codes), (code, style)


def test_every_nationality_wording_carries_a_valid_iso3_code() -> None:
    columns = ("iso3", "iso2", "name", "demonym")
    valid = {row["iso3"] for row in read_standard("countries", columns)}
    assert {code for code, _ in nationality_wordings()} <= valid


def test_the_local_authority_writes_only_valid_dfe_codes_for_every_true_code() -> None:
    valid = {
        row["code"] for row in read_standard("dfe_ethnicity", ("code", "label", "code_18plus1"))
    }
    assert _true_codes("ethnicity") <= set(dfe_code_for())
    assert set(dfe_code_for().values()) <= valid


@pytest.mark.parametrize(
    ("field", "wordings", "exempt"),
    [
        ("ethnicity", ethnicity_wordings, set()),
        ("nationality", nationality_wordings, {("dual", "GBR")}),
    ],
)
def test_every_style_has_a_wording_for_every_code_the_generator_draws(
    field: str, wordings: Any, exempt: set[tuple[str, str]]
) -> None:
    table = wordings()
    for style in styles_of(table):
        for code in _true_codes(field):
            key = (code[0], style) if style == "broad" else (code, style)
            assert key in table or (style, code) in exempt, (code, style)


# --- rates of what the pipeline's lists lack ---------------------------------------------------


def _key(text: str) -> str:
    """The pipeline's lookup key for free text: trimmed, lower case, single-spaced."""
    return " ".join(text.lower().split())


def _pipeline_ethnicity_words() -> set[str]:
    phrases = {r["phrase"] for r in read_standard("ethnicity_words", ("phrase", "code_18plus1"))}
    phrases |= {r["phrase"] for r in read_standard("ethnicity_ambiguous", ("phrase", "reason"))}
    phrases |= {r["phrase"] for r in read_standard("ethnicity_broad", ("phrase", "group"))}
    phrases |= {r["code"] for r in read_standard("ethnicity_18plus1", ("code", "label", "group"))}
    return {_key(phrase) for phrase in phrases}


def _pipeline_nationality_words() -> set[str]:
    words = {r["word"] for r in read_standard("nationality_words", ("word", "iso3"))}
    words |= {r["word"] for r in read_standard("nationality_ambiguous", ("word", "reason"))}
    for row in read_standard("countries", ("iso3", "iso2", "name", "demonym")):
        words |= {row["iso3"], row["iso2"], row["name"], row["demonym"]}
    return {_key(word) for word in words if word}


def _unusual(wordings: dict[tuple[str, str], tuple[str, ...]]) -> set[str]:
    """Wordings of the 'unusual' style that no other style of the file also writes."""
    unusual = {_key(w) for (_, style), ws in wordings.items() if style == "unusual" for w in ws}
    others = {_key(w) for (_, style), ws in wordings.items() if style != "unusual" for w in ws}
    return unusual - others


def _profile(out: Path) -> Profile:
    return load_profile(json.loads((out / "manifest.json").read_text())["profile"]["name"])


def _written(out: Path, key: str, column: str) -> list[str]:
    return [row[column] for _, row in read_source(out, key) if row.get(column)]


def _shares(values: list[str], unusual: set[str], known: set[str]) -> tuple[float, float]:
    """(share written in the unusual style, share the pipeline's lists lack)."""
    keys = [_key(value) for value in values]
    in_unusual = sum(key in unusual for key in keys) / len(keys)
    unknown = sum(key not in known for key in keys) / len(keys)
    return in_unusual, unknown


def test_free_text_ethnicity_holds_what_the_pipeline_lacks_at_the_profiles_rate(
    synth_out: Path,
) -> None:
    rates = _profile(synth_out).wording.ethnicity_text
    values = _written(synth_out, "force_c", "ethnicity")
    unusual, unknown = _shares(values, _unusual(ethnicity_wordings()), _pipeline_ethnicity_words())
    assert len(values) > 2_000
    assert abs(unusual - rates["unusual"]) <= 0.02, (unusual, rates["unusual"])
    assert unknown >= 0.8 * rates["unusual"], unknown
    # the default profile keeps most values plainly written: a pipeline still reads most of them
    assert unknown <= 1 - rates["phrase"] * 0.5, unknown


@pytest.mark.parametrize(
    ("key", "column"), [("force_b", "NATIONALITY"), ("force_c", "nationality")]
)
def test_nationality_words_hold_what_the_pipeline_lacks_at_the_profiles_rate(
    synth_out: Path, key: str, column: str
) -> None:
    rates = _profile(synth_out).wording.nationality_words
    values = _written(synth_out, key, column)
    unusual, unknown = _shares(
        values, _unusual(nationality_wordings()), _pipeline_nationality_words()
    )
    assert len(values) > 2_000
    assert abs(unusual - rates["unusual"]) <= 0.02, (unusual, rates["unusual"])
    assert unknown >= 0.8 * rates["unusual"], unknown


# --- names: respellings and diminutives from the generator's own lists --------------------------


def _pool_draws(kind: str, size: int, seed: int) -> list[str]:
    """Names of one kind drawn from every group's pool by the default profile's mix."""
    rng = np.random.default_rng(seed)
    mix = load_profile("default").group_mix
    return [
        name
        for group, share in sorted(mix.items())
        for name in load_pools(group)[kind].draw(rng, max(1, round(size * share)))
    ]


def _pipeline_spellings() -> dict[str, set[str]]:
    """Each lower-case spelling to the canonical names the pipeline's variant list gives it."""
    canonical: dict[str, set[str]] = {}
    for row in read_standard("name_variants", ("canonical", "variant")):
        for name in (row["canonical"], row["variant"]):
            canonical.setdefault(name, set()).add(row["canonical"])
    return canonical


@pytest.mark.parametrize("kind", ["forename_m", "forename_f", "surname"])
def test_respellings_come_from_the_generators_list_and_mostly_escape_the_pipelines(
    kind: str,
) -> None:
    rng = np.random.default_rng(5)
    rate = load_profile("default").noise.names.variant_from_list
    canonical, own = _pipeline_spellings(), spelling_variants()
    pairs = [(name, respell(name, rng, rate)) for name in _pool_draws(kind, 4_000, 1)]
    changed = [(a.lower(), b.lower()) for a, b in pairs if a != b]
    from_own = sum(b in {s.lower() for s in own.get(a, ())} for a, b in changed) / len(changed)
    related = sum(bool(canonical.get(a, set()) & canonical.get(b, set())) for a, b in changed)
    assert from_own >= 0.15, from_own
    assert related / len(changed) <= 0.5, related / len(changed)


def test_some_diminutives_are_ones_the_pipelines_list_lacks() -> None:
    rng = np.random.default_rng(6)
    known = {
        (r["formal"], r["nickname"]) for r in read_standard("nicknames", ("formal", "nickname"))
    }
    names = _pool_draws("forename_m", 3_000, 2) + _pool_draws("forename_f", 3_000, 3)
    changed = [(n.lower(), s.lower()) for n in names if (s := nickname_for(n, rng)) != n]
    assert len(changed) >= 0.2 * len(names)
    lacking = sum(pair not in known for pair in changed) / len(changed)
    assert lacking >= 0.2, lacking


def test_the_docs_name_every_wording_style_and_its_default_share() -> None:
    docs = (SYNTH_ROOT.parents[1] / "docs" / "synth.md").read_text(encoding="utf-8")
    profile = load_profile("default")
    assert "`noise.names.variant_from_list`" in docs
    for field in ("ethnicity_text", "nationality_words"):
        assert f"`wording.{field}`" in docs
        for style, share in getattr(profile.wording, field).items():
            assert f"`{style}`" in docs, style
            assert f"{style} {share:.2f}" in docs, (style, share)
