"""Paper questionnaires from CSV/XLSX: the template, every bad file, all-or-nothing imports."""
import csv
import io

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.io import exports, paper_import
from survey.io.paper_import import (
    ImportFileError,
    ImportValidationError,
    column_header,
    import_file,
    plan_import,
    template_csv,
    template_xlsx,
)
from survey.store import StoreError
from survey.store import imports as import_store

from .io_fixtures import fresh_store, make_survey


@pytest.fixture
def store_db(tmp_path):
    yield from fresh_store(tmp_path)


LIMIT = 1024 * 1024


@pytest.fixture
def paper(store_db):
    survey, questions = make_survey(store_db)
    return store_db, survey, questions


def _header(questions) -> list[str]:
    return [column_header(q) for q in questions]


def _csv(rows: list[list[str]], encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def _xlsx_from_template(survey, questions, rows: list[list]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx(survey["title"], questions)))
    for row in rows:
        book["答卷录入"].append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _stored(db, survey_id) -> tuple[int, int]:
    responses = db.execute("SELECT count(*) FROM responses WHERE survey_id = ?",
                           [survey_id]).fetchone()[0]
    files = db.execute("SELECT count(*) FROM imports").fetchone()[0]
    return responses, files


GOOD_ROWS = [["非常满意", "社会保险", "网站；海报", "很方便"],
             ["100", "就业创业", "", ""],
             ["不满意", "其他", "朋友介绍", "=1+2"]]


def test_template_xlsx_lists_questions_and_allowed_answers(paper):
    _, survey, questions = paper
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx(survey["title"], questions)))
    assert book.sheetnames == ["答卷录入", "可选答案", "填写说明"]
    entry, allowed = book["答卷录入"], book["可选答案"]
    assert [c.value for c in entry[1]] == _header(questions)
    assert entry.freeze_panes == "A2"
    for column, q in enumerate(questions, start=1):
        listed = [allowed.cell(row, column).value for row in range(2, len(q["options"]) + 2)]
        assert listed == [o["label"] for o in q["options"]]
    lists = {str(v.sqref)[0]: v.formula1
             for v in entry.data_validations.dataValidation}
    assert set(lists) == {"A", "B"}  # the scale and the single-choice question
    assert lists["A"] == "'可选答案'!$A$2:$A$6"


