"""The assessment as printed by Chromium (page.pdf, print media, the page's own @page size):
A4 pages, the annex's column header repeated on every page it continues on, no near-empty
page. Pages are read back with pypdf."""
import io
import unicodedata

import pytest

from .a11y import login
from .conftest import ARTIFACTS, DESKTOP
from .test_assessment_browser import _full_marks_assessment

pytestmark = pytest.mark.browser
A4_MM = sorted((210, 297))
MIN_CHARS = 120  # a page with only a footnote or a signature line is "near empty"
LAST_MIN_CHARS = 60
ANNEX_HEAD = "未完成原因分析及改进措施"
TREE_HEAD = "评分规则与计算"  # the workspace's indicator tree: its last header cell


def _pdf_pages(page, name: str) -> list[tuple[str, tuple[float, float]]]:
    from pypdf import PdfReader
    page.emulate_media(media="print")
    data = page.pdf(prefer_css_page_size=True, print_background=True)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(data)
    reader = PdfReader(io.BytesIO(data))
    # The CJK font's glyphs come back partly as compatibility ideographs (⼀ for 一): NFKC.
    return [(unicodedata.normalize("NFKC", p.extract_text() or ""), (float(p.mediabox.width), float(p.mediabox.height)))
            for p in reader.pages]


def _mm(points: float) -> int:
    return round(points / 72 * 25.4)


def _assert_a4_and_full(pages, name):
    for number, (text, size) in enumerate(pages, 1):
        assert sorted(_mm(x) for x in size) == A4_MM, (name, number, size)
        chars = len("".join(text.split()))
        # the last page ends a flowing text: it needs more than a signature line, no more
        assert chars >= (LAST_MIN_CHARS if number == len(pages) else MIN_CHARS), (
            f"{name}: page {number} of {len(pages)} is near empty ({chars} chars)")


@pytest.fixture
def staff(browser, live_server):
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def test_assessment_annex_prints_on_a4_with_repeated_headers(staff, live_server):
    assessment_id, _ = _full_marks_assessment(live_server)
    with live_server.app.app_context():
        from survey.store import accounts
        from survey.web.db import get_db
        db = get_db()
        dept = accounts.department_by_name(db, "信阳市平桥区人力资源和社会保障局")["id"]
        accounts.create_user(db, "bob", "correct-horse-battery", dept, "staff")
    login(staff, live_server, "bob")
    staff.goto(f"{live_server.url}/staff/assessments/{assessment_id}/print")
    pages = _pdf_pages(staff, "assessment-print")
    print(f"annex print view: {len(pages)} pages")
    _assert_a4_and_full(pages, "print view")
    _assert_header_on_every_page(pages, ANNEX_HEAD, "print view")
    assert len(pages) <= 10, f"{len(pages)} pages"

    staff.emulate_media(media="screen")
    staff.goto(f"{live_server.url}/staff/assessments/{assessment_id}")
    pages = _pdf_pages(staff, "assessment-workspace-print")
    print(f"workspace: {len(pages)} pages")
    _assert_a4_and_full(pages, "workspace")
    _assert_header_on_every_page(pages, TREE_HEAD, "workspace")


def _assert_header_on_every_page(pages, head: str, name: str) -> None:
    """The indicator table runs from the page its header first shows on to the page of its
    合计 row (评价等级), and every page in between shows the header again."""
    texts = ["".join(text.split()) for text, _ in pages]
    first = next(i for i, text in enumerate(texts) if head in text)
    last = next(i for i, text in enumerate(texts) if i >= first and "评价等级" in text and "合计" in text)
    assert last > first, f"{name}: the indicator table should continue over pages"
    missing = [i + 1 for i in range(first, last + 1) if head not in texts[i]]
    assert not missing, f"{name}: pages {missing} continue the indicator table without its header"
