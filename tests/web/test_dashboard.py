"""The survey dashboard and the department overview, through the test client."""
import datetime as dt
import html as html_lib
import re
import secrets

import pytest

from survey.core.labels import percent as format_percent
from survey.io import charts
from survey.store import dashboard as board
from survey.store.responses import Submission, record_response
from survey.store.tallies import TallyFilter, survey_figures
from survey.store.util import local_day, utc_now
from survey.web.db import get_db

from ..conftest import csrf_token_from, with_reasons


def answer(app, survey, level=0, *, channel="", source="qr", days_ago=0, text=None,
           duration=60.0) -> int:
    """Store one response answering every choice question at `level`; returns its id."""
    answers = {}
    for q in survey["questions"]:
        if q["kind"] in ("scale", "single"):
            answers[q["id"]] = [q["options"][min(level, len(q["options"]) - 1)]["id"]]
        elif q["kind"] == "text" and text is not None:
            answers[q["id"]] = text
    when = utc_now() - dt.timedelta(days=days_ago)
    with app.app_context():
        response_id, _ = record_response(get_db(), survey, survey["questions"], Submission(
            answers=with_reasons(survey["questions"], answers), nonce=secrets.token_hex(8), source=source, channel=channel,
            duration_seconds=duration, received_at=when))
    return response_id


def figures_of(app, survey, flt=TallyFilter()) -> dict:
    with app.app_context():
        return survey_figures(get_db(), survey, flt)


def shown(html: str) -> dict:
    return {k: html_lib.unescape(v.strip())
            for k, v in re.findall(r'data-figure="(\w+)">([^<]*)<', html)}


def page(client, survey, query=None) -> str:
    response = client.get(f"/staff/surveys/{survey['id']}/", query_string=query or {})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def survey(make_survey):
    return make_survey(series="群众满意度调查", year=2023)


@pytest.fixture
def answered(app, survey):
    for level, channel in [(0, "窗口 1"), (0, "窗口 1"), (1, "大厅海报"), (3, ""), (4, "窗口 1")]:
        answer(app, survey, level, channel=channel, text=f"建议{level}")
    answer(app, survey, 0, duration=1.0, channel="窗口 1")  # too fast: excluded
    return survey


def survey_urls(survey, response_id):
    base = f"/staff/surveys/{survey['id']}"
    return [f"{base}/", f"{base}/live", f"{base}/charts/levels.svg", f"{base}/charts/daily.png",
            f"{base}/charts/channels.svg", f"{base}/excluded",
            f"{base}/responses/{response_id}"]


