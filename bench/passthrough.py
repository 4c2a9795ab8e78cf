"""The floor for a proxy's cost: a raw ASGI app that forwards a chat completion unchanged.

``python -m bench.passthrough --port 9200 --upstream http://127.0.0.1:9100`` serves, under
uvicorn (uvloop, httptools) in one process, ``POST /v1/chat/completions``: the request body
goes to the upstream over one keep-alive aiohttp session, and the reply's bytes come back
as they arrive — no parsing, no validation, no agent. Whatever a gateway or Fintalk costs
above this is the price of what it does.
"""

import argparse

import aiohttp


class PassThrough:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.session = aiohttp.ClientSession(
                        connector=aiohttp.TCPConnector(limit=0), auto_decompress=False
                    )
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.session.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        method, path = scope["method"], scope["path"]
        async with self.session.request(
            method, self.upstream + path, data=bytes(body), headers={"content-type": "application/json"}
        ) as reply:
            await send(
                {
                    "type": "http.response.start",
                    "status": reply.status,
                    "headers": [(b"content-type", reply.headers.get("content-type", "").encode())],
                }
            )
            async for data in reply.content.iter_any():
                await send({"type": "http.response.body", "body": data, "more_body": True})
            await send({"type": "http.response.body", "body": b""})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--upstream", required=True, help="the upstream's base URL (without /v1)")
    args = parser.parse_args(argv)
    import uvicorn

    uvicorn.run(
        PassThrough(args.upstream),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        backlog=4096,
        timeout_keep_alive=75,
    )


if __name__ == "__main__":
    main()
