"""Fintalk's application errors.

Each error knows its HTTP status and OpenAI error ``type``/``code``; ``api.errors`` maps
them to the OpenAI envelope in one place. Raise these anywhere below the HTTP layer.
A message is masked when the error is made (it may quote an upstream's words or the
caller's input), so no card number reaches an error envelope, a log line or the log.
"""

from fintalk.masking import mask_card_numbers


# Where the endpoints are, for any request that missed them (a mis-set base URL such as
# ``//v1`` or no ``/v1`` at all).
NOT_FOUND_HINT = (
    "Fintalk's base URLs are /v1 (OpenAI-compatible: POST /v1/chat/completions, GET /v1/models) "
    "and /api (the same, plus the front-end endpoints); the admin is at /admin/."
)


class FintalkError(Exception):
    status = 500
    type = "server_error"
    code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        message = mask_card_numbers(message)
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code


class InvalidRequest(FintalkError):
    status = 400
    type = "invalid_request_error"


class RequestTooLarge(InvalidRequest):
    status = 413
    code = "request_too_large"


class NotAuthenticated(FintalkError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class PermissionDenied(FintalkError):
    status = 403
    type = "permission_error"


class NotFound(InvalidRequest):
    status = 404
    code = "not_found"


class ModelNotFound(NotFound):
    code = "model_not_found"


class MethodNotAllowed(InvalidRequest):
    status = 405
    code = "method_not_allowed"


class RateLimited(FintalkError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: int, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailable(FintalkError):
    """Fintalk cannot take the request now (shutting down, at capacity); retry shortly."""

    status = 503
    code = "service_unavailable"


class UpstreamError(FintalkError):
    """The model provider failed; the message says what to fix."""

    status = 502
    type = "upstream_error"
    code = "upstream_error"


class UpstreamUnavailable(UpstreamError):
    status = 503
    code = "upstream_unavailable"


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "upstream_timeout"


class UpstreamRateLimited(RateLimited):
    """The model provider is throttling Fintalk; the client should retry after a pause."""

    code = "upstream_rate_limited"
