"""Middleware that only browser pages need, kept off the API's hot path.

Django runs classic (``MiddlewareMixin``) middleware under ASGI by hopping to a shared
thread for every ``process_request``/``process_response``. The API needs none of the
session, auth, messages, CSRF and frame options machinery, so it skips the lot; the admin
gets all of it, in the usual order.
"""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.utils.module_loading import import_string

API_PREFIXES = ("/api/", "/v1/", "/healthz", "/readyz")

BROWSER_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)


class BrowserOnlyMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        browser = get_response
        for path in reversed(BROWSER_MIDDLEWARE):
            browser = import_string(path)(browser)
        self.browser = browser
        self.is_async = iscoroutinefunction(get_response)
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
