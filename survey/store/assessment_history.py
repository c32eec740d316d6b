"""The change log of an assessment and the lock that a finalised one holds."""
from . import StoreError
from .util import dumps, iso, utc_now


class AssessmentLockedError(StoreError):
    """The assessment is finalised: nothing may change until an admin reopens it."""

    def __init__(self):
        super().__init__("该自评已定稿，内容已冻结；如需修改，请由部门管理员重新打开")


def record_change(db, assessment_id: int, user_id, subject: str, field: str, old, new) -> None:
    def text(value):
        return value if value is None or isinstance(value, str) else dumps(value)

    db.table("assessment_history").insert({
        "assessment_id": assessment_id, "user_id": user_id, "at": iso(utc_now()),
        "subject": subject, "field": field, "old": text(old), "new": text(new),
    })


def touch(db, assessment: dict) -> None:
    """Refuse a change to a finalised assessment; mark the draft as changed."""
    status = db.execute("SELECT status FROM assessments WHERE id = ?", [assessment["id"]]).fetchone()
    if status is None or status[0] == "final":
        raise AssessmentLockedError()
    db.execute("UPDATE assessments SET updated_at = ? WHERE id = ?",
               [iso(utc_now()), assessment["id"]])
