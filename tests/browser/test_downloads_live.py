"""Every staff download through the real waitress server, for a survey with a Chinese title:
waitress answers a bare 500 to a header value that is not latin-1."""
import http.cookiejar
import urllib.parse
import urllib.request

from survey.core.transactions import Transaction
from survey.store import accounts, windows
from survey.store import assessments as assessment_store
from survey.web.db import get_db

from ..conftest import PASSWORD, csrf_token_from

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _opener(live_server):
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(live_server.url + "/staff/login").read().decode()
    body = urllib.parse.urlencode({"username": "alice", "password": PASSWORD,
                                   "csrf_token": csrf_token_from(page)}).encode()
    opener.open(live_server.url + "/staff/login", body).read()
    return opener


def test_every_download_has_a_latin1_rfc6266_header_under_waitress(live_server):
    survey = live_server.open_survey(title="平桥区“窗口 3”群众满意度调查（测试）")
    with live_server.app.app_context():
        db = get_db()
        dept = accounts.department_by_name(db, "信阳市平桥区人力资源和社会保障局")["id"]
        assessment_id = assessment_store.create_assessment(db, dept, 2025, "2025 年度自评",
                                                           template="dept-2022")
        windows.invite(db, survey["id"], Transaction("PQ2026-0001", "窗口 3"), 7)
    s, ch = f"/staff/surveys/{survey['id']}", "ch=" + urllib.parse.quote("窗口 3")
    downloads = {
        f"{s}/export?format=csv": "text/csv",
        f"{s}/export?format=csv&encoding=gb18030": "text/csv",
        f"{s}/export?format=xlsx": XLSX,
        f"{s}/export?format=summary-xlsx": XLSX,
        f"{s}/export?format=summary-csv": "text/csv",
        f"{s}/evidence.zip": "application/zip",
        f"{s}/import-template.xlsx": XLSX,
        f"{s}/import-template.csv": "text/csv",
        f"{s}/charts/levels.png": "image/png",
        f"{s}/charts/daily.png": "image/png",
        f"{s}/charts/channels.png": "image/png",
        f"{s}/qr.svg?{ch}&download=1": "image/svg+xml",
        f"{s}/qr.png?{ch}&download=1": "image/png",
        f"{s}/qr.png?ch=&download=1": "image/png",
        f"{s}/poster.png?{ch}&download=1": "image/png",
        f"/api/v1/surveys/{survey['id']}/invitations/PQ2026-0001/qr.png?download=1": "image/png",
        f"/api/v1/surveys/{survey['id']}/invitations/PQ2026-0001/qr.svg?download=1":
            "image/svg+xml",
        f"/staff/assessments/{assessment_id}/report.xlsx": XLSX,
        f"/staff/assessments/{assessment_id}/evidence.zip": "application/zip",
        f"/staff/assessments/{assessment_id}/text?format=txt": "text/plain",
        "/staff/cases/export.csv?status=all": "text/csv",
        "/staff/cases/export.xlsx?status=all": XLSX,
    }
    opener = _opener(live_server)
    for path, content_type in downloads.items():
        with opener.open(live_server.url + path) as response:
            assert response.status == 200, path
            assert response.headers["Content-Type"].startswith(content_type), path
            disposition = response.headers["Content-Disposition"]
            assert disposition.startswith("attachment; filename=\""), (path, disposition)
            assert "filename*=UTF-8''" in disposition, (path, disposition)
            disposition.encode("latin-1")  # http.client decodes headers as latin-1
            disposition.encode("ascii")
            assert response.read(), path
