"""Properties of the noise functions: no input crashes them, and their output stays plausible."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from casebridge.synth.names import nickname_for, respell, typo
from casebridge.synth.noise import exact_mask, noisy_births
from casebridge.synth.profile import DobNoise

NAMES = st.text(min_size=0, max_size=30)


@given(NAMES, st.integers(0, 2**32 - 1))
def test_name_noise_never_crashes_and_returns_text(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for change in (respell, nickname_for, typo):
        assert isinstance(change(name, rng), str)


@given(st.text(alphabet="abcdefghij", min_size=3, max_size=12), st.integers(0, 2**32 - 1))
def test_a_typo_changes_the_length_by_one_at_most(name: str, seed: int) -> None:
    assert abs(len(typo(name, np.random.default_rng(seed))) - len(name)) <= 1


@given(st.lists(st.integers(-20_000, 20_000), min_size=1, max_size=50), st.integers(0, 1000))
def test_recorded_births_stay_near_the_truth(births: list[int], seed: int) -> None:
    noise = DobNoise(day_month_swapped=0.3, wrong_year=0.3, year_only=0.2, missing=0.2)
    true = np.array(births, dtype=np.int64)
    recorded, precision = noisy_births(np.random.default_rng(seed), noise, true)
    present = precision != ""
    # a wrong year (two at most) and a day/month swap (under a year) keep it within ~3 years
    assert np.all(np.abs(recorded[present] - true[present]) <= 3 * 366)


@given(st.integers(0, 5000), st.floats(0, 1), st.integers(0, 100))
def test_exact_mask_meets_the_rate_exactly(size: int, rate: float, seed: int) -> None:
    mask = exact_mask(np.random.default_rng(seed), size, rate)
    assert mask.sum() == round(rate * size)
