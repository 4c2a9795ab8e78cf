"""Middleware arranged so the API's hot path never waits for a thread.

Django runs classic (``MiddlewareMixin``) middleware under ASGI by hopping to one shared
thread for every ``process_request``/``process_response``. The API path therefore gets
only async-native middleware (security headers, CORS); the session, auth, messages, CSRF,
frame-options and static-file machinery that browser pages (the admin) need runs inside
``BrowserOnlyMiddleware``, adapted exactly as Django would adapt it.
"""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.handlers.base import BaseHandler
from django.middleware.security import SecurityMiddleware
from django.utils.module_loading import import_string

API_PREFIXES = ("/api/", "/v1/", "/healthz", "/readyz", "/metrics")

BROWSER_MIDDLEWARE = (
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)


class AsyncSecurityMiddleware(SecurityMiddleware):
    """Django's SecurityMiddleware, run on the event loop: its hooks only read headers."""

    async def __acall__(self, request):
        response = self.process_request(request)
        if response is None:
            response = await self.get_response(request)
        return self.process_response(request, response)


def _browser_chain(get_response, *, is_async: bool):
    """Build the browser middleware chain the way ``BaseHandler.load_middleware`` does."""
    adapter = BaseHandler()
    handler, handler_is_async = get_response, is_async
    for path in reversed(BROWSER_MIDDLEWARE):
        middleware = import_string(path)
        middleware_can_async = getattr(middleware, "async_capable", False)
        middleware_is_async = handler_is_async if middleware_can_async else False
        if not getattr(middleware, "sync_capable", True):
            middleware_is_async = True
        adapted = adapter.adapt_method_mode(middleware_is_async, handler, handler_is_async)
        handler, handler_is_async = middleware(adapted), middleware_is_async
    return adapter.adapt_method_mode(is_async, handler, handler_is_async)


class BrowserOnlyMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        self.browser = _browser_chain(get_response, is_async=self.is_async)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        handler = self.get_response if request.path.startswith(API_PREFIXES) else self.browser
        return handler(request)

    async def __acall__(self, request):
        if request.path.startswith(API_PREFIXES):
            return await self.get_response(request)
        return await self.browser(request)
