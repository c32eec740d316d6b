"""QR codes, posters and `survey qr`: every image is decoded by an independent reader
(zxing-cpp) and must give back the survey's absolute public URL with its channel tag."""
import io
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from survey.io import qr
from survey.io.poster import wrap_title
from survey.store import builder as builder_store

from ..conftest import PASSWORD, csrf_token_from
from .test_builder import answer, post, query

BASE = "https://survey.example.gov.cn"
CHANNELS = ["", "窗口 3", "大厅海报", "A&B #1?", "社区服务站（西）"]
SVG_NS = "{http://www.w3.org/2000/svg}"


def decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def rasterise_svg(svg: bytes, scale: int = 6) -> bytes:
    """Draw segno's path (M/m moves, h runs of dark modules) into a PNG, without segno."""
    root = ElementTree.fromstring(svg)
    size = int(float(root.get("viewBox").split()[2]))
    (path,) = [p for p in root.iter(f"{SVG_NS}path") if p.get("stroke") == "#000"]
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for command, args in re.findall(r"([A-Za-z])([^A-Za-z]*)", path.get("d")):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        elif command == "h":
            row = int(y)  # the stroke runs along the middle of its row of modules
            draw.rectangle([x * scale, row * scale, (x + numbers[0]) * scale - 1,
                            (row + 1) * scale - 1], fill=0)
            x += numbers[0]
        else:
            raise AssertionError(f"unexpected SVG path command {command}")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def assert_url(decoded: str, survey: dict, channel: str) -> None:
    parts = urlsplit(decoded)
    assert f"{parts.scheme}://{parts.netloc}" == BASE
    assert parts.path == f"/s/{survey['token']}"
    params = parse_qs(parts.query)
    assert params["via"] == ["qr"]
    if channel:
        assert params["ch"] == [channel]
    else:
        assert "ch" not in params


@pytest.fixture
def based(app):
    app.config["BASE_URL"] = BASE + "/"
    return app


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/s/abc?via=qr",
                                 "https://a.gov.cn/s/" + "x" * 22 + "?via=qr&ch=%E7%AA%97"])
def test_png_and_svg_decode_to_the_url(url):
    assert decode(qr.qr_png(url, 8)) == [url]
    assert decode(rasterise_svg(qr.qr_svg(url))) == [url]


@pytest.mark.parametrize("scale", [0, qr.PNG_SCALE_MAX + 1])
def test_png_scale_is_bounded(scale):
    with pytest.raises(qr.QrFormatError):
        qr.qr_png("http://x/s/a", scale)


@pytest.mark.parametrize("name,kind", [("a.svg", "svg"), ("B.PNG", "png"), ("x.y.png", "png")])
def test_kind_from_file_name(name, kind):
    assert qr.qr_kind(name) == kind


@pytest.mark.parametrize("name", ["a.pdf", "svg", "a.", "poster.jpeg"])
def test_unknown_file_kind_is_refused_in_chinese(name):
    with pytest.raises(qr.QrFormatError, match="须以 .svg 或 .png 结尾"):
        qr.qr_kind(name)


@pytest.mark.parametrize("channel", CHANNELS)
def test_web_png_decodes_to_absolute_public_url_with_channel(based, client, auth, make_survey,
                                                             channel):
    survey = make_survey()
    auth.login()
    response = client.get(f"/staff/surveys/{survey['id']}/qr.png",
                          query_string={"ch": channel})
    assert response.status_code == 200 and response.mimetype == "image/png"
    (decoded,) = decode(response.data)
    assert_url(decoded, survey, channel)


@pytest.mark.parametrize("channel", ["", "窗口 3"])
def test_web_svg_has_the_path_and_decodes(based, client, auth, make_survey, channel):
    survey = make_survey()
    auth.login()
    response = client.get(f"/staff/surveys/{survey['id']}/qr.svg",
                          query_string={"ch": channel, "download": "1"})
    assert response.mimetype == "image/svg+xml"
    assert "attachment" in response.headers["Content-Disposition"]
    assert b'<path class="qrline"' in response.data and b"<script" not in response.data
    (decoded,) = decode(rasterise_svg(response.data))
    assert_url(decoded, survey, channel)


def test_without_base_url_the_request_host_is_used(client, make_survey):
    survey = make_survey()
    host = "http://hall.local:8080"
    login = client.get("/staff/login", base_url=host).get_data(as_text=True)
    client.post("/staff/login", base_url=host, data={
        "username": "alice", "password": PASSWORD, "csrf_token": csrf_token_from(login)})
    png = client.get(f"/staff/surveys/{survey['id']}/qr.png", base_url=host).data
    assert decode(png) == [f"http://hall.local:8080/s/{survey['token']}?via=qr"]


