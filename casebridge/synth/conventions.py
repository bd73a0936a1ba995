"""Naming conventions of name-origin groups: how a person's true names are formed, and how a
record then writes them.

A group's convention is data (``synth/data/groups.yaml``, key ``naming``; each group's name file
says where the convention comes from). The true names follow the convention (a Somali's
'surname' is the father's given name and the grandfather's follows as a middle name; a Polish
woman's surname ends -ska); the record-level rates (``noise.origins`` in the profile) then bend
what each record holds the way agencies' records do (a Vietnamese name written family name
first, a patronymic dropped, Singh or Kaur alone as surname, tone marks dropped).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from casebridge.synth.names import load_pools
from casebridge.synth.profile import OriginNoise

Names = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Cohort:
    """One group's people while their true names are formed: the random generator, the
    group, its ``naming`` entry, the mask of its people, everyone's sex and the names (forename,
    middle name, surname) that a convention changes in place."""

    rng: np.random.Generator
    group: str
    naming: dict[str, Any]
    mask: np.ndarray
    sex: np.ndarray
    names: Names


TrueNames = Callable[[Cohort], None]  # forms a cohort's true names in place
# letters that Unicode does not decompose into a plain letter and a mark
_PLAIN_LETTERS = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "ø": "o"})
# Romanian s and t with comma below, as older encodings wrote them: with a cedilla
_CEDILLA = str.maketrans({"ș": "ş", "Ș": "Ş", "ț": "ţ", "Ț": "Ţ"})
# conventions whose letters are written with a language's marks; tone marks are rated apart
_MARKED = frozenset({"family_name_first", "gendered_surname", "diacritics", "father_name_middle"})


def plain_letters(name: str) -> str:
    """Return ``name`` without tone marks or diacritics ('Nguyễn' → 'Nguyen', 'Łukasz' →
    'Lukasz'), as a keyboard or system without them writes it."""
    folded = unicodedata.normalize("NFKD", name.translate(_PLAIN_LETTERS))
    return unicodedata.normalize("NFC", "".join(c for c in folded if not unicodedata.combining(c)))


def with_cedilla(name: str) -> str:
    """Return a Romanian name with ș and ț written ş and ţ (cedilla), as legacy encodings do."""
    return name.translate(_CEDILLA)


def _edit(values: np.ndarray, mask: np.ndarray, change: Callable[[str], str]) -> None:
    chosen = np.flatnonzero(mask)
    values[chosen] = [change(str(value)) for value in values[chosen]]


# --- true names -------------------------------------------------------------------------------


def apply_true_conventions(
    rng: np.random.Generator,
    groups: dict[str, dict[str, Any]],
    group: np.ndarray,
    sex: np.ndarray,
    names: Names,
) -> None:
    """Form each person's true names by their group's convention, in place (forename, middle
    name, surname); groups without a ``naming`` entry are left as drawn."""
    for name in sorted(set(group.tolist())):
        naming = groups.get(name, {}).get("naming")
        if naming:
            TRUE_NAMES[naming["convention"]](Cohort(rng, name, naming, group == name, sex, names))


def _draw(cohort: Cohort, kind: str, count: int) -> np.ndarray:
    return load_pools(cohort.group, (kind,))[kind].draw(cohort.rng, count)


def _vietnamese_middle(cohort: Cohort) -> None:
    """Văn or Thị (or another middle name) for most; the given name stays the forename."""
    middle, mask = cohort.names[1], cohort.mask
    for letter, kind in (("M", "middle_m"), ("F", "middle_f")):
        chosen = mask & (cohort.sex == letter)
        middle[chosen] = _draw(cohort, kind, int(chosen.sum()))
    middle[mask & (cohort.rng.random(len(mask)) >= cohort.naming["middle_name_share"])] = ""


def _patronymic_chain(cohort: Cohort) -> None:
    """The surname pool holds fathers' names; the grandfather's given name follows as middle."""
    cohort.names[1][cohort.mask] = _draw(cohort, "forename_m", int(cohort.mask.sum()))


def _single_name(cohort: Cohort) -> None:
    """A share of people have one name only: no surname at all."""
    single = cohort.rng.random(len(cohort.mask)) < cohort.naming["single_name_share"]
    cohort.names[2][cohort.mask & single] = ""


def _gendered_surname(cohort: Cohort) -> None:
    """A woman's surname takes the feminine ending (-ski → -ska)."""
    endings: dict[str, str] = cohort.naming["endings"]

    def feminine(surname: str) -> str:
        for male, female in endings.items():
            if surname.endswith(male):
                return surname[: -len(male)] + female
        return surname

    _edit(cohort.names[2], cohort.mask & (cohort.sex == "F"), feminine)


