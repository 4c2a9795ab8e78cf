"""The benchmark report: JSON, a Markdown summary with each performance target, PNG charts."""

import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from bench import charts

PACKAGES = (
    "django",
    "djangorestframework",
    "llama-index-core",
    "llama-index-workflows",
    "llama-index-llms-openai-like",
    "openai",
    "httpx",
    "gunicorn",
    "uvicorn",
    "uvicorn-worker",
    "uvloop",
    "aiohttp",
)


def machine(nofile: int) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        memory = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "memory": memory,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "open_files_limit": nofile,
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
        "packages": versions,
    }


def _scenario(result: dict, name: str) -> dict | None:
    return next((s for s in result.get("concurrency", []) if s["scenario"]["name"] == name), None)


def targets(result: dict) -> list[dict]:
    """Fintalk's performance targets, each with the measured value and pass/fail."""
    rows = []

    def add(target: str, limit: float, measured: float | None, unit: str, note: str = "") -> None:
        rows.append(
            {
                "target": target,
                "limit": limit,
                "measured": measured,
                "unit": unit,
                "pass": measured is not None and measured <= limit,
                "note": note,
            }
        )

    for name, quantile, limit in (
        ("c1", "p50", 8),
        ("c16", "p50", 20),
        ("c16", "p99", 60),
        ("c64", "p99", 150),
    ):
        scenario = _scenario(result, name)
        concurrency = name[1:]
        measured = scenario["added_ttft_ms"][quantile] if scenario else None
        note = (
            f"Fintalk {_num(scenario['fintalk']['ttft_ms'][quantile])} ms − directly "
            f"{_num(scenario['direct']['ttft_ms'][quantile])} ms, {scenario['fintalk']['requests']} requests each"
            if scenario
            else ""
        )
        add(
            f"added TTFT {quantile} at {concurrency} stream{'s' if concurrency != '1' else ''}",
            limit,
            measured,
            "ms",
            note,
        )
    per_token = result.get("per_token") or {}
    add(
        "server CPU per token",
        50,
        per_token.get("cpu_us_per_token"),
        "µs",
        "slope of worker CPU time between 10- and 110-token answers",
    )
    add(
        "log lines per token",
        0,
        per_token.get("log_lines_per_token"),
        "lines",
        "server log lines added per extra token streamed",
    )
    add(
        "database rows written per token",
        0,
        per_token.get("db_rows_per_token"),
        "rows",
        "rows added in every table per extra token streamed",
    )
    thousand = _scenario(result, "c1000")
    if thousand:
        fintalk = thousand["fintalk"]
        failed = fintalk["errors"] + fintalk.get("cancelled_at_limit", 0)
        add(
            "errors at 1,000 concurrent paced streams",
            0,
            failed,
            "errors",
            f"{fintalk['ok']} of {fintalk['requests']} completed ({fintalk.get('cancelled_at_limit', 0)} cut off at "
            f"the time limit); max {fintalk['max_in_flight']} in flight; Fintalk's token gap p50 "
            f"{_num(fintalk['gap_ms']['p50'])} ms, p99 {_num(fintalk['gap_ms']['p99'])} ms",
        )
        # The targets ask for no errors; "realistically paced" also means the answers arrive at
        # the model's pace, which this row checks (a reading of the target, not a number in it).
        direct_s, fintalk_s = thousand["direct"]["total_ms"]["p50"], fintalk["total_ms"]["p50"]
        ratio = fintalk_s / direct_s if direct_s and fintalk_s else None
        rows.append(
            {
                "target": "pace held at 1,000 streams (answer duration p50, Fintalk ÷ direct)",
                "limit": 1.5,
                "measured": ratio,
                "unit": "×",
                "pass": ratio is not None and ratio <= 1.5,
                "note": f"answers took {_num(fintalk_s / 1000 if fintalk_s else None)} s through Fintalk, "
                f"{_num(direct_s / 1000 if direct_s else None)} s directly (p50); limit 1.5× is this "
                'report\'s reading of "realistically paced", not a number from the targets',
            }
        )
    else:
        add("errors at 1,000 concurrent paced streams", 0, None, "errors")
    soak = result.get("soak")
    requests = soak["summary"]["ok"] if soak else 0
    add(
        f"RSS growth over {requests:,} requests",
        50,
        soak["rss_growth_mb"] if soak else None,
        "MB",
        f"sum of the {soak['workers']} workers' RSS after the soak minus after its warm-up "
        f"(each: {', '.join(f'{g:+.1f}' for g in soak['workers_rss_growth_mb'])} MB)"
        if soak
        else "",
    )
    return rows


