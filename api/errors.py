"""The OpenAI error envelope, and the one place errors are mapped onto it.

``{"error": {"message", "type", "param", "code"}}`` with the right status, for Fintalk's
own errors (``fintalk.errors``), DRF's, and Django's 404/500 on API paths.
"""

import logging

from django.http import JsonResponse
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions as drf

from fintalk import errors

logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/admin/"


def error_body(
    message: str, *, type: str, param: str | None = None, code: str | None = None
) -> dict:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(exc: errors.FintalkError) -> JsonResponse:
    response = JsonResponse(
        error_body(exc.message, type=exc.type, param=exc.param, code=exc.code),
        status=exc.status,
    )
    if isinstance(exc, errors.RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


def _first_validation_error(detail, path: str = "") -> tuple[str | None, str]:
    """The first field path and message of a DRF validation error, e.g. ``messages[0].role``."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # DRF reports list items by index
                return _first_validation_error(value, f"{path}[{key}]")
            name = "" if key == "non_field_errors" else str(key)
            joined = f"{path}.{name}" if path and name else (path or name)
            return _first_validation_error(value, joined)
    if isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)) and value:
                return _first_validation_error(value, f"{path}[{index}]")
            if not isinstance(value, (dict, list)):
                return path or None, str(value)
    return path or None, str(detail)


def as_fintalk_error(exc: Exception) -> errors.FintalkError | None:
    """Translate DRF's exceptions into Fintalk's; None for anything unexpected."""
    if isinstance(exc, errors.FintalkError):
        return exc
    if isinstance(exc, drf.ValidationError):
        param, message = _first_validation_error(exc.detail)
        text = f"{param}: {message}" if param else message
        return errors.InvalidRequest(text, param=param, code="invalid_value")
    if isinstance(exc, drf.ParseError):
        return errors.InvalidRequest(
            f"The request body is not valid JSON ({exc.detail}).", code="invalid_json"
        )
    if isinstance(exc, drf.UnsupportedMediaType):
        return errors.InvalidRequest(str(exc.detail), code="unsupported_media_type")
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        return errors.NotAuthenticated(str(exc.detail))
    if isinstance(exc, drf.PermissionDenied):
        return errors.PermissionDenied(str(exc.detail))
    if isinstance(exc, drf.MethodNotAllowed):
        return errors.MethodNotAllowed(str(exc.detail))
    if isinstance(exc, drf.NotFound):
        return errors.NotFound(str(exc.detail))
    if isinstance(exc, drf.Throttled):
        return errors.RateLimited(str(exc.detail), retry_after=int(exc.wait or 1))
    if isinstance(exc, drf.APIException):
        error = errors.FintalkError(str(exc.detail))
        error.status = exc.status_code
        return error
    return None


def exception_handler(exc: Exception, context) -> JsonResponse:
    """DRF's EXCEPTION_HANDLER: every error leaves as the OpenAI envelope, never a traceback."""
    error = as_fintalk_error(exc)
    if error is None:
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
        error = errors.FintalkError("The server had an error processing your request.")
    return error_response(error)


def _is_admin_path(request) -> bool:
    return request.path.startswith(ADMIN_PREFIX)


def not_found(path: str) -> errors.NotFound:
    """The 404 for a request to ``path``, saying where the endpoints are."""
    return errors.NotFound(f"No endpoint at {path}. {errors.NOT_FOUND_HINT}")


def handler404(request, exception=None):
    """JSON for every unknown path (a client with a mis-set base URL reads JSON), HTML in the admin."""
    if _is_admin_path(request):
        return page_not_found(request, exception)
    return error_response(not_found(request.path))


def handler500(request):
    if not _is_admin_path(request):
        return error_response(
            errors.FintalkError("The server had an error processing your request.")
        )
    return server_error(request)
