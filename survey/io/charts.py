"""Dashboard charts, drawn with matplotlib's object API.

Never pyplot: it keeps global figure state that a threaded server would share between
requests. Text uses an openly licensed CJK font found once per process (see
`cjk_font_path`), so Chinese labels show real glyphs on a fresh machine; SVG output turns
glyphs into paths, so the browser needs no font either.
"""
import datetime as dt
import functools
import hashlib
import importlib.util
import io
import os
import shutil
import subprocess  # nosec B404 - fc-list only, no shell
import textwrap
from pathlib import Path

import matplotlib
from matplotlib import dates as mdates
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator, PercentFormatter

from ..core.errors import DomainError
from ..core.labels import percent

PRINT_DPI = 200
FULL_WIDTH, HALF_WIDTH = 9.5, 5.8  # inches: the page shows charts full or half width
PHONE_WIDTH = 3.5  # inches: drawn for a 390 px phone, so its text is shown at about its size
FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
# 非常满意 .. 非常不满意: blues for satisfied, greys in the middle, warm for dissatisfied;
# readable in greyscale print as well.
LEVEL_COLOURS = ("#0b5cad", "#5b9bd5", "#b8c4d0", "#f0a35e", "#c0392b")
INK, MUTED, GRID, ACCENT = "#1f2933", "#5f6b7a", "#e3e7ec", "#0b5cad"
SYSTEM_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian, Ubuntu
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",  # Arch
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",  # Fedora
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/noto-cjk/NotoSansCJKsc-Regular.otf",
)
WINDOWS_FONT_FILES = ("msyh.ttc", "msyh.ttf")  # Microsoft YaHei, shipped with Windows
BUNDLED_FONT = "NotoSansCJKsc-Regular.otf"  # SIL Open Font License, installed with mplfonts
# Never SimHei: mplfonts ships it, but it is not openly licensed.
UNLICENSED_FONTS = ("simhei",)


class ChartError(DomainError):
    """A chart that cannot be drawn (unknown kind or format, no CJK font)."""


def bundled_font_path() -> Path | None:
    """The Noto Sans CJK SC font that mplfonts installs, found without importing mplfonts."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "fonts" / BUNDLED_FONT
    return path if path.is_file() else None


def _fc_list_font() -> Path | None:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        out = subprocess.run(  # nosec B603 - fc-list, fixed arguments, no shell
            [fc_list, "-f", "%{file}\n", "Noto Sans CJK SC:style=Regular"],
            capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = [Path(line) for line in out.splitlines() if line.strip()]
    return next((p for p in found if p.is_file()), None)


def system_font_path() -> Path | None:
    """A system Noto Sans CJK, or Microsoft YaHei on Windows; None when neither exists."""
    windows = Path(os.environ.get("WINDIR", "C:/Windows")) / "Fonts"
    candidates = [Path(p) for p in SYSTEM_FONT_FILES]
    candidates += [windows / name for name in WINDOWS_FONT_FILES] if os.name == "nt" else []
    found = next((p for p in candidates if p.is_file()), None) or _fc_list_font()
    if found is not None and found.name.lower().startswith(UNLICENSED_FONTS):
        return None
    return found


@functools.cache
def cjk_font_path() -> Path:
    """The CJK font for charts: the system's own if it has one, else the bundled one."""
    path = system_font_path() or bundled_font_path()
    if path is None:
        raise ChartError("未找到中文字体：请安装 Noto Sans CJK 字体或 mplfonts 软件包")
    return path


def _simplified_face(path: Path) -> font_manager.FontPath:
    """A font collection holds several faces (JP, KR, SC …); pick the Simplified Chinese one,
    whose glyph shapes are the ones mainland readers expect."""
    faces = font_manager.get_font(str(path)).num_faces
    for index in range(faces):
        face = font_manager.FontPath(str(path), index)
        name = font_manager.get_font(face).family_name
        if name.endswith(" SC") or "YaHei" in name:
            return face
    return font_manager.FontPath(str(path), 0)


