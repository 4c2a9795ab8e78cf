"""Where Fintalk's time goes, before the first token and per token: ``python -m bench.profile``.

Against the fake upstream, one gunicorn + uvicorn-worker worker (``LLM_PROVIDER=openai``):

1. a stopwatch timeline (``bench.timeline``): for each request, when it reached each stage
   (authenticated, agent built, upstream request sent, first upstream chunk, first SSE
   content sent...), at 1 and at 16 concurrent streams;
2. py-spy samples of the worker (the thread holding the GIL) under two loads, one-token answers (per-request costs) and
   200-token answers (per-token costs), grouped by the library the time is spent in and
   turned into CPU per request and per token with the worker's measured CPU time.

Writes ``profile.json`` and ``profile.md`` beside the benchmark results.
"""

import argparse
import asyncio
import collections
import json
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from bench import loadgen, servers
from bench.loadgen import Load, Target
from bench.run import RESULTS, _openai_settings
from bench.scenarios import StreamScenario

TIMELINE_RUNS = (StreamScenario("c1", 1, 40, 20), StreamScenario("c16", 16, 160, 40))
SAMPLED_RUNS = (StreamScenario("one-token", 16, 160, 1), StreamScenario("200-tokens", 16, 48, 200))

# Walking a stack from its innermost frame outwards, the first frame that matches names
# the category; standard-library frames (json, uuid, copy...) count for their caller.
CATEGORIES = (
    (
        "tool JSON schemas (pydantic model_json_schema per LLM call)",
        ("model_json_schema", "pydantic/json_schema.py"),
    ),
    ("openai client: request building (_transform)", ("openai/_utils/_transform",)),
    (
        "openai client: SSE decoding, chunk models, response handling",
        (
            "openai/_streaming",
            "openai/_models",
            "openai/_base_client",
            "openai/_response",
            "openai/resources",
        ),
    ),
    ("httpx/httpcore (upstream connection)", ("httpx/", "httpcore/", "anyio/", "h11/")),
    (
        "LlamaIndex OpenAI adapter (ChatResponse per chunk)",
        ("llms/openai/", "llms/openai_like/", "providers/openai_like.py"),
    ),
    ("LlamaIndex LLM wrappers (callbacks, types)", ("core/llms/", "core/base/llms/")),
    (
        "LlamaIndex agent workflow (control loop, events, context, instrumentation)",
        (
            "workflows/",
            "llama_index_instrumentation/",
            "core/agent/",
            "core/memory/",
            "core/tools/",
            "core/workflow/",
        ),
    ),
    ("database (Django ORM, sqlite3)", ("django/db/", "sqlite3/")),
    (
        "thread hops (asgiref sync_to_async, thread pools)",
        ("asgiref/", "concurrent/futures/", "threading.py"),
    ),
    ("Django + DRF request handling", ("django/", "rest_framework/", "drf_spectacular/")),
    ("tiktoken (usage estimates)", ("tiktoken/",)),
    ("logging", ("logging/",)),
    (
        "Fintalk code (agents/, api/, conversations/, fintalk/)",
        ("agents/", "api/", "conversations/", "fintalk/", "bank/"),
    ),
    ("uvicorn HTTP protocol", ("uvicorn/protocols/", "httptools")),
    ("prometheus_client", ("prometheus_client/",)),
)
OTHER = "event loop, interpreter and other"
_LINE = re.compile(r":\d+\)$")


def categorise(stack: list[str]) -> str:
    for frame in reversed(stack):
        for name, patterns in CATEGORIES:
            if any(p in frame for p in patterns):
                return name
    return OTHER


def read_samples(path: Path) -> tuple[collections.Counter, collections.Counter, int]:
    """py-spy's raw output: per category and per innermost function, sample counts."""
    categories: collections.Counter = collections.Counter()
    functions: collections.Counter = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames, n = stack.split(";"), int(count)
        total += n
        categories[categorise(frames)] += n
        functions[_LINE.sub(")", frames[-1])] += n
    return categories, functions, total


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p90": None, "n": 0}
    return {"p50": statistics.median(values), "p90": loadgen.percentile(values, 90), "n": len(values)}


