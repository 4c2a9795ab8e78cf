"""One long-lived, keep-alive HTTP client per process for an OpenAI-compatible server.

aiohttp, not httpx: reading one streamed chunk costs 62–90 µs of CPU through aiohttp and
127–153 µs through httpx on the project's 2-core machine (docs/benchmarks.md), and the
``openai`` client added its pydantic chunk models on top. Connections are pooled per
event loop (aiohttp's pool belongs to one loop) and reused: every response is read to its
end before it is released, because a half-read HTTP/1.1 response cannot go back to the
pool (the ``openai`` client stopped at ``data: [DONE]`` and so opened a new connection,
and on HTTPS shook hands again, for every request).

Retries follow the ``openai`` client's rules: connection failures, timeouts before the
reply started, 408, 409, 429 and 5xx, ``LLM_MAX_RETRIES`` times, with exponential backoff
(0.5 s doubling, at most 8 s, jittered) or the server's ``Retry-After`` when it is short.
"""

import asyncio
import atexit
import json
import random
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from agents.providers.overrides import received_before_failure

RETRIED_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
INITIAL_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 8.0
MAX_RETRY_AFTER_SECONDS = 60.0
# After ``data: [DONE]`` only the chunked body's last bytes remain; an upstream that keeps
# the response open longer loses the connection instead of holding the answer.
DRAIN_SECONDS = 1.0


# Every session made, with its loop and its owner's map, so that the sessions of closed
# loops can be dropped whichever provider made them.
_SESSIONS: list[tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession, dict]] = []


def _forget_closed_loops(*, every: bool = False) -> None:
    """Drop the sessions of event loops that have closed (tests run one loop per call; a
    server's loop lives as long as its process), without aiohttp's unclosed warnings."""
    for entry in [entry for entry in _SESSIONS if every or entry[0].is_closed()]:
        _SESSIONS.remove(entry)
        loop, session, owner = entry
        if owner.get(loop) is session:
            del owner[loop]
        connector = session.connector
        session.detach()
        if connector is not None:
            # ``close()`` returns an awaitable that a closed loop cannot await; ``_close``
            # marks the pool closed and, once the loop is closed, touches nothing else.
            connector._close()


atexit.register(_forget_closed_loops, every=True)


class UpstreamStatus(Exception):
    """The upstream answered with an HTTP error: ``status``, its own ``message`` and
    ``code`` (from OpenAI's envelope when it sent one), ``retry_after`` in seconds."""

    def __init__(self, status: int, message: str, code: str | None = None, retry_after: float | None = None):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.code = code
        self.retry_after = retry_after


def _retry_after(headers: Any) -> float | None:
    try:
        return max(0.0, float(headers.get("retry-after", "")))
    except ValueError:
        return None


async def status_error(response: aiohttp.ClientResponse) -> UpstreamStatus:
    """The ``UpstreamStatus`` of an error response (its body read, the response released)."""
    raw = await response.read()
    message, code = raw.decode(errors="replace")[:300] or response.reason or "", None
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            message = str(error.get("message") or message)[:300]
            code = error.get("code")
        elif isinstance(error, str):
            message = error[:300]
    return UpstreamStatus(response.status, message, str(code) if code else None, _retry_after(response.headers))


class OpenAIHTTP:
    """The HTTP side of ``LLM_PROVIDER=openai``: ``post`` opens a response, ``get_json`` reads one.

    ``endpoint`` is the base URL (…/v1); ``timeout`` (seconds) bounds connecting and every
    wait for data, including the wait for the reply's headers; ``max_connections`` bounds
    the pool per event loop.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        api_key: str,
        verify_ssl: bool,
        timeout: float,
        max_retries: int,
        max_connections: int,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.verify_ssl = verify_ssl
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_connections = max_connections
        self._headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        # A session holds its loop, so this cannot be weak: closed loops are dropped instead.
        self._sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}

    def session(self) -> aiohttp.ClientSession:
        """The running event loop's session (made on first use)."""
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            _forget_closed_loops()
            connector = aiohttp.TCPConnector(
                limit=self.max_connections,
                ssl=None if self.verify_ssl else False,
                keepalive_timeout=30,
                enable_cleanup_closed=False,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None, connect=self.timeout, sock_read=self.timeout),
                headers=self._headers,
                auto_decompress=True,
                raise_for_status=False,
            )
            self._sessions[loop] = session
            _SESSIONS.append((loop, session, self._sessions))
        return session

    async def post(self, path: str, body: bytes, *, timeout: float | None = None) -> aiohttp.ClientResponse:
        """``POST endpoint+path`` with ``body`` (JSON), retried as the module says; returns
        the open 2xx response (the caller reads and releases it). Raises ``UpstreamStatus``,
        ``aiohttp.ClientError`` or ``TimeoutError``; ``timeout`` overrides the per-read
        timeout of this request."""
        session = self.session()
        url = self.endpoint + path
        options: dict[str, Any] = {}
        if timeout is not None:
            options["timeout"] = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
        attempt = 0
        while True:
            wait: float | None = None
            try:
                response = await session.post(url, data=body, **options)
            except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError, ssl.SSLError):
                raise
            except (aiohttp.ClientConnectionError, TimeoutError):
                if attempt >= self.max_retries:
                    raise
            else:
                if response.status < 400:
                    return response
                error = await status_error(response)
                if error.status not in RETRIED_STATUSES or attempt >= self.max_retries:
                    raise error
                if error.retry_after is not None and error.retry_after <= MAX_RETRY_AFTER_SECONDS:
                    wait = error.retry_after
            if wait is None:
                wait = min(INITIAL_BACKOFF_SECONDS * 2**attempt, MAX_BACKOFF_SECONDS) * (0.75 + random.random() / 4)
            attempt += 1
            await asyncio.sleep(wait)

    async def get_json(self, path: str, *, timeout: float) -> Any:
        """``GET endpoint+path`` once, as JSON; raises as ``post`` does."""
        limit = aiohttp.ClientTimeout(total=timeout)
        async with self.session().get(self.endpoint + path, timeout=limit) as response:
            if response.status >= 400:
                raise await status_error(response)
            return await response.json(content_type=None)


async def line_batches(response: aiohttp.ClientResponse) -> AsyncIterator[list[bytes]]:
    """The response body's non-empty lines (without their ``\\n``), a list per network read
    as they arrive (one resume of this generator per read, not per line: SSE sends a
    blank line after every event)."""
    held = b""
    try:
        async for data in response.content.iter_any():
            if held:
                data = held + data
            *complete, held = data.split(b"\n")
            complete = [line for line in complete if line]
            if complete:
                yield complete
    except aiohttp.ClientPayloadError:
        # Cut off: what arrived before the break is still the upstream's answer.
        *complete, _ = (held + received_before_failure(response.content)).split(b"\n")
        complete = [line for line in complete if line]
        if complete:
            yield complete
        raise
    if held:
        yield [held]


async def drain(response: aiohttp.ClientResponse) -> None:
    """Read what is left of ``response`` (at most ``DRAIN_SECONDS``) so that its connection
    returns to the pool, then release it; close it instead if the rest does not come."""
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            async for _ in response.content.iter_any():
                pass
    except (TimeoutError, aiohttp.ClientError):
        response.close()
        return
    response.release()
