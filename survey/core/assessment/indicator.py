"""One indicator of the self-evaluation tree: plain data, shared by the tree and its checks."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class Indicator:
    """One indicator of any level; a leaf is scored, a parent sums its children.

    reported_versions holds the same figure as printed elsewhere in a report, by field and
    source, e.g. {"actual": {"附件1": "一般合理"}, "score": {"正文": "0.86"}}.
    """

    key: str
    name: str
    level: int
    weight: Decimal
    target: str = ""
    description: str = ""
    actual: str | None = None
    rule: dict | None = None
    score: Decimal | None = None
    children: list[Indicator] = field(default_factory=list)
    notes: str = ""
    reported_total: Decimal | None = None
    linked_figure: dict | None = None
    reported_versions: dict[str, dict[str, str]] = field(default_factory=dict)
