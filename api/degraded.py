"""Running on without a shared dependency (Redis): loudly, counted, never a 500.

When Redis is unreachable, rate limits and token budgets are not enforced (they fail open)
and session histories are not kept: answers matter more than limits to a caller on the
phone. Each failure counts in ``fintalk_dependency_failures_total``; an ERROR line says
what is not enforced, at most once per ``_LOG_EVERY_SECONDS`` per dependency and process
so that an outage does not flood the log.
"""

import logging
import time

from redis.exceptions import RedisError

from fintalk.observability import DEPENDENCY_FAILURES

logger = logging.getLogger(__name__)

_LOG_EVERY_SECONDS = 10.0
# What cannot be reached (OSError: refused, unreachable, timed out at the socket).
DEPENDENCY_ERRORS = (RedisError, OSError)

_last_logged: dict[str, float] = {}
_unlogged: dict[str, int] = {}


def dependency_failure_note(*, dependency: str, operation: str, consequence: str, error: Exception) -> None:
    """Count a failed call to ``dependency`` and say (throttled) what goes unenforced."""
    DEPENDENCY_FAILURES.labels(dependency, operation).inc()
    now = time.monotonic()
    if now - _last_logged.get(dependency, -_LOG_EVERY_SECONDS) < _LOG_EVERY_SECONDS:
        _unlogged[dependency] = _unlogged.get(dependency, 0) + 1
        return
    _last_logged[dependency] = now
    skipped = _unlogged.pop(dependency, 0)
    logger.error(
        "%s is unreachable (%s during %s): %s%s",
        dependency,
        type(error).__name__,
        operation,
        consequence,
        f" ({skipped} more failures since the last report)" if skipped else "",
    )
