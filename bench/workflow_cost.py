"""What LlamaIndex's agent workflow costs per run and per token, with no HTTP server around it.

Measured in one process on uvloop, after a warm-up, sequentially (so wall time is CPU time
except for loopback I/O to the fake upstream):

- ``run()`` to the first streamed event and to the first token, for a bare
  ``FunctionAgent`` on the offline model: reused, rebuilt per run (as a server that binds
  the caller into its tools must), and Fintalk's ``BankAgent`` (steps discovered once);
- per token: the slope of CPU time between a short and a long answer, on the offline model
  and on ``OpenAILike`` streaming from the fake upstream (a subprocess, no pacing).

Run: ``python -m bench.workflow_cost --json bench/results/workflow_cost.json``.
"""

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable

LONG_ANSWER_WORDS = 200


def _setup_django() -> None:
    import secrets

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fintalk.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    django.setup()


def _tools(answer_words: int) -> list:
    """Three tools shaped like the bank's; the loan tool's answer has ``answer_words`` words."""
    from llama_index.core.tools import FunctionTool

    text = " ".join(f"word{i}" for i in range(answer_words))

    async def list_loan_products(kind: str | None = None) -> str:
        """List the bank's loan products with their APR range, amounts and terms."""
        return text

    async def get_account_balances(account_type: str | None = None) -> str:
        """Get the balances of the caller's own bank accounts."""
        return "No accounts."

    async def get_credit_card_summary(card_last4: str | None = None) -> str:
        """Get the caller's credit card details."""
        return "No cards."

    return [
        FunctionTool.from_defaults(async_fn=f)
        for f in (list_loan_products, get_account_balances, get_credit_card_summary)
    ]


async def _timed_run(make_agent: Callable, user_msg: str) -> dict:
    from llama_index.core.agent.workflow import AgentStream

    cpu0, t0 = time.process_time(), time.perf_counter()
    agent = make_agent()
    handler = agent.run(user_msg=user_msg)
    first_event = first_token = None
    tokens = 0
    async for event in handler.stream_events():
        now = time.perf_counter()
        first_event = first_event or now
        if isinstance(event, AgentStream) and event.delta:
            tokens += 1
            first_token = first_token or now
    await handler
    return {
        "first_event_ms": (first_event - t0) * 1000,
        "first_token_ms": (first_token - t0) * 1000 if first_token else None,
        "total_ms": (time.perf_counter() - t0) * 1000,
        "cpu_ms": (time.process_time() - cpu0) * 1000,
        "tokens": tokens,
    }


async def _series(make_agent: Callable, user_msg: str, runs: int) -> list[dict]:
    for _ in range(3):
        await _timed_run(make_agent, user_msg)
    return [await _timed_run(make_agent, user_msg) for _ in range(runs)]


def _stats(samples: list[dict], key: str) -> dict:
    values = sorted(s[key] for s in samples if s[key] is not None)
    return {
        "min": values[0],
        "p50": statistics.median(values),
        "p90": values[int(len(values) * 0.9) - 1],
        "mean": statistics.fmean(values),
    }


def _per_token_us(short: list[dict], long: list[dict]) -> float:
    """CPU per extra token: the slope between the short and the long answer.

    Means, not medians: garbage collections are part of the cost, and they are rare spikes.
    """
    cpu = statistics.fmean(s["cpu_ms"] for s in long) - statistics.fmean(s["cpu_ms"] for s in short)
    tokens = statistics.fmean(s["tokens"] for s in long) - statistics.fmean(s["tokens"] for s in short)
    return cpu / tokens * 1000


async def measure(runs: int) -> dict:
    from llama_index.core.agent.workflow import FunctionAgent

    from agents.offline.model import OfflineBankingLLM

    offline = OfflineBankingLLM()
    results: dict = {"runs": runs}

    def bare(tools: list, llm=offline) -> FunctionAgent:
        return FunctionAgent(name="bench", description="bench", tools=tools, llm=llm, streaming=True)

    reused = bare(_tools(LONG_ANSWER_WORDS))
    cases = {
        "FunctionAgent, offline model, agent reused": lambda: reused,
        "FunctionAgent, offline model, agent and tools rebuilt per run": lambda: bare(
            _tools(LONG_ANSWER_WORDS)
        ),
    }
    try:
        from agents.runner import BankAgent

        cases["Fintalk BankAgent (steps cached), rebuilt per run"] = lambda: BankAgent(
            name="bench", description="bench", tools=_tools(LONG_ANSWER_WORDS), llm=offline, streaming=True
        )
    except ImportError:
        pass
    results["first_event"] = {}
    for name, make in cases.items():
        samples = await _series(make, "hello", runs)
        results["first_event"][name] = {
            "run_to_first_event_ms": _stats(samples, "first_event_ms"),
            "run_to_first_token_ms": _stats(samples, "first_token_ms"),
            "whole_run_ms": _stats(samples, "total_ms"),
            "tokens": samples[0]["tokens"],
        }

    short_agent, long_agent = bare(_tools(20)), bare(_tools(LONG_ANSWER_WORDS))
    question = "What loan products do you offer?"
    short = await _series(lambda: short_agent, question, runs // 2)
    long = await _series(lambda: long_agent, question, runs // 2)
    results["per_token"] = {
        "offline model, FunctionAgent (tool turn, then the answer word by word)": {
            "cpu_us_per_token": _per_token_us(short, long),
            "tool_turn_run_to_first_token_ms": _stats(short, "first_token_ms"),
        }
    }
    results["per_token"].update(await _openai_like(runs))
    return results


async def _openai_like(runs: int) -> dict:
    """Per-token cost of OpenAILike + FunctionAgent streaming from the fake upstream."""
    import tempfile
    from pathlib import Path

    from llama_index.core.agent.workflow import FunctionAgent
    from llama_index.llms.openai_like import OpenAILike

    from bench import servers

    upstream = servers.start_fake_upstream(Path(tempfile.mkdtemp()), ttft_ms=0, gap_ms=0)
    try:
        llm = OpenAILike(
            model="fake-upstream",
            api_base=upstream.url + "/v1",
            api_key="bench",
            is_chat_model=True,
            is_function_calling_model=True,
            context_window=128000,
        )
        agent = FunctionAgent(name="bench", description="bench", tools=_tools(1), llm=llm, streaming=True)
        short = await _series(lambda: agent, "hello [fake tokens=20]", runs // 2)
        long = await _series(lambda: agent, f"hello [fake tokens={LONG_ANSWER_WORDS + 20}]", runs // 2)
        return {
            "OpenAILike to the fake upstream, FunctionAgent": {
                "cpu_us_per_token": _per_token_us(short, long),
                "run_to_first_token_ms": _stats(short, "first_token_ms"),
                "cpu_ms_per_run_20_tokens": _stats(short, "cpu_ms"),
            }
        }
    finally:
        upstream.stop()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    _setup_django()
    import uvloop

    results = uvloop.run(measure(args.runs))
    text = json.dumps(results, indent=2)
    if args.json:
        with open(args.json, "w") as out:
            out.write(text + "\n")
    print(text)
    return results


if __name__ == "__main__":
    main()
