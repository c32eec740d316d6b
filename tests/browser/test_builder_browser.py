"""The builder in real Chromium: build a survey from the template, open it, set up a channel,
print its poster on one A4 page, and scan the printed code into the citizen's form."""
import io
import re

import pytest
import zxingcpp
from PIL import Image

from .conftest import ARTIFACTS, image_shown, screenshot

pytestmark = pytest.mark.browser


def _create_from_template(staff_page, live_server) -> int:
    staff_page.click("text=新建问卷")
    staff_page.check("input[name=template][value=satisfaction-5]")
    staff_page.fill("#year", "2026")
    staff_page.check("input[name=satisfied_levels][value='3']")
    staff_page.click("button:has-text('创建问卷')")
    staff_page.wait_for_url(re.compile(r".*/staff/surveys/\d+/manage$"))
    return int(staff_page.url.split("/")[-2])


def _scan(png: bytes) -> str:
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return code.text


def test_build_open_and_print_poster(staff_page, page, live_server):
    staff_page.goto(live_server.url + "/staff/")
    survey_id = _create_from_template(staff_page, live_server)
    assert "2026 年群众满意度调查问卷" in staff_page.locator("h1").inner_text()
    assert staff_page.locator(".survey-title .status").inner_text() == "草稿"
    screenshot(staff_page, "builder-overview-draft")

    staff_page.click("button:has-text('开放收集')")
    staff_page.wait_for_selector(".flash")
    assert staff_page.locator(".survey-title .status").inner_text() == "收集中"

    staff_page.click("nav.tabs >> text=题目")
    assert staff_page.locator(".question-item").count() == 12
    # 您不满意的原因 and its 其他 text say when they are asked
    assert "（仅当第8题选择“不满意”或“非常不满意”时回答）" in staff_page.locator(
        ".question-item").nth(8).inner_text()
    assert staff_page.locator(".question-item").first.locator("li.sat").count() == 3
    screenshot(staff_page, "builder-questions")

    staff_page.click("nav.tabs >> text=二维码/海报")
    staff_page.fill("#name", "大厅海报")
    staff_page.click("button:has-text('添加')")
    card = staff_page.locator(".qr-card", has=staff_page.locator("h2", has_text="大厅海报"))
    assert image_shown(card.locator("img"))
    screenshot(staff_page, "builder-qr-codes")

    card.locator("text=A4 海报（打印）").click()
    staff_page.wait_for_selector(".sheet")
    assert staff_page.locator("[data-print]").is_visible()  # the script un-hid the button
    screenshot(staff_page, "poster-screen")
    staff_page.emulate_media(media="print")
    assert not staff_page.locator(".topbar").is_visible()
    assert not staff_page.locator(".poster-tools").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = staff_page.pdf(path=str(ARTIFACTS / "poster-print.pdf"), prefer_css_page_size=True,
                         print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    (media_box,) = set(re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf))
    width, height = (float(v) for v in media_box.split()[2:])
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    printed = staff_page.locator(".sheet").screenshot(path=str(ARTIFACTS / "poster-print.png"))

    url = _scan(printed)
    assert url.startswith(f"{live_server.url}/s/") and "via=qr" in url and "ch=" in url
    page.goto(url)
    assert page.locator("h1").inner_text() == "2026 年群众满意度调查问卷"
    screenshot(page, "builder-scanned-form-phone")
    channel = live_server.db_value(
        "SELECT channel FROM form_views WHERE survey_id = ?", [survey_id])
    assert channel == "大厅海报"
