"""schemathesis against the API's own description (/api/v1/openapi.json): generated requests,
a bounded number per operation, each answer checked against the description."""
import re

import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from hypothesis import HealthCheck, Phase, given, settings

from survey.core.assessment.tree import TEMPLATES
from survey.store import accounts, api_tokens, assessments
from survey.web.db import get_db
from tests.conftest import full_answers

EXAMPLES_PER_OPERATION = 20


def _department_with_data(app, make_survey) -> tuple[str, dict]:
    """A survey with answers and an assessment in 测试部门: its API token and their ids."""
    survey = make_survey()
    client = app.test_client()
    for level in range(3):
        page = client.get(f"/s/{survey['token']}").get_data(as_text=True)
        ticket = re.search(r'name="ticket"[^>]*value="([^"]+)"', page).group(1)
        client.post(f"/s/{survey['token']}", data={**full_answers(survey, level), "ticket": ticket})
    with app.app_context():
        db = get_db()
        department_id = accounts.department_by_name(db, "测试部门")["id"]
        assessment_id = assessments.create_assessment(db, department_id, 2025, "年度自评",
                                                      template=next(iter(TEMPLATES)))
        token = api_tokens.create_token(db, department_id, "schemathesis", None).token
    return token, {"survey_id": survey["id"], "assessment_id": assessment_id}


def _on_real_objects(case, ids: dict) -> None:
    """Generated ids almost never exist (a 404 says nothing about the query): unless the path
    is what a negative case breaks, point it at the department's real survey or assessment."""
    path = case.meta.components.get(ParameterLocation.PATH)
    if case.path_parameters and (path is None or path.mode.is_positive):
        case.path_parameters = {name: ids[name] for name in case.path_parameters}


def _failures_of(operation, mode: GenerationMode, headers: dict, ids: dict) -> list[str]:
    failures = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              derandomize=True, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def check(case):
        _on_real_objects(case, ids)
        try:
            case.call_and_validate(headers=headers)
        except (Exception, BaseExceptionGroup) as error:  # report every operation's failure
            failures.append(f"{operation.label} ({mode.value}): {error}"[:2000])
            raise

    try:
        check()
    except (Exception, BaseExceptionGroup):
        return failures[-1:]  # the shrunk, final example
    return []


def test_every_api_operation_answers_as_its_description_says(app, make_survey):
    token, ids = _department_with_data(app, make_survey)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5
    # identity: the test transport hands schemathesis the body as sent, undecoded
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    # Positive: valid requests get answers of the described shape. Negative: requests the
    # description rules out (an empty or malformed date, an unknown source) are refused.
    failures = [f for op in operations for mode in GenerationMode
                for f in _failures_of(op, mode, headers, ids)]
    assert failures == [], "\n\n".join(failures)
