"""Staff pages for data in and out: exports, the evidence package, paper questionnaires (file
import and quick entry) and the department's API tokens."""
import tempfile

from flask import Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from ... import store
from ...io import evidence, exports, paper_import
from ...store import StoreError, api_tokens
from ...store import imports as import_store
from ...store.responses import DuplicateSubmissionError
from ...store.surveys import questionnaire
from ..auth import admin_required, department_id, login_required
from ..db import get_db
from ..downloads import content_disposition
from ..forms.io import ApiTokenForm, ImportForm, entry_form_class, new_entry_nonce
from ..security import csrf
from .base import bp, scoped_survey

MULTIPART_OVERHEAD = 64 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(chunks, filename: str, content_type: str, length: int | None = None):
    response = Response(chunks, content_type=content_type)
    response.headers["Content-Disposition"] = content_disposition(
        filename, "survey." + filename.rsplit(".", 1)[-1])
    if length is not None:
        response.headers["Content-Length"] = str(length)
    return response


def _download(write, filename: str, content_type: str):
    """Build the file in a temporary file (on disk past a few MB), then send it in chunks."""
    out = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115 - closed by the response
    try:
        write(out)
    except BaseException:
        out.close()
        raise
    return _attachment(_chunks_then_close(out), filename, content_type, out.tell())


def _chunks_then_close(out, size: int = 256 * 1024):
    try:
        out.seek(0)
        while chunk := out.read(size):
            yield chunk
    finally:
        out.close()


def _csv_stream(database: str, survey: dict, fmt: str, values: bool, encoding: str):
    """CSV chunks from a connection of the stream's own: the request's connection is closed
    when the view returns, long before a million rows have been sent."""
    db = store.connect(database)
    try:
        tables = exports.export_tables(db, survey, questionnaire(db, survey["id"]), fmt,
                                       values=values)
        yield from exports.csv_chunks(tables, encoding)
    finally:
        db.conn.close()


def _data_page(survey, import_form=None, problems=None, status=200):
    db = get_db()
    return render_template(
        "staff/io_index.html", survey=survey, tab="data", questions=questionnaire(db, survey["id"]),
        form=import_form or ImportForm(), problems=problems or [],
        imports=import_store.survey_imports(db, survey["id"]),
        paper_count=import_store.paper_count(db, survey["id"]),
        formats=exports.EXPORT_FORMATS, encodings=exports.ENCODINGS,
        max_mb=current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024)), status


@bp.get("/surveys/<int:survey_id>/data")
@login_required
def io_data(survey_id):
    return _data_page(scoped_survey(survey_id))


@bp.get("/surveys/<int:survey_id>/export")
@login_required
def io_export(survey_id):
    survey = scoped_survey(survey_id)
    fmt = request.args.get("format", "csv")
    encoding = request.args.get("encoding", "utf-8-sig")
    if fmt not in exports.EXPORT_FORMATS or encoding not in exports.ENCODINGS:
        abort(400)
    values = request.args.get("values") == "1"
    name = exports.export_filename(survey, fmt)
    if fmt.endswith("csv"):
        chunks = _csv_stream(current_app.config["DATABASE"], survey, fmt, values, encoding)
        charset = "gb18030" if encoding == "gb18030" else "utf-8"
        return _attachment(chunks, name, f"text/csv; charset={charset}")
    db = get_db()
    tables = exports.export_tables(db, survey, questionnaire(db, survey_id), fmt, values=values)
    return _download(lambda out: exports.write_xlsx(tables, out), name, XLSX)


@bp.get("/surveys/<int:survey_id>/evidence.zip")
@login_required
def io_evidence(survey_id):
    survey = scoped_survey(survey_id)
    return _download(lambda out: evidence.build_package(get_db(), survey, out),
                     f"佐证材料-问卷{survey_id}.zip", "application/zip")


@bp.get("/surveys/<int:survey_id>/import-template.<any(xlsx, csv):ext>")
@login_required
def io_template(survey_id, ext):
    survey = scoped_survey(survey_id)
    questions = questionnaire(get_db(), survey_id)
    body = (paper_import.template_xlsx(survey["title"], questions) if ext == "xlsx"
            else paper_import.template_csv(questions))
    return _attachment(body, f"纸质问卷录入模板-问卷{survey_id}.{ext}",
                       XLSX if ext == "xlsx" else "text/csv; charset=utf-8", len(body))


