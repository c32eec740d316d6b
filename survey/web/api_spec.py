"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Schemas are JSON Schema; tests validate every API response against them, so this file and
the API cannot drift apart silently."""


def _nullable(kind: str | list) -> dict:
    kinds = kind if isinstance(kind, list) else [kind]
    return {"type": [*kinds, "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


RATE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
CI = {"type": ["array", "null"], "items": {"type": "number"}, "minItems": 2, "maxItems": 2}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error", "status"],
              "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}},
    "SurveyListItem": {
        "type": "object",
        "required": ["id", "title", "status", "status_text", "year", "series", "returned", "valid",
                     "created_at", "links"],
        "properties": {
            "id": {"type": "integer"}, "title": {"type": "string"},
            "status": {"enum": ["draft", "open", "closed"]}, "status_text": {"type": "string"},
            "year": _nullable("integer"), "series": _nullable("string"),
            "returned": {"type": "integer", "minimum": 0},
            "valid": {"type": "integer", "minimum": 0},
            "created_at": {"type": "string"},
            "links": {"type": "object", "required": ["summary", "questions"],
                      "properties": {"summary": {"type": "string"},
                                     "questions": {"type": "string"}}},
        },
        "additionalProperties": False,
    },
    "SurveyList": {"type": "object", "required": ["surveys"],
                   "properties": {"surveys": {"type": "array", "items": _ref("SurveyListItem")}}},
    "Option": {
        "type": "object",
        "required": ["option_id", "label", "value", "satisfied", "count", "share"],
        "properties": {"option_id": {"type": "integer"}, "label": {"type": "string"},
                       "value": _nullable("number"), "satisfied": {"type": "boolean"},
                       "count": {"type": "integer", "minimum": 0}, "share": RATE},
    },
    "QuestionFigures": {
        "type": "object",
        "required": ["question_id", "position", "text", "kind", "required", "answered", "skipped",
                     "satisfied", "satisfaction_rate", "satisfaction_rate_ci95",
                     "satisfaction_index", "options"],
        "properties": {
            "question_id": {"type": "integer"}, "position": {"type": "integer"},
            "text": {"type": "string"}, "kind": {"enum": ["scale", "single", "multiple", "text"]},
            "required": {"type": "boolean"}, "answered": {"type": "integer", "minimum": 0},
            "skipped": {"type": "integer", "minimum": 0}, "satisfied": _nullable("integer"),
            "satisfaction_rate": RATE, "satisfaction_rate_ci95": CI,
            "satisfaction_index": _nullable("number"),
            "options": {"type": "array", "items": _ref("Option")},
        },
    },
    "Summary": {
        "type": "object",
        "description": ("问卷的全部统计数字；definitions 给出每个数字的计算口径，"
                        "absent 说明空缺原因。"),
        "required": ["survey_id", "title", "issued", "returned", "valid", "invalid",
                     "return_rate", "valid_rate", "effective_return_rate", "satisfied",
                     "satisfaction_rate", "satisfaction_rate_ci95", "satisfaction_index", "n",
                     "margin_of_error", "sample_size_needed", "settings", "questions", "per_day",
                     "definitions", "absent"],
        "properties": {
            "survey_id": {"type": "integer"}, "title": {"type": "string"},
            "issued": _nullable("integer"), "form_views": {"type": "integer"},
            "returned": {"type": "integer", "minimum": 0},
            "valid": {"type": "integer", "minimum": 0},
            "invalid": {"type": "integer", "minimum": 0},
            "return_rate": RATE, "return_rate_ci95": CI, "valid_rate": RATE,
            "valid_rate_ci95": CI, "effective_return_rate": RATE,
            "effective_return_rate_ci95": CI, "satisfied": _nullable("integer"),
            "satisfaction_rate": RATE, "satisfaction_rate_ci95": CI,
            "satisfaction_rate_basis": {"enum": ["question", "scale_mean"]},
            "satisfaction_index": _nullable("number"), "population": _nullable("integer"),
            "n": _nullable("number"), "margin_of_error": RATE, "margin_of_error_p50": RATE,
            "sample_size_needed": {"type": "object", "required": ["p50", "observed"],
                                   "properties": {"p50": {"type": "integer"},
                                                  "observed": _nullable("integer")}},
            "settings": {"type": "object"},
            "questions": {"type": "array", "items": _ref("QuestionFigures")},
            "per_day": {"type": "array", "items": {
                "type": "object", "required": ["date", "returned", "valid"],
                "properties": {"date": {"type": "string"}, "returned": {"type": "integer"},
                               "valid": {"type": "integer"}}}},
            "definitions": {"type": "object", "additionalProperties": {"type": "string"}},
            "absent": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "Questions": {"type": "object", "required": ["survey_id", "title", "valid", "questions"],
                  "properties": {"survey_id": {"type": "integer"}, "title": {"type": "string"},
                                 "valid": {"type": "integer"},
                                 "questions": {"type": "array",
                                               "items": _ref("QuestionFigures")}}},
    "Level": {"type": "object", "required": ["key", "name", "weight", "score"],
              "properties": {"key": {"type": "string"}, "name": {"type": "string"},
                             "weight": _nullable("number"), "score": _nullable("number"),
                             "reported": _nullable("number")}},
    "Assessment": {
        "type": "object",
        "required": ["id", "title", "year", "status", "total", "grade", "levels", "finalised_at"],
        "properties": {"id": {"type": "integer"}, "title": {"type": "string"},
                       "year": {"type": "integer"}, "status": {"enum": ["draft", "final"]},
                       "total": {"type": "number"}, "grade": {"type": "string"},
                       "finalised_at": _nullable("string"),
                       "levels": {"type": "array", "items": _ref("Level")}},
    },
    "Invitation": {
        "type": "object",
        "description": "一事一评：一笔办件的评价邀请。url 只能提交一次评价，过期后不再接受。",
        "required": ["id", "survey_id", "reference", "window", "staff", "url", "created_at",
                     "expires_at", "expired", "answered", "answered_at", "qr"],
        "properties": {
            "id": {"type": "integer"}, "survey_id": {"type": "integer"},
            "reference": {"type": "string"}, "window": {"type": "string"},
            "staff": {"type": "string"}, "url": {"type": "string"},
            "created_at": {"type": "string"}, "expires_at": {"type": "string"},
            "expired": {"type": "boolean"}, "answered": {"type": "boolean"},
            "answered_at": _nullable("string"),
            "qr": {"type": "object", "required": ["png", "svg"],
                   "properties": {"png": {"type": "string"}, "svg": {"type": "string"}}},
        },
        "additionalProperties": False,
    },
    "InvitationList": {"type": "object", "required": ["survey_id", "invitations"],
                       "properties": {"survey_id": {"type": "integer"},
                                      "invitations": {"type": "array",
                                                      "items": _ref("Invitation")}}},
    "NewInvitation": {
        "type": "object", "required": ["reference"],
        "properties": {
            "reference": {"type": "string", "maxLength": 64, "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$",
                          "description": "办件编号；同一编号返回同一邀请"},
            "window": {"type": "string", "maxLength": 40, "description": "办理窗口，如“窗口 3”"},
            "staff": {"type": "string", "maxLength": 32, "description": "经办工作人员工号"}},
    },
    "AssessmentList": {"type": "object", "required": ["assessments"],
                       "properties": {"assessments": {"type": "array",
                                                      "items": _ref("Assessment")}}},
}

_FILTERS = [
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "起始日期（含），YYYY-MM-DD，北京时间"},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "截止日期（含），YYYY-MM-DD"},
    {"name": "channel", "in": "query", "schema": {"type": "string"}, "description": "渠道标签"},
    {"name": "source", "in": "query", "schema": {"enum": ["qr", "web", "paper"]},
     "description": "来源：扫码、网页链接或纸质问卷"},
]
_ID = {"name": "survey_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_ASSESSMENT_ID = {"name": "assessment_id", "in": "path", "required": True,
                  "schema": {"type": "integer"}}


def _json(schema: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": _ref(schema)}}}


def _errors(*codes: int) -> dict:
    text = {400: "参数无效", 401: "缺少或无效的 API 令牌", 403: "令牌没有此操作的权限",
            404: "不存在或不属于本部门", 409: "问卷已结束收集"}
    return {str(c): _json("Error", text[c]) for c in codes}


def _get(summary: str, schema: str, parameters=(), errors=(401,)) -> dict:
    return {"get": {"summary": summary, "parameters": list(parameters),
                    "security": [{"bearer": []}, {"session": []}],
                    "responses": {"200": _json(schema, "成功"), **_errors(*errors)}}}


_REFERENCE = {"name": "reference", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "办件编号"}


def _image(summary: str, mimetype: str) -> dict:
    return {"get": {"summary": summary, "parameters": [_ID, _REFERENCE],
                    "security": [{"bearer": []}, {"session": []}],
                    "responses": {"200": {"description": "二维码图片",
                                          "content": {mimetype: {}}}, **_errors(401, 404)}}}


def _invitations() -> dict:
    paths = _get("最近的评价邀请（一事一评）", "InvitationList", [_ID], (401, 404))
    paths["post"] = {
        "summary": "为一笔办结的业务生成评价邀请（需 invite 权限的令牌）",
        "parameters": [_ID], "security": [{"bearer": []}],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": _ref("NewInvitation")}}},
        "responses": {"201": _json("Invitation", "已生成"),
                      "200": _json("Invitation", "该办件编号已有邀请，原样返回"),
                      **_errors(400, 401, 403, 404, 409)}}
    return paths


PATHS = {
    "/surveys": _get("本部门的问卷列表", "SurveyList"),
    "/surveys/{survey_id}/summary": _get("问卷统计数字（发放、回收、有效、满意率及置信区间等）",
                                         "Summary", [_ID, *_FILTERS], (400, 401, 404)),
    "/surveys/{survey_id}/questions": _get("各题各选项的人数和占比", "Questions",
                                           [_ID, *_FILTERS], (400, 401, 404)),
    "/surveys/{survey_id}/invitations": _invitations(),
    "/surveys/{survey_id}/invitations/{reference}/qr.png": _image(
        "评价邀请的二维码 PNG（58 毫米小票打印机，宽不超过 384 点）", "image/png"),
    "/surveys/{survey_id}/invitations/{reference}/qr.svg": _image(
        "评价邀请的二维码 SVG（宽 48 毫米）", "image/svg+xml"),
    "/assessments": _get("本部门的绩效自评及总分", "AssessmentList"),
    "/assessments/{assessment_id}": _get("一份绩效自评的总分、等级和各一级指标得分",
                                         "Assessment", [_ASSESSMENT_ID], (401, 404)),
}


def openapi(server_url: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "满意度调查服务接口", "version": "1",
                 "description": "按部门授权的 JSON 接口，除一事一评邀请外均为只读。请求头 "
                                "Authorization: Bearer <令牌>；令牌由部门管理员在“API 令牌”页面创建和撤销，"
                                "勾选 invite 权限的令牌可生成评价邀请。"},
        "servers": [{"url": server_url}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "部门 API 令牌"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "已登录的工作人员会话"}},
        },
    }