def test_template_csv_is_the_header_with_a_bom(paper):
    _, _, questions = paper
    data = template_csv(questions)
    assert data.startswith(b"\xef\xbb\xbf")
    assert next(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == _header(questions)


@pytest.mark.parametrize("kind", ["xlsx", "utf-8-sig", "utf-8", "gb18030"])
def test_import_then_export_gives_the_same_answers(paper, kind):
    db, survey, questions = paper
    if kind == "xlsx":
        name, data = "纸质.xlsx", _xlsx_from_template(survey, questions, GOOD_ROWS)
    else:
        name, data = "纸质.csv", _csv([_header(questions), *GOOD_ROWS], kind)
    result = import_file(db, survey, questions, name, data, max_bytes=LIMIT, channel="窗口 3")
    assert (result.imported, result.valid) == (3, 3)
    table = exports.raw_table(db, survey, questions)
    rows = [list(r) for r in table.rows]
    assert [r[7:] for r in rows] == [
        ["非常满意", "社会保险", "网站；海报", "很方便"],
        ["非常满意", "就业创业", None, None],  # '100' matched the option's value
        ["不满意", "其他", "朋友介绍", "=1+2"]]
    assert {(r[2], r[3], r[4]) for r in rows} == {("纸质问卷", "窗口 3", None)}


def test_an_imported_row_is_screened_hash_chained_and_tallied(paper):
    db, survey, questions = paper
    import_file(db, survey, questions, "a.csv", _csv([_header(questions), *GOOD_ROWS]),
                max_bytes=LIMIT)
    rows = list(db.query("SELECT source, duration_seconds, nonce, prev_hash FROM responses"))
    assert all(r["source"] == "paper" and r["duration_seconds"] is None for r in rows)
    assert len({r["nonce"] for r in rows}) == 3 and rows[0]["prev_hash"] == "0" * 64
    paper_total = db.execute("SELECT sum(returned), sum(valid) FROM response_tallies "
                             "WHERE source = 'paper'").fetchone()
    assert tuple(paper_total) == (3, 3)


def _problems(paper, name: str, data: bytes) -> list[str]:
    db, survey, questions = paper
    with pytest.raises(ImportValidationError) as caught:
        import_file(db, survey, questions, name, data, max_bytes=LIMIT)
    assert _stored(db, survey["id"]) == (0, 0)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("row, expected", [
    (["很满意", "社会保险", "", ""], "A 列“1. 总体来说您是否满意？”：“很满意”不是该题的选项"),
    (["", "社会保险", "", ""], "第 2 行，A 列“1. 总体来说您是否满意？”：必答题未作答"),
    (["满意", "", "", ""], "第 2 行，B 列“2. 办理的业务”：必答题未作答"),
    (["满意", "社会保险；其他", "", ""], "B 列“2. 办理的业务”：该题为单选题，只能填一个选项"),
    (["满意", "社会保险", "网站；电视", ""], "C 列“3. 您是如何了解到本服务的？”：“电视”不是"),
    (["55", "社会保险", "", ""], "“55”不是该题的选项（可填：非常满意、满意、基本满意、不满意、"
                                 "非常不满意，或分值 100、80、60、40、20）"),
    (["满意", "社会保险", "", "长" * 1001], "意见建议最多 1000 字"),
])
def test_a_bad_answer_names_row_and_column_and_imports_nothing(paper, row, expected):
    _, _, questions = paper
    problems = _problems(paper, "a.csv", _csv([_header(questions), row]))
    assert len(problems) == 1 and expected in problems[0]
    assert problems[0].startswith("第 2 行，")


def test_every_problem_is_listed_at_once(paper):
    _, _, questions = paper
    rows = [_header(questions), ["差", "", "", ""], GOOD_ROWS[0], ["满意", "失业", "", ""]]
    problems = _problems(paper, "a.csv", _csv(rows))
    assert [p.split("，")[0] for p in problems] == ["第 2 行", "第 2 行", "第 4 行"]


@pytest.mark.parametrize("change, expected", [
    (lambda h: ["题目一", *h[1:]], ["A 列“题目一”：不是本问卷的题目", "缺少列“1. 总体来说"]),
    (lambda h: h[:-1], ["缺少列“4. 意见建议”"]),
    (lambda h: [*h, "备注"], ["E 列“备注”：不是本问卷的题目"]),
    (lambda h: [*h[:3], h[0]], ["D 列“1. 总体来说您是否满意？”：与前面的列重复",
                                "缺少列“4. 意见建议”"]),
])
def test_wrong_missing_or_extra_columns_are_named(paper, change, expected):
    _, _, questions = paper
    header = change(_header(questions))
    problems = _problems(paper, "a.csv", _csv([header, GOOD_ROWS[0] + [""]]))
    for text in expected:
        assert any(text in p for p in problems), problems


def test_a_header_may_be_the_question_text_alone(paper):
    db, survey, questions = paper
    header = [q["text"] for q in questions]
    result = import_file(db, survey, questions, "a.csv", _csv([header, GOOD_ROWS[0]]),
                         max_bytes=LIMIT)
    assert result.imported == 1


@pytest.mark.parametrize("name, data, message", [
    ("a.csv", b"", "文件是空的"),
    ("a.csv", b"  \r\n", "文件是空的"),
    ("a.csv", "1. 总体来说您是否满意？\r\n".encode("utf-8-sig"), "缺少列"),
    ("a.csv", b"\xff\xfe\xfa\xfb\x81\x20", "无法识别文件编码"),
    ("a.csv", "\ufeffa,b".encode("utf-16"), "不是文本格式的 CSV"),
    ("a.xlsx", b"this is not a spreadsheet", "不是有效的 Excel"),
    ("a.xlsx", b"PK\x03\x04 broken zip", "不是有效的 Excel"),
    ("a.xls", b"\xd0\xcf\x11\xe0 old excel", "不支持旧版 Excel"),
    ("a.csv", b"x" * (50 * 1024 * 1024), "文件过大（50.0 MB），上限为 1 MB"),
    ("a.csv", b"a,b\r\n" + b"y" * 200_000, "CSV 格式错误，第 2 行无法读取"),
])
def test_a_bad_file_gets_a_chinese_message_and_imports_nothing(paper, name, data, message):
    db, survey, questions = paper
    with pytest.raises((ImportFileError, ImportValidationError)) as caught:
        import_file(db, survey, questions, name, data, max_bytes=LIMIT)
    shown = " ".join([str(caught.value)] + [str(p) for p in getattr(caught.value, "problems", [])])
    assert message in shown
    assert _stored(db, survey["id"]) == (0, 0)


def test_a_header_without_rows_is_refused(paper):
    db, survey, questions = paper
    with pytest.raises(ImportFileError, match="只有表头，没有答卷数据"):
        import_file(db, survey, questions, "a.csv", _csv([_header(questions), [], []]),
                    max_bytes=LIMIT)


def test_the_same_file_twice_is_refused(paper):
    db, survey, questions = paper
    data = _csv([_header(questions), *GOOD_ROWS])
    import_file(db, survey, questions, "第一批.csv", data, max_bytes=LIMIT)
    with pytest.raises(import_store.DuplicateImportError,
                       match="已于 .* 导入过（3 份，文件名 第一批.csv）"):
        import_file(db, survey, questions, "改了名字.csv", data, max_bytes=LIMIT)
    assert _stored(db, survey["id"]) == (3, 1)


def test_a_failure_midway_stores_nothing(paper, monkeypatch):
    """The file goes in in chunks, each its own transaction: a failure after the first chunk
    still leaves nothing (and the same file can come in again)."""
    db, survey, questions = paper
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise StoreError("磁盘已满")
        return real(*args, **kwargs)
    real = import_store._insert_chunk
    monkeypatch.setattr(import_store, "CHUNK_ROWS", 1)
    monkeypatch.setattr(import_store, "_insert_chunk", failing)
    data = _csv([_header(questions), *GOOD_ROWS])
    with pytest.raises(StoreError, match="磁盘已满"):
        import_file(db, survey, questions, "a.csv", data, max_bytes=LIMIT)
    assert len(calls) == 2
    assert _stored(db, survey["id"]) == (0, 0)
    monkeypatch.setattr(import_store, "_insert_chunk", real)
    assert import_file(db, survey, questions, "a.csv", data, max_bytes=LIMIT).imported == 3


def test_a_failed_import_behind_a_citizen_stays_invisible(paper, monkeypatch):
    """Staged rows a citizen's response is already chained to are not deleted (that would
    break the chain) but never counted, listed or exported; the file can come again."""
    db, survey, questions = paper
    from survey.io.exports import raw_table
    from survey.store.responses import Submission, record_response
    from survey.store.tallies import survey_figures
    real = import_store._insert_chunk
    calls = []

    def citizen_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            record_response(db, survey, questions, Submission(answers={}, nonce="citizen"))
            raise StoreError("磁盘已满")
        return real(*args, **kwargs)
    monkeypatch.setattr(import_store, "CHUNK_ROWS", 1)
    monkeypatch.setattr(import_store, "_insert_chunk", citizen_then_fail)
    data = _csv([_header(questions), *GOOD_ROWS])
    with pytest.raises(StoreError, match="磁盘已满"):
        import_file(db, survey, questions, "a.csv", data, max_bytes=LIMIT)
    assert survey_figures(db, survey)["returned"] == 1
    assert len(list(raw_table(db, survey, questions).rows)) == 1
    monkeypatch.setattr(import_store, "_insert_chunk", real)
    assert import_file(db, survey, questions, "a.csv", data, max_bytes=LIMIT).imported == 3
    assert survey_figures(db, survey)["returned"] == 4
    from survey.io.evidence import chain_problems
    assert chain_problems(db, survey["id"]) == []


def test_a_draft_survey_takes_no_paper(store_db):
    survey, questions = make_survey(store_db, status="draft")
    with pytest.raises(StoreError, match="草稿"):
        import_file(store_db, survey, questions, "a.csv",
                    _csv([_header(questions), GOOD_ROWS[0]]), max_bytes=LIMIT)


ROW = st.tuples(st.integers(0, 4), st.integers(0, 2), st.sets(st.integers(0, 2)),
                st.text(st.characters(whitelist_categories=("L", "N")), max_size=12))


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(ROW, min_size=1, max_size=8), as_value=st.booleans())
def test_any_valid_file_round_trips(store_db, rows, as_value):
    survey, questions = make_survey(store_db)
    scale, single, multiple, _ = questions

    def label(option):
        return str(int(option["value"])) if as_value and option["value"] else option["label"]
    written = [[label(scale["options"][lv]), single["options"][b]["label"],
                "；".join(multiple["options"][i]["label"] for i in sorted(m)), t]
               for lv, b, m, t in rows]
    plan = plan_import(questions, "a.csv", _csv([_header(questions), *written]), LIMIT)
    import_store.import_rows(store_db, survey, questions, list(plan.rows), sha256=plan.sha256,
                             filename="a.csv")
    exported = [r[7:] for r in exports.raw_table(store_db, survey, questions).rows]
    assert exported == [[scale["options"][lv]["label"], single["options"][b]["label"],
                         "；".join(multiple["options"][i]["label"] for i in sorted(m)) or None,
                         t or None] for lv, b, m, t in rows]