def test_scanned_url_reaches_the_form_and_records_the_channel(based, client, auth, app,
                                                              make_survey):
    survey = make_survey()
    auth.login()
    (decoded,) = decode(client.get(f"/staff/surveys/{survey['id']}/qr.png",
                                   query_string={"ch": "窗口 3"}).data)
    parts = urlsplit(decoded)
    html = client.get(f"{parts.path}?{parts.query}").get_data(as_text=True)
    assert survey["title"] in html
    assert query(app, "SELECT channel FROM form_views WHERE survey_id = ?",
                 [survey["id"]]) == [("窗口 3",)]


@pytest.mark.parametrize("suffix", ["/qr.png", "/qr.svg", "/poster", "/poster.png"])
def test_too_long_channel_is_400(client, auth, make_survey, suffix):
    survey = make_survey()
    auth.login()
    response = client.get(f"/staff/surveys/{survey['id']}{suffix}", query_string={"ch": "长" * 41})
    assert response.status_code == 400


@pytest.mark.parametrize("scale", ["0", "41", "abc"])
def test_bad_png_scale_is_400_or_default(client, auth, make_survey, scale):
    survey = make_survey()
    auth.login()
    response = client.get(f"/staff/surveys/{survey['id']}/qr.png", query_string={"scale": scale})
    # A non-number falls back to the default size; a number out of range is refused.
    assert response.status_code == (200 if scale == "abc" else 400)


def test_poster_page_is_printable_a4_with_everything_on_it(based, client, auth, make_survey):
    survey = make_survey(title="2024 年群众满意度调查")
    auth.login()
    html = client.get(f"/staff/surveys/{survey['id']}/poster",
                      query_string={"ch": "大厅海报"}).get_data(as_text=True)
    assert "测试部门" in html and "2024 年群众满意度调查" in html
    assert "请用手机扫码参与满意度调查" in html and "大厅海报" in html
    assert f'src="/staff/surveys/{survey["id"]}/qr.svg?ch=%E5%A4%A7%E5%8E%85%E6%B5%B7%E6%8A%A5"' \
        in html
    assert 'class="sheet"' in html and "style=" not in html and "<script>" not in html
    css = (Path(based.static_folder) / "staff.css").read_text(encoding="utf-8")
    assert re.search(r"@page a4poster \{ size: A4; margin: 0; \}", css)
    assert re.search(r"\.sheet \{ page: a4poster; width: 210mm; height: 297mm;", css)


def test_poster_png_is_a4_and_decodes(based, client, auth, make_survey):
    survey = make_survey()
    auth.login()
    response = client.get(f"/staff/surveys/{survey['id']}/poster.png",
                          query_string={"ch": "窗口 3", "download": "1"})
    assert response.mimetype == "image/png"
    assert "attachment" in response.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(response.data))
    assert abs(image.height / image.width - 297 / 210) < 0.01
    (decoded,) = decode(response.data)
    assert_url(decoded, survey, "窗口 3")


def test_qr_page_lists_channels_saved_and_seen(app, client, auth, make_survey):
    survey = make_survey()
    answer(app, survey["id"], channel="窗口 9")
    auth.login()
    path = f"/staff/surveys/{survey['id']}/qr"
    assert post(client, auth, path, {"name": " 大厅海报 "}).status_code == 303
    html = client.get(path).get_data(as_text=True)
    for label in ("通用（不区分渠道）", "大厅海报", "窗口 9"):
        assert f"<h2>{label}</h2>" in html
    assert "ch=%E5%A4%A7%E5%8E%85%E6%B5%B7%E6%8A%A5" in html
    response = post(client, auth, path + "/remove", {"name": "大厅海报"}, path)
    assert response.status_code == 303
    with app.app_context():
        from survey.web.db import get_db
        assert builder_store.channel_names(get_db(), survey["id"]) == ["窗口 9"]


@pytest.mark.parametrize("name,message", [("", "请填写渠道名称"), ("长" * 41, "渠道名称最多 40 个字")])
def test_bad_channel_name_is_refused_and_kept(app, client, auth, make_survey, name, message):
    survey = make_survey()
    auth.login()
    response = post(client, auth, f"/staff/surveys/{survey['id']}/qr", {"name": name})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert f'value="{name}"' in html or not name
    assert query(app, "SELECT count(*) FROM survey_channels") == [(0,)]


