"""The benchmark's pass-through forwards the upstream's stream unchanged, and the calls
load generator takes turns as voice calls do."""

import asyncio
import socket
import threading
import time

import pytest
import uvicorn

from bench.fake_upstream import Behaviour, serve_in_thread
from bench.loadgen import Load, Target, run_calls, run_phase, summarise
from bench.passthrough import PassThrough
from bench.scenarios import StreamScenario


@pytest.fixture(scope="module")
def upstream_url():
    with serve_in_thread(Behaviour(ttft_ms=0, gap_ms=0, tokens=5)) as url:
        yield url


@pytest.fixture(scope="module")
def passthrough_url(upstream_url):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = PassThrough(upstream_url.removesuffix("/v1"))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)  # polling for start-up
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    server.should_exit = True
    thread.join(timeout=10)


def test_the_pass_through_forwards_every_token_unchanged(passthrough_url):
    body = StreamScenario("t", 1, 1, 5).direct_body()
    phase = asyncio.run(run_phase(Target("p", passthrough_url + "/chat/completions"), body, Load(concurrency=2, requests=4)))

    summary = summarise(phase)
    assert summary["ok"] == 4 and summary["errors"] == 0
    assert summary["tokens"] == 4 * 5


def test_calls_take_turns_and_every_turn_completes(upstream_url):
    body = StreamScenario("t", 1, 1, 5).direct_body()
    phase = asyncio.run(
        run_calls(Target("direct", upstream_url + "/chat/completions"), body, calls=20, period_s=0.5, duration_s=2.0)
    )

    summary = summarise(phase)
    # 20 calls over 2 s, a turn every ~0.5 s: several turns each, never all at once.
    assert summary["requests"] >= 40 and summary["errors"] == 0
    assert phase.max_in_flight < 20
