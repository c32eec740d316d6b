"""The `survey` command line, through click's runner."""
import json

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