@functools.cache
def style_version() -> str:
    """A digest of this module: cached charts drawn by other code are not reused."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


@functools.cache
def chart_font(path: Path | None = None) -> font_manager.FontProperties:
    return font_manager.FontProperties(fname=_simplified_face(path or cjk_font_path()))


def _sized(font, size: float) -> font_manager.FontProperties:
    sized = font.copy()
    sized.set_size(size)
    return sized


def _new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained", facecolor="white")


def _style_axes(ax, font, grid_axis: str) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(GRID)
    ax.tick_params(colors=MUTED, labelsize=9)
    ax.grid(axis=grid_axis, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for label in ax.get_xticklabels() + ax.get_yticklabels():
        label.set_fontproperties(_sized(font, 9))


def _empty(fig: Figure, font, message: str) -> Figure:
    fig.text(0.5, 0.5, message, ha="center", va="center", color=MUTED,
             fontproperties=_sized(font, 13))
    return fig


def _wrap(text: str, width: int = 18) -> str:
    lines = textwrap.wrap(text, width) or [text]
    if len(lines) == 2 and len(lines[1]) <= 2:  # never a lone "？" on its own line
        return text
    return "\n".join(lines[:2])


def question_levels_chart(figures: dict, font, width: float = FULL_WIDTH) -> Figure:
    """Per scale question, one horizontal bar split into the shares of each level."""
    questions = [q for q in figures["questions"] if q["kind"] == "scale"]
    narrow = width < HALF_WIDTH
    fig = _new_figure(width, 1.3 + (0.75 if narrow else 0.62) * max(1, len(questions)))
    if not any(q["answered"] for q in questions):
        return _empty(fig, font, "暂无有效回答")
    ax = fig.subplots()
    rows = list(reversed(questions))  # first question on top
    # A no-break space keeps the number on the line of its question.
    labels = [_wrap(f"{q['position']}.\u00a0{q['text']}{_base(q)}", 10 if narrow else 18)
              for q in rows]
    levels = max(len(q["options"]) for q in rows)
    for level in range(levels):
        _level_segment(ax, rows, level, font)
    ax.set_yticks(range(len(rows)), labels)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    _style_axes(ax, font, "x")
    names = [o["label"] for o in next(q for q in questions if q["options"])["options"]]
    ax.legend(names, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              ncols=min(3, len(names)) if narrow else len(names),
              frameon=False, prop=_sized(font, 9))
    return fig


def _base(question: dict) -> str:
    """A conditional question's bar covers only those it applied to: say how many."""
    applicable = question.get("applicable")
    return "" if applicable is None else f"（适用 {applicable} 人）"


def _level_segment(ax, rows, level: int, font) -> None:
    shares = [_share(q, level) for q in rows]
    lefts = [sum(_share(q, i) for i in range(level)) for q in rows]
    colour = LEVEL_COLOURS[min(level, len(LEVEL_COLOURS) - 1)]
    # Numeric positions: two questions with the same text must stay two bars.
    bars = ax.barh(range(len(rows)), shares, left=lefts, color=colour, height=0.62,
                   edgecolor="white", linewidth=0.6)
    text_colour = "white" if level in (0, len(LEVEL_COLOURS) - 1) else INK
    for bar, share in zip(bars, shares, strict=True):
        if share >= 0.07:
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2,
                    percent(share, 0), ha="center", va="center", color=text_colour,
                    fontproperties=_sized(font, 8))


def _share(question: dict, level: int) -> float:
    options = question["options"]
    return (options[level]["share"] or 0.0) if level < len(options) else 0.0


