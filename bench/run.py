"""Run every benchmark scenario and write the report: ``python -m bench.run`` (``make bench``).

One run starts, on free 127.0.0.1 ports, a fake OpenAI-compatible upstream and Fintalk as
production runs it (gunicorn, uvicorn-worker, one worker, ``LLM_PROVIDER=openai`` pointed
at the fake). For each concurrency level the same load goes first straight to the fake,
then through Fintalk, seconds apart: Fintalk's added time to first token is the difference
of two measurements taken with the same upstream process, the same client and the same
machine state. (Not at the very same instant: Fintalk's own CPU use would then slow the
direct baseline and hide part of Fintalk's cost.)

Then: server CPU per token, a 5,000-request soak on a fresh server recording its RSS,
non-streaming throughput on the offline model, and LlamaIndex's workflow cost in isolation.
"""

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import loadgen, report, scenarios, servers
from bench.loadgen import Load, Target
from bench.scenarios import StreamScenario
from bench.watch import Watch, wait_for_quiet

RESULTS = Path(__file__).resolve().parent / "results"
# make bench must end within ten minutes: the soak, last, gets what is left of this.
BUDGET_S = 570.0


def _targets(
    upstream: servers.Server, fintalk: servers.Server, key: str, tool_turn: bool = False
) -> tuple[Target, Target]:
    direct = Target("direct", upstream.url + "/v1/chat/completions", tool_round_trip=tool_turn)
    through = Target("fintalk", fintalk.url + "/v1/chat/completions", {"Authorization": f"Bearer {key}"})
    return direct, through


def _load(scenario: StreamScenario) -> Load:
    return Load(
        concurrency=scenario.concurrency,
        requests=scenario.requests,
        rate=scenario.rate,
        timeout_s=scenario.timeout_s,
        max_duration_s=scenario.max_duration_s,
    )


async def side_by_side(scenario: StreamScenario, watch: Watch, direct: Target, through: Target) -> dict:
    load = _load(scenario)
    print(
        f"  {scenario.name}: {scenario.concurrency} concurrent, {scenario.requests} requests, "
        f"{scenario.tokens} tokens, {scenario.rate:.0f}/s",
        flush=True,
    )
    # The targets' phases (up to 64 streams) wait for a quiet machine: it may be shared.
    gates = []
    if scenario.concurrency <= 64:
        gates.append(await wait_for_quiet())
    direct_summary = await watch.measure(direct, scenario.direct_body(), load)
    if scenario.concurrency <= 64:
        gates.append(await wait_for_quiet())
    else:
        await asyncio.sleep(1)
    fintalk_summary = await watch.measure(through, scenario.fintalk_body(), load)
    added = {
        q: _minus(fintalk_summary["ttft_ms"][q], direct_summary["ttft_ms"][q]) for q in ("p50", "p90", "p99")
    }
    print(
        f"    direct TTFT p50 {_fmt(direct_summary['ttft_ms']['p50'])} ms, Fintalk "
        f"{_fmt(fintalk_summary['ttft_ms']['p50'])} ms (added p50 {_fmt(added['p50'])}, "
        f"p99 {_fmt(added['p99'])}); errors {direct_summary['errors']}/{fintalk_summary['errors']}",
        flush=True,
    )
    await asyncio.sleep(1)
    return {
        "scenario": scenario.__dict__ | {"rate_per_s": scenario.rate},
        "direct": direct_summary,
        "fintalk": fintalk_summary,
        "added_ttft_ms": added,
        "quiet_gates": gates,
    }


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


async def per_token(plan: tuple[StreamScenario, ...], watch: Watch, through: Target) -> dict:
    runs = {}
    for scenario in plan:
        runs[scenario.name] = await watch.measure(through, scenario.fintalk_body(), _load(scenario))
    short, long = (runs[s.name] for s in plan)
    tokens = long["tokens"] - short["tokens"]
    slope = (long["cpu_s"]["fintalk"] - short["cpu_s"]["fintalk"]) / tokens * 1e6 if tokens else None
    print(f"  server CPU per token (slope): {_fmt(slope)} µs", flush=True)
    return {
        "cpu_us_per_token": slope,
        "short": short,
        "long": long,
        "log_lines_per_token": (long["log_lines"] - short["log_lines"]) / tokens if tokens else None,
        "db_rows_per_token": (long["db_rows_written"] - short["db_rows_written"]) / tokens
        if tokens
        else None,
    }


