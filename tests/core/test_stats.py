import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.core.errors import DomainError
from survey.core.stats import (
    Z95,
    InvalidCountError,
    InvalidProportionError,
    margin_of_error,
    sample_size_needed,
    wilson_from_proportion,
    wilson_interval,
)


def textbook_wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The count form (x + z²/2 ± z√(x(n−x)/n + z²/4)) / (n + z²), independent of the code's
    proportion form."""
    root = z * math.sqrt(x * (n - x) / n + z * z / 4)
    return (x + z * z / 2 - root) / (n + z * z), (x + z * z / 2 + root) / (n + z * z)


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("x, n, low, high", [
    (38, 40, 0.8350, 0.9862),  # the seed's survey (domain.md)
    (5, 10, 0.2366, 0.7634),
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_interval_matches_published_values(x, n, low, high):
    got = wilson_interval(x, n)
    assert got == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize("x, n", [(0, 1), (1, 1), (3, 7), (38, 40), (96, 100), (500, 1000)])
def test_wilson_interval_agrees_with_count_form(x, n):
    assert wilson_interval(x, n) == pytest.approx(textbook_wilson(x, n), abs=1e-12)


def test_wilson_interval_of_no_answers_is_none():
    assert wilson_interval(0, 0) is None
    assert wilson_from_proportion(0.5, 0) is None


@pytest.mark.parametrize("x, n", [(-1, 10), (11, 10), (0, -1), (1.5, 10), (True, 10), (1, "10")])
def test_wilson_interval_rejects_impossible_counts(x, n):
    with pytest.raises(InvalidCountError) as info:
        wilson_interval(x, n)
    assert isinstance(info.value, DomainError) and isinstance(info.value, ValueError)
    assert has_chinese(str(info.value))


def test_wider_z_gives_wider_interval():
    narrow, wide = wilson_interval(38, 40, z=1.0), wilson_interval(38, 40)
    assert wide[0] < narrow[0] and narrow[1] < wide[1]


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_estimate_within_unit_range(counts):
    x, n = counts
    low, high = wilson_interval(x, n)
    assert 0.0 <= low <= x / n <= high <= 1.0
    assert low < high


@given(st.integers(1, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.integers(2, 10))
def test_wilson_interval_narrows_with_more_answers(counts, factor):
    x, n = counts
    small, large = wilson_interval(x, n), wilson_interval(x * factor, n * factor)
    assert large[1] - large[0] < small[1] - small[0]


@given(st.floats(0, 1), st.floats(0.5, 1e5))
def test_wilson_from_proportion_contains_estimate(p, n):
    low, high = wilson_from_proportion(p, n)
    assert 0.0 <= low <= p <= high <= 1.0


@pytest.mark.parametrize("p, n, population, expected", [
    (0.95, 40, None, 1.959963984540054 * math.sqrt(0.95 * 0.05 / 40)),
    (0.5, 385, None, Z95 * 0.5 / math.sqrt(385)),
    (0.5, 100, 1000, 0.5 * Z95 / 10 * math.sqrt(900 / 999)),
    (0.5, 1000, 1000, 0.0),  # everyone was asked
    (1.0, 40, None, 0.0),
    (0.0, 40, None, 0.0),
    (0.5, 1, 1, 0.0),
])
def test_margin_of_error(p, n, population, expected):
    assert margin_of_error(p, n, population) == pytest.approx(expected, abs=1e-6)


def test_385_answers_are_the_first_within_five_points():
    assert margin_of_error(0.5, 385) <= 0.05 < margin_of_error(0.5, 384)


def test_margin_of_error_without_answers_is_none():
    assert margin_of_error(0.5, 0) is None


@pytest.mark.parametrize("kwargs, error", [
    ({"p": 1.2, "n": 10}, InvalidProportionError),
    ({"p": -0.1, "n": 10}, InvalidProportionError),
    ({"p": 0.5, "n": -1}, InvalidCountError),
    ({"p": 0.5, "n": 50, "population": 40}, InvalidCountError),
    ({"p": 0.5, "n": 5, "population": 0}, InvalidCountError),
])
def test_margin_of_error_rejects_bad_input(kwargs, error):
    with pytest.raises(error) as info:
        margin_of_error(**kwargs)
    assert has_chinese(str(info.value))


@pytest.mark.parametrize("p, margin, population, expected", [
    (0.5, 0.05, None, 385),   # domain.md
    (0.9, 0.05, None, 139),   # domain.md
    (0.1, 0.05, None, 139),   # symmetric in p
    (0.5, 0.05, 1000, 278),   # domain.md, finite population
    (0.5, 0.05, 100, 80),     # Krejcie & Morgan (1970) table
    (0.5, 0.03, None, 1068),
    (0.5, 0.05, 10, 10),      # a tiny population: ask nearly everyone, never more
])
def test_sample_size_needed_known_values(p, margin, population, expected):
    assert sample_size_needed(p, margin, population) == expected


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_sample_size_needed_without_variation_is_one_answer(p):
    assert sample_size_needed(p) == 1
    assert sample_size_needed(p, population=500) == 1


@pytest.mark.parametrize("kwargs", [{"p": 1.5}, {"margin": 0.0}, {"margin": 1.0},
                                    {"population": 0}])
def test_sample_size_needed_rejects_bad_input(kwargs):
    with pytest.raises(DomainError):
        sample_size_needed(**kwargs)


@given(st.floats(0.01, 0.99), st.floats(0.01, 0.2),
       st.one_of(st.none(), st.integers(2, 100_000)))
def test_sample_size_needed_is_the_smallest_sufficient(p, margin, population):
    n = sample_size_needed(p, margin, population)
    assert margin_of_error(p, n, population) <= margin + 1e-12
    if n > 1:
        assert margin_of_error(p, n - 1, population) > margin - 1e-12
