"""The JSON API: tokens, department scoping, and every response valid against the OpenAPI
description the app serves (checked with a small JSON Schema validator below)."""
import re

import pytest

from survey.store import accounts, api_tokens
from survey.store.responses import Submission, record_response
from survey.web.db import get_db

from ..conftest import with_reasons

_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool,
          "array": list, "object": dict, "null": type(None)}


def _is(value, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[kind])


def schema_errors(value, schema: dict, spec: dict, path: str = "$") -> list[str]:
    """The subset of JSON Schema the API description uses: $ref, type (or a list of types),
    enum, properties, required, additionalProperties, items, minItems/maxItems, minimum/maximum."""
    if "$ref" in schema:
        return schema_errors(value, spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]],
                             spec, path)
    kinds = schema.get("type")
    if kinds is not None:
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if not any(_is(value, k) for k in kinds):
            return [f"{path}: {value!r} is not {kinds}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} not in {schema['enum']}"]
    errors = []
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} > {schema['maximum']}")
    if isinstance(value, dict):
        errors += _object_errors(value, schema, spec, path)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 10**9):
            errors.append(f"{path}: {len(value)} items")
        for i, item in enumerate(value):
            errors += schema_errors(item, schema.get("items", {}), spec, f"{path}[{i}]")
    return errors


def _object_errors(value: dict, schema: dict, spec: dict, path: str) -> list[str]:
    properties = schema.get("properties", {})
    errors = [f"{path}: missing {key}" for key in schema.get("required", []) if key not in value]
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            errors += schema_errors(item, properties[key], spec, f"{path}.{key}")
        elif extra is False:
            errors.append(f"{path}: unexpected {key}")
        elif isinstance(extra, dict):
            errors += schema_errors(item, extra, spec, f"{path}.{key}")
    return errors


@pytest.mark.parametrize("value, schema, ok", [
    (1, {"type": "integer"}, True), (True, {"type": "integer"}, False),
    (None, {"type": ["number", "null"]}, True), ("x", {"enum": ["a"]}, False),
    ({"a": 1}, {"type": "object", "required": ["b"]}, False),
    ({"a": 1}, {"type": "object", "properties": {}, "additionalProperties": False}, False),
    ([0.5, 2], {"type": "array", "items": {"maximum": 1}}, False),
    ([1], {"type": "array", "minItems": 2}, False),
])
def test_the_validator_itself_can_fail(value, schema, ok):
    assert (schema_errors(value, schema, {}) == []) is ok


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _token(app, department="测试部门") -> str:
    with app.app_context():
        db = get_db()
        return api_tokens.create_token(db, accounts.department_by_name(db, department)["id"],
                                       "财政局绩效系统", None).token


def _responses(app, survey, levels, source="qr"):
    with app.app_context():
        db = get_db()
        scale = [q for q in survey["questions"] if q["kind"] == "scale"]
        for i, level in enumerate(levels):
            record_response(db, survey, survey["questions"], Submission(
                answers=with_reasons(survey["questions"],
                                     {q["id"]: [q["options"][level]["id"]] for q in scale}),
                nonce=f"api-{survey['id']}-{source}-{i}", source=source, duration_seconds=40.0))


def _checked(client, spec, path: str, token: str | None, status: int = 200) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get(path, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    template = _template_of(spec, path)
    declared = spec["paths"][template]["get"]["responses"][str(status)]
    schema = declared["content"]["application/json"]["schema"]
    body = response.get_json()
    assert schema_errors(body, schema, spec) == []
    return body


def _template_of(spec: dict, path: str) -> str:
    path = path.split("?")[0].removeprefix("/api/v1")
    for template in spec["paths"]:
        if re.fullmatch(re.sub(r"\{[^}]+\}", r"[^/]+", template), path):
            return template
    raise AssertionError(f"{path} is not in the API description")


def test_every_api_route_is_described(app, spec):
    routes = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).removeprefix("/api/v1")
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    routes.discard("/openapi.json")
    assert routes == set(spec["paths"])
    assert spec["openapi"].startswith("3.1")


