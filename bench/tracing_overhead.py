"""What tracing costs per request: one offline chat request, in-process, timed many times.

    python -m bench.tracing_overhead [--requests 400] [--otel]

Runs the ASGI application (``fintalk.asgi``) in this process on a fresh temporary SQLite
demo bank and times whole non-streaming requests (Ana asks for her balances: one model
call, one tool call, the conversation log). ``--otel`` turns tracing on, exporting to a
local OTLP/HTTP sink that discards what it gets. Prints the median and mean per request,
in milliseconds, and CPU time per request. Compare runs of the same command on two
checkouts to see what a change costs.
"""

import argparse
import asyncio
import http.server
import os
import statistics
import sys
import tempfile
import threading
import time


class _Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--otel", action="store_true")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="fintalk-trace-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + "x" * 50)
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    if args.otel:
        sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
        threading.Thread(target=sink.serve_forever, daemon=True).start()
        os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{sink.server_address[1]}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "fintalk.settings"

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from api.keys import api_key_create
    from bank.services import demo_bank_seed

    demo_bank_seed()
    _, key = api_key_create(name="bench", trusted_channel=True)
    from fintalk.asgi import application

    import httpx

    body = {
        "messages": [{"role": "user", "content": "what are my balances"}],
        "stream": False,
        "call": {"id": "bench-call", "customer": {"number": "+14155550101"}},
    }

    async def run() -> list[float]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            headers = {"Authorization": f"Bearer {key}"}
            for _ in range(args.warmup):
                (await client.post("/v1/chat/completions", json=body, headers=headers)).raise_for_status()
            times = []
            for _ in range(args.requests):
                started = time.perf_counter()
                reply = await client.post("/v1/chat/completions", json=body, headers=headers)
                times.append((time.perf_counter() - started) * 1000)
                reply.raise_for_status()
            return times

    cpu = time.process_time()
    times = asyncio.run(run())
    cpu = (time.process_time() - cpu) * 1000 / (args.requests + args.warmup)
    print(
        f"tracing {'on' if args.otel else 'off'}: {args.requests} requests, "
        f"median {statistics.median(times):.2f} ms, mean {statistics.fmean(times):.2f} ms, "
        f"CPU {cpu:.2f} ms/request",
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