def _father_name_middle(cohort: Cohort) -> None:
    """A share carry their father's given name beside their own, as a middle name."""
    middle, mask = cohort.names[1], cohort.mask
    chosen = mask & (cohort.rng.random(len(mask)) < cohort.naming["father_name_share"])
    middle[chosen] = _draw(cohort, "forename_m", int(chosen.sum()))
    middle[mask & ~chosen] = ""


def _singh_kaur(cohort: Cohort) -> None:
    """Singh (men) or Kaur (women) before the family name, held as the middle name."""
    naming, mask = cohort.naming, cohort.mask
    cohort.names[1][mask] = np.where(
        cohort.sex[mask] == "M", naming["male_name"], naming["female_name"]
    )


def _as_drawn(cohort: Cohort) -> None:
    """Names as drawn; the convention acts on records only (diacritics)."""


TRUE_NAMES: dict[str, TrueNames] = {
    "family_name_first": _vietnamese_middle,
    "patronymic_chain": _patronymic_chain,
    "single_name_common": _single_name,
    "gendered_surname": _gendered_surname,
    "father_name_middle": _father_name_middle,
    "singh_kaur": _singh_kaur,
    "diacritics": _as_drawn,
}


# --- recorded names ---------------------------------------------------------------------------


def recorded_conventions(
    rng: np.random.Generator,
    rates: OriginNoise,
    groups: dict[str, dict[str, Any]],
    person_group: np.ndarray,
    sex: np.ndarray,
    names: Names,
) -> Names:
    """Return (forename, middle name, surname) as records write them: true names bent by each
    group's convention at the profile's ``noise.origins`` rates. One row per record."""
    forename, middle, surname = (values.copy() for values in names)
    size = len(forename)
    convention = np.array(
        [groups.get(g, {}).get("naming", {}).get("convention", "") for g in person_group.tolist()],
        dtype=object,
    )
    is_ = {name: convention == name for name in TRUE_NAMES}

    def chance(rate: float) -> np.ndarray:
        return rng.random(size) < rate

    # a Vietnamese name written in its own order: family name in the forename field
    swapped = is_["family_name_first"] & chance(rates.vietnamese_order_swapped)
    forename[swapped], surname[swapped] = surname[swapped], forename[swapped]
    # a Somali chain with the father's name left out: the grandfather's name as surname
    dropped = is_["patronymic_chain"] & (middle != "") & chance(rates.somali_patronymic_dropped)
    surname[dropped], middle[dropped] = middle[dropped], ""
    # Singh or Kaur alone as surname: the family name dropped
    alone = is_["singh_kaur"] & (middle != "") & chance(rates.sikh_family_name_dropped)
    surname[alone], middle[alone] = middle[alone], ""
    _one_name(rng, rates, is_["single_name_common"], forename, surname)
    _masculine_forms(rng, rates, is_["gendered_surname"] & (sex == "F"), surname)
    _marks(rng, rates, convention, (forename, middle, surname))
    return forename, middle, surname


def _one_name(
    rng: np.random.Generator,
    rates: OriginNoise,
    mask: np.ndarray,
    forename: np.ndarray,
    surname: np.ndarray,
) -> None:
    """A person with one name has it written twice (forename and surname) in a share of
    records, as forms that demand both do; a two-name person is sometimes written with one."""
    size = len(forename)
    single = mask & (surname == "")
    twice = single & (rng.random(size) < rates.afghan_single_name_repeated)
    surname[twice] = forename[twice]
    surname[mask & ~single & (rng.random(size) < rates.afghan_one_name_only)] = ""


def _masculine_forms(
    rng: np.random.Generator, rates: OriginNoise, women: np.ndarray, surname: np.ndarray
) -> None:
    """A woman's -ska written -ski (the form on a father's or husband's papers)."""
    endings = (("ska", "ski"), ("cka", "cki"))

    def masculine(name: str) -> str:
        for female, male in endings:
            if name.endswith(female):
                return name[: -len(female)] + male
        return name

    _edit(surname, women & (rng.random(len(surname)) < rates.polish_masculine_form), masculine)


def _marks(
    rng: np.random.Generator, rates: OriginNoise, convention: np.ndarray, names: Names
) -> None:
    """Tone marks and diacritics dropped per record; Romanian ș and ț sometimes cedilla'd."""
    size = len(convention)
    marked = np.isin(convention, list(_MARKED))
    rate = np.where(
        convention == "family_name_first", rates.tone_marks_dropped, rates.diacritics_dropped
    )
    plain = marked & (rng.random(size) < rate)
    cedilla = (convention == "diacritics") & ~plain & (rng.random(size) < rates.romanian_cedilla)
    for values in names:
        _edit(values, plain, plain_letters)
        _edit(values, cedilla, with_cedilla)
