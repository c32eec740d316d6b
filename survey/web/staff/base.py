"""The staff blueprint and what every staff page shares. Every page is scoped to the
logged-in user's department; another department's survey is a 404, never a 403."""
from flask import Blueprint, abort, current_app

from ...core import labels
from ...core.settings import SurveySettings
from ...store import surveys as survey_store
from ..auth import department_id, load_user
from ..db import get_db

bp = Blueprint("staff", __name__, url_prefix="/staff")
bp.before_app_request(load_user)


@bp.app_context_processor
def _navigation():
    def has_endpoint(name: str) -> bool:
        return name in current_app.view_functions
    return {"has_endpoint": has_endpoint, "survey_statuses": survey_store.STATUSES,
            "settings_of": SurveySettings.of}


bp.add_app_template_filter(labels.china_time, "china_time")


@bp.app_template_filter("source_name")
def _source_name(source: str) -> str:
    return labels.source_name(source)


@bp.app_template_filter("channel_name")
def _channel_name(channel: str | None) -> str:
    return labels.channel_name(channel)


def scoped_survey(survey_id: int) -> dict:
    """The survey if it belongs to the user's department, else 404."""
    survey = survey_store.get_survey(get_db(), survey_id, department_id())
    if survey is None:
        abort(404)
    return survey
