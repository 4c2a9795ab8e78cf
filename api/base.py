"""An async DRF view: DRF's parsing, validation and error handling, with no thread hops.

DRF's ``APIView.dispatch`` is synchronous. This one awaits async handlers directly and
authenticates with one async query, so a streaming request never waits for Django's
shared sync thread before its first token.
"""

import inspect

from asgiref.sync import markcoroutinefunction
from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions as drf
from rest_framework.views import APIView

from api.keys import api_key_authenticate
from api.models import ApiKey
from api.ratelimit import client_ip, rate_limit_check
from fintalk import errors
from fintalk.observability import REQUESTS, request_id_from, request_id_var


class AsyncAPIView(APIView):
    authentication_required = True

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        markcoroutinefunction(view)
        return view

    async def dispatch(self, request, *args, **kwargs):
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        request_id_var.set(request_id)
        response = await self._dispatch(request, *args, **kwargs)
        response["X-Request-ID"] = request_id
        REQUESTS.labels(type(self).__name__, str(response.status_code)).inc()
        return response

    async def _dispatch(self, request, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.format_kwarg = self.get_format_suffix(**kwargs)
            request.accepted_renderer, request.accepted_media_type = (
                self.perform_content_negotiation(request)
            )
            method = request.method.lower()
            handler = getattr(self, method, None) if method in self.http_method_names else None
            if handler is None:
                raise drf.MethodNotAllowed(request.method)
            if self.authentication_required:
                self.api_key = await self.authenticate(request)
                await rate_limit_check(api_key=self.api_key, client_ip=client_ip(request.META))
            response = handler(request, *args, **kwargs)
            if inspect.isawaitable(response):
                response = await response
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    async def authenticate(self, request) -> ApiKey:
        return await api_key_authenticate(
            authorization=request.META.get("HTTP_AUTHORIZATION", "")
        )

    def request_data(self, request) -> dict:
        """The parsed JSON body; a body over the size limit is a 413, not a 400."""
        try:
            request._request.body  # noqa: B018 - reading it enforces DATA_UPLOAD_MAX_MEMORY_SIZE
        except RequestDataTooBig:
            raise errors.RequestTooLarge("The request body is too large.") from None
        if not request._request.body:
            raise errors.InvalidRequest("The request body is empty; send a JSON object.")
        data = request.data
        if not isinstance(data, dict):
            raise errors.InvalidRequest("The request body must be a JSON object.")
        return data
