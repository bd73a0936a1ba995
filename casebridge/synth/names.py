"""Name pools per name-origin group, drawn in bulk, and the ways a recorded name goes wrong.

Pools are data (``synth/data/names/<group>.csv``). Spelling variants and nicknames come from the
generator's own lists (``synth/data/wording/name_variants.csv`` and ``nicknames.csv``, sources
named in each), never from the pipeline's, plus rule-made variants (doubled or dropped letters,
vowel changes), so that the noise is never limited to what the pipeline's lists already know.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from casebridge.errors import DataFileError
from casebridge.standard.datafiles import read_rows

NAME_DIR = Path(__file__).parent / "data" / "names"
WORDING_DIR = Path(__file__).parent / "data" / "wording"
# the share of respellings taken from the generator's own list where it knows the name
FROM_LIST = 0.8
KINDS = ("forename_f", "forename_m", "surname")
_KEYBOARD_NEIGHBOURS = {
    "a": "sqz",
    "b": "vn",
    "c": "xv",
    "d": "sf",
    "e": "wr",
    "f": "dg",
    "g": "fh",
    "h": "gj",
    "i": "uo",
    "j": "hk",
    "k": "jl",
    "l": "k",
    "m": "n",
    "n": "bm",
    "o": "ip",
    "p": "o",
    "q": "w",
    "r": "et",
    "s": "ad",
    "t": "ry",
    "u": "yi",
    "v": "cb",
    "w": "qe",
    "x": "zc",
    "y": "tu",
    "z": "x",
}
_VOWEL_SWAPS = (("ee", "i"), ("oo", "u"), ("ou", "u"), ("ai", "ay"), ("ph", "f"), ("y", "i"))


@dataclass(frozen=True)
class Pool:
    """One kind of name in one group, with the probability of each."""

    names: np.ndarray
    probabilities: np.ndarray

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Return ``size`` names drawn with replacement by weight."""
        return self.names[rng.choice(len(self.names), size=size, p=self.probabilities)]


@cache
def load_pools(group: str, kinds: tuple[str, ...] = KINDS) -> dict[str, Pool]:
    """Return the pools of one name-origin group: forenames and surnames, or ``kinds``."""
    path = NAME_DIR / f"{group}.csv"
    if not path.is_file():
        raise DataFileError(f"no name pool for group {group!r} (expected {path})")
    rows = read_rows(path, ("kind", "name", "weight"))
    pools = {}
    for kind in kinds:
        names = [row["name"] for row in rows if row["kind"] == kind]
        weights = np.array([float(row["weight"]) for row in rows if row["kind"] == kind])
        if not names:
            raise DataFileError(f"{path}: no names of kind {kind!r}")
        pools[kind] = Pool(np.array(names, dtype=object), weights / weights.sum())
    return pools


@cache
def spelling_variants() -> dict[str, tuple[str, ...]]:
    """Return, for each lower-case name, the other spellings of it (as written) in the generator's
    own list; a name in several rows has the spellings of all of them."""
    variants: dict[str, list[str]] = {}
    for row in read_rows(WORDING_DIR / "name_variants.csv", ("origin", "spellings")):
        spellings = list(dict.fromkeys(part.strip() for part in row["spellings"].split("|")))
        for name in spellings:
            others = (other for other in spellings if other.lower() != name.lower())
            variants.setdefault(name.lower(), []).extend(others)
    return {name: tuple(dict.fromkeys(others)) for name, others in variants.items()}


@cache
def nicknames() -> dict[str, tuple[str, ...]]:
    """Return, for each lower-case formal name, its diminutives in the generator's own list."""
    table: dict[str, list[str]] = {}
    for row in read_rows(WORDING_DIR / "nicknames.csv", ("formal", "nickname", "language")):
        table.setdefault(row["formal"].lower(), []).append(row["nickname"])
    return {formal: tuple(dict.fromkeys(names)) for formal, names in table.items()}


def _as_written(template: str, word: str) -> str:
    """Return ``word`` in capitals if ``template`` is, else as the list writes it."""
    return word.upper() if template.isupper() else word


def _match_case(template: str, word: str) -> str:
    if template.isupper():
        return word.upper()
    return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))


def respell(name: str, rng: np.random.Generator, from_list: float = FROM_LIST) -> str:
    """Return another spelling of ``name``: from the generator's own list when it knows the name
    (with chance ``from_list``), else by rule."""
    known = spelling_variants().get(name.lower())
    if known and rng.random() < from_list:
        return _as_written(name, known[rng.integers(len(known))])
    lower = name.lower()
    for old, new in _VOWEL_SWAPS:
        if old in lower and rng.random() < 0.5:
            return _match_case(name, lower.replace(old, new, 1))
    position = int(rng.integers(1, max(len(lower), 2)))
    if rng.random() < 0.5 and position < len(lower):
        return _match_case(name, lower[:position] + lower[position] + lower[position:])
    return _match_case(name, lower[:position] + lower[position + 1 :]) if len(lower) > 3 else name


def nickname_for(name: str, rng: np.random.Generator) -> str:
    """Return a diminutive of ``name`` if one is known, else the name itself."""
    known = nicknames().get(name.lower())
    return _as_written(name, known[rng.integers(len(known))]) if known else name


def typo(name: str, rng: np.random.Generator) -> str:
    """Return ``name`` with one keying error: a neighbouring key, a drop, a swap or a double."""
    if len(name) < 3:
        return name
    chars = list(name)
    i = int(rng.integers(1, len(chars) - 1))
    kind = int(rng.integers(4))
    if kind == 0:
        near = _KEYBOARD_NEIGHBOURS.get(chars[i].lower())
        if near:
            replacement = near[rng.integers(len(near))]
            chars[i] = replacement.upper() if chars[i].isupper() else replacement
    elif kind == 1:
        del chars[i]
    elif kind == 2:
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    else:
        chars.insert(i, chars[i])
    return "".join(chars)
