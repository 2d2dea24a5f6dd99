"""The one error shape, and the handlers that translate everything into it.

`{"error": {"code": "...", "message": "...", "details": [...]}}`
"""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.core.events import FieldError

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


# Pydantic's error types for a body that is not a JSON object at all.
NOT_AN_OBJECT = frozenset({"model_attributes_type", "dict_type", "missing"})


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        details: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = list(details)
        self.headers = headers


def error_body(
    status: int, message: str, details: Sequence[Any] = ()
) -> dict[str, Any]:
    code = CODES.get(status, "internal_error")
    return {"error": {"code": code, "message": message, "details": list(details)}}


def error_response(
    status: int, message: str, details: Sequence[Any] = (), headers: Any = None
) -> JSONResponse:
    return JSONResponse(error_body(status, message, details), status, headers=headers)


def validation_details(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Each pydantic error as the dotted path of its field and a sentence."""
    details = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):
            loc.append(cause.field)
        message = str(error.get("msg", "is invalid"))
        message = message.removeprefix("Value error, ")
        if loc == ["body"] and error.get("type") in NOT_AN_OBJECT:
            message = "the body must be a JSON object sent as application/json"
        elif error.get("type") == "json_invalid":
            position = loc[1] if len(loc) > 1 else "?"
            loc, message = (
                ["body"],
                f"the body is not valid JSON (at character {position})",
            )
        details.append({"field": ".".join(loc), "message": message})
    return details


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the one shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(exc.errors())
        fields = ", ".join(d["field"] for d in details)
        return error_response(422, f"the request is invalid: {fields}", details)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return error_response(404, exc.message)

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return error_response(409, exc.message, [{"status": exc.status}])

    @app.exception_handler(InvalidInput)
    async def _input(_: Request, exc: InvalidInput) -> JSONResponse:
        return error_response(422, exc.message, exc.details)

    @app.exception_handler(NotAllowed)
    async def _not_allowed(_: Request, exc: NotAllowed) -> JSONResponse:
        return error_response(403, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 400:
            # FastAPI's answer to a body it cannot decode (bad UTF-8, huge ints).
            detail = {"field": "body", "message": "the body is not valid JSON"}
            return error_response(422, "the request is invalid: body", [detail])
        if exc.status_code == 404:
            message = "no such endpoint"
        return error_response(exc.status_code, message, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error; the bridge logged the details")