def timeline_summary(records: list[dict], order: tuple[str, ...]) -> list[dict]:
    """Per stage: when it was reached (p50/p90) and the time since the previous stage reached."""
    rows = []
    present = [stage for stage in order[1:] if any(stage in r for r in records)]
    previous = None
    for stage in present:
        at = [r[stage] for r in records if stage in r]
        step = [
            r[stage] - (r[previous] if previous else 0.0)
            for r in records
            if stage in r and (previous is None or previous in r)
        ]
        rows.append({"stage": stage, "at_ms": _percentiles(at), "step_ms": _percentiles(step)})
        previous = stage
    return rows


async def _timeline(fintalk: servers.Server, target: Target) -> dict:
    results = {}
    for scenario in TIMELINE_RUNS:
        _fetch(fintalk.url + "/_bench/timeline")
        load = Load(concurrency=scenario.concurrency, requests=scenario.requests, rate=scenario.rate)
        phase = await loadgen.run_phase(target, scenario.proxied_body(), load)
        data = _fetch(fintalk.url + "/_bench/timeline")
        summary = loadgen.summarise(phase)
        results[scenario.name] = {
            "client_ttft_ms": summary["ttft_ms"],
            "errors": summary["errors"],
            "stages_installed": data["stages"],
            "stages": timeline_summary(data["records"], tuple(data["order"])),
        }
        print(f"  timeline {scenario.name}: client TTFT p50 {summary['ttft_ms']['p50']:.1f} ms", flush=True)
    return results


