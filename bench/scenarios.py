"""What ``make bench`` measures: the scenarios, their sizes, and the requests they send.

Sizes are chosen so that the whole run fits in ten minutes on the 2-core machine while every
percentile rests on at least a few dozen samples. ``--quick`` shrinks them for a smoke run.
"""

from dataclasses import dataclass, replace

QUESTION = "What loan products do you offer?"


@dataclass(frozen=True)
class StreamScenario:
    """N concurrent streams, started at the rate that keeps N open when nothing queues.

    The rate follows Little's law from the upstream's own pacing (``concurrency`` divided by
    one answer's duration); when a target cannot keep up, the concurrency cap holds and the
    arrivals wait, so a slow target is measured with N streams open, never more.
    """

    name: str
    concurrency: int
    requests: int
    tokens: int
    tool: str = ""
    ttft_ms: float = 50.0
    gap_ms: float = 20.0
    timeout_s: float = 120.0
    max_duration_s: float = 120.0

    @property
    def answer_seconds(self) -> float:
        rounds = 2 if self.tool else 1
        return (rounds * self.ttft_ms + (self.tokens - 1) * self.gap_ms) / 1000

    @property
    def rate(self) -> float:
        return self.concurrency / self.answer_seconds

    def directive(self) -> str:
        tool = f" tool={self.tool}" if self.tool else ""
        return f"[fake tokens={self.tokens} ttft_ms={self.ttft_ms:g} gap_ms={self.gap_ms:g}{tool}]"

    def fintalk_body(self) -> dict:
        return {"messages": [{"role": "user", "content": f"{QUESTION} {self.directive()}"}], "stream": True}

    def direct_body(self) -> dict:
        body = {**self.fintalk_body(), "model": "fake-upstream"}
        if self.tool:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": self.tool, "parameters": {"type": "object", "properties": {}}},
                }
            ]
        return body


# Added time to first token, side by side: direct to the fake upstream, then through Fintalk.
CONCURRENCY = (
    StreamScenario("c1", concurrency=1, requests=40, tokens=20),
    StreamScenario("c16", concurrency=16, requests=96, tokens=40),
    StreamScenario("c64", concurrency=64, requests=128, tokens=40),
    StreamScenario("c256", concurrency=256, requests=256, tokens=40),
    # A thousand voice calls speaking at once, each answer paced like a real model's.
    StreamScenario("c1000", concurrency=1000, requests=1000, tokens=40, timeout_s=150, max_duration_s=150),
)

# The agent's tool turn: the upstream asks for a tool, Fintalk runs it against the bank's
# database and asks again. Directly, the load generator plays the agent's part.
TOOL_TURN = StreamScenario("tool-c16", concurrency=16, requests=32, tokens=40, tool="list_loan_products")

# Server CPU per token: the slope between a short and a long answer, same requests.
PER_TOKEN = (
    StreamScenario("cpu-short", concurrency=16, requests=48, tokens=10),
    StreamScenario("cpu-long", concurrency=16, requests=48, tokens=110),
)


@dataclass(frozen=True)
class Soak:
    """Many short answers on a fresh server; its workers' RSS is what is measured.

    Two workers, so that 5,000 requests fit in the ten minutes of ``make bench`` (one
    worker serves about 15 a second): the growth reported is the sum of both workers'.
    """

    requests: int = 5000
    concurrency: int = 32
    tokens: int = 4
    warm_up: int = 300
    workers: int = 2
    max_duration_s: float = 300.0


@dataclass(frozen=True)
class Throughput:
    """Non-streaming answers from the offline model: tool call, database read, answer."""

    requests: int = 240
    concurrency: int = 16
    max_duration_s: float = 40.0

    def body(self) -> dict:
        return {"messages": [{"role": "user", "content": QUESTION}], "stream": False}


SOAK = Soak()
THROUGHPUT = Throughput()


def quick() -> tuple[
    tuple[StreamScenario, ...], StreamScenario, tuple[StreamScenario, ...], Soak, Throughput
]:
    """A smoke-sized plan: same shapes, a fraction of the requests."""
    small = tuple(
        replace(s, requests=max(s.concurrency, s.requests // 8), max_duration_s=60) for s in CONCURRENCY
    )
    return (
        small,
        replace(TOOL_TURN, requests=16),
        tuple(replace(s, requests=16) for s in PER_TOKEN),
        replace(SOAK, requests=400, warm_up=50),
        replace(THROUGHPUT, requests=64),
    )