def _num(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        "# Fintalk benchmark results",
        "",
        f"- Date: {result['date']}; run took {result['duration_s']:.0f} s{' (quick run)' if result['quick'] else ''}",
        f"- Machine: {m['nproc']} cores, {m['cpu_model']}, {m['memory']} memory, Python {m['python']}, {m['platform']}",
        f"- Command: `{result['command']}`",
        f"- Load average when the run started: {', '.join(str(v) for v in m.get('load_average_at_start', []))} "
        "(the machine is shared: the last column of the second table shows how much CPU other processes took "
        "during each phase)",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in m["packages"].items()),
        "",
    ]
    if result.get("skipped"):
        lines += [f"**{result['skipped']}**", ""]
    lines += [
        "## Targets",
        "",
        "| target | limit | measured | result | how |",
        "|---|---|---|---|---|",
    ]
    for row in targets(result):
        verdict = "**pass**" if row["pass"] else ("not measured" if row["measured"] is None else "**FAIL**")
        lines.append(
            f"| {row['target']} | ≤ {_num(row['limit'])} {row['unit']} | {_num(row['measured'])} "
            f"{row['unit']} | {verdict} | {row['note']} |"
        )
    scenarios = [*result.get("concurrency", []), *([result["tool_turn"]] if result.get("tool_turn") else [])]
    if scenarios:
        lines += [
            "",
            "## Time to first token, direct vs through Fintalk (ms)",
            "",
            "Each row: the same load against the fake upstream directly, then through Fintalk "
            "(one gunicorn + uvicorn-worker worker), seconds apart in one run; up to 64 streams, each phase "
            "starts once the shared machine is quiet (at most 15% busy, waiting up to 10 s). Upstream: 50 ms to "
            "first token, 20 ms between tokens.",
            "",
            "| scenario | streams | tokens | requests | direct p50 | direct p99 | Fintalk p50 | Fintalk p90 | Fintalk p99 "
            "| added p50 | added p99 | Fintalk gap p50 / p99 | errors direct / Fintalk | Fintalk CPU per request | Fintalk CPU per token, all-in |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for s in scenarios:
            d, f, a = s["direct"], s["fintalk"], s["added_ttft_ms"]
            lines.append(
                f"| {s['scenario']['name']} | {s['scenario']['concurrency']} | {s['scenario']['tokens']} | {f['requests']} "
                f"| {_num(d['ttft_ms']['p50'])} | {_num(d['ttft_ms']['p99'])} | {_num(f['ttft_ms']['p50'])} "
                f"| {_num(f['ttft_ms']['p90'])} | {_num(f['ttft_ms']['p99'])} | **{_num(a['p50'])}** | **{_num(a['p99'])}** "
                f"| {_num(f['gap_ms']['p50'])} / {_num(f['gap_ms']['p99'])} | {d['errors']} / {f['errors']} "
                f"| {_num(f['fintalk_cpu_ms_per_request'])} ms | {_num(f['fintalk_cpu_us_per_token'], 0)} µs |"
            )
        lines += [
            "",
            "Throughput and server cost per scenario:",
            "",
            "| scenario | answer duration p50, direct / Fintalk | direct req/s | Fintalk req/s | Fintalk tokens/s | Fintalk max in flight | Fintalk peak RSS | "
            "Fintalk peak fds | upstream connections opened by Fintalk | CPU s: loadgen / upstream / Fintalk "
            "| other processes' CPU, direct / Fintalk phase |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for s in scenarios:
            d, f = s["direct"], s["fintalk"]
            cpu = f["cpu_s"]
            lines.append(
                f"| {s['scenario']['name']} | {_num(d['total_ms']['p50'] / 1000, 2)} s / {_num(f['total_ms']['p50'] / 1000, 2)} s "
                f"| {_num(d['requests_per_s'])} | {_num(f['requests_per_s'])} "
                f"| {_num(f['tokens_per_s'], 0)} | {f['max_in_flight']} | {_num(f['fintalk_rss_peak_mb'])} MB "
                f"| {f['fintalk_fds_peak']} | {f.get('upstream_connections_opened', '–')} "
                f"| {cpu['loadgen']:.1f} / {cpu['upstream']:.1f} / {cpu['fintalk']:.1f} "
                f"| {_share(d)} / {_share(f)} |"
            )
        errors = [
            (s["scenario"]["name"], t, s[t]["error_samples"])
            for s in scenarios
            for t in ("direct", "fintalk")
            if s[t]["errors"]
        ]
        if errors:
            lines += ["", "Error samples:", ""]
            lines += [f"- {name} {target}: {'; '.join(samples)}" for name, target, samples in errors]
    lines += _per_token_md(result) + _soak_md(result) + _throughput_md(result) + _workflow_md(result)
    lines += [
        "",
        "Charts: `ttft.png` (time to first token vs concurrency), `rss.png` (RSS over the soak).",
        "",
    ]
    return "\n".join(lines)


def _share(phase: dict) -> str:
    """Other processes' share of the machine's CPU during a phase."""
    share = phase.get("other_processes_cpu_share")
    return "–" if share is None else f"{share * 100:.0f}%"


def _per_token_md(result: dict) -> list[str]:
    p = result.get("per_token")
    if not p:
        return []
    return [
        "",
        "## Server CPU per token",
        "",
        f"Worker CPU for {p['short']['requests']} requests of {p['short']['tokens'] // max(1, p['short']['ok'])} tokens: "
        f"{p['short']['cpu_s']['fintalk']:.2f} s; of {p['long']['tokens'] // max(1, p['long']['ok'])} tokens: "
        f"{p['long']['cpu_s']['fintalk']:.2f} s. Slope: **{_num(p['cpu_us_per_token'], 0)} µs per token**; "
        f"log lines per token {_num(p['log_lines_per_token'], 3)}, database rows per token {_num(p['db_rows_per_token'], 3)}.",
    ]


def _soak_md(result: dict) -> list[str]:
    s = result.get("soak")
    if not s:
        return []
    summary = s["summary"]
    return [
        "",
        "## Soak",
        "",
        f"{summary['ok']:,} of {summary['requests']:,} requests ok ({summary['errors']} errors, "
        f"{summary['cancelled_at_limit']} cut off at the {s['max_duration_s']:.0f} s limit) in {summary['wall_s']:.0f} s "
        f"({summary['requests_per_s']:.1f}/s) on a fresh server with {s['workers']} workers, {s['plan']['concurrency']} "
        f"concurrent, {s['plan']['tokens']} tokens each, after {s['plan']['warm_up']} warm-up requests. RSS of the "
        f"workers together: fresh {s['rss_fresh_mb']:.1f} MB, after warm-up {s['rss_after_warm_up_mb']:.1f} MB, end "
        f"{s['rss_end_mb']:.1f} MB, peak {s['rss_peak_mb']:.1f} MB: **growth {s['rss_growth_mb']:+.1f} MB** "
        f"({s.get('rss_growth_after_first_1000_mb', 0):+.1f} MB after the first 1,000 requests; each worker: "
        f"{', '.join(f'{g:+.1f}' for g in s['workers_rss_growth_mb'])} MB).",
    ]


def _throughput_md(result: dict) -> list[str]:
    t = result.get("throughput_offline")
    if not t:
        return []
    return [
        "",
        "## Non-streaming throughput, offline model",
        "",
        f'{t["concurrency"]} concurrent clients, "What loan products do you offer?" (tool call, database read, '
        f"answer), `stream: false`: **{t['requests_per_s']:.1f} requests/s**, latency p50 {_num(t['total_ms']['p50'])} ms, "
        f"p99 {_num(t['total_ms']['p99'])} ms, {t['errors']} errors; worker CPU {t['fintalk_cpu_ms_per_request']:.1f} ms per request.",
    ]


def _workflow_md(result: dict) -> list[str]:
    w = result.get("workflow_cost") or {}
    if "first_event" not in w:
        return [
            "",
            "## LlamaIndex workflow cost in isolation",
            "",
            f"Not measured: {w.get('error', 'skipped')[:500]}",
        ]
    lines = [
        "",
        "## LlamaIndex workflow cost in isolation",
        "",
        f"One process, sequential runs ({w['runs']} after warm-up), no HTTP server.",
        "",
        "| case | run() → first event min | p50 | p90 | run() → first token p50 | whole run p50 |",
        "|---|---|---|---|---|---|",
    ]
    for name, c in w["first_event"].items():
        lines.append(
            f"| {name} | {_num(c['run_to_first_event_ms'].get('min'), 2)} ms "
            f"| {_num(c['run_to_first_event_ms']['p50'], 2)} ms | {_num(c['run_to_first_event_ms']['p90'], 2)} ms "
            f"| {_num(c['run_to_first_token_ms']['p50'], 2)} ms | {_num(c['whole_run_ms']['p50'], 2)} ms |"
        )
    lines += ["", "| per token | CPU per token |", "|---|---|"]
    for name, c in w["per_token"].items():
        lines.append(f"| {name} | {_num(c['cpu_us_per_token'], 0)} µs |")
    return lines


def write(result: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    result = {**result, "targets": targets(result)}
    json_path = out / "results.json"
    json_path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    md_path = out / "results.md"
    md_path.write_text(markdown(result))
    return [json_path, md_path, *charts.draw(result, out)]
