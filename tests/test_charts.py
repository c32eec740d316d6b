"""Charts: real Chinese glyphs (no missing-glyph boxes), SVG and PNG output, empty data."""
import warnings
from pathlib import Path

import matplotlib
import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure

from survey.io import charts

CHINESE = "非常满意 满意 基本满意 不满意 非常不满意 窗口 大厅海报 每日答卷数 未标注渠道"


def _figures(level_counts=(50, 30, 10, 6, 4), days=(("2026-03-01", 5, 4), ("2026-03-02", 7, 7))):
    answered = sum(level_counts)
    labels = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
    options = [{"option_id": i + 1, "label": label, "value": 100 - 20 * i, "satisfied": i < 2,
                "count": c, "share": c / answered if answered else None}
               for i, (label, c) in enumerate(zip(labels, level_counts, strict=True))]
    question = {"question_id": 1, "position": 1, "text": "您对窗口工作人员的服务态度是否满意？",
                "kind": "scale", "answered": answered, "options": options}
    text_question = {"question_id": 2, "position": 2, "text": "意见建议", "kind": "text",
                     "answered": 3, "options": []}
    return {"questions": [question, text_question],
            "per_day": [{"date": d, "returned": r, "valid": v} for d, r, v in days]}


RATES = [{"label": "窗口 1", "rate": 0.9, "ci": [0.8, 0.95], "n": 40},
         {"label": "未标注渠道", "rate": None, "ci": None, "n": 0}]


def _fonts():
    found = [pytest.param(charts.bundled_font_path(), id="mplfonts-bundled")]
    system = charts.system_font_path()
    found.append(pytest.param(system, id="system", marks=pytest.mark.skipif(
        system is None, reason="no system CJK font on this machine")))
    return found


def _draw_text(font_props, text: str) -> None:
    fig = Figure(figsize=(4, 1))
    fig.text(0.05, 0.5, text, fontproperties=font_props)
    charts.to_bytes(fig, "png")


def test_bundled_font_is_the_openly_licensed_noto():
    path = charts.bundled_font_path()
    assert path is not None and path.name == "NotoSansCJKsc-Regular.otf"


@pytest.mark.parametrize("font_path", _fonts())
def test_chinese_labels_render_without_missing_glyph_warning(font_path):
    props = charts.chart_font(font_path)
    assert "simhei" not in str(props.get_file()).lower()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _draw_text(props, CHINESE)
        for kind, data in (("levels", _figures()), ("daily", _figures()), ("channels", RATES)):
            assert charts.render(kind, data, "png", font_path=font_path)


@pytest.mark.parametrize("font_path", _fonts())
def test_the_simplified_chinese_face_is_chosen(font_path):
    face = font_manager.get_font(charts.chart_font(font_path).get_file())
    assert face.family_name.endswith(" SC")


def test_a_latin_only_font_would_warn_so_the_check_can_fail():
    # The font file matplotlib ships, not a family lookup: a bare Debian has no system fonts, and
    # there findfont("DejaVu Sans") fails once a CJK font has been registered.
    latin = font_manager.FontProperties(
        fname=str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"))
    with pytest.warns(UserWarning, match="Glyph .* missing"):
        _draw_text(latin, CHINESE)


def test_the_chosen_font_is_never_simhei():
    assert "simhei" not in charts.cjk_font_path().name.lower()


@pytest.mark.parametrize("kind, data", [("levels", _figures()), ("daily", _figures()),
                                        ("channels", RATES), ("series", RATES)])
def test_svg_and_png_output(kind, data):
    svg = charts.render(kind, data, "svg")
    png = charts.render(kind, data, "png")
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_png_is_at_print_resolution():
    png = charts.render("daily", _figures(), "png")
    width = int.from_bytes(png[16:20], "big")
    assert width == int(charts.HALF_WIDTH * charts.PRINT_DPI)


@pytest.mark.parametrize("kind, data", [
    ("levels", _figures(level_counts=(0, 0, 0, 0, 0), days=())),
    ("daily", _figures(days=())),
    ("channels", []),
    ("channels", [{"label": "窗口 1", "rate": None, "ci": None, "n": 0}]),
])
def test_empty_data_gives_a_chart_saying_so(kind, data):
    svg = charts.render(kind, data, "svg")
    assert b"<svg" in svg
    # Glyphs are drawn as paths; the message is in the SVG's text comments.
    assert "暂无".encode() in svg


@pytest.mark.parametrize("kind, fmt", [("pie", "svg"), ("levels", "gif")])
def test_unknown_kind_or_format_is_a_chart_error(kind, fmt):
    with pytest.raises(charts.ChartError):
        charts.render(kind, _figures(), fmt)


def test_questions_with_the_same_text_keep_their_own_bars():
    figures = _figures()
    figures["questions"].append({**figures["questions"][0], "question_id": 3, "position": 3})
    fig = charts.question_levels_chart(figures, charts.chart_font())
    assert len(fig.axes[0].patches) == 2 * 5
    assert len(fig.axes[0].get_yticklabels()) == 2


@pytest.fixture
def fresh_font_choice():
    charts.cjk_font_path.cache_clear()
    yield
    charts.cjk_font_path.cache_clear()


def test_without_a_system_font_the_bundled_one_is_used(monkeypatch, fresh_font_choice):
    monkeypatch.setattr(charts, "system_font_path", lambda: None)
    assert charts.cjk_font_path() == charts.bundled_font_path()


def test_a_system_simhei_is_never_chosen(tmp_path, monkeypatch, fresh_font_choice):
    simhei = tmp_path / "SimHei.ttf"
    simhei.write_bytes(b"not really a font")
    monkeypatch.setattr(charts, "SYSTEM_FONT_FILES", (str(simhei),))
    assert charts.system_font_path() is None
    assert charts.cjk_font_path() != simhei


def test_no_font_at_all_is_a_chinese_error(monkeypatch, fresh_font_choice):
    monkeypatch.setattr(charts, "system_font_path", lambda: None)
    monkeypatch.setattr(charts, "bundled_font_path", lambda: None)
    with pytest.raises(charts.ChartError, match="未找到中文字体"):
        charts.cjk_font_path()


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_dollar_signs_in_user_text_are_drawn_literally(fmt):
    """Channel labels and question texts are user text: "$" must not start mathtext."""
    figures = _figures()
    figures["questions"][0]["text"] = r"收费 $5 还是 $\frac{1}{0}$ 元？"
    figures["questions"][0]["options"][0]["label"] = "$x^2$ 满意"
    rates = [{**RATES[0], "label": "$x^2$ 窗口"}, {**RATES[1], "label": r"$\frac{1}{0}$"}]
    for kind, data in [("levels", figures), ("channels", rates), ("series", rates)]:
        assert charts.render(kind, data, fmt)
    fig = charts.rate_chart(rates, charts.chart_font())
    charts.to_bytes(fig, fmt)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert r"$\frac{1}{0}$（n=0）" in labels
    assert not any(t.get_parse_math() for t in fig.findobj(charts.Text))
