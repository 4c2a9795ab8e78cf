"""gunicorn settings: uvicorn's ASGI worker, so one worker holds many open streams.

Every value can be overridden by the environment variable named beside it.
"""

import os


def _number(name: str, default: str) -> int:
    raw = os.environ.get(name, default)
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a whole number.") from None


bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = _number("WEB_CONCURRENCY", "1")
worker_class = "uvicorn_worker.UvicornWorker"
# Streams can be long; the worker heartbeat, not this timeout, detects hung workers.
timeout = _number("GUNICORN_TIMEOUT", "120")
# On SIGTERM, open streams get this long to finish before the worker exits.
graceful_timeout = _number("GUNICORN_GRACEFUL_TIMEOUT", "30")
keepalive = 75
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn 27's control socket lives at one path per user (~/.gunicorn/gunicorn.ctl), so two
# servers on one machine (tests, benchmarks, make run) would fight over it; Fintalk uses none.
control_socket_disable = True


def child_exit(server, worker):
    # Multi-process Prometheus metrics: forget the files of a worker that has gone.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