async def soak(plan: scenarios.Soak, server: servers.Server, key: str, max_duration_s: float) -> dict:
    """``plan.requests`` requests on a fresh server, its workers' RSS sampled throughout."""
    workers = server.workers()
    target = Target("fintalk", server.url + "/v1/chat/completions", {"Authorization": f"Bearer {key}"})
    body = StreamScenario("soak", plan.concurrency, plan.requests, plan.tokens).fintalk_body()
    fresh = {pid: servers.rss_mb(pid) for pid in workers}
    # New connections for the warm-up, so that each worker accepts some and warms up: kept-
    # alive connections would stay with whichever worker accepted them first.
    warm_up = Load(concurrency=plan.concurrency, requests=plan.warm_up, keep_alive=False)
    await loadgen.run_phase(target, body, warm_up)
    await asyncio.sleep(0.5)
    done = {"count": 0}
    begin = time.perf_counter()

    def sample() -> dict:
        rss = [servers.rss_mb(pid) for pid in workers]
        return {
            "t_s": time.perf_counter() - begin,
            "requests": done["count"],
            "rss_mb": sum(rss),
            "workers_rss_mb": rss,
        }

    samples = [sample()]
    stop = asyncio.Event()

    async def sampler() -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except asyncio.TimeoutError:
                pass
            samples.append(sample())

    sampling = asyncio.create_task(sampler())
    load = Load(concurrency=plan.concurrency, requests=plan.requests, max_duration_s=max_duration_s)
    phase = await loadgen.run_phase(
        target, body, load, lambda _: done.__setitem__("count", done["count"] + 1)
    )
    await asyncio.sleep(1.0)
    stop.set()
    await sampling
    summary = loadgen.summarise(phase)
    start, end = samples[0], samples[-1]
    growth = end["rss_mb"] - start["rss_mb"]
    print(
        f"  soak: {summary['ok']} ok, {summary['errors']} errors, {summary['cancelled_at_limit']} cut off, in "
        f"{summary['wall_s']:.0f}s; RSS of {len(workers)} workers {start['rss_mb']:.0f} -> {end['rss_mb']:.0f} MB "
        f"({growth:+.1f})",
        flush=True,
    )
    return {
        "plan": plan.__dict__,
        "max_duration_s": max_duration_s,
        "summary": summary,
        "workers": len(workers),
        "rss_fresh_mb": sum(fresh.values()),
        "rss_after_warm_up_mb": start["rss_mb"],
        "rss_end_mb": end["rss_mb"],
        "rss_peak_mb": max(s["rss_mb"] for s in samples),
        "rss_growth_mb": growth,
        "rss_growth_after_first_1000_mb": end["rss_mb"]
        - next((s["rss_mb"] for s in samples if s["requests"] >= 1000), end["rss_mb"]),
        "workers_rss_after_warm_up_mb": start["workers_rss_mb"],
        "workers_rss_growth_mb": [
            b - a for a, b in zip(start["workers_rss_mb"], end["workers_rss_mb"], strict=True)
        ],
        "samples": samples,
    }


async def throughput(plan: scenarios.Throughput, server: servers.Server, key: str, watch: Watch) -> dict:
    target = Target("fintalk", server.url + "/v1/chat/completions", {"Authorization": f"Bearer {key}"})
    warm = Load(concurrency=2, requests=10, stream=False)
    await loadgen.run_phase(target, plan.body(), warm)
    load = Load(
        concurrency=plan.concurrency, requests=plan.requests, stream=False, max_duration_s=plan.max_duration_s
    )
    summary = await watch.measure(target, plan.body(), load)
    print(
        f"  offline non-streaming: {summary['requests_per_s']:.1f} requests/s, p50 "
        f"{_fmt(summary['total_ms']['p50'])} ms, errors {summary['errors']}",
        flush=True,
    )
    return summary


def workflow_cost(runs: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "bench.workflow_cost", "--runs", str(runs)],
        cwd=servers.ROOT,
        env=servers.clean_env(),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return {"error": done.stderr[-2000:]}
    return json.loads(done.stdout[done.stdout.index("{") :])


