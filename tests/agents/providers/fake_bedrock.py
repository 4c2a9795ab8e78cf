"""A scripted Amazon Bedrock Runtime endpoint on a loopback port.

boto3 reaches it through ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``, signs its requests and
parses the replies exactly as it does against AWS: ConverseStream replies are real
``application/vnd.amazon.eventstream`` messages (binary frames with CRCs), errors are
Bedrock's status + ``x-amzn-ErrorType`` + JSON body. Event payloads follow the shapes
ConverseStream sends (messageStart, contentBlockStart/Delta/Stop, messageStop, metadata).
"""

import json
import struct
import select
import socket
import threading
import zlib
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _header(name: str, value: str) -> bytes:
    encoded_name, encoded_value = name.encode(), value.encode()
    return (
        struct.pack("!B", len(encoded_name))
        + encoded_name
        + b"\x07"  # header value type: string
        + struct.pack("!H", len(encoded_value))
        + encoded_value
    )


def _frame(headers: dict[str, str], payload: dict) -> bytes:
    """One event stream message: prelude, prelude CRC, headers, payload, message CRC."""
    encoded_headers = b"".join(_header(name, value) for name, value in headers.items())
    body = json.dumps(payload).encode()
    prelude = struct.pack("!II", 16 + len(encoded_headers) + len(body), len(encoded_headers))
    message = prelude + struct.pack("!I", zlib.crc32(prelude)) + encoded_headers + body
    return message + struct.pack("!I", zlib.crc32(message))


def event(kind: str, payload: dict) -> bytes:
    return _frame({":event-type": kind, ":content-type": "application/json", ":message-type": "event"}, payload)


def stream_exception(kind: str, message: str) -> bytes:
    return _frame(
        {":exception-type": kind, ":content-type": "application/json", ":message-type": "exception"},
        {"message": message},
    )


def text_turn(*pieces: str, input_tokens: int = 900, output_tokens: int = 40) -> list[bytes]:
    """A text answer streamed in ``pieces``, as Nova sends one."""
    return [
        event("messageStart", {"role": "assistant"}),
        *(event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}}) for piece in pieces),
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event("messageStop", {"stopReason": "end_turn"}),
        event(
            "metadata",
            {
                "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens, "totalTokens": input_tokens + output_tokens},
                "metrics": {"latencyMs": 350},
            },
        ),
    ]


def tool_turn(
    *thinking: str, tool: str, arguments: dict, input_tokens: int = 800, output_tokens: int = 60
) -> list[bytes]:
    """Nova's tool-use turn: reasoning text in a text block, then a toolUse block."""
    raw_arguments = json.dumps(arguments)
    half = len(raw_arguments) // 2
    return [
        event("messageStart", {"role": "assistant"}),
        *(event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}}) for piece in thinking),
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event(
            "contentBlockStart",
            {"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tooluse_kN3x9", "name": tool}}},
        ),
        event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": raw_arguments[:half]}}}),
        event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": raw_arguments[half:]}}}),
        event("contentBlockStop", {"contentBlockIndex": 1}),
        event("messageStop", {"stopReason": "tool_use"}),
        event(
            "metadata",
            {
                "usage": {"inputTokens": input_tokens, "outputTokens": output_tokens, "totalTokens": input_tokens + output_tokens},
                "metrics": {"latencyMs": 420},
            },
        ),
    ]


# A whole (non-streaming) Converse reply: what the health probe gets.
CONVERSE_REPLY = {
    "output": {"message": {"role": "assistant", "content": [{"text": "Hi"}]}},
    "stopReason": "max_tokens",
    "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
    "metrics": {"latencyMs": 80},
}


@dataclass
class Stream:
    frames: list[bytes]


@dataclass
class Error:
    status: int
    code: str
    message: str = "scripted failure"


@dataclass
class Silence:
    """Read the request and answer nothing until the server stops."""


@dataclass
class Gathered:
    """Hold the reply until ``count`` requests are open at once (then stream ``frames``);
    a request still waiting after 30 s gets a 503, so a capped client fails visibly."""

    count: int
    frames: list[bytes]


@dataclass
class Trickle:
    """Send ``frames`` one every ``gap`` seconds; note when the caller went away."""

    frames: list[bytes]
    gap: float = 0.05


@dataclass
class Recorded:
    path: str
    body: dict = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    server: "FakeBedrock"

    def log_message(self, format, *args) -> None:  # noqa: A002 - the base class's name
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.server.arrived:
            self.server.requests.append(Recorded(self.path, json.loads(body or b"{}")))
            self.server.arrived.notify_all()
        behaviour = self.server.script.popleft() if self.server.script else Stream(text_turn("Hello."))
        if isinstance(behaviour, Silence):
            self.server.released.wait(timeout=30)
            return
        if isinstance(behaviour, Gathered):
            with self.server.gathering:
                self.server.open_now += 1
                self.server.most_open = max(self.server.most_open, self.server.open_now)
                self.server.gathering.notify_all()
                gathered = self.server.gathering.wait_for(lambda: self.server.most_open >= behaviour.count, 30)
            try:
                if not gathered:
                    self._send_json(503, {"message": "not all streams opened"}, {"x-amzn-ErrorType": "ServiceUnavailableException:"})
                    return
                self._send_stream(behaviour.frames)
            finally:
                with self.server.gathering:
                    self.server.open_now -= 1
            return
        if isinstance(behaviour, Trickle):
            self._send_stream(behaviour.frames, gap=behaviour.gap)
            return
        if isinstance(behaviour, Error):
            error_type = f"{behaviour.code}:http://internal.amazon.com/coral/com.amazon.bedrock/"
            self._send_json(behaviour.status, {"message": behaviour.message}, {"x-amzn-ErrorType": error_type})
            return
        if self.path.endswith("/converse"):
            self._send_json(200, CONVERSE_REPLY)
            return
        self._send_stream(behaviour.frames)

    def _send_stream(self, frames: list[bytes], gap: float = 0.0) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
        if not gap:
            self.send_header("Content-Length", str(sum(len(frame) for frame in frames)))
            self.end_headers()
            self.wfile.write(b"".join(frames))
            return
        # Paced, as Bedrock streams: one chunk (of chunked transfer encoding) per event.
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for frame in frames:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                self.wfile.flush()
                # The model's pace; a caller that closed its end (FIN) has left.
                if select.select([self.connection], [], [], gap)[0] and not self.connection.recv(1, socket.MSG_PEEK):
                    self.server.caller_left.set()
                    return
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.server.caller_left.set()

    def _send_json(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class FakeBedrock(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: 32 callers connecting at once on a busy
    # machine overflowed it and got connection resets before the server could accept them.
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.script: deque = deque()
        self.requests: list[Recorded] = []
        self.released = threading.Event()
        self.caller_left = threading.Event()
        self.gathering = threading.Condition()
        self.arrived = threading.Condition()
        self.open_now = 0
        self.most_open = 0
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def wait_for_requests(self, count: int, timeout: float = 30.0) -> bool:
        """Whether ``count`` requests have arrived, waiting for them up to ``timeout`` s."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)

    def start(self) -> "FakeBedrock":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.shutdown()
        self.server_close()