def test_problem_text_reads_as_chinese():
    problem = paper_import.ImportProblem(3, "B 列“2. 办理的业务”", "必答题未作答")
    assert str(problem) == "第 3 行，B 列“2. 办理的业务”：必答题未作答"
    assert str(paper_import.ImportProblem(None, None, "文件是空的")) == "文件是空的"


def test_cli_import_paper_lists_problems_or_imports(app, runner, make_survey, tmp_path):
    survey = make_survey()
    header = [column_header(q) for q in survey["questions"]]
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_bytes(_csv([header, ["很好"] * 8 + ["", ""]]))
    good.write_bytes(_csv([header, ["满意"] * 8 + ["其他", "无"]]))
    refused = runner.invoke(args=["import-paper", str(survey["id"]), str(bad)])
    assert refused.exit_code != 0
    assert refused.output.count("“很好”不是该题的选项") == 8 and "未导入任何答卷" in refused.output
    done = runner.invoke(args=["import-paper", str(survey["id"]), str(good), "--channel", "窗口"])
    assert done.exit_code == 0 and "已导入 1 份纸质问卷，其中有效 1 份" in done.output
    again = runner.invoke(args=["import-paper", str(survey["id"]), str(good)])
    assert again.exit_code != 0 and "不能重复导入" in again.output


