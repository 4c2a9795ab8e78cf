"""Request ids, structured logs and Prometheus metrics.

The request id comes from the caller's ``X-Request-ID`` (when it looks like one) or is
made here; it is returned as a response header and stamped on every log line written
while the request is handled.
"""

import json
import logging
import re
from contextvars import ContextVar

from prometheus_client import Counter, Gauge, Histogram

from fintalk.ids import new_id
from fintalk.tracing import trace_id_current

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def request_id_from(header: str | None) -> str:
    if header and _VALID_REQUEST_ID.match(header):
        return header
    return new_id()


class RequestIdFilter(logging.Filter):
    """Stamps the request id, and the trace id when tracing is on, on every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.trace_id = trace_id_current()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if getattr(record, "trace_id", ""):
            entry["trace_id"] = record.trace_id
        if record.exc_info or record.exc_text:
            # exc_text when a filter has already formatted (and masked) the traceback.
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


REQUESTS = Counter(
    "fintalk_requests_total", "API requests by endpoint and HTTP status.", ["endpoint", "status"]
)
TIME_TO_FIRST_TOKEN = Histogram(
    "fintalk_time_to_first_token_seconds",
    "From the request's arrival to the first token of the answer.",
    ["provider"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TOKENS = Counter("fintalk_tokens_total", "Tokens in and out.", ["provider", "direction"])
TOOL_DURATION = Histogram(
    "fintalk_tool_duration_seconds",
    "Time spent in each tool.",
    ["tool"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)
UPSTREAM_ERRORS = Counter(
    "fintalk_upstream_errors_total", "Model provider failures.", ["provider", "code"]
)
DEPENDENCY_FAILURES = Counter(
    "fintalk_dependency_failures_total",
    "Calls to a shared dependency (Redis) that failed; the request went on without it.",
    ["dependency", "operation"],
)
OPEN_STREAMS = Gauge(
    "fintalk_open_streams", "Streaming replies in progress.", multiprocess_mode="livesum"
)
CONVERSATION_LOG_BACKLOG = Gauge(
    "fintalk_conversation_log_backlog",
    "Finished turns waiting for the conversation-log writer.",
    multiprocess_mode="livesum",
)
