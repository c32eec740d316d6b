"""The `survey` command line, through click's runner."""
import json
import re

import pytest

from survey.cli import cli
from survey.web.db import get_db


def test_every_command_has_help_text():
    for name, command in cli.commands.items():
        if name in ("run", "shell", "routes"):
            continue
        assert command.help and any("\u4e00" <= ch <= "\u9fff" for ch in command.help), name


def test_init_is_idempotent(runner, app):
    first = runner.invoke(args=["init"])
    second = runner.invoke(args=["init"])
    assert first.exit_code == second.exit_code == 0
    assert app.config["DATABASE"] in second.output


def test_create_user_reads_password_from_stdin(runner, app):
    result = runner.invoke(args=["create-user", "carol", "--department", "新部门", "--role", "staff",
                                 "--password-stdin"], input="a-long-password\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        from survey.store.accounts import authenticate
        user = authenticate(get_db(), "carol", "a-long-password")
    assert user and user["role"] == "staff"


@pytest.mark.parametrize("password, message", [("short", "至少需要 8 位")])
def test_create_user_rejects_weak_password_in_chinese(runner, password, message):
    result = runner.invoke(args=["create-user", "dave", "--department", "部门", "--password-stdin"],
                           input=password + "\n")
    assert result.exit_code != 0
    assert message in result.output


def test_set_password_disable_and_enable_a_user(runner, app):
    from survey.store.accounts import authenticate
    from tests.conftest import PASSWORD, Auth
    bob = app.test_client()
    assert Auth(bob).login("bob").status_code == 302
    result = runner.invoke(args=["set-password", "bob", "--password-stdin"], input="another-password\n")
    assert result.exit_code == 0, result.output
    assert bob.get("/staff/").status_code == 302  # the old session ended
    with app.app_context():
        assert authenticate(get_db(), "bob", "another-password")
        assert not authenticate(get_db(), "bob", PASSWORD)
    assert Auth(bob).login("bob", "another-password").status_code == 302
    assert runner.invoke(args=["disable-user", "bob"]).exit_code == 0
    assert bob.get("/staff/").status_code == 302
    assert Auth(bob).login("bob", "another-password").status_code == 200  # refused
    assert runner.invoke(args=["enable-user", "bob"]).exit_code == 0
    assert Auth(bob).login("bob", "another-password").status_code == 302


@pytest.mark.parametrize("args, stdin, message", [
    (["set-password", "nobody", "--password-stdin"], "a-long-password\n", "找不到用户：nobody"),
    (["set-password", "bob", "--password-stdin"], "short\n", "至少需要 8 位"),
    (["disable-user", "nobody"], "", "找不到用户"),
    (["enable-user", "nobody"], "", "找不到用户"),
])
def test_account_commands_fail_in_chinese(runner, args, stdin, message):
    result = runner.invoke(args=args, input=stdin)
    assert result.exit_code != 0 and message in result.output


def test_new_survey_prints_id_token_and_url(runner, app):
    result = runner.invoke(args=["new-survey", "--department", "测试部门", "--title", "窗口满意度",
                                 "--template", "satisfaction-5"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["url"].endswith(f"/s/{data['token']}")
    assert len(data["token"]) >= 20
    with app.app_context():
        title = get_db().execute("SELECT title FROM surveys WHERE id = ?", [data["id"]]).fetchone()
    assert title[0] == "窗口满意度"


def test_demo_then_summary_counts_its_responses(runner):
    result = runner.invoke(args=["demo", "--responses", "30"])
    assert result.exit_code == 0, result.output
    assert "信阳市平桥区人力资源和社会保障局" in result.output and "密码" in result.output
    token = result.output.split("/s/")[1].split()[0]
    summary = json.loads(runner.invoke(args=["summary", token, "--json"]).output)
    assert summary["returned"] == 30
    first = summary["questions"][0]
    assert sum(o["count"] for o in first["options"]) == first["answered"] <= summary["valid"]
    assert "满意率 =" in summary["definitions"]["satisfaction_rate"]


@pytest.mark.parametrize("args, base", [
    ([], "http://127.0.0.1:8000"),
    (["--port", "8123"], "http://127.0.0.1:8123"),
    (["--host", "0.0.0.0", "--port", "9000"], "http://127.0.0.1:9000"),
    (["--host", "192.168.1.20"], "http://192.168.1.20:8000"),
])
def test_demo_prints_links_for_the_address_it_will_be_served_on(runner, args, base):
    result = runner.invoke(args=["demo", "--responses", "0", *args])
    assert result.exit_code == 0, result.output
    assert f"{base}/staff/login" in result.output and f"{base}/s/" in result.output
    assert "原报告本身的数据矛盾" in result.output


def test_demo_links_follow_the_configured_base_url(app, runner):
    app.config["BASE_URL"] = "https://survey.example.gov.cn/"
    result = runner.invoke(args=["demo", "--responses", "0", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "https://survey.example.gov.cn/staff/login" in result.output
    assert "https://survey.example.gov.cn/s/" in result.output and "8123" not in result.output


def test_demo_assessment_page_says_its_findings_are_the_reports_own(runner, client, auth):
    output = runner.invoke(args=["demo", "--responses", "20"]).output
    password = output.split("密码 ")[1].split()[0]
    auth.login("demo", password)
    assessments = client.get("/staff/assessments").get_data(as_text=True)
    assessment_id = re.search(r'href="/staff/assessments/(\d+)"', assessments).group(1)
    html = client.get(f"/staff/assessments/{assessment_id}").get_data(as_text=True)
    assert 'id="seed-note"' in html and "来自原报告本身的数据矛盾" in html
    assert "关联问卷年度与评价年度不一致：问卷“2026 年度群众满意度调查”为 2026 年度，本评价为 2022 年度" in html


def test_summary_of_unknown_survey_fails_in_chinese(runner):
    result = runner.invoke(args=["summary", "no-such-survey", "--json"])
    assert result.exit_code != 0
    assert "找不到问卷" in result.output


@pytest.mark.parametrize("processes", ["1", "2"])
def test_serve_on_a_busy_port_fails_in_one_chinese_line(runner, processes):
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(args=["serve", "--host", "127.0.0.1", "--port", str(port),
                                     "--processes", processes])
    assert result.exit_code == 1, result.output
    assert result.stderr == f"端口 {port} 已被占用：请换一个端口（--port）或先停止占用它的程序。\n"
    assert "Traceback" not in result.output and "服务已启动" not in result.output


def test_archive_and_restore_survey(app, runner, make_survey):
    survey = make_survey()
    archived = runner.invoke(args=["archive", str(survey["id"])])
    assert archived.exit_code == 0 and "已归档" in archived.output
    again = runner.invoke(args=["archive", survey["token"]])
    assert again.exit_code != 0 and "已归档" in again.output
    with app.app_context():
        assert get_db().execute("SELECT archived_at FROM surveys").fetchone()[0]
    restored = runner.invoke(args=["restore-survey", str(survey["id"])])
    assert restored.exit_code == 0 and "已恢复" in restored.output
    with app.app_context():
        assert get_db().execute("SELECT archived_at FROM surveys").fetchone()[0] is None


DEFINITION = {"questions": [
    {"kind": "scale", "text": "您对本次办事是否满意？", "required": True},
    {"kind": "multiple", "text": "您不满意的原因是？", "required": True,
     "options": ["等候时间长", "其他"], "show_if": {"question": 1, "answers": ["不满意", "非常不满意"]}},
]}


def test_new_survey_from_a_definition_file_keeps_its_condition(runner, app, tmp_path):
    path = tmp_path / "def.json"
    path.write_text(json.dumps(DEFINITION, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["new-survey", "--department", "测试部门", "--title", "一事一评",
                                 "--from", str(path), "--open"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["url"].endswith(f"/s/{data['token']}") and data["status"] == "open"
    with app.app_context():
        rows = get_db().execute(
            "SELECT q.id, q.show_if_question_id, q.show_if_option_ids FROM questions q "
            "WHERE survey_id = ? ORDER BY position", [data["id"]]).fetchall()
        labels = [r[0] for r in get_db().execute(
            "SELECT label FROM options WHERE id IN (SELECT value FROM json_each(?))", [rows[1][2]])]
    assert rows[1][1] == rows[0][0] and sorted(labels) == ["不满意", "非常不满意"]


def test_new_survey_from_a_bad_file_lists_every_mistake_and_stores_nothing(runner, app, tmp_path):
    bad = json.loads(json.dumps(DEFINITION))
    bad["questions"][1]["show_if"] = {"question": 2, "answers": ["还行"]}
    bad["questions"].append({"kind": "single", "text": "", "options": ["是"]})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["new-survey", "--department", "新部门", "--title", "坏问卷",
                                 "--from", str(path)])
    assert result.exit_code == 2
    assert "3 处问题，未创建问卷" in result.output
    for message in ("第 2 题：显示条件只能依据排在本题之前的题目", "第 3 题：缺少题目文字",
                    "第 3 题：选项应有 2 到 30 个"):
        assert message in result.output
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM surveys").fetchone()[0] == 0
        assert get_db().execute(
            "SELECT count(*) FROM departments WHERE name = '新部门'").fetchone()[0] == 0


@pytest.mark.parametrize("content, message", [
    (b"{not json", "不是有效的 JSON：第 1 行"),
    ("{}".encode("utf-16"), "UTF-8"),
    (b"[]", "JSON 对象"),
])
def test_new_survey_from_an_unreadable_file_says_why(runner, tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    result = runner.invoke(args=["new-survey", "--department", "部门", "--title", "标题",
                                 "--from", str(path)])
    assert result.exit_code == 2 and message in result.output


def test_served_queue_does_not_log_each_waiting_request(caplog):
    """waitress logs "Task queue depth" from its I/O thread, under its queue lock, for every
    request that finds the threads busy; `survey serve` keeps only its errors."""
    import logging

    from waitress.task import ThreadedTaskDispatcher

    from survey.web import serve
    queue_logger = logging.getLogger("waitress.queue")
    level = queue_logger.level
    try:
        caplog.set_level(logging.WARNING)
        ThreadedTaskDispatcher().add_task(object())  # no threads: the task waits
        assert "Task queue depth" in caplog.text
        caplog.clear()
        serve._quiet_queue_warnings()
        ThreadedTaskDispatcher().add_task(object())
        assert caplog.text == ""
    finally:
        queue_logger.setLevel(level)
