"""The A4 poster as a PNG: department, survey title, a large QR code, one line of instructions.

Drawn with matplotlib's Figure (never pyplot) in the CJK font the charts use, so it renders the
same on a fresh server as on a desktop. The HTML poster page is the printable twin of this image.
"""
import io
import math

import numpy as np
import segno
from matplotlib.figure import Figure

from .charts import chart_font, plain_text
from .qr import ERROR_LEVEL, QUIET_ZONE

A4_INCHES = (8.27, 11.69)
INSTRUCTION = "请用手机扫码参与满意度调查"
INK, MUTED, BLUE = "#1f2933", "#5f6b7a", "#0b5cad"
TITLE_WIDTH = 16  # in full-width characters at the title's size


def _qr_matrix(url: str) -> np.ndarray:
    """1 for a dark module, 0 for light, with the quiet zone around it."""
    code = segno.make(url, error=ERROR_LEVEL, micro=False)
    matrix = np.array([list(row) for row in code.matrix], dtype=np.uint8)
    return np.pad(matrix, QUIET_ZONE)


def _width(char: str) -> float:
    return 0.5 if char.isascii() else 1.0


def _greedy(title: str, target: float) -> list[str]:
    lines, current, used = [], "", 0.0
    for char in title:
        if used + _width(char) > target and current:
            lines.append(current.strip())
            current, used = "", 0.0
        current += char
        used += _width(char)
    return lines + [current.strip()]


def wrap_title(title: str, width: float = TITLE_WIDTH, max_lines: int = 3) -> list[str]:
    """Chinese has no spaces to break at: lines of about equal display width, at most
    `max_lines` (the last one cut with an ellipsis)."""
    total = sum(_width(c) for c in title)
    needed = max(1, math.ceil(total / width))
    lines = _greedy(title, total / needed + 0.5)
    if len(lines) > needed:
        lines = _greedy(title, width)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def _text(fig: Figure, y: float, text: str, size: float, colour: str = INK, **kwargs) -> None:
    font = chart_font().copy()
    font.set_size(size)
    fig.text(0.5, y, text, ha="center", va="center", color=colour, fontproperties=font,
             **kwargs)


def poster_figure(*, department: str, title: str, url: str, channel: str = "") -> Figure:
    fig = Figure(figsize=A4_INCHES, facecolor="white")
    fig.patches.append(_band(fig))
    _text(fig, 0.935, department, 22, "white")
    _text(fig, 0.79, "\n".join(wrap_title(title)), 28, linespacing=1.4)
    # A square axes 70% of the page wide: about 14.5 cm of code, readable from two metres.
    side = 0.70
    height = side * A4_INCHES[0] / A4_INCHES[1]
    ax = fig.add_axes((0.15, 0.69 - height, side, height))
    ax.imshow(_qr_matrix(url), cmap="gray_r", interpolation="nearest", vmin=0, vmax=1)
    ax.set_axis_off()
    _text(fig, 0.14, INSTRUCTION, 26, BLUE)
    footer = "问卷匿名填写，约需 1 分钟" + (f"　·　{channel}" if channel else "")
    _text(fig, 0.08, footer, 14, MUTED)
    return fig


def _band(fig: Figure):
    from matplotlib.patches import Rectangle
    return Rectangle((0, 0.89), 1, 0.11, transform=fig.transFigure, facecolor=BLUE,
                     edgecolor="none", zorder=0)


def poster_png(*, department: str, title: str, url: str, channel: str = "",
               dpi: int = 150) -> bytes:
    fig = poster_figure(department=department, title=title, url=url, channel=channel)
    out = io.BytesIO()
    plain_text(fig).savefig(out, format="png", dpi=dpi, facecolor="white")
    return out.getvalue()