def test_a_formula_like_label_is_neutralised_in_the_template_and_read_back(store_db):
    """The template writes "'=x" for an option labelled "=x" (survey.tabular.neutralise); the
    drop-down puts that text in the cell, and the import reads it as the option."""
    survey, questions = make_survey(store_db)
    single = next(q for q in questions if q["kind"] == "single")
    single["options"][0]["label"] = '=HYPERLINK("http://x")'
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx("+标题", questions)))
    column = questions.index(single) + 1
    listed = book["可选答案"].cell(2, column).value
    assert listed == '\'=HYPERLINK("http://x")'
    assert book["填写说明"]["A1"].value == "'+标题"
    rows = [_header(questions), [listed if q is single else "" for q in questions]]
    parsed = paper_import.parse_rows(
        [q for q in questions if q is single or not q["required"]], [
            [h for h, q in zip(rows[0], questions, strict=True) if q is single or not q["required"]],
            [c for c, q in zip(rows[1], questions, strict=True) if q is single or not q["required"]]])
    assert parsed[0].answers[single["id"]] == [single["options"][0]["id"]]


@pytest.fixture
def conditional(store_db):
    from survey.core.questionnaire import load_survey_template
    survey, questions = make_survey(store_db, questionnaire=load_survey_template("satisfaction-5"))
    return store_db, survey, questions


def _row(headline: str, reasons: str = "", other: str = "") -> list[str]:
    """A satisfaction-5 row: seven 满意, the headline, its reasons and 其他 text, nothing else."""
    return ["满意"] * 7 + [headline, reasons, other, "", ""]


def test_a_reason_is_required_on_paper_only_when_the_headline_is_dissatisfied(conditional):
    db, survey, questions = conditional
    problems = _problems(conditional, "a.csv", _csv([_header(questions), _row("满意"),
                                                     _row("不满意")]))
    assert problems == ["第 3 行，I 列“9. 您不满意的原因是？（可多选）”：必答题未作答"
                        "（仅当第8题选择“不满意”或“非常不满意”时回答）"]


def test_a_reason_given_on_paper_when_not_asked_is_not_imported(conditional):
    """As on the web form: the citizen was not asked, so the figures do not count it."""
    db, survey, questions = conditional
    rows = [_header(questions), _row("满意", "等候时间长；其他", "多余的话"),
            _row("非常不满意", "等候时间长；其他", "停车难")]
    result = import_file(db, survey, questions, "a.csv", _csv(rows), max_bytes=LIMIT)
    assert result.imported == 2
    reasons, other = questions[8], questions[9]
    given = db.execute("SELECT a.response_id, a.question_id, a.text FROM answers a "
                       "WHERE a.question_id IN (?, ?) ORDER BY a.id",
                       [reasons["id"], other["id"]]).fetchall()
    assert {r[0] for r in given} == {result.last_response_id}
    assert [r[2] for r in given if r[1] == other["id"]] == ["停车难"]
    tallied = dict(db.execute("SELECT option_id, sum(count) FROM answer_tallies "
                              "WHERE question_id = ? GROUP BY option_id", [reasons["id"]]).fetchall())
    assert tallied[-1] == 1 and tallied[0] == 1  # applied to one valid response, answered once