@bp.post("/surveys/<int:survey_id>/import")
@csrf.exempt  # the global check would parse the body under the 256 KB limit; the form checks
@login_required
def io_import(survey_id):
    survey = scoped_survey(survey_id)
    max_bytes = current_app.config["IMPORT_MAX_BYTES"]
    request.max_content_length = max_bytes + MULTIPART_OVERHEAD
    try:
        form = ImportForm()
        submitted = form.validate_on_submit()
    except RequestEntityTooLarge:
        form = ImportForm(formdata=None)
        form.file.errors = [f"文件过大，上限为 {max_bytes // (1024 * 1024)} MB，请分成几个文件导入"]
        return _data_page(survey, form, status=413)
    if not submitted:
        return _data_page(survey, form, status=400 if form.csrf_token.errors else 422)
    return _import_file(survey, form)


def _import_file(survey, form):
    upload = form.file.data
    db = get_db()
    try:
        result = paper_import.import_file(
            db, survey, questionnaire(db, survey["id"]), upload.filename or "", upload.read(),
            max_bytes=current_app.config["IMPORT_MAX_BYTES"], channel=form.channel.data or "",
            user_id=g.user["id"])
    except paper_import.ImportValidationError as error:
        form.file.errors = [str(error)]
        return _data_page(survey, form, error.problems, status=422)
    except (paper_import.ImportFileError, StoreError) as error:
        form.file.errors = [str(error)]
        return _data_page(survey, form, status=422)
    flash(f"已导入 {result.imported} 份纸质问卷，其中有效 {result.valid} 份")
    return redirect(url_for("staff.io_data", survey_id=survey["id"]), 303)


@bp.route("/surveys/<int:survey_id>/entry", methods=["GET", "POST"])
@login_required
def io_entry(survey_id):
    survey = scoped_survey(survey_id)
    questions = questionnaire(get_db(), survey_id)
    refusal = _entry_refusal(survey, questions)
    if refusal:
        flash(refusal)
        return redirect(url_for("staff.io_data", survey_id=survey_id), 303)
    form = entry_form_class(questions)()
    if request.method == "GET":
        form.entry.data = new_entry_nonce()
        form.channel.data = request.args.get("ch", "")[:40]
    elif form.validate_on_submit() and _entry_complete_enough(form, questions):
        return _save_entry(survey, questions, form)
    status = 200 if request.method == "GET" else 422
    return render_template("staff/io_entry.html", survey=survey, tab="data", form=form,
                           questions=questions,
                           paper_count=import_store.paper_count(get_db(), survey_id)), status


def _entry_refusal(survey, questions) -> str | None:
    if survey["status"] == "draft":
        return "问卷尚未开放（草稿），不能录入纸质问卷，请先开放问卷"
    if not questions:
        return "本问卷还没有题目，无法录入"
    return None


def _entry_complete_enough(form, questions) -> bool:
    if not form.answers(questions):
        form[f"q{questions[0]['id']}"].errors.append("这份问卷一题都没有填写，请核对后再保存")
        return False
    missing = form.missing_required(questions)
    if missing and not form.incomplete_ok.data:
        for q in missing:
            form[f"q{q['id']}"].errors.append(
                "必答题未作答；如纸质问卷确实未答，请勾选下方“仍然保存”")
        return False
    return True


def _save_entry(survey, questions, form):
    try:
        response_id, verdict = import_store.record_paper_entry(
            get_db(), survey, questions, form.answers(questions), nonce=form.entry.data or
            new_entry_nonce(), channel=form.channel.data or "", user_id=g.user["id"])
    except DuplicateSubmissionError as duplicate:
        flash(f"这份问卷已保存过（第 {duplicate.response_id} 号答卷），未重复保存。请录入下一份。")
    except StoreError as error:
        flash(str(error))
        return redirect(url_for("staff.io_data", survey_id=survey["id"]), 303)
    else:
        flash(f"第 {response_id} 号答卷已保存（{verdict.describe()}）。请录入下一份。")
    return redirect(url_for("staff.io_entry", survey_id=survey["id"],
                            ch=form.channel.data or None), 303)


@bp.route("/api-tokens", methods=["GET", "POST"])
@admin_required
def api_tokens_page():
    form, db, created = ApiTokenForm(), get_db(), None
    if form.validate_on_submit():
        try:
            created = api_tokens.create_token(db, department_id(), form.name.data, g.user["id"],
                                              form.scopes())
        except StoreError as error:
            form.name.errors.append(str(error))
        else:
            form = ApiTokenForm(formdata=None)
    response = render_template("staff/api_tokens.html", form=form, created=created,
                               tokens=api_tokens.department_tokens(db, department_id()),
                               api_base=url_for("api.surveys", _external=True))
    return response, (422 if form.errors else 200), {"Cache-Control": "no-store"}


@bp.post("/api-tokens/<int:token_id>/revoke")
@admin_required
def api_token_revoke(token_id):
    try:
        api_tokens.revoke_token(get_db(), token_id, department_id(), g.user["id"])
    except StoreError:
        abort(404)
    flash("令牌已撤销，使用该令牌的系统将无法再读取数据")
    return redirect(url_for("staff.api_tokens_page"), 303)
