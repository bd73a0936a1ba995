"""How agencies write people down wrongly: true values in, recorded values out.

Every function is vectorised over records; the few that edit strings touch only the chosen
subset, one Python call per changed value.
"""

from __future__ import annotations

import numpy as np

from casebridge.synth.names import nickname_for, respell, typo
from casebridge.synth.profile import DobNoise, NameNoise

PRECISION_DAY, PRECISION_YEAR, PRECISION_NONE = "day", "year", ""


def exact_mask(rng: np.random.Generator, size: int, rate: float) -> np.ndarray:
    """Return a mask with exactly ``round(rate * size)`` chosen places, so a rate is met exactly."""
    mask = np.zeros(size, dtype=bool)
    mask[rng.permutation(size)[: int(round(rate * size))]] = True
    return mask


def _edit(values: np.ndarray, mask: np.ndarray, change: object, rng: np.random.Generator) -> None:
    chosen = np.flatnonzero(mask)
    values[chosen] = [change(value, rng) for value in values[chosen]]  # type: ignore[operator]


def noisy_names(
    rng: np.random.Generator,
    noise: NameNoise,
    forename: np.ndarray,
    middle: np.ndarray,
    surname: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return recorded (forename, middle name, surname) with variants, typos, swaps and drops."""
    size = len(forename)
    forename, middle, surname = forename.copy(), middle.copy(), surname.copy()

    def respelt(name: str, rng: np.random.Generator) -> str:
        return respell(name, rng, noise.variant_from_list)

    _edit(forename, rng.random(size) < noise.variant, respelt, rng)
    _edit(surname, rng.random(size) < noise.variant, respelt, rng)
    _edit(forename, rng.random(size) < noise.nickname, nickname_for, rng)
    _edit(forename, rng.random(size) < noise.forename_typo, typo, rng)
    _edit(surname, rng.random(size) < noise.surname_typo, typo, rng)
    middle[rng.random(size) < noise.middle_name_dropped] = ""
    swapped = rng.random(size) < noise.swapped
    forename[swapped], surname[swapped] = surname[swapped], forename[swapped]
    return forename, middle, surname


def known_as(
    rng: np.random.Generator, noise: NameNoise, forename: np.ndarray, surname: np.ndarray
) -> np.ndarray:
    """Return an alias ('also known as') for a share of records, empty for the rest."""
    alias = np.full(len(forename), "", dtype=object)
    for index in np.flatnonzero(rng.random(len(forename)) < noise.alias_recorded):
        name = nickname_for(forename[index], rng)
        if name == forename[index]:
            name = respell(forename[index], rng, noise.variant_from_list)
        alias[index] = f"{name} {surname[index]}"
    return alias


def noisy_births(
    rng: np.random.Generator, noise: DobNoise, dob: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return recorded births (days since 1970) and the precision of each: '' where missing."""
    size = len(dob)
    dates = dob.astype("datetime64[D]")
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    swap = (rng.random(size) < noise.day_month_swapped) & (day <= 12) & (day != month)
    month, day = np.where(swap, day, month), np.where(swap, month, day)
    year = year + np.where(rng.random(size) < noise.wrong_year, rng.choice([-2, -1, 1, 2], size), 0)
    recorded = _from_parts(year, month, day)
    precision = np.full(size, PRECISION_DAY, dtype=object)
    precision[rng.random(size) < noise.year_only] = PRECISION_YEAR
    precision[rng.random(size) < noise.missing] = PRECISION_NONE
    return recorded, precision


def _from_parts(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970 for these parts; a day past the month's end moves to its last day."""
    month_start = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    month_length = (month_start + 1).astype("datetime64[D]") - month_start.astype("datetime64[D]")
    clipped = np.minimum(day - 1, month_length.astype(np.int64) - 1)
    result: np.ndarray = month_start.astype("datetime64[D]").astype(np.int64) + clipped
    return result


def blank(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return ``values`` with the masked places emptied."""
    return np.where(mask, "", values).astype(object)


def partial_postcodes(postcodes: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return postcodes with the masked ones cut to their outward code (district)."""
    outward = np.array([code.split(" ")[0] for code in postcodes[mask]], dtype=object)
    result = postcodes.copy()
    result[mask] = outward
    return result