def test_survey_list_summary_and_questions_match_the_description(app, client, spec,
                                                                 make_survey):
    survey = make_survey()
    make_survey(department="其他部门")
    _responses(app, survey, [0, 0, 1, 3])
    token = _token(app)
    listed = _checked(client, spec, "/api/v1/surveys", token)
    assert [s["id"] for s in listed["surveys"]] == [survey["id"]]
    assert listed["surveys"][0]["returned"] == 4
    summary = _checked(client, spec, listed["surveys"][0]["links"]["summary"], token)
    assert (summary["valid"], summary["satisfied"], summary["satisfaction_rate"]) == (4, 3, 0.75)
    questions = _checked(client, spec, listed["surveys"][0]["links"]["questions"], token)
    assert [q["answered"] for q in questions["questions"] if q["kind"] == "scale"] == [4] * 8


def test_filters_narrow_the_figures(app, client, spec, make_survey):
    survey = make_survey()
    _responses(app, survey, [0, 4])
    _responses(app, survey, [4], source="paper")
    token = _token(app)
    base = f"/api/v1/surveys/{survey['id']}/summary"
    assert _checked(client, spec, f"{base}?source=paper", token)["returned"] == 1
    assert _checked(client, spec, f"{base}?from=2000-01-01&to=2000-12-31", token)["returned"] == 0


@pytest.mark.parametrize("query", ["source=fax", "from=2024-13-01", "to=yesterday", "from=", "to=",
                                   "source=", "from=20240101", "to=2024-W01-1"])
def test_bad_filters_are_a_400_in_chinese(app, client, spec, make_survey, query):
    survey = make_survey()
    body = _checked(client, spec, f"/api/v1/surveys/{survey['id']}/summary?{query}",
                    _token(app), 400)
    assert "参数" in body["error"]


@pytest.mark.parametrize("header", [None, "Bearer sv_not-a-real-token", "Basic YWxpY2U6eA=="])
def test_no_or_a_bad_token_is_a_401(client, spec, header):
    response = client.get("/api/v1/surveys", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert schema_errors(response.get_json(), {"$ref": "#/components/schemas/Error"}, spec) == []


def test_a_revoked_token_stops_working(app, client, spec):
    token = _token(app)
    _checked(client, spec, "/api/v1/surveys", token)
    with app.app_context():
        db = get_db()
        row = db.execute("SELECT id, department_id FROM api_tokens").fetchone()
        api_tokens.revoke_token(db, row[0], row[1], None)
    _checked(client, spec, "/api/v1/surveys", token, 401)


@pytest.mark.parametrize("page", ["summary", "questions"])
def test_another_departments_survey_is_a_404(app, client, spec, make_survey, page):
    survey = make_survey()
    mallory = _token(app, "其他部门")
    body = _checked(client, spec, f"/api/v1/surveys/{survey['id']}/{page}", mallory, 404)
    assert body["status"] == 404


def test_a_logged_in_staff_session_still_reads_the_summary(client, auth, spec, make_survey):
    survey = make_survey()
    auth.login("bob")
    _checked(client, spec, f"/api/v1/surveys/{survey['id']}/summary", None)
    auth.login("mallory")
    _checked(client, spec, f"/api/v1/surveys/{survey['id']}/summary", None, 404)


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_the_api_is_read_only(app, client, make_survey, method):
    survey = make_survey()
    response = getattr(client, method)(f"/api/v1/surveys/{survey['id']}/summary",
                                       headers={"Authorization": f"Bearer {_token(app)}"})
    assert response.status_code == 405


def test_assessment_totals_match_the_description(app, client, spec):
    records = pytest.importorskip("survey.store.assessments")
    with app.app_context():
        db = get_db()
        ours = accounts.department_by_name(db, "测试部门")["id"]
        theirs = accounts.department_by_name(db, "其他部门")["id"]
        mine = records.create_assessment(db, ours, 2024, "2024 年度部门整体支出绩效自评",
                                         template="dept-2022")
        other = records.create_assessment(db, theirs, 2024, "其他", template="dept-2022")
    token = _token(app)
    listed = _checked(client, spec, "/api/v1/assessments", token)
    assert [a["id"] for a in listed["assessments"]] == [mine]
    one = _checked(client, spec, f"/api/v1/assessments/{mine}", token)
    assert [level["weight"] for level in one["levels"]] == [10, 30, 25, 35]
    assert one["total"] == pytest.approx(sum(level["score"] or 0 for level in one["levels"]))
    _checked(client, spec, f"/api/v1/assessments/{other}", token, 404)
