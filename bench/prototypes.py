"""Fintalk's ASGI app with candidate optimisations patched in, to measure them before anyone
edits the application: served in place of ``fintalk.asgi:application`` by
``python -m bench.experiments``, never in production.

``BENCH_PATCHES`` names the patches (comma-separated). Each is a prototype of a change
proposed in docs/benchmarks.md, simplified where the real change needs care (noted below).
"""

import asyncio
import os
import time

import httpx
import openai

PATCHES = tuple(p for p in os.environ.get("BENCH_PATCHES", "").split(",") if p)


def tool_schema_cache() -> None:
    """The bank tools' OpenAI tool dicts built once per process, not on every LLM call.

    Since ``agents/providers/tool_specs.py`` does this in the provider, the patch is a
    control: it should change nothing, so what it seems to change is noise.

    Only the module-level metadata of the bank's own tools is cached (it lives as long as the
    process); client tools, built per request, are converted as before.
    """
    from llama_index.core.tools.types import ToolMetadata

    import agents.tools

    shared = {id(meta): meta for meta in getattr(agents.tools, "_METADATA", {}).values()}
    original = ToolMetadata.to_openai_tool
    cache: dict[tuple[int, bool], dict] = {}

    def to_openai_tool(self, skip_length_check: bool = False) -> dict:
        if id(self) not in shared:
            return original(self, skip_length_check)
        key = (id(self), skip_length_check)
        if key not in cache:
            cache[key] = original(self, skip_length_check)
        # The openai client only reads it, but hand out a copy of the top level all the same.
        return dict(cache[key])

    ToolMetadata.to_openai_tool = to_openai_tool


def auth_cache(ttl_seconds: float = 60.0) -> None:
    """API keys looked up once a minute per key instead of once per request.

    The real change must also drop a key from the cache when it is revoked (a signal on
    ``ApiKey`` save, or a short TTL and a shared cache): this prototype only measures.
    """
    import api.base

    original = api.base.api_key_authenticate
    cache: dict[str, tuple[float, object]] = {}

    async def api_key_authenticate(*, authorization: str):
        hit = cache.get(authorization)
        now = time.monotonic()
        if hit and hit[0] > now:
            return hit[1]
        key = await original(authorization=authorization)
        cache[authorization] = (now + ttl_seconds, key)
        return key

    api.base.api_key_authenticate = api_key_authenticate


class _DrainOnClose(httpx.AsyncByteStream):
    """Reads what is left of a response (at most 50 ms) before closing it.

    The openai client stops reading at ``data: [DONE]``, before the chunked body's last
    bytes; closing a half-read HTTP/1.1 response makes httpcore drop the connection instead
    of pooling it (openai-python issue #3440), so every request opens a new one (and, on
    HTTPS, shakes hands again).
    """

    def __init__(self, stream: httpx.AsyncByteStream) -> None:
        self._stream = stream

    async def __aiter__(self):
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            async with asyncio.timeout(0.05):
                async for _ in self._stream:
                    pass
        except Exception:  # noqa: BLE001 - best effort; closing below is what matters
            pass
        await self._stream.aclose()


class _DrainingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_DrainOnClose(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def drain_upstream() -> None:
    """The provider's httpx client keeps its upstream connections alive between requests."""
    from openai._base_client import DEFAULT_CONNECTION_LIMITS

    class DrainingClient(openai.DefaultAsyncHttpxClient):
        def __init__(self, **kwargs) -> None:
            inner = httpx.AsyncHTTPTransport(
                verify=kwargs.pop("verify", True), limits=DEFAULT_CONNECTION_LIMITS
            )
            super().__init__(transport=_DrainingTransport(inner), **kwargs)

    openai.DefaultAsyncHttpxClient = DrainingClient


AVAILABLE = {
    "tool-schema-cache": tool_schema_cache,
    "auth-cache": auth_cache,
    "drain-upstream": drain_upstream,
}

from fintalk.asgi import application  # noqa: E402 - Django must be set up before the patches

for _name in PATCHES:
    AVAILABLE[_name]()

__all__ = ["application"]
