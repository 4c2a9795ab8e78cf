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

    def proxied_body(self, model: str | None = "fake-upstream") -> dict:
        """The request a proxy gets (LiteLLM needs the model's name; Fintalk accepts its own)."""
        body: dict = {"messages": [{"role": "user", "content": f"{QUESTION} {self.directive()}"}], "stream": True}
        if model:
            body["model"] = model
        return body

    def direct_body(self) -> dict:
        body = self.proxied_body()
        if self.tool:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": self.tool, "parameters": {"type": "object", "properties": {}}},
                }
            ]
        return body


# Added time to first token, side by side: directly, then through each proxy.
CONCURRENCY = (
    StreamScenario("c1", concurrency=1, requests=40, tokens=20),
    StreamScenario("c16", concurrency=16, requests=96, tokens=40),
    StreamScenario("c64", concurrency=64, requests=192, tokens=40),
)

# CPU per token and per request: the slope between a short and a long answer, same requests.
PER_TOKEN = (
    StreamScenario("cpu-short", concurrency=16, requests=64, tokens=10),
    StreamScenario("cpu-long", concurrency=16, requests=64, tokens=110),
)

# Bedrock: N streams sent at once (the rate is irrelevant: all start together).
BEDROCK = tuple(
    StreamScenario(f"bedrock-{n}", concurrency=n, requests=n, tokens=20) for n in (1, 16, 32, 64)
)


@dataclass(frozen=True)
class Calls:
    """Voice calls: each caller speaks, then listens to a 40-token answer at 20 ms per token,
    about every ``period_s`` seconds; two workers, as a 2-core box would run."""

    calls: int = 1000
    period_s: float = 10.0
    duration_s: float = 60.0
    direct_duration_s: float = 30.0
    workers: int = 2
    scenario: StreamScenario = StreamScenario("call-turn", concurrency=1, requests=1, tokens=40)


@dataclass(frozen=True)
class Soak:
    """Many short answers on a fresh server; its workers' RSS is what is measured."""

    requests: int = 5000
    concurrency: int = 32
    tokens: int = 4
    warm_up: int = 300
    workers: int = 2
    max_duration_s: float = 200.0


@dataclass(frozen=True)
class Plan:
    concurrency: tuple[StreamScenario, ...] = CONCURRENCY
    per_token: tuple[StreamScenario, StreamScenario] = PER_TOKEN
    bedrock: tuple[StreamScenario, ...] = BEDROCK
    calls: Calls = Calls()
    soak: Soak = Soak()


FULL = Plan()


def quick() -> Plan:
    """A smoke-sized plan: same shapes, a fraction of the requests and time."""
    return Plan(
        concurrency=tuple(replace(s, requests=max(s.concurrency, s.requests // 4), max_duration_s=30) for s in CONCURRENCY),
        per_token=tuple(replace(s, requests=16) for s in PER_TOKEN),
        bedrock=BEDROCK,
        calls=Calls(calls=200, duration_s=15, direct_duration_s=10),
        soak=Soak(requests=400, warm_up=50, max_duration_s=40),
    )
