"""Exports: round trips through independent readers, formula injection, streaming."""
import csv
import io

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.core.screening import REASON_TEXT
from survey.io import exports
from survey.store.responses import set_validity
from survey.store.tallies import survey_figures

from .io_fixtures import answer, fresh_store, make_survey


@pytest.fixture
def store_db(tmp_path):
    yield from fresh_store(tmp_path)


DANGEROUS = ["=1+1", "+86 138", "-2", "@SUM(A1)", "\tindent", "\rreturn",
             "=HYPERLINK(\"http://x\")"]
SAFE_TEXT = st.text(st.characters(blacklist_categories=("Cs",),
                                  blacklist_characters="\x00\x01\x02\x03\x04\x05\x06\x07\x08"
                                  "\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19"
                                  "\x1a\x1b\x1c\x1d\x1e\x1f\x7f"), max_size=40)


@pytest.fixture
def filled(store_db):
    """A survey with valid, too-fast, manually invalidated, multi-choice and hostile answers."""
    survey, questions = make_survey(store_db)
    ids = [answer(store_db, survey, questions, level=i % 5, business=i % 3,
                  channels=(0, 2) if i % 2 else (), text=DANGEROUS[i % len(DANGEROUS)],
                  channel="窗口 3" if i % 2 else "", source="paper" if i == 4 else "qr")
           for i in range(10)]
    answer(store_db, survey, questions, duration=2.0)  # screened out: too fast
    set_validity(store_db, ids[0], False, "同一人重复填写", None)
    return store_db, survey, questions


