"""Run every benchmark scenario and write the report: ``python -m bench.run`` (``make bench``).

One run starts, on free 127.0.0.1 ports: a fake OpenAI-compatible upstream; in front of it
a raw ASGI pass-through (the floor), LiteLLM's proxy (the gateway one would pick instead;
its own venv, one worker) and Fintalk as production runs it (gunicorn + uvicorn-worker, one
worker, ``LLM_PROVIDER=openai``, the whole agent). The same loads go to each in turn,
seconds apart, and straight to the upstream: every added time is a difference of
measurements taken with the same upstream process, the same client, the same minute.

Then: CPU per token and per request of the three servers (the slope between short and long
answers), Bedrock concurrency against a paced fake Bedrock, the calls scenario (1,000
voice calls on two workers) and the memory soak.
"""

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from bench import loadgen, report, scenarios, servers
from bench.loadgen import Load, Target
from bench.scenarios import StreamScenario
from bench.watch import Watch, wait_for_quiet

RESULTS = Path(__file__).resolve().parent / "results"
# make bench must end within fifteen minutes: the soak, last, gets what is left of this.
BUDGET_S = 840.0
PROXIES = ("passthrough", "litellm", "fintalk")


def _load(scenario: StreamScenario, **changes) -> Load:
    return Load(
        concurrency=scenario.concurrency,
        requests=scenario.requests,
        rate=scenario.rate,
        timeout_s=scenario.timeout_s,
        max_duration_s=scenario.max_duration_s,
        **changes,
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


async def side_by_side(scenario: StreamScenario, targets: dict[str, tuple[Target, Watch]]) -> dict:
    """The scenario's load to the upstream directly, then through each proxy in turn."""
    print(f"  {scenario.name}: {scenario.concurrency} streams, {scenario.requests} requests, {scenario.tokens} tokens", flush=True)
    measured: dict = {"scenario": scenario.__dict__ | {"rate_per_s": scenario.rate}, "quiet_gates": {}}
    for name, (target, watch) in targets.items():
        measured["quiet_gates"][name] = await wait_for_quiet(max_wait_s=5.0)
        body = scenario.direct_body() if name == "direct" else scenario.proxied_body()
        measured[name] = await watch.measure(target, body, _load(scenario))
        await asyncio.sleep(0.5)
    direct = measured["direct"]["ttft_ms"]
    measured["added_ttft_ms"] = {
        name: {q: _minus(measured[name]["ttft_ms"][q], direct[q]) for q in ("p50", "p90", "p99")}
        for name in targets
        if name != "direct"
    }
    print(
        "    added TTFT p50/p99: "
        + ", ".join(
            f"{name} {_fmt(added['p50'])}/{_fmt(added['p99'])} ms ({measured[name]['errors']} errors)"
            for name, added in measured["added_ttft_ms"].items()
        ),
        flush=True,
    )
    return measured


async def cpu_slope(plan: tuple[StreamScenario, StreamScenario], target: Target, watch: Watch) -> dict:
    """CPU per token and per request of one server: the slope between short and long answers."""
    short_plan, long_plan = plan
    short = await watch.measure(target, short_plan.proxied_body(), _load(short_plan))
    long = await watch.measure(target, long_plan.proxied_body(), _load(long_plan))
    tokens = long["tokens"] - short["tokens"]
    per_token = (long["cpu_s"]["server"] - short["cpu_s"]["server"]) / tokens if tokens > 0 else None
    per_request = None
    if per_token is not None and short["ok"]:
        per_request = (short["cpu_s"]["server"] - per_token * short["tokens"]) / short["ok"]
    return {
        "cpu_us_per_token": per_token * 1e6 if per_token is not None else None,
        "cpu_ms_per_request": per_request * 1e3 if per_request is not None else None,
        "log_lines_per_token": (long["log_lines"] - short["log_lines"]) / tokens if tokens > 0 else None,
        "db_rows_per_token": (long["db_rows_written"] - short["db_rows_written"]) / tokens if tokens > 0 else None,
        "short": short,
        "long": long,
    }


def _bedrock_stats(server: servers.Server, reset: bool = False) -> dict:
    with urllib.request.urlopen(server.url + ("/stats?reset" if reset else "/stats"), timeout=10) as reply:
        return json.loads(reply.read())


async def bedrock(plan: tuple[StreamScenario, ...], fake: servers.Server, target: Target, watch: Watch) -> list[dict]:
    """N simultaneous streams (all sent at once) through Fintalk on the paced fake Bedrock."""
    measured = []
    for scenario in plan:
        await wait_for_quiet(max_wait_s=5.0)
        _bedrock_stats(fake, reset=True)
        load = Load(concurrency=scenario.concurrency, requests=scenario.requests, timeout_s=60, max_duration_s=90)
        summary = await watch.measure(target, scenario.proxied_body(model=None), load)
        summary["most_open_upstream"] = _bedrock_stats(fake)["most_open"]
        print(
            f"  bedrock x{scenario.concurrency}: TTFT p50 {_fmt(summary['ttft_ms']['p50'])} p99 "
            f"{_fmt(summary['ttft_ms']['p99'])} ms, at most {summary['most_open_upstream']} open upstream, "
            f"{summary['errors']} errors",
            flush=True,
        )
        measured.append({"scenario": scenario.__dict__, "fintalk": summary})
        await asyncio.sleep(0.5)
    return measured


async def calls(plan: scenarios.Calls, direct: Target, through: Target, watch: Watch) -> dict:
    """The calls scenario: ``plan.calls`` voice calls taking turns, directly then through Fintalk."""
    body = plan.scenario.proxied_body()
    results = {}
    for name, target, duration in (("direct", direct, plan.direct_duration_s), ("fintalk", through, plan.duration_s)):
        await wait_for_quiet(max_wait_s=5.0)
        before = watch.snapshot()
        phase = await loadgen.run_calls(
            target,
            plan.scenario.direct_body() if name == "direct" else body,
            calls=plan.calls,
            period_s=plan.period_s,
            duration_s=duration,
        )
        after = watch.snapshot()
        summary = loadgen.summarise(phase)
        summary["cpu_s"] = {
            "server": round(after["server_cpu"] - before["server_cpu"], 3),
            "other_processes": round(
                max(0.0, (after["machine_cpu"] - before["machine_cpu"]) - (after["server_cpu"] - before["server_cpu"])
                    - (after["upstream_cpu"] - before["upstream_cpu"]) - (after["loadgen_cpu"] - before["loadgen_cpu"])),
                3,
            ),
        }
        results[name] = summary
        print(
            f"  calls {name}: {summary['requests']} turns, TTFT p50 {_fmt(summary['ttft_ms']['p50'])} p99 "
            f"{_fmt(summary['ttft_ms']['p99'])} ms, {summary['errors']} errors, {summary['cancelled_at_limit']} cut off",
            flush=True,
        )
    results["added_ttft_ms"] = {
        q: _minus(results["fintalk"]["ttft_ms"][q], results["direct"]["ttft_ms"][q]) for q in ("p50", "p90", "p99")
    }
    results["plan"] = {"calls": plan.calls, "period_s": plan.period_s, "duration_s": plan.duration_s, "tokens": plan.scenario.tokens}
    return results


async def soak(plan: scenarios.Soak, server: servers.Server, key: str, max_duration_s: float) -> dict:
    """``plan.requests`` requests on a fresh server, its workers' RSS sampled throughout."""
    workers = server.workers()
    target = Target("fintalk", server.url + "/v1/chat/completions", {"Authorization": f"Bearer {key}"})
    body = StreamScenario("soak", plan.concurrency, plan.requests, plan.tokens).proxied_body()
    warm_up = Load(concurrency=plan.concurrency, requests=plan.warm_up, keep_alive=False)
    await loadgen.run_phase(target, body, warm_up)
    await asyncio.sleep(0.5)
    done = {"count": 0}
    samples = []

    def sample() -> None:
        samples.append({"requests": done["count"], "rss_mb": sum(servers.rss_mb(pid) for pid in workers)})

    sample()
    stop = asyncio.Event()

    async def sampler() -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except asyncio.TimeoutError:
                pass
            sample()

    sampling = asyncio.create_task(sampler())
    load = Load(concurrency=plan.concurrency, requests=plan.requests, max_duration_s=max_duration_s)
    phase = await loadgen.run_phase(target, body, load, lambda _: done.__setitem__("count", done["count"] + 1))
    await asyncio.sleep(1.0)
    stop.set()
    await sampling
    summary = loadgen.summarise(phase)
    growth = samples[-1]["rss_mb"] - samples[0]["rss_mb"]
    print(f"  soak: {summary['ok']} ok, {summary['errors']} errors; RSS {samples[0]['rss_mb']:.0f} -> {samples[-1]['rss_mb']:.0f} MB ({growth:+.1f})", flush=True)
    return {"plan": plan.__dict__, "summary": summary, "workers": len(workers), "rss_growth_mb": growth, "samples": samples}


def _openai_settings(upstream: servers.Server) -> dict[str, str]:
    return {
        "LLM_PROVIDER": "openai",
        "LLM_API_ENDPOINT": upstream.url + "/v1",
        "LLM_API_KEY": "bench",
        "LLM_MODEL": "fake-upstream",
    }


async def run(args: argparse.Namespace) -> dict:
    plan = scenarios.quick() if args.quick else scenarios.FULL
    nofile = servers.raise_file_limit()
    work = Path(tempfile.mkdtemp(prefix="fintalk-bench-"))
    started = time.perf_counter()
    result: dict = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "-m", "bench.run", *sys.argv[1:]]),
        "quick": args.quick,
        "machine": report.machine(nofile),
    }
    print(f"Preparing a database in {work}", flush=True)
    database_url, key = servers.prepare_database(work)
    database = work / "bench.sqlite3"
    running: list[servers.Server] = []
    try:
        upstream = servers.start_fake_upstream(work)
        running.append(upstream)
        proxies = {"passthrough": servers.start_passthrough(work, upstream)}
        running.append(proxies["passthrough"])
        if servers.LITELLM.exists():
            proxies["litellm"] = servers.start_litellm(work, upstream)
            running.append(proxies["litellm"])
            result["litellm_version"] = servers.litellm_version()
        else:
            result["litellm_missing"] = f"{servers.LITELLM} not found: run make bench"
        proxies["fintalk"] = servers.start_fintalk("fintalk", work, database_url, **_openai_settings(upstream))
        running.append(proxies["fintalk"])
        headers = {"Authorization": f"Bearer {key}"}
        targets = {"direct": (Target("direct", upstream.url + "/v1/chat/completions"), Watch(upstream, None, database))}
        for name, server in proxies.items():
            targets[name] = (
                Target(name, server.url + "/v1/chat/completions", headers if name == "fintalk" else {}),
                Watch(upstream, server, database if name == "fintalk" else None),
            )
        warm = plan.concurrency[0]
        for name, (target, _) in targets.items():
            body = warm.direct_body() if name == "direct" else warm.proxied_body()
            await loadgen.run_phase(target, body, Load(concurrency=4, requests=24))
        print("Time to first token, directly and through each proxy:", flush=True)
        result["concurrency"] = [await side_by_side(s, targets) for s in plan.concurrency]
        print("CPU per token and per request (slope):", flush=True)
        result["cpu"] = {}
        for name in proxies:
            target, watch = targets[name]
            result["cpu"][name] = await cpu_slope(plan.per_token, target, watch)
            print(
                f"  {name}: {_fmt(result['cpu'][name]['cpu_us_per_token'])} µs per token, "
                f"{_fmt(result['cpu'][name]['cpu_ms_per_request'])} ms per request",
                flush=True,
            )
        for name in ("passthrough", "litellm"):
            if name in proxies:
                proxies[name].stop()
        proxies["fintalk"].stop()

        print("Bedrock, simultaneous streams on the paced fake Bedrock:", flush=True)
        fake_bedrock = servers.start_fake_bedrock(work)
        running.append(fake_bedrock)
        on_bedrock = servers.start_fintalk("fintalk-bedrock", work, database_url, **servers.bedrock_settings(fake_bedrock))
        running.append(on_bedrock)
        bedrock_target = Target("fintalk", on_bedrock.url + "/v1/chat/completions", headers)
        await loadgen.run_phase(bedrock_target, plan.bedrock[0].proxied_body(model=None), Load(concurrency=2, requests=6))
        result["bedrock"] = await bedrock(plan.bedrock, fake_bedrock, bedrock_target, Watch(None, on_bedrock, None))
        on_bedrock.stop()
        fake_bedrock.stop()

        print(f"Calls: {plan.calls.calls} voice calls on {plan.calls.workers} workers:", flush=True)
        two = servers.start_fintalk(
            "fintalk-calls", work, database_url, WEB_CONCURRENCY=str(plan.calls.workers), **_openai_settings(upstream)
        )
        running.append(two)
        calls_target = Target("fintalk", two.url + "/v1/chat/completions", headers)
        await loadgen.run_phase(calls_target, plan.calls.scenario.proxied_body(), Load(concurrency=8, requests=40, keep_alive=False))
        result["calls"] = await calls(plan.calls, targets["direct"][0], calls_target, Watch(upstream, two, None))
        two.stop()

        remaining = BUDGET_S - (time.perf_counter() - started)
        if remaining > 60:
            max_duration = min(plan.soak.max_duration_s, remaining - 20)
            print(f"Soak ({plan.soak.requests} requests, {plan.soak.workers} workers, at most {max_duration:.0f}s):", flush=True)
            fresh = servers.start_fintalk(
                "fintalk-soak", work, database_url, WEB_CONCURRENCY=str(plan.soak.workers), **_openai_settings(upstream)
            )
            running.append(fresh)
            result["soak"] = await soak(plan.soak, fresh, key, max_duration)
            fresh.stop()
        else:
            result["soak_skipped"] = f"{remaining:.0f}s left of the {BUDGET_S:.0f}s budget"
    finally:
        for server in reversed(running):
            server.stop()
        result["work_dir"] = str(work)
    result["duration_s"] = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke-sized run (a few minutes)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the report")
    parser.add_argument("--keep", action="store_true", help="keep the database and the server logs")
    args = parser.parse_args(argv)
    import uvloop

    result = uvloop.run(run(args))
    written = report.write(result, args.out)
    if not args.keep:
        shutil.rmtree(result["work_dir"], ignore_errors=True)
    print(f"Done in {result['duration_s']:.0f}s. Report: {', '.join(str(p) for p in written)}")


if __name__ == "__main__":
    main()
