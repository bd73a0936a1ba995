"""Name origins keep their real naming conventions, in the true names and in what records hold;
adults named with an age only are planted in referrals and marked in the truth.

The expectations are written here from the published conventions (Sikh Rehat Maryada: Singh for
men, Kaur for women; Polish gendered surnames -ski/-ska; Somali three-name patronymic chains;
the Vietnamese alphabet's tone marks; Romanian ș and ț with comma below), not read from the
generator's files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from casebridge.synth.conventions import plain_letters, recorded_conventions, with_cedilla
from casebridge.synth.generate import generate
from casebridge.synth.people import draw_home_forces, draw_people
from casebridge.synth.profile import OriginNoise, load_profile
from tests.synth.extracts import read_source, truth

NEW_ORIGINS = ("vietnamese", "somali", "afghan", "polish", "romanian", "roma", "albanian",
               "sikh_punjabi")  # fmt: skip


@pytest.fixture(scope="module")
def people() -> Any:
    """4,000 people, 500 of each new origin, half men, half women."""
    profile = load_profile("default")
    profile = profile.model_copy(update={"group_mix": dict.fromkeys(NEW_ORIGINS, 1 / 8)})
    rng = np.random.default_rng(3)
    size = 4_000
    dob = np.full(size, 10_000, dtype=np.int32)
    return draw_people(rng, profile, np.full(size, 0.5), dob, draw_home_forces(rng, size))


def _of(people: Any, group: str, sex: str | None = None) -> np.ndarray:
    mask = people.group == group
    return mask & (people.sex == sex) if sex else mask


def test_sikh_men_carry_singh_and_women_kaur(people: Any) -> None:
    assert set(people.middle_name[_of(people, "sikh_punjabi", "M")]) == {"Singh"}
    assert set(people.middle_name[_of(people, "sikh_punjabi", "F")]) == {"Kaur"}
    assert "Singh" not in set(people.surname[_of(people, "sikh_punjabi")])


def test_polish_surnames_agree_with_sex(people: Any) -> None:
    women = people.surname[_of(people, "polish", "F")].tolist()
    men = people.surname[_of(people, "polish", "M")].tolist()
    assert not [name for name in women if name.endswith(("ski", "cki"))]
    assert not [name for name in men if name.endswith(("ska", "cka"))]
    assert any(name.endswith("ska") for name in women)


def test_somali_names_are_three_name_chains(people: Any) -> None:
    somali = _of(people, "somali")
    assert somali.sum() > 300
    assert (people.middle_name[somali] != "").all()
    assert (people.surname[somali] != "").all()


def test_many_afghans_have_one_name_only(people: Any) -> None:
    single = (people.surname[_of(people, "afghan")] == "").mean()
    assert 0.2 < single < 0.5, single


def test_vietnamese_middle_names_are_mostly_van_and_thi(people: Any) -> None:
    men = people.middle_name[_of(people, "vietnamese", "M")]
    women = people.middle_name[_of(people, "vietnamese", "F")]
    assert (men == "Văn").mean() > 0.4
    assert (women == "Thị").mean() > 0.4
    assert "Nguyễn" in set(people.surname[_of(people, "vietnamese")])


# --- what records hold -------------------------------------------------------------------------

GROUPS = {
    "vn": {"naming": {"convention": "family_name_first"}},
    "so": {"naming": {"convention": "patronymic_chain"}},
    "sk": {"naming": {"convention": "singh_kaur"}},
    "af": {"naming": {"convention": "single_name_common"}},
    "pl": {"naming": {"convention": "gendered_surname"}},
    "ro": {"naming": {"convention": "diacritics"}},
    "other": {},
}


def _recorded(rates: OriginNoise, rows: list[tuple[str, str, str, str, str]]) -> list[tuple]:
    group, sex, *names = (np.array(column, dtype=object) for column in zip(*rows, strict=True))
    written = recorded_conventions(
        np.random.default_rng(0), rates, GROUPS, group, sex, (names[0], names[1], names[2])
    )
    return list(zip(*(values.tolist() for values in written), strict=True))


def test_each_origins_record_level_convention_at_rate_one() -> None:
    rates = OriginNoise(
        vietnamese_order_swapped=1, tone_marks_dropped=1, somali_patronymic_dropped=1,
        sikh_family_name_dropped=1, afghan_single_name_repeated=1, afghan_one_name_only=1,
        polish_masculine_form=1, diacritics_dropped=1,
    )  # fmt: skip
    rows = [
        ("vn", "M", "Minh", "Văn", "Nguyễn"),  # given, middle, family
        ("so", "F", "Amina", "Omar", "Abdi"),  # given, grandfather, father
        ("sk", "F", "Harpreet", "Kaur", "Sandhu"),
        ("af", "M", "Wahid", "", ""),  # one name only
        ("af", "M", "Farid", "", "Karimi"),
        ("pl", "F", "Zofia", "", "Wiśniewska"),
        ("other", "F", "Zoë", "", "Brontë"),  # no convention: untouched
    ]
    assert _recorded(rates, rows) == [
        ("Nguyen", "Van", "Minh"),  # family name first, tone marks dropped
        ("Amina", "", "Omar"),  # the father's name dropped
        ("Harpreet", "", "Kaur"),  # Kaur alone
        ("Wahid", "", "Wahid"),  # a one-name person written twice
        ("Farid", "", ""),  # written with one name
        ("Zofia", "", "Wisniewski"),  # masculine form, no diacritics
        ("Zoë", "", "Brontë"),
    ]


def test_no_record_level_convention_at_rate_zero() -> None:
    rows = [("vn", "M", "Minh", "Văn", "Nguyễn"), ("so", "F", "Amina", "Omar", "Abdi"),
            ("pl", "F", "Zofia", "", "Wiśniewska")]  # fmt: skip
    assert _recorded(OriginNoise(), rows) == [row[2:] for row in rows]


def test_romanian_comma_below_is_written_with_a_cedilla() -> None:
    rates = OriginNoise(romanian_cedilla=1)
    assert _recorded(rates, [("ro", "M", "Ștefan", "", "Țurcanu")]) == [("Ştefan", "", "Ţurcanu")]
    assert with_cedilla("Ioniță") == "Ioniţă"


@pytest.mark.parametrize(
    ("written", "plain"),
    [("Nguyễn", "Nguyen"), ("Đặng", "Dang"), ("Łukasz", "Lukasz"), ("Ștefan", "Stefan"),
     ("Arbër", "Arber"), ("Çela", "Cela"), ("Lakatoš", "Lakatos")],
)  # fmt: skip
def test_marks_are_dropped_to_plain_letters(written: str, plain: str) -> None:
    assert plain_letters(written) == plain


# --- extracts and truth ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("origins") / "out"
    generate(4_000, 11, load_profile("default"), folder)
    return folder


def test_every_new_origin_is_in_the_truth(out: Path) -> None:
    groups = truth(out, "person")["name_origin_group"].value_counts()
    present = dict(zip(groups["name_origin_group"], groups["count"], strict=True))
    assert all(present.get(origin, 0) >= 10 for origin in NEW_ORIGINS), present


def test_the_default_profile_gives_sixteen_groups_of_a_thousand_in_200k() -> None:
    """1,000 people in 200,000 is 0.5 %; every share is at least 0.75 % for a margin."""
    mix = load_profile("default").group_mix
    assert sum(share >= 0.0075 for share in mix.values()) >= 16


def test_age_only_adults_are_marked_and_have_no_birth_date(out: Path) -> None:
    marked = truth(out, "age_only_adult")
    assert marked.height > 10
    rows = [row for _, row in read_source(out, "la")]
    by_id: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_id.setdefault(row["PersonID"], []).append(row)
    for local_id in marked["local_id"].to_list():
        for row in by_id.get(local_id, []):  # a row planted broken is not read
            assert row["PersonRole"] == "Person of concern"
            assert row["DateOfBirth"] == ""
            assert 18 - 2 <= int(row["ApproxAge"]) <= 70 + 2
    records = truth(out, "record_person")
    police = records.filter(pl.col("source").str.starts_with("force_"))
    assert marked.join(police, on="person_id", how="anti").is_empty()


def test_referrals_name_an_adult_at_the_profiles_rate(out: Path) -> None:
    rows = [row for _, row in read_source(out, "la") if row["EpisodeType"] == "Referral"]
    referrals = {row["EpisodeID"] for row in rows if row["PersonRole"] == "Child"}
    named = {row["EpisodeID"] for row in rows if row["PersonRole"] == "Person of concern"}
    share = len(named & referrals) / len(referrals)
    rate = load_profile("default").plants.adult_in_referral
    # an adult drawn outside 18-70 four times over leaves the referral without one
    assert 0.7 * rate <= share <= rate + 0.03, share