def daily_chart(figures: dict, font, width: float = HALF_WIDTH) -> Figure:
    """Returned and valid responses per day."""
    fig = _new_figure(width, 3.4)
    days = figures["per_day"]
    if not days:
        return _empty(fig, font, "所选时间范围内暂无答卷")
    ax = fig.subplots()
    when = [dt.date.fromisoformat(d["date"]) for d in days]
    width = 0.8 if len(days) < 120 else 1.0
    ax.bar(when, [d["returned"] for d in days], width=width, color="#b8c4d0", label="回收")
    ax.bar(when, [d["valid"] for d in days], width=width * 0.55, color=ACCENT, label="有效")
    ax.set_ylim(0, max(d["returned"] for d in days) * 1.25)  # room for the legend
    # At least a week on the axis, so a survey's first day is not one bar across the chart.
    span = max(dt.timedelta(days=6), when[-1] - when[0])
    ax.set_xlim(when[0] - dt.timedelta(days=1), when[0] + span + dt.timedelta(days=1))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=10))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("份数", fontproperties=_sized(font, 9), color=MUTED)
    _style_axes(ax, font, "y")
    ax.legend(loc="upper left", frameon=False, prop=_sized(font, 9), ncols=2)
    return fig


def rate_chart(rows: list[dict], font, empty: str = "暂无可比较的满意率",
               width: float = HALF_WIDTH) -> Figure:
    """Satisfaction rates with their 95% Wilson intervals as error bars.

    rows: {"label", "rate", "ci": [low, high], "n"}, top to bottom; rows without a rate are
    listed with "无数据" so a missing channel is visible rather than silently dropped.
    """
    fig = _new_figure(width, 1.2 + 0.45 * max(1, len(rows)))
    if not any(r["rate"] is not None for r in rows):
        return _empty(fig, font, empty)
    ax = fig.subplots()
    shown = list(reversed(rows))
    labels = [f"{r['label']}（n={r['n'] or 0}）" for r in shown]
    rates = [r["rate"] or 0.0 for r in shown]
    errors = [[max(0.0, (r["rate"] or 0) - r["ci"][0]) if r["ci"] else 0 for r in shown],
              [max(0.0, r["ci"][1] - (r["rate"] or 0)) if r["ci"] else 0 for r in shown]]
    ax.barh(range(len(shown)), rates, xerr=errors, color=ACCENT, height=0.55,
            error_kw={"ecolor": INK, "capsize": 4, "elinewidth": 1.1})
    ax.set_yticks(range(len(shown)), labels)
    for y, r in enumerate(shown):
        text = "无数据" if r["rate"] is None else percent(r.get("exact") or r["rate"], 1)
        ax.text(0.01, y, text, va="center", ha="left", color="white" if r["rate"] else MUTED,
                fontproperties=_sized(font, 8.5))
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("满意率（误差线为 95% 置信区间）", fontproperties=_sized(font, 9), color=MUTED)
    _style_axes(ax, font, "x")
    return fig


# Titles, labels, channels and question texts are user text: a "$" must never start mathtext
# (a "$\\frac{1}{0}$" title would raise while drawing) nor LaTeX. Set once for the process, so
# the tick labels matplotlib creates while drawing are plain too.
matplotlib.rcParams["text.parse_math"] = False
matplotlib.rcParams["text.usetex"] = False


def plain_text(fig: Figure) -> Figure:
    """Every text already in `fig` drawn literally: no mathtext, no LaTeX."""
    for text in fig.findobj(Text):
        text.set_parse_math(False)
        text.set_usetex(False)
    return fig


def to_bytes(fig: Figure, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ChartError(f"不支持的图表格式：{fmt}")
    out = io.BytesIO()
    # No creation date or version stamp in the file: nothing in it but the data.
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    plain_text(fig).savefig(out, format=fmt, dpi=PRINT_DPI if fmt == "png" else 100, metadata=metadata)
    return out.getvalue()


CHARTS = {
    "levels": ("各题满意程度分布", question_levels_chart),
    "daily": ("每日答卷数", daily_chart),
    "channels": ("各渠道满意率", rate_chart),
    "series": ("历年满意率对比", rate_chart),
}


def render(kind: str, data, fmt: str, font_path: Path | None = None, phone: bool = False) -> bytes:
    """The chart `kind` of `data` as SVG or PNG bytes (the one entry point views call)."""
    if kind not in CHARTS:
        raise ChartError(f"未知的图表：{kind}")
    sized = {"width": PHONE_WIDTH} if phone else {}
    return to_bytes(CHARTS[kind][1](data, chart_font(font_path), **sized), fmt)
