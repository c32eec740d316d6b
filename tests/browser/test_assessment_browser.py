"""A finance officer in real headless Chromium edits an actual value: the score, the total and
the grade change — first as a preview while typing, then saved. And the same without script."""
import pytest
from playwright.sync_api import expect

from survey.store import accounts
from survey.store import assessment_indicators as tree
from survey.store import assessments as store
from survey.web.db import get_db

from ..conftest import PASSWORD
from .conftest import DESKTOP, screenshot

pytestmark = pytest.mark.browser
DEPARTMENT = "信阳市平桥区人力资源和社会保障局"


def _full_marks_assessment(live_server) -> tuple[int, int]:
    """A dept-2022 assessment with every target met (100 points); returns it and 群众满意度's id."""
    with live_server.app.app_context():
        db = get_db()
        dept = accounts.department_by_name(db, DEPARTMENT)["id"]
        assessment_id = store.create_assessment(db, dept, 2025, "2025 年度部门整体支出绩效自评",
                                                template="dept-2022")
        assessment = store.get_assessment(db, assessment_id)
        for row in tree.rows(db, assessment_id):
            if not row["child_ids"]:
                actual = {"<=": "0%", ">=": "100%", "=": "100%"}.get(row["comparison"], row["target"])
                tree.update_indicator(db, assessment, row["id"], {"actual": actual}, None)
        satisfaction = next(r for r in tree.rows(db, assessment_id) if r["name"] == "群众满意度")
    return assessment_id, satisfaction["id"]


def _figures(page, row_id):
    return (page.locator("#as-total").inner_text(), page.locator("#as-grade").inner_text(),
            page.locator(f'#ind-{row_id} [data-score-for="{row_id}"]').inner_text())


def test_editing_an_actual_changes_score_total_and_grade(staff_page, live_server):
    assessment_id, row_id = _full_marks_assessment(live_server)
    page = staff_page
    page.goto(f"{live_server.url}/staff/assessments/{assessment_id}")
    assert _figures(page, row_id) == ("100.00", "优", "15.00")
    page.locator(f"#ind-{row_id} input[name=actual]").fill("20%")
    # the preview: 15 × 20% / 90% = 3.33, so 88.33 and 良, before anything is saved
    expect(page.locator("#as-total")).to_have_text("88.33")
    assert _figures(page, row_id) == ("88.33", "良", "3.33")
    assert page.locator(".as-preview-note").is_visible()
    page.locator(f"#ind-{row_id}").scroll_into_view_if_needed()
    screenshot(page, "assessment-actual-preview")
    page.locator(f"#ind-{row_id} button[type=submit]").click()
    page.wait_for_url(f"**/staff/assessments/{assessment_id}#ind-{row_id}")
    assert _figures(page, row_id) == ("88.33", "良", "3.33")
    assert not page.locator(".as-preview-note").is_visible()
    assert "样本" not in page.locator(f"#ind-{row_id}").inner_text()
    screenshot(page, "assessment-actual-saved")
    stored = live_server.db_value("SELECT actual FROM assessment_indicators WHERE id = ?", [row_id])
    assert stored == "20%"


def test_the_workspace_works_without_script(browser, live_server):
    assessment_id, row_id = _full_marks_assessment(live_server)
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/staff/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/staff/assessments/{assessment_id}")
    page.locator(f"#ind-{row_id} input[name=actual]").fill("60%")
    page.locator(f"#ind-{row_id} button[type=submit]").click()
    page.wait_for_url(f"**#ind-{row_id}")
    assert _figures(page, row_id) == ("95.00", "优", "10.00")  # 15 × 60% / 90%
    screenshot(page, "assessment-workspace-no-script")
    context.close()
