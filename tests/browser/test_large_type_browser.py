"""大字版: a plain link switches the citizen's form to larger type and stronger contrast; the
choice is kept by the form's own URL through errors and the thanks page, with JavaScript off and
no cookies (WeChat), and the signed ticket still works. A larger browser text size grows the
questions and answers, not only the title."""
import pytest

from .conftest import screenshot
from .test_public_browser import _answer_all

pytestmark = pytest.mark.browser


def _size(page, selector: str) -> float:
    return page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")


def test_large_type_switch_is_kept_without_script_or_cookies(browser, live_server):
    survey = live_server.open_survey()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    context.route("**/*", lambda route: route.continue_(headers={
        k: v for k, v in route.request.headers.items() if k.lower() != "cookie"}))
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{survey['token']}?via=qr&ch=窗口 3")
    normal = _size(page, ".choice span"), _size(page, ".question legend")
    page.click(".size-switch a")
    page.wait_for_url("**large=1**")
    assert "via=qr" in page.url and "ch=" in page.url
    assert page.locator("html.large").count() == 1
    large = _size(page, ".choice span"), _size(page, ".question legend")
    assert all(big >= 1.2 * small for big, small in zip(large, normal, strict=True))
    assert page.locator(".size-switch a").inner_text() == "标准版"
    assert live_server.db_value("SELECT sum(views) FROM form_views") == 1  # the switch is no new view
    page.click("button.submit")  # nothing answered: the error page keeps the large type
    page.wait_for_selector(".error-summary")
    assert page.locator("html.large").count() == 1
    _answer_all(page, survey)
    page.click("button.submit")
    page.wait_for_url(f"**/s/{survey['token']}/thanks?large=1")
    assert page.locator("html.large").count() == 1
    screenshot(page, "public-thanks-large-390")
    context.close()
    assert live_server.db_value("SELECT count(*) FROM responses") == 1
    assert live_server.db_value("SELECT channel FROM responses") == "窗口 3"


def test_larger_browser_text_grows_questions_and_answers(browser, live_server):
    survey = live_server.open_survey()
    sizes = {}
    for default in (16, 24):
        context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
        page = context.new_page()
        page.goto(f"{live_server.url}/s/{survey['token']}")
        # a larger default text size, as the browser's or the system's text setting gives
        page.add_style_tag(content=f"html {{ font-size: {default}px !important; }}")
        sizes[default] = [_size(page, s) for s in (".choice span", ".question legend",
                                                   ".hint, .optional, .privacy", "h1")]
        context.close()
    assert all(big >= 1.45 * small for big, small in zip(sizes[24], sizes[16], strict=True)), sizes
    assert min(sizes[16]) >= 16  # no citizen text below the body size
