"""How each kind of source spells codes: ethnicity words, nationality words, DfE codes.

Drawn from the shared lists in ``standard/data``, with casing and wording the lists do not
hold, so that a pipeline cannot pass by matching the lists alone.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from casebridge.standard.datafiles import read_standard

BROAD_WORD = {"W": "White", "M": "Mixed", "A": "Asian", "B": "Black", "O": "Other"}


@cache
def ethnicity_phrases() -> dict[str, tuple[str, ...]]:
    """Return, per 18+1 code, the free-text phrases people type for it."""
    table: dict[str, list[str]] = {}
    for row in read_standard("ethnicity_words", ("phrase", "code_18plus1")):
        table.setdefault(row["code_18plus1"], []).append(row["phrase"])
    return {code: tuple(phrases) for code, phrases in table.items()}


@cache
def dfe_code_for() -> dict[str, str]:
    """Return, per 18+1 code, the Department for Education code a social worker would record."""
    table: dict[str, str] = {}
    for row in read_standard("dfe_ethnicity", ("code", "label", "code_18plus1")):
        table.setdefault(row["code_18plus1"], row["code"])
    table.setdefault("O2", "OOTH")
    return table


@cache
def nationality_words() -> dict[str, tuple[str, ...]]:
    """Return, per ISO 3166-1 alpha-3 code, its demonym and the other words typed for it."""
    table: dict[str, list[str]] = {}
    for row in read_standard("countries", ("iso3", "iso2", "name", "demonym")):
        table[row["iso3"]] = [row["demonym"] or row["name"], row["name"]]
    for row in read_standard("nationality_words", ("word", "iso3")):
        table.setdefault(row["iso3"], []).append(row["word"])
    return {code: tuple(words) for code, words in table.items()}


def _cased(rng: np.random.Generator, text: str) -> str:
    style = int(rng.integers(4))
    return (text.title(), text.upper(), text, text.capitalize())[style]


def ethnicity_text(rng: np.random.Generator, codes: np.ndarray) -> np.ndarray:
    """Return free text for 18+1 codes: mostly a specific phrase, sometimes only a broad word."""
    phrases = ethnicity_phrases()
    out = np.empty(len(codes), dtype=object)
    for index, code in enumerate(codes):
        if not code:
            out[index] = ""
        elif rng.random() < 0.12 and code[0] in BROAD_WORD:
            out[index] = BROAD_WORD[code[0]]
        else:
            known = phrases.get(code, (code,))
            out[index] = _cased(rng, known[int(rng.integers(len(known)))])
    return out


def nationality_text(rng: np.random.Generator, codes: np.ndarray, *, upper: bool) -> np.ndarray:
    """Return nationality as typed: the demonym mostly, else a country name or another word."""
    words = nationality_words()
    out = np.empty(len(codes), dtype=object)
    for index, code in enumerate(codes):
        known = words.get(code, (code,)) if code else ("",)
        word = known[0] if rng.random() < 0.7 else known[int(rng.integers(len(known)))]
        out[index] = word.upper() if upper else _cased(rng, word)
    return out
