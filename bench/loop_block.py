"""How long one large request blocks a worker's event loop: ``python -m bench.loop_block URL KEY``.

Sends one valid chat completion of about 900 KB (28 user messages of 32,000 characters)
while a second client asks ``/healthz`` every 5 ms; prints the slowest ``/healthz`` answer
during the big request — the time the loop could serve nobody else. Run it against a
server with one worker (``WEB_CONCURRENCY=1``).
"""

import asyncio
import string
import sys
import time

import httpx


def big_body(stream: bool) -> dict:
    words = (string.ascii_lowercase * 1300)[:31_990]
    messages = []
    for index in range(28):
        messages.append({"role": "user", "content": f"{index} {words}"})
        messages.append({"role": "assistant", "content": "ok"})
    messages.append({"role": "user", "content": "what loans do you offer?"})
    return {"messages": messages, "stream": stream}


async def measure(url: str, key: str, stream: bool) -> tuple[float, float, int]:
    async with httpx.AsyncClient(timeout=60) as client:
        await client.get(f"{url}/healthz")
        done = asyncio.Event()
        worst = 0.0

        async def poll() -> None:
            nonlocal worst
            while not done.is_set():
                started = time.perf_counter()
                await client.get(f"{url}/healthz")
                worst = max(worst, time.perf_counter() - started)
                await asyncio.sleep(0.005)

        poller = asyncio.create_task(poll())
        started = time.perf_counter()
        response = await client.post(
            f"{url}/v1/chat/completions", json=big_body(stream), headers={"Authorization": f"Bearer {key}"}
        )
        total = time.perf_counter() - started
        done.set()
        await poller
        return worst, total, response.status_code


def main() -> None:
    url, key = sys.argv[1], sys.argv[2]
    for stream in (False, True):
        worst, total, status = asyncio.run(measure(url, key, stream))
        print(f"stream={stream}: HTTP {status}, request {total * 1000:.0f} ms, slowest /healthz meanwhile {worst * 1000:.0f} ms")


if __name__ == "__main__":
    main()
