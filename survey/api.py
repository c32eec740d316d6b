"""The read-only JSON API, versioned under /api/v1/."""
from flask import Blueprint, abort, g

from .db import get_db
from .security import csrf
from .store import surveys as survey_store
from .store.tallies import survey_figures

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # read-only: GET requests only


def api_department_id() -> int:
    """The caller's department: a logged-in staff session (API tokens come later)."""
    if g.get("user") is None:
        abort(401)
    return g.user["department_id"]


@bp.get("/surveys/<int:survey_id>/summary")
def summary(survey_id):
    db = get_db()
    survey = survey_store.get_survey(db, survey_id, api_department_id())
    if survey is None:
        abort(404)
    return survey_figures(db, survey)
