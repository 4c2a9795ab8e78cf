"""A paced fake Amazon Bedrock Runtime for the Bedrock concurrency scenario.

``python -m bench.fake_bedrock --port 9300`` answers every ConverseStream request with a
text answer in real event-stream frames (the tests' ``tests/agents/providers/fake_bedrock``
builds them), ``--ttft-ms`` before the first word and ``--gap-ms`` between words, one
chunk of chunked transfer encoding per event as Bedrock sends them. ``GET /stats`` says how
many streams are open now and the most that were open at once.
"""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.agents.providers.fake_bedrock import event

WORDS = "Our personal loans run from five to thirty five thousand dollars over two to six years".split()


class _Handler(BaseHTTPRequestHandler):
    server: "PacedBedrock"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        if "reset" in self.path:
            with self.server.lock:
                self.server.most_open = self.server.open_now
        body = json.dumps({"open_now": self.server.open_now, "most_open": self.server.most_open}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        started = time.perf_counter()
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server = self.server
        with server.lock:
            server.open_now += 1
            server.most_open = max(server.most_open, server.open_now)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.amazon.eventstream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            frames = [event("messageStart", {"role": "assistant"})]
            for index in range(server.tokens):
                word = WORDS[index % len(WORDS)]
                frames.append(event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": f" {word}"}}))
            frames += [
                event("contentBlockStop", {"contentBlockIndex": 0}),
                event("messageStop", {"stopReason": "end_turn"}),
                event("metadata", {"usage": {"inputTokens": 900, "outputTokens": server.tokens, "totalTokens": 900 + server.tokens}, "metrics": {"latencyMs": 1}}),
            ]
            for index, frame in enumerate(frames):
                if 1 <= index <= server.tokens:
                    due = started + (server.ttft_ms + (index - 1) * server.gap_ms) / 1000
                    delay = due - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with server.lock:
                server.open_now -= 1


class PacedBedrock(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, port: int, *, ttft_ms: float, gap_ms: float, tokens: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.ttft_ms, self.gap_ms, self.tokens = ttft_ms, gap_ms, tokens
        self.lock = threading.Lock()
        self.open_now = 0
        self.most_open = 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9300)
    parser.add_argument("--ttft-ms", type=float, default=50.0)
    parser.add_argument("--gap-ms", type=float, default=20.0)
    parser.add_argument("--tokens", type=int, default=20)
    args = parser.parse_args(argv)
    PacedBedrock(args.port, ttft_ms=args.ttft_ms, gap_ms=args.gap_ms, tokens=args.tokens).serve_forever()


if __name__ == "__main__":
    main()
