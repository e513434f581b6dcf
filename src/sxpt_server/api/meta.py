"""Routes about the API itself: the OpenAPI document, problem types and a health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from sxpt_core import __version__
from sxpt_server.api import spec
from sxpt_server.problems import PROBLEM_TYPES, Problem, describe

__all__ = ["PATHS", "bp", "document"]

bp = Blueprint("meta", __name__)


def document() -> dict[str, Any]:
    """Assemble the OpenAPI 3.1 document from the ``PATHS`` of every API module."""
    from sxpt_server.api import MODULES  # imported here: the package imports this module

    paths: dict[str, Any] = {}
    for module in MODULES:
        paths.update(module.PATHS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "sxpt 参考服务器 API",
            "version": __version__,
            "description": (
                "全国大学生实习公共服务系统规则的参考服务器。错误以 RFC 9457 problem details 返回，"
                "含 sxpt 错误码（code）、中文说明（detail）和请求编号（request_id）。"
            ),
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": spec.COMPONENTS,
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI document."""
    return jsonify(document())


@bp.get("/problems/<code>")
def problem_type(code: str) -> Response:
    """Describe a problem type; the ``type`` member of every problem document points here."""
    if code not in PROBLEM_TYPES:
        raise Problem("SXPT-NOT-FOUND", f"没有错误码 {code}。", f"There is no problem code {code}.")
    return jsonify(describe(code))


@bp.get("/health")
def health() -> Response:
    """Say that the server is up, for load balancers and start-up checks."""
    return jsonify({"status": "ok"})


PATHS: dict[str, Any] = {
    "/api/v1/openapi.json": {
        "get": spec.operation(
            "本 API 的 OpenAPI 3.1 文档", tag="meta", auth=None,
            responses={"200": spec.json_response("OpenAPI 文档", {"type": "object"})},
        ),
    },
    "/api/v1/problems/{code}": {
        "get": spec.operation(
            "错误类型说明", tag="meta", auth=None,
            parameters=[spec.path_parameter("code", "sxpt 错误码，如 SXPT-AUTH-CODE-WRONG")],
            responses={"200": spec.json_response("错误类型", {
                "type": "object",
                "properties": {
                    "type": {"type": "string"}, "code": {"type": "string"}, "status": {"type": "integer"},
                    "title": {"type": "string"}, "title_en": {"type": "string"},
                },
            })},
            problems=("404",),
        ),
    },
    "/api/v1/health": {
        "get": spec.operation(
            "健康检查", tag="meta", auth=None,
            responses={"200": spec.json_response("服务正常", {
                "type": "object", "properties": {"status": {"const": "ok"}},
            })},
        ),
    },
}
