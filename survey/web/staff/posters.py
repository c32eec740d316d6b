"""QR codes and printable posters, one per channel tag (窗口 3, 大厅海报 …), so the dashboard
can tell which poster or window a response came from."""
import io
from urllib.parse import unquote_plus

from flask import abort, flash, redirect, render_template, request, send_file, url_for

from ...io import poster as poster_image
from ...io import qr
from ...store import builder as store
from ..auth import login_required
from ..db import get_db
from ..downloads import content_disposition
from ..forms.builder import ChannelForm, channel_arg
from ..urls import loopback_warning, public_url
from .base import bp, scoped_survey
from .builder import render_survey_page

PREVIEW_SCALE = 8


def _channel() -> str:
    channel = channel_arg(request.args.get("ch"))
    if channel is None:
        abort(400)
    return channel


def _qr_url(survey: dict, channel: str) -> str:
    return public_url(survey["token"], channel, via_qr=True)


def _filename(survey: dict, kind: str, channel: str, suffix: str) -> str:
    tag = f"-{channel}" if channel else ""
    return f"问卷{survey['id']}-{kind}{tag}.{suffix}"


def _image(data: bytes, mimetype: str, name: str, fallback: str):
    download = request.args.get("download") == "1"
    response = send_file(io.BytesIO(data), mimetype=mimetype, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(name, fallback,
                                                                  inline=not download)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _qr_page(survey: dict, form: ChannelForm, status: int = 200):
    names = store.channel_names(get_db(), survey["id"])
    saved = set(store.saved_channel_names(get_db(), survey["id"]))
    channels = [{"name": "", "label": "通用（不区分渠道）", "saved": False}]
    channels += [{"name": n, "label": n, "saved": n in saved} for n in names]
    for channel in channels:
        channel["url"] = _qr_url(survey, channel["name"])
        channel["readable_url"] = unquote_plus(channel["url"])
    return render_survey_page("staff/survey_qr.html", survey, "qr", form=form,
                              channels=channels, loopback=loopback_warning()), status


@bp.route("/surveys/<int:survey_id>/qr", methods=["GET", "POST"])
@login_required
def qr_codes(survey_id):
    survey = scoped_survey(survey_id)
    form = ChannelForm()
    if not form.validate_on_submit():
        return _qr_page(survey, form, 422 if form.is_submitted() else 200)
    store.add_channel(get_db(), survey_id, form.name.data)
    flash(f"已添加渠道“{form.name.data}”，可下载它的二维码和海报。")
    return redirect(url_for("staff.qr_codes", survey_id=survey_id), 303)


@bp.post("/surveys/<int:survey_id>/qr/remove")
@login_required
def remove_channel(survey_id):
    scoped_survey(survey_id)
    name = channel_arg(request.form.get("name"))
    if name:
        store.remove_channel(get_db(), survey_id, name)
        flash(f"已从列表移除渠道“{name}”；已收到的答卷仍保留其渠道标记。")
    return redirect(url_for("staff.qr_codes", survey_id=survey_id), 303)


@bp.get("/surveys/<int:survey_id>/qr.svg")
@login_required
def qr_svg(survey_id):
    survey = scoped_survey(survey_id)
    channel = _channel()
    return _image(qr.qr_svg(_qr_url(survey, channel)), "image/svg+xml",
                  _filename(survey, "二维码", channel, "svg"), f"survey{survey_id}-qr.svg")


@bp.get("/surveys/<int:survey_id>/qr.png")
@login_required
def qr_png(survey_id):
    survey = scoped_survey(survey_id)
    channel = _channel()
    scale = request.args.get("scale", 12, type=int)
    if not 1 <= scale <= qr.PNG_SCALE_MAX:
        abort(400)
    return _image(qr.qr_png(_qr_url(survey, channel), scale), "image/png",
                  _filename(survey, "二维码", channel, "png"), f"survey{survey_id}-qr.png")


@bp.get("/surveys/<int:survey_id>/poster")
@login_required
def poster(survey_id):
    survey = scoped_survey(survey_id)
    channel = _channel()
    return render_template("staff/poster.html", survey=survey, channel=channel,
                           url=_qr_url(survey, channel),
                           instruction=poster_image.INSTRUCTION, loopback=loopback_warning())


@bp.get("/surveys/<int:survey_id>/poster.png")
@login_required
def poster_png(survey_id):
    survey = scoped_survey(survey_id)
    channel = _channel()
    data = poster_image.poster_png(department=survey["department_name"], title=survey["title"],
                                   url=_qr_url(survey, channel), channel=channel)
    return _image(data, "image/png", _filename(survey, "海报", channel, "png"),
                  f"survey{survey_id}-poster.png")
