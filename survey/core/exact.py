"""Exact rates and the one rounding step.

A rate is kept as an exact fraction (numerator and denominator, `fractions.Fraction`) from the
tally until it is shown or scored, and then rounded once, half up, to the precision of that use
by `round_half_up`. Nothing rounds a rate that was already rounded: 113/139 = 0.812949… is
81.29% and 15 × 113/139 = 12.19, never 81.30% and 12.20 (which is what rounding to 6 places
first gives).

In JSON a fraction travels as a pair [numerator, denominator] (`to_pair` / `from_pair`).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

__all__ = ["as_fraction", "from_pair", "linked_value", "round_half_up", "to_pair"]


def as_fraction(value) -> Fraction:
    """An exact fraction for an int, Decimal, Fraction, [num, den] pair or float.

    A float is read through its shortest decimal form (0.9 is 9/10, not the binary double): it
    only arrives here from an older stored figure or a setting typed as a number.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not a rate")
    if isinstance(value, (int, Decimal)):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return from_pair(value)
    raise TypeError(f"not a number: {value!r}")


def round_half_up(value, places: int) -> Decimal:
    """`value` rounded once, half away from zero, to `places` decimal places, exactly.

    A fraction is rounded by integer arithmetic on its numerator and denominator, so no binary
    or decimal approximation comes between the fraction and the printed digits; a finite
    decimal (Decimal, or a float read as written) by Decimal's own ROUND_HALF_UP, which is
    exact for it.
    """
    if type(value) is float:
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    fraction = value if type(value) is Fraction else as_fraction(value)
    numerator, denominator = fraction.numerator, fraction.denominator
    if places >= 0:
        numerator *= 10 ** places
    else:
        denominator *= 10 ** -places
    whole, rest = divmod(abs(numerator), denominator)
    if 2 * rest >= denominator:
        whole += 1
    return Decimal(whole if numerator >= 0 else -whole).scaleb(-places)


def to_pair(fraction: Fraction | None) -> list[int] | None:
    """[numerator, denominator] in lowest terms for JSON; None stays None."""
    if fraction is None:
        return None
    return [fraction.numerator, fraction.denominator]


def from_pair(pair) -> Fraction | None:
    """The fraction a JSON pair [numerator, denominator] stands for; None for None."""
    if pair is None:
        return None
    numerator, denominator = pair
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (numerator, denominator)):
        raise TypeError(f"not an integer pair: {pair!r}")
    return Fraction(numerator, denominator)


def linked_value(link: dict | None) -> Fraction | None:
    """The exact value of an indicator's link to a figure (survey or budget).

    A link made since exact fractions were kept carries "exact": [numerator, denominator];
    an older one (a frozen snapshot) only its rounded "value", read as written.
    """
    if not link:
        return None
    if link.get("exact") is not None:
        return from_pair(link["exact"])
    return None if link.get("value") is None else as_fraction(link["value"])
