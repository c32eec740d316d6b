"""One sheet of an export (a title, a header, rows) and the cell rules every export shares."""
from collections.abc import Iterable
from dataclasses import dataclass, field

from .tabular import FORMULA_PREFIXES, neutralise  # noqa: F401  (the one rule for every file)


def cell_number(value):
    """100.0 -> 100: whole values read as whole numbers in a spreadsheet."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass
class Table:
    """One sheet: a title, a header and rows (any iterable, consumed once)."""
    title: str
    header: list[str]
    rows: Iterable[list]
    total: int | None = None  # known row count, for a progress bar
    percent_columns: frozenset[int] = frozenset()
    widths: list[int] = field(default_factory=list)


