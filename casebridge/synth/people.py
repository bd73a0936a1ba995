"""The true population: who each person is, before any agency writes them down."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from casebridge.synth.conventions import apply_true_conventions
from casebridge.synth.names import load_pools
from casebridge.synth.profile import Profile
from casebridge.synth.world import days

DATA_DIR = Path(__file__).parent / "data"
FORCES = ("force_a", "force_b", "force_c")
UNIT_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))  # letters a postcode's unit may use


@cache
def load_yaml(name: str) -> dict[str, Any]:
    """Return one of the generator's YAML data files as a mapping."""
    data: dict[str, Any] = yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))
    return data


@dataclass
class People:
    """Column arrays, one row per person; ``dob`` and ``sex`` are days since 1970 and 'F'/'M'."""

    person_id: np.ndarray
    group: np.ndarray
    sex: np.ndarray
    forename: np.ndarray
    middle_name: np.ndarray
    surname: np.ndarray
    dob: np.ndarray
    ethnicity: np.ndarray
    ic_code: np.ndarray
    nationality: np.ndarray
    home_force: np.ndarray
    postcode: np.ndarray
    address: np.ndarray
    new_postcode: np.ndarray
    new_address: np.ndarray
    moved_on: np.ndarray
    phone: np.ndarray

    def __len__(self) -> int:
        return len(self.person_id)


def draw_home_forces(rng: np.random.Generator, size: int) -> np.ndarray:
    """Return a home force for each of ``size`` people, by each force's share of the population."""
    forces = load_yaml("places.yaml")["forces"]
    return categorical(rng, {key: value["share"] for key, value in forces.items()}, size)


def categorical(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    keys = list(shares)
    weights = np.array([shares[key] for key in keys], dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=weights / weights.sum())]


def _postcodes(rng: np.random.Generator, home_force: np.ndarray) -> np.ndarray:
    forces = load_yaml("places.yaml")["forces"]
    size = len(home_force)
    area = np.empty(size, dtype=object)
    for force in FORCES:
        mask = home_force == force
        areas = np.array(forces[force]["postcode_areas"], dtype=object)
        area[mask] = areas[rng.integers(len(areas), size=int(mask.sum()))]
    district = rng.integers(1, 30, size=size).astype(str).astype(object)
    sector = rng.integers(0, 10, size=size).astype(str).astype(object)
    unit = UNIT_LETTERS[rng.integers(20, size=(size, 2))]
    postcodes: np.ndarray = area + district + " " + sector + unit[:, 0] + unit[:, 1]
    return postcodes


def _addresses(rng: np.random.Generator, size: int) -> np.ndarray:
    places = load_yaml("places.yaml")
    words = np.array(places["street_words"], dtype=object)
    kinds = np.array(places["street_kinds"], dtype=object)
    number = rng.integers(1, 240, size=size).astype(str).astype(object)
    street = (
        words[rng.integers(len(words), size=size)]
        + " "
        + kinds[rng.integers(len(kinds), size=size)]
    )
    addresses: np.ndarray = number + " " + street
    return addresses


def draw_people(
    rng: np.random.Generator,
    profile: Profile,
    share_male: np.ndarray,
    dob: np.ndarray,
    home_force: np.ndarray,
) -> People:
    """Return a population with these births and home forces; sex follows ``share_male``."""
    size = len(dob)
    groups_data = load_yaml("groups.yaml")
    group = categorical(rng, profile.group_mix, size)
    sex = np.where(rng.random(size) < share_male, "M", "F").astype(object)
    forename = np.empty(size, dtype=object)
    middle = np.empty(size, dtype=object)
    surname = np.empty(size, dtype=object)
    ethnicity = np.empty(size, dtype=object)
    ic_code = np.empty(size, dtype=object)
    nationality = np.empty(size, dtype=object)
    for name in profile.group_mix:
        in_group = group == name
        pools = load_pools(name)
        surname[in_group] = pools["surname"].draw(rng, int(in_group.sum()))
        for letter, kind in (("F", "forename_f"), ("M", "forename_m")):
            mask = in_group & (sex == letter)
            count = int(mask.sum())
            forename[mask] = pools[kind].draw(rng, count)
            middle[mask] = pools[kind].draw(rng, count)
        facts = groups_data[name]
        count = int(in_group.sum())
        ethnicity[in_group] = categorical(rng, facts["ethnicity"], count)
        ic_code[in_group] = categorical(rng, facts["ic_code"], count)
        nationality[in_group] = categorical(rng, facts["nationality"], count)
    middle[rng.random(size) < 0.55] = ""
    middle[middle == forename] = ""
    apply_true_conventions(rng, groups_data, group, sex, (forename, middle, surname))
    moved = rng.random(size) < profile.noise.moved_house
    period = days(profile.period_start), days(profile.period_end)
    phone = "07" + rng.integers(100_000_000, 999_999_999, size=size).astype(str).astype(object)
    return People(
        person_id=np.array([f"P{index:07d}" for index in rng.permutation(size)], dtype=object),
        group=group,
        sex=sex,
        forename=forename,
        middle_name=middle,
        surname=surname,
        dob=dob,
        ethnicity=ethnicity,
        ic_code=ic_code,
        nationality=nationality,
        home_force=home_force,
        postcode=_postcodes(rng, home_force),
        address=_addresses(rng, size),
        new_postcode=_postcodes(rng, home_force),
        new_address=_addresses(rng, size),
        moved_on=np.where(moved, rng.integers(*period, size=size), np.iinfo(np.int32).max),
        phone=phone,
    )
