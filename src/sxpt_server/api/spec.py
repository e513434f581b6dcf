"""Building blocks of the OpenAPI 3.1 document, which each API module writes next to its routes.

Each module has a ``PATHS`` mapping from OpenAPI paths to path items; ``document()`` joins
them with the shared components below.
"""

from __future__ import annotations

from typing import Any

__all__ = ["COMPONENTS", "body", "json_response", "no_content", "operation", "path_parameter", "ref"]

JSON = "application/json"
PROBLEM = "application/problem+json"


def ref(name: str) -> dict[str, str]:
    """Point to a schema among the components."""
    return {"$ref": f"#/components/schemas/{name}"}


def body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """Describe a JSON request body."""
    return {"required": required, "content": {JSON: {"schema": schema}}}


def json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Describe a JSON response."""
    return {"description": description, "content": {JSON: {"schema": schema}}}


def no_content(description: str) -> dict[str, Any]:
    """Describe a response without a body."""
    return {"description": description}


def path_parameter(name: str, description: str) -> dict[str, Any]:
    """Describe a string parameter in the path."""
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


_PROBLEM_RESPONSES = {
    "400": "请求无效（如请求体不是有效的 JSON、验证码错误）",
    "401": "未登录、会话已过期或 API 密钥无效",
    "403": "没有权限",
    "404": "未找到",
    "409": "已存在，或记录状态不允许此操作",
    "413": "文件或请求体超过限制",
    "415": "请求体不是 JSON",
    "422": "请求内容无效",
    "429": "请求或短信过于频繁",
    "502": "短信发送失败",
}


def operation(
    summary: str,
    *,
    tag: str,
    auth: str | None,
    responses: dict[str, Any],
    request_body: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    problems: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Describe one operation.

    ``auth`` is "session", "key" (a session or an API key) or None for a public route.
    ``problems`` lists the error statuses the operation may return as problem documents.
    """
    item: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": dict(responses)}
    if auth == "session":
        item["security"] = [{"session": []}]
    elif auth == "key":
        item["security"] = [{"session": []}, {"apiKey": []}]
    else:
        item["security"] = []
    if auth is not None:
        problems = ("401", *problems)
    if request_body is not None:
        item["requestBody"] = request_body
        # A body that is not valid JSON is a 400; one of the wrong shape a 422.
        problems = (*problems, "400", "415", "422")
    if parameters:
        item["parameters"] = parameters
    for status in sorted(set(problems)):
        item["responses"][status] = {
            "description": _PROBLEM_RESPONSES[status],
            "content": {PROBLEM: {"schema": ref("Problem")}},
        }
    return item


_NULLABLE_STRING = {"type": ["string", "null"]}

COMPONENTS: dict[str, Any] = {
    "securitySchemes": {
        "session": {"type": "apiKey", "in": "cookie", "name": "sxpt_session"},
        "apiKey": {"type": "http", "scheme": "bearer", "description": "API 密钥 sxpt_…，由校级用户签发"},
    },
    "schemas": {
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details",
            "required": ["type", "title", "status", "detail", "code", "request_id"],
            "properties": {
                "type": {"type": "string", "format": "uri-reference"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string", "description": "中文说明"},
                "detail_en": {"type": "string"},
                "code": {"type": "string", "pattern": "^SXPT-"},
                "request_id": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object"}},
                "retry_after": {"type": "integer"},
                "tries_left": {"type": "integer"},
            },
        },
        "Unit": {
            "type": "object",
            "properties": {
                "level": {"enum": ["ministry", "province", "school", "department"]},
                "province": _NULLABLE_STRING,
                "school": _NULLABLE_STRING,
                "department": _NULLABLE_STRING,
                "name": {"type": "string"},
            },
        },
        "Account": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "pattern": "^sxpt"},
                "unit": ref("Unit"),
                "phone": {"type": "string"},
                "contact_name": _NULLABLE_STRING,
                "status": {"enum": ["pending", "active"]},
                "created_at": {"type": "string", "format": "date-time"},
                "created_by": _NULLABLE_STRING,
                "activated_at": _NULLABLE_STRING,
            },
        },
        "Activation": {
            "type": "object",
            "properties": {
                "sent": {"type": "boolean"},
                "phone": {"type": "string"},
                "valid_hours": {"type": "integer"},
                "code": {"type": "string"},
                "detail": {"type": "string"},
                "detail_en": {"type": "string"},
                "retry_after": {"type": "integer"},
            },
        },
        "ApiKey": {
            "type": "object",
            "properties": {
                "prefix": {"type": "string"},
                "label": {"type": "string"},
                "scope": ref("Unit"),
                "created_by": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
                "expires_at": {"type": "string", "format": "date-time"},
                "revoked_at": _NULLABLE_STRING,
                "last_used_at": _NULLABLE_STRING,
            },
        },
        "Province": {
            "type": "object",
            "properties": {"code": {"type": "string"}, "name": {"type": "string"}, "created_at": {"type": "string"}},
        },
        "School": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "province": {"type": "string"},
                "name": {"type": "string"},
                "uscc": {"type": "string"},
                "city": {"type": "string"},
                "created_at": {"type": "string"},
            },
        },
        "Department": {
            "type": "object",
            "properties": {"school": {"type": "string"}, "name": {"type": "string"}, "created_at": {"type": "string"}},
        },
        "AuditEntry": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "at": {"type": "string", "format": "date-time"},
                "event": {"type": "string"},
                "actor": _NULLABLE_STRING,
                "ip": _NULLABLE_STRING,
                "request_id": _NULLABLE_STRING,
                "target": _NULLABLE_STRING,
                "unit": {"oneOf": [ref("Unit"), {"type": "null"}]},
                "detail": {"type": "object"},
            },
        },
    },
}