def _fetch(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


async def _sampled(fintalk: servers.Server, target: Target, work: Path) -> dict:
    py_spy = str(Path(sys.executable).parent / "py-spy")
    results = {}
    for scenario in SAMPLED_RUNS:
        worker = fintalk.workers()[0]
        out = work / f"{scenario.name}.txt"
        # --gil: only the thread holding the GIL is sampled; otherwise threads waiting for it
        # are counted at whatever line they wait on. Blocking mode (the default): samples
        # taken while the process runs (--nonblocking) come out torn and blame the wrong code.
        spy = subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(worker),
                "--rate",
                "200",
                "--format",
                "raw",
                "--gil",
                "--output",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        await asyncio.sleep(2.0)  # py-spy attaches
        cpu_before = servers.cpu_seconds(worker)
        load = Load(concurrency=scenario.concurrency, requests=scenario.requests, rate=scenario.rate)
        phase = await loadgen.run_phase(target, scenario.proxied_body(), load)
        await asyncio.sleep(0.3)
        cpu = servers.cpu_seconds(worker) - cpu_before
        spy.send_signal(signal.SIGINT)
        _, error = spy.communicate(timeout=30)
        if not out.exists():
            raise RuntimeError(f"py-spy wrote nothing: {error.decode(errors='replace')[-500:]}")
        categories, functions, total = read_samples(out)
        summary = loadgen.summarise(phase)
        results[scenario.name] = {
            "requests": summary["ok"],
            "tokens": summary["tokens"],
            "errors": summary["errors"],
            "cpu_s": cpu,
            "samples": total,
            "categories": {name: n / total for name, n in categories.most_common()},
            "top_functions": {name: n / total for name, n in functions.most_common(25)},
        }
        print(
            f"  sampled {scenario.name}: {summary['ok']} requests, {summary['tokens']} tokens, worker CPU {cpu:.2f} s",
            flush=True,
        )
    return results


def per_request_and_token(sampled: dict) -> list[dict]:
    """CPU per category: per request from the one-token run, per token from the slope."""
    short, long = sampled["one-token"], sampled["200-tokens"]
    per_req_short = short["tokens"] / short["requests"]
    per_req_long = long["tokens"] / long["requests"]
    rows = []
    for name in dict.fromkeys([*long["categories"], *short["categories"]]):
        cpu_short = short["categories"].get(name, 0.0) * short["cpu_s"] / short["requests"]
        cpu_long = long["categories"].get(name, 0.0) * long["cpu_s"] / long["requests"]
        rows.append(
            {
                "category": name,
                "ms_per_request": cpu_short * 1000,
                "us_per_token": (cpu_long - cpu_short) / (per_req_long - per_req_short) * 1e6,
            }
        )
    return sorted(rows, key=lambda r: -r["us_per_token"])


def markdown(result: dict) -> str:
    lines = [
        "# Where Fintalk's time goes",
        "",
        f"- Date: {result['date']}",
        f"- Command: `{result['command']}`",
        "- Setup: fake upstream (50 ms to first token, 20 ms between tokens), Fintalk on one gunicorn + "
        "uvicorn-worker worker, `LLM_PROVIDER=openai`.",
        "",
        "## Before the first token: stopwatch timeline",
        "",
        "Milliseconds since the ASGI call began, per stage (p50 over the requests); *step* is the time "
        "since the previous stage (p50 of per-request differences).",
        "",
    ]
    for name, run in result["timeline"].items():
        lines += [
            f"### {name}: client TTFT p50 {run['client_ttft_ms']['p50']:.1f} ms, p99 {run['client_ttft_ms']['p99']:.1f} ms",
            "",
            "| stage | reached at p50 | p90 | step p50 | step p90 |",
            "|---|---|---|---|---|",
        ]
        for row in run["stages"]:
            lines.append(
                f"| {row['stage']} | {row['at_ms']['p50']:.2f} | {row['at_ms']['p90']:.2f} "
                f"| {row['step_ms']['p50']:.2f} | {row['step_ms']['p90']:.2f} |"
            )
        lines.append("")
    sampled = result["sampled"]
    lines += ["## Worker CPU by library (py-spy)", ""]
    for name, run in sampled.items():
        lines.append(
            f"- {name}: {run['requests']} requests, {run['tokens']} tokens, worker CPU {run['cpu_s']:.2f} s, "
            f"{run['samples']} samples"
        )
    lines += [
        "",
        "| where | CPU per request (1-token answers) | CPU per extra token (slope to 200-token answers) |",
        "|---|---|---|",
    ]
    for row in result["breakdown"]:
        lines.append(f"| {row['category']} | {row['ms_per_request']:.2f} ms | {row['us_per_token']:.0f} µs |")
    total_req = sum(r["ms_per_request"] for r in result["breakdown"])
    total_tok = sum(r["us_per_token"] for r in result["breakdown"])
    lines += [f"| **total** | **{total_req:.2f} ms** | **{total_tok:.0f} µs** |", ""]
    for name, run in sampled.items():
        lines += [f"Hottest functions (innermost frame, share of samples), {name}:", ""]
        lines += [
            f"- {share * 100:.1f}% {function}" for function, share in list(run["top_functions"].items())[:15]
        ]
        lines.append("")
    return "\n".join(lines)


async def profile(work: Path) -> dict:
    database_url, key = servers.prepare_database(work)
    upstream = servers.start_fake_upstream(work)
    fintalk = None
    try:
        fintalk = servers.start_fintalk(
            "fintalk-timeline",
            work,
            database_url,
            app="bench.timeline:application",
            **_openai_settings(upstream),
        )
        target = Target("fintalk", fintalk.url + "/v1/chat/completions", {"Authorization": f"Bearer {key}"})
        await loadgen.run_phase(target, TIMELINE_RUNS[0].proxied_body(), Load(concurrency=4, requests=20))
        timeline = await _timeline(fintalk, target)
        sampled = await _sampled(fintalk, target, work)
    finally:
        if fintalk:
            fintalk.stop()
        upstream.stop()
    return {"timeline": timeline, "sampled": sampled, "breakdown": per_request_and_token(sampled)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    import uvloop

    servers.raise_file_limit()
    work = Path(tempfile.mkdtemp(prefix="fintalk-profile-"))
    started = time.perf_counter()
    result = uvloop.run(profile(work))
    shutil.rmtree(work, ignore_errors=True)
    result["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result["command"] = "python -m bench.profile"
    result["duration_s"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "profile.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "profile.md").write_text(markdown(result))
    print(f"Done in {result['duration_s']:.0f}s: {args.out / 'profile.md'}")


if __name__ == "__main__":
    main()