def _csv_rows(data: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def _export(db, survey, questions, fmt, encoding="utf-8-sig", values=False) -> bytes:
    out = io.BytesIO()
    exports.write_export(exports.export_tables(db, survey, questions, fmt, values=values), fmt,
                         out, encoding=encoding)
    return out.getvalue()


def _db_answers(db, survey_id) -> dict:
    """response id -> {question_id: sorted labels or text}, read straight from SQL."""
    found: dict = {}
    for rid, qid, label, text in db.execute(
            "SELECT a.response_id, a.question_id, o.label, a.text FROM answers a "
            "JOIN responses r ON r.id = a.response_id LEFT JOIN options o ON o.id = a.option_id "
            "WHERE r.survey_id = ? ORDER BY a.id", [survey_id]):
        found.setdefault(rid, {}).setdefault(qid, []).append(label if label else text)
    return found


def _unquote(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@", "\t", "\r") \
        else cell


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_prefixes_are_neutralised(value):
    assert exports.neutralise(value) == "'" + value


@pytest.mark.parametrize("value", [0, -5, 3.5, None, "满意", "a=b", " =x"])
def test_numbers_and_harmless_text_are_left_alone(value):
    assert exports.neutralise(value) == value


@given(SAFE_TEXT)
def test_neutralised_text_never_starts_a_formula_and_loses_nothing(text):
    safe = exports.neutralise(text)
    assert not safe.startswith(exports.FORMULA_PREFIXES)
    assert safe in (text, "'" + text)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_round_trip_matches_the_database(filled, encoding):
    db, survey, questions = filled
    data = _export(db, survey, questions, "csv", encoding)
    assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    header, *rows = _csv_rows(data, encoding)
    assert header[7:] == [f"{q['position']}. {q['text']}" for q in questions]
    ids = [r[0] for r in db.execute("SELECT id FROM responses WHERE survey_id = ? ORDER BY id",
                                    [survey["id"]])]
    assert [int(r[0]) for r in rows] == ids
    stored = _db_answers(db, survey["id"])
    for row in rows:
        given_answers = stored.get(int(row[0]), {})
        for q, cell in zip(questions, row[7:], strict=True):
            expected = exports.MULTI_JOINER.join(given_answers.get(q["id"], []))
            assert _unquote(cell) == expected


def test_csv_states_validity_and_reasons_in_chinese(filled):
    db, survey, questions = filled
    rows = {int(r[0]): r for r in _csv_rows(_export(db, survey, questions, "csv"),
                                             "utf-8-sig")[1:]}
    first, fast = min(rows), max(rows)
    assert rows[first][5] == "无效" and "人工判定为无效" in rows[first][6]
    assert "同一人重复填写" in rows[first][6]
    assert rows[fast][5] == "无效" and rows[fast][6] == REASON_TEXT["too_fast"]
    assert {r[5] for r in rows.values()} == {"有效", "无效"}
    assert {r[2] for r in rows.values()} == {"扫码", "纸质问卷"}


def test_free_text_formulas_are_quoted_in_csv(filled):
    db, survey, questions = filled
    cells = {c for row in _csv_rows(_export(db, survey, questions, "csv"), "utf-8-sig")[1:]
             for c in row}
    for value in DANGEROUS:
        assert "'" + value in cells
        assert value not in cells


def test_xlsx_round_trip_matches_csv_and_keeps_numbers(filled):
    db, survey, questions = filled
    book = openpyxl.load_workbook(io.BytesIO(_export(db, survey, questions, "xlsx",
                                                     values=True)))
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= 15
    assert sheet["A1"].font.bold
    csv_rows = _csv_rows(_export(db, survey, questions, "csv", values=True), "utf-8-sig")
    xlsx_rows = [["" if v is None else v for v in row]
                 for row in sheet.iter_rows(values_only=True)]
    assert len(xlsx_rows) == len(csv_rows)
    for xrow, crow in zip(xlsx_rows, csv_rows, strict=True):
        assert [str(v).replace("\n", "\r") for v in xrow] == \
            [c.replace("\r\n", "\r").replace("\n", "\r") for c in crow]
    assert all(isinstance(row[0], int) for row in xlsx_rows[1:])
    scale_values = [row[8] for row in xlsx_rows[1:] if row[7]]
    assert scale_values and all(isinstance(v, int) for v in scale_values)


def test_xlsx_formula_cells_are_text_not_formulas(filled):
    db, survey, questions = filled
    sheet = openpyxl.load_workbook(io.BytesIO(_export(db, survey, questions, "xlsx"))).active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert all(c.data_type == "s" for c in cells)
    assert any(c.value == "'=1+1" for c in cells)


def test_values_columns_follow_the_option_values(filled):
    db, survey, questions = filled
    header, *rows = _csv_rows(_export(db, survey, questions, "csv", values=True), "utf-8-sig")
    scale, _, multiple, _ = questions
    values = {o["label"]: exports.cell_number(o["value"]) for o in scale["options"]}
    col = header.index(f"{scale['position']}. {scale['text']}")
    assert header[col + 1] == f"{scale['position']}. 分值"
    answered = [r for r in rows if r[col]]
    assert answered and all(r[col + 1] == str(values[r[col]]) for r in answered)
    multi = header.index(f"{multiple['position']}. {multiple['text']}")
    assert any(exports.MULTI_JOINER in r[multi] for r in rows)


def test_summary_xlsx_and_csv_carry_the_figures(filled):
    db, survey, questions = filled
    figures = survey_figures(db, survey)
    book = openpyxl.load_workbook(io.BytesIO(_export(db, survey, questions, "summary-xlsx")))
    assert book.sheetnames == ["统计指标", "各题统计", "每日回收"]
    shown = {row[0]: row for row in book["统计指标"].iter_rows(min_row=2, values_only=True)}
    assert shown["回收份数"][1] == figures["returned"]
    assert shown["有效份数"][1] == figures["valid"]
    assert shown["满意率"][1] == pytest.approx(figures["satisfaction_rate"])
    assert figures["definitions"]["satisfaction_rate"] == shown["满意率"][3]
    counts = {(r[0], r[3]): r[6] for r in book["各题统计"].iter_rows(min_row=2, values_only=True)}
    for q in figures["questions"]:
        for o in q["options"]:
            assert counts[(q["position"], o["label"])] == o["count"]
    text = _export(db, survey, questions, "summary-csv").decode("utf-8-sig")
    assert "统计指标" in text and "各题统计" in text
    assert f"有效份数,{figures['valid']}," in text


def test_csv_streams_in_chunks_with_one_bom(filled):
    db, survey, questions = filled
    tables = exports.export_tables(db, survey, questions, "csv")
    chunks = list(exports.csv_chunks(tables, "utf-8-sig", rows_per_chunk=3))
    assert len(chunks) > 3
    assert chunks[0].startswith(b"\xef\xbb\xbf")
    assert not any(b"\xef\xbb\xbf" in c for c in chunks[1:])


def test_progress_counts_every_row(filled):
    db, survey, questions = filled
    seen = []
    tables = exports.export_tables(db, survey, questions, "xlsx")
    exports.write_export(tables, "xlsx", io.BytesIO(), progress=seen.append)
    assert sum(seen) == tables[0].total == 11


@pytest.mark.parametrize("fmt, encoding", [("pdf", "utf-8-sig"), ("csv", "latin-1")])
def test_unknown_format_or_encoding_is_refused_in_chinese(filled, fmt, encoding):
    db, survey, questions = filled
    with pytest.raises(exports.ExportError, match="不支持"):
        _export(db, survey, questions, fmt, encoding)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(texts=st.lists(SAFE_TEXT, min_size=1, max_size=4))
def test_any_free_text_survives_both_formats(store_db, texts):
    survey, questions = make_survey(store_db)
    for text in texts:
        answer(store_db, survey, questions, text=text)
    column = 7 + 3
    csv_cells = [r[column] for r in _csv_rows(_export(store_db, survey, questions, "csv",
                                                      "gb18030"), "gb18030")[1:]]
    sheet = openpyxl.load_workbook(io.BytesIO(_export(store_db, survey, questions, "xlsx"))
                                   ).active
    xlsx_cells = [row[column] or "" for row in sheet.iter_rows(min_row=2, values_only=True)]
    quoted = [("'" + t) if t[:1] in ("=", "+", "-", "@", "\t", "\r") else t for t in texts]
    assert csv_cells == quoted
    # XML turns a carriage return into a line feed; nothing else may change.
    assert xlsx_cells == [t.replace("\r\n", "\n").replace("\r", "\n") for t in quoted]


def _app_survey(app, make_survey, texts=("=1+1", "好")):
    survey = make_survey()
    with app.app_context():
        from survey.store.responses import Submission, record_response
        from survey.web.db import get_db
        for i, text in enumerate(texts):
            record_response(get_db(), survey, survey["questions"], Submission(
                answers={survey["questions"][-1]["id"]: text}, nonce=f"cli-{i}"))
    return survey


@pytest.mark.parametrize("fmt", list(exports.EXPORT_FORMATS))
def test_cli_export_is_quiet_off_a_terminal(app, runner, make_survey, tmp_path, fmt):
    survey = _app_survey(app, make_survey)
    out = tmp_path / f"out.{fmt}"
    result = runner.invoke(args=["export", str(survey["id"]), "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert out.stat().st_size > 0
    if fmt == "csv":
        rows = _csv_rows(out.read_bytes(), "utf-8-sig")
        assert [r[-1] for r in rows[1:]] == ["'=1+1", "好"]


def test_cli_export_shows_progress_on_a_terminal(app, runner, make_survey, tmp_path,
                                                 monkeypatch):
    from survey.cli import data
    monkeypatch.setattr(data, "_interactive", lambda: True)
    survey = _app_survey(app, make_survey)
    out = tmp_path / "out.csv"
    result = runner.invoke(args=["export", survey["token"], "--encoding", "gb18030", "--values",
                                 "-o", str(out)])
    assert result.exit_code == 0 and "正在导出" in result.output and "已导出到" in result.output
    assert _csv_rows(out.read_bytes(), "gb18030")[0][8] == "1. 分值"


def test_cli_export_of_an_unknown_survey_fails_in_chinese(runner, tmp_path):
    result = runner.invoke(args=["export", "9999", "-o", str(tmp_path / "x.csv")])
    assert result.exit_code != 0 and "找不到问卷：9999" in result.output
    assert not (tmp_path / "x.csv").exists()