async def run(args: argparse.Namespace) -> dict:
    plan = (
        scenarios.quick()
        if args.quick
        else (
            scenarios.CONCURRENCY,
            scenarios.TOOL_TURN,
            scenarios.PER_TOKEN,
            scenarios.SOAK,
            scenarios.THROUGHPUT,
        )
    )
    concurrency, tool_turn, per_token_plan, soak_plan, throughput_plan = plan
    nofile = servers.raise_file_limit()
    work = Path(tempfile.mkdtemp(prefix="fintalk-bench-"))
    started = time.perf_counter()
    result: dict = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "-m", "bench.run", *sys.argv[1:]]),
        "quick": args.quick,
        "machine": report.machine(nofile),
        "work_dir": str(work),
    }
    print("LlamaIndex workflow cost in isolation...", flush=True)
    result["workflow_cost"] = workflow_cost(30)
    print(f"Preparing a database in {work}", flush=True)
    database_url, key = servers.prepare_database(work)
    database = work / "bench.sqlite3"
    running: list[servers.Server] = []
    try:
        upstream = servers.start_fake_upstream(work)
        running.append(upstream)
        openai_available = servers.openai_provider_available()
        if openai_available:
            fintalk = servers.start_fintalk(
                "fintalk-openai", work, database_url, **_openai_settings(upstream)
            )
            running.append(fintalk)
            watch = Watch(upstream, fintalk, database)
            direct, through = _targets(upstream, fintalk, key)
            for target, body in (
                (direct, concurrency[0].direct_body()),
                (through, concurrency[0].fintalk_body()),
            ):
                await loadgen.run_phase(target, body, Load(concurrency=4, requests=20))
            print("Time to first token, direct vs through Fintalk:", flush=True)
            result["concurrency"] = [await side_by_side(s, watch, direct, through) for s in concurrency]
            tool_direct, _ = _targets(upstream, fintalk, key, tool_turn=True)
            result["tool_turn"] = await side_by_side(tool_turn, watch, tool_direct, through)
            print("Server CPU per token:", flush=True)
            result["per_token"] = await per_token(per_token_plan, Watch(None, fintalk, database), through)
            fintalk.stop()
        else:
            result["skipped"] = (
                "LLM_PROVIDER=openai is not available in this checkout: streaming scenarios skipped."
            )
            print(result["skipped"], flush=True)
        print("Throughput:", flush=True)
        offline = servers.start_fintalk("fintalk-offline", work, database_url, LLM_PROVIDER="offline")
        running.append(offline)
        result["throughput_offline"] = await throughput(
            throughput_plan, offline, key, Watch(None, offline, database)
        )
        offline.stop()
        if openai_available:
            # The soak gets what is left of the time budget, so that make bench always ends.
            remaining = BUDGET_S - (time.perf_counter() - started)
            max_duration = max(60.0, min(soak_plan.max_duration_s, remaining))
            print(
                f"Soak ({soak_plan.requests} requests, {soak_plan.workers} workers, at most {max_duration:.0f}s):",
                flush=True,
            )
            fresh = servers.start_fintalk(
                "fintalk-soak",
                work,
                database_url,
                WEB_CONCURRENCY=str(soak_plan.workers),
                **_openai_settings(upstream),
            )
            running.append(fresh)
            result["soak"] = await soak(soak_plan, fresh, key, max_duration)
            fresh.stop()
    finally:
        for server in reversed(running):
            server.stop()
    result["duration_s"] = time.perf_counter() - started
    return result


def _openai_settings(upstream: servers.Server) -> dict[str, str]:
    return {
        "LLM_PROVIDER": "openai",
        "LLM_API_ENDPOINT": upstream.url + "/v1",
        "LLM_API_KEY": "bench",
        "LLM_MODEL": "fake-upstream",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke-sized run (about a minute)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the report")
    parser.add_argument("--keep", action="store_true", help="keep the database and the server logs")
    args = parser.parse_args(argv)
    import uvloop

    result = uvloop.run(run(args))
    written = report.write(result, args.out)
    if not args.keep:
        # After a failure the directory stays, for its server logs.
        shutil.rmtree(result["work_dir"], ignore_errors=True)
    print(f"Done in {result['duration_s']:.0f}s. Report: {', '.join(str(p) for p in written)}")


if __name__ == "__main__":
    main()
