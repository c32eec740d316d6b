"""Sampling statistics for proportions: Wilson intervals, margins of error, sample sizes.

Every function takes plain numbers and returns plain numbers (unrounded); rounding for
display happens where figures are shown, never here.
"""
import math

from .errors import DomainError

Z95 = 1.959963984540054  # two-sided 95% normal quantile
PRECISION_TARGET = 0.05  # the usual ±5 percentage points

# Sample sizes are ceilings; a float product such as 100.00000000001 must not become 101.
_CEIL_TOLERANCE = 1e-9


class InvalidCountError(DomainError, ValueError):
    """Counts that cannot come from a survey (negative, or more successes than answers)."""


class InvalidProportionError(DomainError, ValueError):
    """A proportion outside [0, 1] or a margin outside (0, 1)."""


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_counts(successes: int, n: int) -> None:
    if not (_is_int(successes) and _is_int(n)):
        raise InvalidCountError("人数必须是整数")
    if n < 0:
        raise InvalidCountError(f"样本量不能为负数（{n}）")
    if successes < 0:
        raise InvalidCountError(f"满足条件的人数不能为负数（{successes}）")
    if successes > n:
        raise InvalidCountError(f"满足条件的人数（{successes}）不能超过样本量（{n}）")


def _check_proportion(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise InvalidProportionError(f"比例必须在 0 到 1 之间（{p}）")


def _check_population(population: int | None, n: float) -> None:
    if population is None:
        return
    if not _is_int(population) or population < 1:
        raise InvalidCountError(f"总体人数必须是正整数（{population}）")
    if n > population:
        raise InvalidCountError(f"样本量（{n}）不能超过总体人数（{population}）")


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for successes/n; None when there are no answers (n == 0)."""
    _check_counts(successes, n)
    if n == 0:
        return None
    return wilson_from_proportion(successes / n, n, z)


def wilson_from_proportion(p: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    """Wilson interval from an observed proportion and a (possibly non-integer) sample size.

    Used where the sample size is an approximation, e.g. the mean number of answers
    over several questions.
    """
    _check_proportion(p)
    if n < 0:
        raise InvalidCountError(f"样本量不能为负数（{n}）")
    if n == 0:
        return None
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
    # At p = 0 or 1 the bound equals p algebraically; floating point must not move it off p.
    low = 0.0 if p == 0 else min(p, max(0.0, centre - half))
    high = 1.0 if p == 1 else max(p, min(1.0, centre + half))
    return low, high


def _fpc(n: float, population: int | None) -> float:
    """Finite-population correction sqrt((N - n) / (N - 1))."""
    if population is None:
        return 1.0
    if population == 1:
        return 0.0  # the whole population (of one) was asked
    return math.sqrt((population - n) / (population - 1))


def margin_of_error(p: float, n: float, population: int | None = None,
                    z: float = Z95) -> float | None:
    """Half-width of the normal-approximation interval at proportion p; None when n == 0.

    With `population`, the finite-population correction shrinks it; asking everyone gives 0.
    """
    _check_proportion(p)
    if n < 0:
        raise InvalidCountError(f"样本量不能为负数（{n}）")
    _check_population(population, n)
    if n == 0:
        return None
    return z * math.sqrt(p * (1 - p) / n) * _fpc(n, population)


def sample_size_needed(p: float = 0.5, margin: float = 0.05, population: int | None = None,
                       z: float = Z95) -> int:
    """Answers needed so that the margin of error at proportion p is at most `margin`.

    n0 = z² p (1 - p) / margin²; with a population N, n = n0 / (1 + (n0 - 1) / N).
    When p is 0 or 1 the formula gives 0 (no variation to estimate); we return 1, because
    no figure exists without at least one answer. Never more than the population.
    """
    _check_proportion(p)
    if not 0.0 < margin < 1.0:
        raise InvalidProportionError(f"误差范围必须在 0 到 1 之间（{margin}）")
    _check_population(population, 0)
    n = z * z * p * (1 - p) / (margin * margin)
    if population is not None:
        n = n / (1 + (n - 1) / population)
    needed = max(1, math.ceil(n - _CEIL_TOLERANCE))
    return needed if population is None else min(needed, population)