@pytest.mark.parametrize("channel", ["", "窗口 3"])
def test_cli_png_decodes_to_base_url(based, runner, make_survey, tmp_path, channel):
    survey = make_survey()
    out = tmp_path / "code.png"
    args = ["qr", str(survey["id"]), "-o", str(out)] + (["--channel", channel] if channel else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    (decoded,) = decode(out.read_bytes())
    assert_url(decoded, survey, channel)
    assert decoded in result.output


def test_cli_svg_by_token_decodes(based, runner, make_survey, tmp_path):
    survey = make_survey()
    out = tmp_path / "code.svg"
    # "--": a random token may begin with "-", which click would read as an option.
    result = runner.invoke(args=["qr", "-o", str(out), "--channel", "大厅海报", "--",
                                 survey["token"]])
    assert result.exit_code == 0, result.output
    (decoded,) = decode(rasterise_svg(out.read_bytes()))
    assert_url(decoded, survey, "大厅海报")


@pytest.mark.parametrize("args,message", [
    (["-o", "code.pdf"], "须以 .svg 或 .png 结尾"),
    (["-o", "code.png", "--channel", "长" * 41], "渠道名称最多 40 个字"),
])
def test_cli_bad_arguments_fail_in_chinese(runner, make_survey, tmp_path, monkeypatch, args,
                                           message):
    survey = make_survey()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(args=["qr", str(survey["id"]), *args])
    assert result.exit_code != 0 and message in result.output
    assert list(tmp_path.glob("code.*")) == []


def test_cli_unknown_survey_fails(runner, tmp_path):
    result = runner.invoke(args=["qr", "nosuch", "-o", str(tmp_path / "a.png")])
    assert result.exit_code != 0 and "找不到问卷：nosuch" in result.output


def _width(text: str) -> float:
    return sum(0.5 if c.isascii() else 1.0 for c in text)


@given(st.text(st.sampled_from("满意度调查问卷年度窗口服务2024 AB（）"), max_size=80))
def test_poster_title_wraps_within_width_and_keeps_the_text(title):
    lines = wrap_title(title)
    assert 1 <= len(lines) <= 3
    assert all(_width(line) <= 16.5 for line in lines if not line.endswith("…"))
    if not lines[-1].endswith("…"):
        assert "".join(lines).replace(" ", "") == title.replace(" ", "")


def test_poster_png_draws_dollar_signs_literally(based, client, auth, make_survey):
    """A title, department or channel with "$" is user text, never mathtext."""
    survey = make_survey(title=r"$\frac{1}{0}$ 群众满意度调查 $\sqrt{$")
    auth.login()
    for channel in ["$x^2$ 窗口", r"窗口 $\sqrt{$"]:
        response = client.get(f"/staff/surveys/{survey['id']}/poster.png",
                              query_string={"ch": channel, "download": "1"})
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        assert_url(decode(response.data)[0], survey, channel)


LOOPBACK_WARNING = "手机和平板无法打开。请设置 SURVEY_BASE_URL="


@pytest.mark.parametrize("host, warned", [("127.0.0.1:8000", True), ("localhost", True),
                                          ("127.1.2.3:8000", True), ("[::1]:8000", True),
                                          ("192.168.1.20:8000", False),
                                          ("survey.example.gov.cn", False)])
def test_loopback_warning_for_loopback_hosts_only(app, host, warned):
    from survey.web.urls import loopback_warning
    with app.test_request_context("/", base_url=f"http://{host}"):
        warning = loopback_warning()
    assert (warning is not None) is warned
    if warned:
        assert warning.startswith("此二维码指向本机地址 ") and LOOPBACK_WARNING in warning


def test_qr_and_poster_pages_warn_when_codes_point_at_loopback(client, auth, make_survey):
    survey = make_survey()
    auth.login()  # the test client's host is "localhost"
    for path in ["/qr", "/poster?ch=窗口 3"]:
        html = client.get(f"/staff/surveys/{survey['id']}{path}").get_data(as_text=True)
        assert "此二维码指向本机地址 localhost" in html and LOOPBACK_WARNING in html, path


def test_qr_pages_do_not_warn_with_a_base_url(based, client, auth, make_survey):
    survey = make_survey()
    auth.login()
    for path in ["/qr", "/poster?ch=窗口 3"]:
        html = client.get(f"/staff/surveys/{survey['id']}{path}").get_data(as_text=True)
        assert "二维码" in html and LOOPBACK_WARNING not in html


def test_cli_qr_warns_on_stderr_without_a_base_url(runner, make_survey, tmp_path):
    survey = make_survey()
    result = runner.invoke(args=["qr", str(survey["id"]), "-o", str(tmp_path / "a.png")])
    assert result.exit_code == 0, result.output
    assert "此二维码指向本机地址 127.0.0.1" in result.stderr
    assert LOOPBACK_WARNING in result.stderr and LOOPBACK_WARNING not in result.stdout


def test_cli_qr_does_not_warn_with_a_base_url(based, runner, make_survey, tmp_path):
    survey = make_survey()
    result = runner.invoke(args=["qr", str(survey["id"]), "-o", str(tmp_path / "a.png")])
    assert result.exit_code == 0 and not result.stderr
