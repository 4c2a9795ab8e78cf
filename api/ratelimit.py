"""Rate limits and token budgets, counted in a store every worker and host shares.

Redis (``REDIS_URL``) in production, so that all gunicorn workers and hosts agree; process
memory otherwise. Fixed windows: requests per minute per API key and per client IP, tokens
per UTC day per key.
"""

import asyncio
import time
import weakref
from typing import Protocol

import redis.asyncio as redis
from django.conf import settings

from api.degraded import DEPENDENCY_ERRORS, dependency_failure_note
from api.models import ApiKey
from fintalk import errors

_PREFIX = "fintalk:limits:"


class CounterStore(Protocol):
    async def add(self, key: str, amount: int, *, ttl: int) -> int:
        """Add to a counter that expires ``ttl`` seconds after its first use; return the total."""

    async def get(self, key: str) -> int: ...

    async def ping(self) -> None:
        """Raise if the store cannot be reached."""


class MemoryStore:
    """One process's counters: correct for a single worker, and for tests."""

    def __init__(self) -> None:
        self._counters: dict[str, tuple[int, float]] = {}

    async def add(self, key: str, amount: int, *, ttl: int) -> int:
        now = time.monotonic()
        count, expires = self._counters.get(key, (0, now + ttl))
        if expires <= now:
            count, expires = 0, now + ttl
        if len(self._counters) > 100_000:
            self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
        self._counters[key] = (count + amount, expires)
        return count + amount

    async def get(self, key: str) -> int:
        count, expires = self._counters.get(key, (0, 0.0))
        return count if expires > time.monotonic() else 0

    async def ping(self) -> None:
        return None


class RedisStore:
    def __init__(self, url: str) -> None:
        self._url = url
        # A connection pool belongs to one event loop; each loop gets its own client.
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _client(self) -> redis.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            # Half a second at most per call: a lost Redis must not hold up answers.
            client = self._clients[loop] = redis.from_url(
                self._url, socket_connect_timeout=0.5, socket_timeout=0.5
            )
        return client

    async def ping(self) -> None:
        await self._client().ping()

    async def add(self, key: str, amount: int, *, ttl: int) -> int:
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.incrby(key, amount)
            pipe.expire(key, ttl, nx=True)
            total, _ = await pipe.execute()
        return int(total)

    async def get(self, key: str) -> int:
        return int(await self._client().get(key) or 0)


_store: CounterStore | None = None


def counter_store() -> CounterStore:
    global _store
    if _store is None:
        _store = RedisStore(settings.REDIS_URL) if settings.REDIS_URL else MemoryStore()
    return _store


async def _count(store: CounterStore, key: str, *, limit: int, what: str) -> None:
    window = int(time.time() // 60)
    total = await store.add(f"{_PREFIX}{key}:{window}", 1, ttl=120)
    if total > limit:
        retry_after = 60 - int(time.time()) % 60
        raise errors.RateLimited(
            f"Rate limit reached: {limit} requests per minute {what}. Retry in {retry_after} s.",
            retry_after=retry_after,
        )


def _day_key(api_key: ApiKey) -> str:
    return f"{_PREFIX}tokens:{api_key.prefix}:{time.strftime('%Y%m%d', time.gmtime())}"


def _token_budget(api_key: ApiKey) -> int:
    return settings.TOKEN_BUDGET_PER_DAY if api_key.tokens_per_day is None else api_key.tokens_per_day


async def rate_limit_check(*, api_key: ApiKey, client_ip: str | None) -> None:
    """Count this request; raise RateLimited (429 with Retry-After) when over a limit.

    ``client_ip`` None (a transport that knows no client address, such as MQTT) skips the
    per-address limit. With the store unreachable the request passes (``api.degraded``).
    """
    try:
        await _limits_check(counter_store(), api_key=api_key, client_ip=client_ip)
    except DEPENDENCY_ERRORS as error:
        dependency_failure_note(
            dependency="Redis",
            operation="the rate-limit check",
            consequence="rate limits and token budgets are NOT enforced until it is back",
            error=error,
        )


async def _limits_check(store: CounterStore, *, api_key: ApiKey, client_ip: str | None) -> None:
    per_key = (
        settings.RATE_LIMIT_KEY_PER_MINUTE
        if api_key.requests_per_minute is None
        else api_key.requests_per_minute
    )
    if per_key:
        # The key's prefix, not its id: ids repeat across databases, prefixes are random.
        await _count(store, f"key:{api_key.prefix}", limit=per_key, what="for this API key")
    if settings.RATE_LIMIT_IP_PER_MINUTE and client_ip is not None:
        await _count(
            store, f"ip:{client_ip}", limit=settings.RATE_LIMIT_IP_PER_MINUTE, what="from this address"
        )
    budget = _token_budget(api_key)
    if budget and await store.get(_day_key(api_key)) >= budget:
        seconds_left = 86_400 - int(time.time()) % 86_400
        raise errors.RateLimited(
            f"This API key has used its {budget} tokens for today (UTC).",
            retry_after=seconds_left,
            code="tokens_exhausted",
        )


async def tokens_spend(*, api_key: ApiKey, tokens: int) -> None:
    """Count ``tokens`` against the key's daily budget (not counted while Redis is down)."""
    if tokens and _token_budget(api_key):
        try:
            await counter_store().add(_day_key(api_key), tokens, ttl=2 * 86_400)
        except DEPENDENCY_ERRORS as error:
            dependency_failure_note(
                dependency="Redis",
                operation="counting spent tokens",
                consequence="token budgets are NOT enforced until it is back",
                error=error,
            )


async def counter_store_reachable() -> bool:
    """Whether the counters' store answers (always true without Redis)."""
    try:
        await counter_store().ping()
    except DEPENDENCY_ERRORS:
        return False
    return True


def client_ip(meta: dict) -> str:
    if settings.RATE_LIMIT_TRUST_FORWARDED_FOR:
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return meta.get("REMOTE_ADDR") or "unknown"