def test_logged_out_visitor_is_sent_to_login_from_every_url(client, answered):
    for url in survey_urls(answered, 1) + ["/staff/overview", "/staff/overview/series.svg"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/staff/login" in response.headers["Location"]


def test_another_department_gets_404_for_every_url_of_the_survey(client, auth, answered):
    auth.login("mallory")
    for url in survey_urls(answered, 1):
        assert client.get(url).status_code == 404, url
    token = auth.csrf("/staff/users")
    response = client.post(f"/staff/surveys/{answered['id']}/responses/1",
                           data={"valid": "1", "reason": "试图篡改", "csrf_token": token})
    assert response.status_code == 404
    overview = client.get("/staff/overview").get_data(as_text=True)
    assert answered["title"] not in overview
    assert client.get("/staff/overview/series.svg?series=群众满意度调查").status_code == 404


def test_response_of_another_survey_is_404_under_this_one(app, client, auth, make_survey,
                                                          answered):
    other = make_survey()
    foreign = answer(app, other, 0)
    auth.login()
    assert client.get(f"/staff/surveys/{answered['id']}/responses/{foreign}").status_code == 404


def test_headline_figures_equal_survey_figures_with_definitions(app, client, auth, answered):
    auth.login("bob")
    html = page(client, answered)
    figures = figures_of(app, answered)
    assert shown(html) == {
        "issued": "未登记", "returned": str(figures["returned"]), "valid": str(figures["valid"]),
        "satisfaction_rate": format_percent(figures["satisfaction_rate"]),
        "satisfaction_index": f"{figures['satisfaction_index']:.2f}"}
    low, high = figures["satisfaction_rate_ci95"]
    assert f"{format_percent(low, 1)} – {format_percent(high, 1)}" in html
    assert "±" + format_percent(figures["margin_of_error"], 1) in html
    for key in ("satisfaction_rate", "satisfaction_index", "valid_rate", "returned"):
        assert figures["definitions"][key] in html_lib.unescape(html)
    assert "非常满意、满意" in html  # which levels count as satisfied, in words
    assert "线性分值方案" in html


def test_small_sample_shows_the_precision_warning(app, client, auth, answered):
    auth.login()
    html = page(client, answered)
    assert "样本量提示" in html and "无法区分" in html


def test_survey_without_answers_shows_dashes_not_errors(client, auth, survey):
    auth.login()
    html = page(client, survey)
    assert shown(html)["returned"] == "0"
    assert shown(html)["satisfaction_rate"] == "—"
    assert "无有效回答，无法计算" in html
    assert "样本量提示" not in html


def test_form_views_are_shown_beside_issued(app, client, auth, survey):
    client.get(f"/s/{survey['token']}?via=qr")
    auth.login()
    assert "打开问卷 1 次" in page(client, survey)


@pytest.mark.parametrize("query, flt", [
    ({"channel": "窗口 1"}, TallyFilter(channel="窗口 1")),
    ({"source": "web"}, TallyFilter(source="web")),
    ({"day_from": local_day(utc_now())}, TallyFilter(day_from=local_day(utc_now()))),
    ({"day_to": local_day(utc_now() - dt.timedelta(days=1))},
     TallyFilter(day_to=local_day(utc_now() - dt.timedelta(days=1)))),
])
def test_filters_change_every_figure(app, client, auth, answered, query, flt):
    answer(app, answered, 2, source="web", channel="窗口 2", days_ago=3)
    auth.login()
    filtered = figures_of(app, answered, flt)
    unfiltered = figures_of(app, answered)
    assert filtered["returned"] != unfiltered["returned"]
    assert shown(page(client, answered, query))["returned"] == str(filtered["returned"])
    assert shown(page(client, answered, query))["satisfaction_rate"] == format_percent(
        filtered["satisfaction_rate"])


@pytest.mark.parametrize("query, message", [
    ({"day_from": "2026-13-45"}, "日期格式应为"),
    ({"day_from": "yesterday"}, "日期格式应为"),
    ({"day_from": "2026-03-10", "day_to": "2026-03-01"}, "结束日期不能早于开始日期"),
    ({"channel": "不存在的窗口"}, "请从列表中选择"),
    ({"source": "fax"}, "请从列表中选择"),
    ({"q": "长" * 101}, "搜索词最多 100 个字"),
])
def test_bad_filter_input_is_a_chinese_message_not_an_error(client, auth, answered, query,
                                                            message):
    auth.login()
    html = page(client, answered, query)
    assert message in html
    assert shown(html)["returned"] == "6"  # the bad field is ignored, not half-applied


def test_filter_keeps_what_was_typed_and_dates_in_either_form(client, auth, answered):
    auth.login()
    html = page(client, answered, {"day_from": "2020-1-5"})
    assert 'value="2020-01-05"' in html
    assert "当前仅统计：2020-01-05 至 今天" in html


def test_question_table_has_counts_and_shares(app, client, auth, answered):
    auth.login()
    html = page(client, answered)
    q = figures_of(app, answered)["questions"][0]
    option = q["options"][0]
    assert (f'data-option="{option["option_id"]}">{option["count"]}'
            f'<span class="share">{format_percent(option["share"], 1)}</span>') in html
    assert q["text"] in html


def test_free_text_is_escaped_newest_first_and_searchable(app, client, auth, survey):
    answer(app, survey, text="大厅停车位太少")
    answer(app, survey, text="<script>alert('x')</script>")
    answer(app, survey, text="100% 满意")
    auth.login()
    html = page(client, survey)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(" in html
    assert html.index("100% 满意") < html.index("&lt;script&gt;") < html.index("大厅停车位太少")
    found = page(client, survey, {"q": "停车"})
    assert "大厅停车位太少" in found and "100% 满意" not in found
    literal = page(client, survey, {"q": "%"})  # '%' is searched for, not a wildcard
    assert "100% 满意" in literal and "大厅停车位太少" not in literal


def test_suggestions_are_paginated(app, client, auth, survey):
    for i in range(board.Page([], 0, 1, 20).per_page + 3):
        answer(app, survey, text=f"第{i:02d}条建议")
    auth.login()
    first, second = page(client, survey), page(client, survey, {"page": "2"})
    assert "第22条建议" in first and "第02条建议" not in first
    assert "第02条建议" in second and "第 2 / 2 页" in second
    assert "第22条建议" in page(client, survey, {"page": "abc"})
    assert page(client, survey, {"page": "99"}).count("条建议</p>") == 3


def test_charts_are_svg_in_the_page_and_png_for_download(client, auth, answered):
    auth.login()
    html = page(client, answered)
    svg_urls = re.findall(r'<img src="([^"]+\.svg[^"]*)"', html)
    assert len(svg_urls) == 3
    for url in svg_urls:
        response = client.get(html_lib.unescape(url))
        assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    png = client.get(f"/staff/surveys/{answered['id']}/charts/levels.png")
    assert png.data.startswith(b"\x89PNG") and png.mimetype == "image/png"
    assert "attachment" in png.headers["Content-Disposition"]
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []  # no inline script (CSP)


@pytest.fixture
def counted(monkeypatch):
    calls = {"render": 0, "figures": 0}
    real_render, real_figures = charts.render, board.dashboard_figures

    def render(*args, **kwargs):
        calls["render"] += 1
        return real_render(*args, **kwargs)

    def figures(*args, **kwargs):
        calls["figures"] += 1
        return real_figures(*args, **kwargs)

    monkeypatch.setattr(charts, "render", render)
    monkeypatch.setattr(board, "dashboard_figures", figures)
    return calls


def test_charts_and_figures_are_cached_until_new_data(app, client, auth, answered, counted):
    auth.login()
    url = f"/staff/surveys/{answered['id']}/charts/levels.svg"
    first = client.get(url)
    page(client, answered)
    assert counted == {"render": 1, "figures": 1}
    again = client.get(url)
    page(client, answered)
    assert counted == {"render": 1, "figures": 1}
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    answer(app, answered, 4)
    changed = client.get(url)
    assert counted == {"render": 2, "figures": 2}
    assert changed.headers["ETag"] != first.headers["ETag"]


def test_a_form_view_refreshes_figures_but_not_charts(client, auth, answered, counted):
    auth.login()
    url = f"/staff/surveys/{answered['id']}/charts/daily.svg"
    client.get(url)
    client.get(f"/s/{answered['token']}")
    client.get(url)
    page(client, answered)
    assert counted == {"render": 1, "figures": 2}


def test_a_validity_decision_invalidates_the_cache(app, client, auth, answered, counted):
    auth.login()
    page(client, answered)
    with app.app_context():
        from survey.store.responses import set_validity
        set_validity(get_db(), 1, False, "测试", None)
    page(client, answered)
    assert counted["figures"] == 2


def test_chart_etag_gives_304_without_drawing(client, auth, answered, counted):
    auth.login()
    url = f"/staff/surveys/{answered['id']}/charts/channels.svg"
    first = client.get(url)
    assert first.headers["Last-Modified"] and "no-cache" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and counted["render"] == 1


def test_each_filter_has_its_own_chart(client, auth, answered):
    auth.login()
    url = f"/staff/surveys/{answered['id']}/charts/levels.svg"
    everyone = client.get(url).headers["ETag"]
    window = client.get(url, query_string={"channel": "窗口 1"}).headers["ETag"]
    assert everyone != window


@pytest.mark.parametrize("url", ["charts/pie.svg", "charts/levels.gif"])
def test_unknown_chart_is_404(client, auth, answered, url):
    auth.login()
    assert client.get(f"/staff/surveys/{answered['id']}/{url}").status_code == 404


def test_issued_below_returned_is_explained_beside_the_figures(app, client, auth, answered):
    with app.app_context():
        get_db().table("issued_batches").insert({"survey_id": answered["id"], "count": 2,
                                                 "recorded_at": "2026-01-01T00:00:00+00:00"})
    auth.login()
    html = page(client, answered)
    assert shown(html)["issued"] == "2" and shown(html)["returned"] == "6"
    assert "超过登记的发放份数" in html


def test_broken_figure_settings_are_explained_not_a_500(app, client, auth, answered):
    text_question = next(q for q in answered["questions"] if q["kind"] == "text")
    with app.app_context():
        get_db().execute("UPDATE surveys SET settings = json_set(settings, "
                         "'$.headline_question_id', ?) WHERE id = ?",
                         [text_question["id"], answered["id"]])
    auth.login()
    html = page(client, answered)
    assert "无法计算统计数字" in html and "总体满意度题目不存在" in html
    chart = client.get(f"/staff/surveys/{answered['id']}/charts/levels.svg")
    assert chart.status_code == 409 and "总体满意度题目不存在" in chart.get_data(as_text=True)
    assert "总体满意度题目不存在" in client.get("/staff/overview").get_data(as_text=True)


def test_live_version_changes_with_new_data(app, client, auth, answered):
    auth.login()
    url = f"/staff/surveys/{answered['id']}/live"
    before = client.get(url).get_json()["version"]
    assert client.get(url).get_json()["version"] == before
    answer(app, answered, 0)
    assert client.get(url).get_json()["version"] != before


def test_open_survey_page_refreshes_with_and_without_javascript(client, auth, answered,
                                                                make_survey):
    auth.login()
    html = page(client, answered)
    assert '<noscript><meta http-equiv="refresh"' in html
    assert "dashboard.js" in html and "data-live-url" in html
    closed = make_survey(status="closed")
    assert "http-equiv" not in page(client, closed)


def test_excluded_responses_are_listed_with_reasons(client, auth, answered):
    auth.login()
    html = client.get(f"/staff/surveys/{answered['id']}/excluded").get_data(as_text=True)
    assert "共 1 份" in html and "答题用时过短" in html


def test_lookup_by_response_number(client, auth, answered):
    auth.login()
    base = f"/staff/surveys/{answered['id']}/excluded"
    found = client.get(base + "?response=2")
    assert found.status_code == 302 and found.headers["Location"].endswith("/responses/2")
    missing = client.get(base + "?response=99999", follow_redirects=True)
    assert "没有编号为 99999 的答卷" in missing.get_data(as_text=True)


def _excluded_id(app, survey) -> int:
    with app.app_context():
        return get_db().execute(
            "SELECT r.id FROM responses r JOIN screening s ON s.response_id = r.id "
            "WHERE r.survey_id = ? AND s.valid = 0", [survey["id"]]).fetchone()[0]


def test_manual_decision_counts_and_is_kept_with_who_and_when(app, client, auth, answered):
    auth.login("bob")
    rid = _excluded_id(app, answered)
    url = f"/staff/surveys/{answered['id']}/responses/{rid}"
    before = figures_of(app, answered)["valid"]
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={"valid": "1", "reason": "电话回访核实为本人填写",
                                      "csrf_token": token})
    assert response.status_code == 302
    assert figures_of(app, answered)["valid"] == before + 1
    html = client.get(url).get_data(as_text=True)
    assert "电话回访核实为本人填写" in html and "bob" in html and "人工判定为有效" in html
    log = client.get(f"/staff/surveys/{answered['id']}/excluded").get_data(as_text=True)
    assert "电话回访核实为本人填写" in log and f"第 {rid} 号" in log
    assert shown(page(client, answered))["valid"] == str(before + 1)


@pytest.mark.parametrize("data, message", [
    ({"valid": "0", "reason": "   "}, "请填写判定理由"),
    ({"reason": "没有选结果"}, "请选择判定结果"),
    ({"valid": "2", "reason": "非法值"}, "请从列表中选择"),
    ({"valid": "0", "reason": "长" * 201}, "最多 200 个字"),
])
def test_bad_decision_is_refused_with_a_message_and_nothing_stored(app, client, auth, answered,
                                                                   data, message):
    auth.login()
    url = f"/staff/surveys/{answered['id']}/responses/1"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    response = client.post(url, data={**data, "csrf_token": token})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM validity_decisions").fetchone()[0] == 0


def test_decision_without_csrf_token_is_refused(app, client, auth, answered):
    auth.login()
    response = client.post(f"/staff/surveys/{answered['id']}/responses/1",
                           data={"valid": "0", "reason": "无令牌"})
    assert response.status_code == 400


def _series(app, make_survey, rates):
    made = []
    for year, levels in rates:
        survey = make_survey(series="群众满意度调查", year=year, title=f"{year} 年群众满意度调查")
        for level in levels:
            answer(app, survey, level)
        made.append(survey)
    return made


def test_overview_lists_every_survey_and_compares_years(app, client, auth, make_survey):
    _series(app, make_survey, [(2023, [0, 0, 0, 3]), (2022, [0, 3, 3, 3])])
    make_survey(title="专项调查（无系列）")
    auth.login()
    html = client.get("/staff/overview").get_data(as_text=True)
    assert "专项调查（无系列）" in html and "2022 年群众满意度调查" in html
    comparison = html[html.index("<h2>历年对比</h2>"):]
    assert comparison.index("2022 年") < comparison.index("2023 年")
    assert "75.00%" in comparison and "25.00%" in comparison
    assert "+50.0 个百分点" in comparison
    chart = client.get("/staff/overview/series.svg?series=群众满意度调查")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    assert client.get("/staff/overview/series.svg?series=没有").status_code == 404


def test_series_chart_is_cached(app, client, auth, make_survey, counted):
    _series(app, make_survey, [(2022, [0]), (2023, [1])])
    auth.login()
    url = "/staff/overview/series.png?series=群众满意度调查"
    assert client.get(url).data.startswith(b"\x89PNG")
    client.get(url)
    assert counted["render"] == 1


@pytest.mark.parametrize("url", [
    "/?page=100000000000000000000000", "/?page=-5", "/excluded?page=99999999999999999999999",
    "/excluded?response=99999999999999999999999", "/excluded?response=１２",
    "/responses/99999999999999999999999"])
def test_hostile_numbers_are_not_errors(client, auth, answered, url):
    auth.login()
    response = client.get(f"/staff/surveys/{answered['id']}{url}", follow_redirects=True)
    assert response.status_code in (200, 404)
