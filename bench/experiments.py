"""What each proposed optimisation would gain, measured: ``python -m bench.experiments``.

Fintalk is started once per variant with some of ``bench.prototypes``' patches, and the
same loads run against it: one stream back to back, and 16 concurrent streams, against
the fake upstream (50 ms to first token, 20 ms between tokens). The fake upstream is also
measured directly, once, as the baseline the added time is computed from. Writes
``experiments.json`` and ``experiments.md`` beside the benchmark results.
"""

import argparse
import asyncio
import json
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench import loadgen, servers
from bench.loadgen import Load, Target
from bench.run import RESULTS, _openai_settings
from bench.scenarios import StreamScenario
from bench.watch import Watch

VARIANTS = {
    "as is": "",
    # The provider already caches the bank tools' specs (agents/providers/tool_specs.py): this
    # patch no longer changes anything, and its difference from "as is" shows the noise.
    "control: tool specs cached twice": "tool-schema-cache",
    "API keys cached": "auth-cache",
    "upstream connections kept alive": "drain-upstream",
    "both (keys cached, connections kept alive)": "auth-cache,drain-upstream",
}
LOADS = (StreamScenario("c1", 1, 40, 20), StreamScenario("c16", 16, 128, 40))


def _load(scenario: StreamScenario) -> Load:
    return Load(concurrency=scenario.concurrency, requests=scenario.requests, rate=scenario.rate)


async def _variant(
    name: str, patches: str, work: Path, database_url: str, key: str, upstream: servers.Server, database: Path
) -> dict:
    fintalk = servers.start_fintalk(
        f"fintalk-{patches or 'plain'}",
        work,
        database_url,
        app="bench.prototypes:application",
        BENCH_PATCHES=patches,
        **_openai_settings(upstream),
    )
    try:
        target = Target("fintalk", fintalk.url + "/v1/chat/completions", {"Authorization": f"Bearer {key}"})
        await loadgen.run_phase(target, LOADS[0].fintalk_body(), Load(concurrency=4, requests=20))
        watch = Watch(upstream, fintalk, database)
        runs = {}
        for scenario in LOADS:
            runs[scenario.name] = await watch.measure(target, scenario.fintalk_body(), _load(scenario))
            await asyncio.sleep(0.5)
    finally:
        fintalk.stop()
    c1, c16 = runs["c1"], runs["c16"]
    print(
        f"  {name}: TTFT p50 {c1['ttft_ms']['p50']:.1f} ms at 1, {c16['ttft_ms']['p50']:.1f} ms "
        f"(p99 {c16['ttft_ms']['p99']:.1f}) at 16; CPU {c16['fintalk_cpu_ms_per_request']:.1f} ms/request",
        flush=True,
    )
    return runs


async def experiments(work: Path, rounds: int) -> dict:
    """Every variant, ``rounds`` times, in alternating order, each round with its own baseline."""
    database_url, key = servers.prepare_database(work)
    database = work / "bench.sqlite3"
    upstream = servers.start_fake_upstream(work)
    results: dict = {"rounds": []}
    try:
        direct = Target("direct", upstream.url + "/v1/chat/completions")
        for number in range(rounds):
            print(f"Round {number + 1}:", flush=True)
            baseline = {
                s.name: await Watch(upstream, None, database).measure(direct, s.direct_body(), _load(s))
                for s in LOADS
            }
            order = list(VARIANTS.items())
            if number % 2:
                order.reverse()
            variants = {
                name: await _variant(name, patches, work, database_url, key, upstream, database)
                for name, patches in order
            }
            results["rounds"].append(
                {"direct": baseline, "variants": {name: variants[name] for name in VARIANTS}}
            )
    finally:
        upstream.stop()
    return results


def _row(name: str, direct: dict, runs: dict) -> dict:
    c1, c16 = runs["c1"], runs["c16"]
    requests = c1["requests"] + c16["requests"]
    return {
        "variant": name,
        "added_p50_c1": c1["ttft_ms"]["p50"] - direct["c1"]["ttft_ms"]["p50"],
        "added_p50_c16": c16["ttft_ms"]["p50"] - direct["c16"]["ttft_ms"]["p50"],
        "added_p99_c16": c16["ttft_ms"]["p99"] - direct["c16"]["ttft_ms"]["p99"],
        "cpu_ms_per_request_c16": c16["fintalk_cpu_ms_per_request"],
        "cpu_us_per_token_c16": c16["fintalk_cpu_us_per_token"],
        "connections_per_request": (c1["upstream_connections_opened"] + c16["upstream_connections_opened"])
        / max(1, requests),
        "other_cpu_share": max(
            c1["other_processes_cpu_share"] or 0.0, c16["other_processes_cpu_share"] or 0.0
        ),
    }


def markdown(result: dict) -> str:
    lines = [
        "# Proposed optimisations, measured",
        "",
        f"- Date: {result['date']}",
        f"- Command: `{result['command']}`",
        "- Each variant is Fintalk (one gunicorn + uvicorn-worker worker, `LLM_PROVIDER=openai`) with "
        "`bench.prototypes` patches; same loads (1 stream back to back, 20 tokens; 16 concurrent streams, "
        "40 tokens), same fake upstream (50 ms to first token, 20 ms between tokens). Variants run in "
        "alternating order round after round, each round with its own direct baseline; *other CPU* is the "
        "share of the machine that processes outside the benchmark used meanwhile (the machine is shared).",
        "",
    ]
    header = [
        "| variant | added TTFT p50 at 1 | added TTFT p50 at 16 | added TTFT p99 at 16 | CPU per request at 16 "
        "| CPU per token at 16, all-in | upstream connections per request | other CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for number, round_ in enumerate(result["rounds"], 1):
        direct = round_["direct"]
        lines += [
            f"## Round {number}",
            "",
            f"Fake upstream directly: TTFT p50 {direct['c1']['ttft_ms']['p50']:.1f} ms at 1, "
            f"{direct['c16']['ttft_ms']['p50']:.1f} ms (p99 {direct['c16']['ttft_ms']['p99']:.1f} ms) at 16.",
            "",
            *header,
        ]
        for name, runs in round_["variants"].items():
            r = _row(name, direct, runs)
            lines.append(
                f"| {name} | {r['added_p50_c1']:.1f} ms | {r['added_p50_c16']:.1f} ms | {r['added_p99_c16']:.1f} ms "
                f"| {r['cpu_ms_per_request_c16']:.1f} ms | {r['cpu_us_per_token_c16']:.0f} µs "
                f"| {r['connections_per_request']:.2f} | {r['other_cpu_share'] * 100:.0f}% |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    import uvloop

    servers.raise_file_limit()
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="fintalk-experiments-"))
    result = uvloop.run(experiments(work, args.rounds))
    shutil.rmtree(work, ignore_errors=True)
    result["date"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result["command"] = "python -m bench.experiments"
    result["duration_s"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "experiments.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "experiments.md").write_text(markdown(result))
    print(f"Done in {result['duration_s']:.0f}s: {args.out / 'experiments.md'}")


if __name__ == "__main__":
    main()
