"""How each kind of source writes codes down: ethnicity wordings, nationality words, DfE codes.

The generator keeps its own wordings (``synth/data/wording/``, sources named in each file) and
never reads the pipeline's lists of words and phrases: a generator that writes only what the
pipeline already knows cannot show what the pipeline misses. Every wording carries the true code
of the person it is written for, so the truth stays exact whatever a pipeline makes of it. The
profile's ``wording`` section says how often each style of wording is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import numpy as np

from casebridge.errors import DataFileError
from casebridge.standard.datafiles import read_rows

WORDING_DIR = Path(__file__).parent / "data" / "wording"
ETHNICITY_COLUMNS = ("wording", "code_18plus1", "style")
NATIONALITY_COLUMNS = ("wording", "iso3", "style")
# the style written where the chosen style has no wording for a code
ETHNICITY_FALLBACK, NATIONALITY_FALLBACK = "phrase", "demonym"
BROAD_STYLE = "broad"  # an ethnicity wording that names the group (its code's first letter)
Wordings = dict[tuple[str, str], tuple[str, ...]]


def _by_code_and_style(file_name: str, columns: tuple[str, str, str]) -> Wordings:
    """Return {(code, style): wordings} from one of the generator's wording files."""
    table: dict[tuple[str, str], list[str]] = {}
    for row in read_rows(WORDING_DIR / file_name, columns):
        wording, code, style = (row[column] for column in columns)
        if not (wording and code and style):
            raise DataFileError(f"{WORDING_DIR / file_name}: a row has an empty field")
        table.setdefault((code, style), []).append(wording)
    return {key: tuple(dict.fromkeys(words)) for key, words in table.items()}


@cache
def ethnicity_wordings() -> Wordings:
    """Return, per (true 18+1 code or broad group letter, style), the wordings written for it."""
    return _by_code_and_style("ethnicity_wordings.csv", ETHNICITY_COLUMNS)


@cache
def nationality_wordings() -> Wordings:
    """Return, per (true ISO 3166-1 alpha-3 code, style), the words written for it."""
    return _by_code_and_style("nationality_wordings.csv", NATIONALITY_COLUMNS)


def styles_of(wordings: Wordings) -> frozenset[str]:
    """Return the styles a wording table holds."""
    return frozenset(style for _, style in wordings)


@cache
def dfe_code_for() -> dict[str, str]:
    """Return, per true 18+1 code, the Department for Education code a social worker records."""
    rows = read_rows(WORDING_DIR / "dfe_codes.csv", ("code_18plus1", "code"))
    return {row["code_18plus1"]: row["code"] for row in rows}


def _cased(rng: np.random.Generator, texts: np.ndarray) -> np.ndarray:
    """Return the texts each in one of four casings people type: Title, UPPER, as is, First."""
    styles = rng.integers(4, size=len(texts))
    out = np.empty(len(texts), dtype=object)
    for index, (text, style) in enumerate(zip(texts, styles, strict=True)):
        out[index] = (text.title(), text.upper(), text, text.capitalize())[style]
    return out


def _words_for(
    rng: np.random.Generator,
    codes: np.ndarray,
    styles: Mapping[str, float],
    lookup: tuple[Wordings, str],
    group_style: str = "",
) -> np.ndarray:
    """Return one wording per code: a style drawn by its share, then a wording of that style.

    Wordings of ``group_style`` are looked up by the code's first letter (its broad group).
    Where the file holds no wording of the drawn style for a code, the fallback style is written;
    where it holds none of that either, the code itself.
    """
    wordings, fallback = lookup
    names = sorted(styles)
    shares = np.array([styles[name] for name in names], dtype=float)
    drawn = rng.choice(len(names), size=len(codes), p=shares / shares.sum())
    known, code_number = np.unique(codes.astype(str), return_inverse=True)
    combination = code_number * len(names) + drawn
    order = np.argsort(combination, kind="stable")
    bounds = np.searchsorted(combination[order], np.arange(len(known) * len(names) + 1))
    out = np.full(len(codes), "", dtype=object)
    for number, code in enumerate(known.tolist()):
        for offset, style in enumerate(names):
            first = number * len(names) + offset
            places = order[bounds[first] : bounds[first + 1]]
            if not code or not len(places):
                continue
            key = (code[0], style) if style == group_style else (code, style)
            options = np.array(
                wordings.get(key) or wordings.get((code, fallback)) or (code,), dtype=object
            )
            out[places] = options[rng.integers(len(options), size=len(places))]
    return out


def ethnicity_text(
    rng: np.random.Generator, codes: np.ndarray, styles: Mapping[str, float]
) -> np.ndarray:
    """Return free-text ethnicity for true 18+1 codes ('' stays ''), styles drawn by their shares.

    Example: with ``{"phrase": 1.0}`` an ``A2`` becomes e.g. ``Asian - Pakistani`` in one of four
    casings; a ``broad`` style writes only the group (``White``).
    """
    lookup = (ethnicity_wordings(), ETHNICITY_FALLBACK)
    return _cased(rng, _words_for(rng, codes, styles, lookup, group_style=BROAD_STYLE))


def nationality_text(
    rng: np.random.Generator, codes: np.ndarray, styles: Mapping[str, float], *, upper: bool
) -> np.ndarray:
    """Return nationality as typed for ISO alpha-3 codes ('' stays ''), styles by their shares."""
    words = _words_for(rng, codes, styles, (nationality_wordings(), NATIONALITY_FALLBACK))
    if upper:
        return np.array([word.upper() for word in words], dtype=object)
    return _cased(rng, words)
