"""The benchmark report: JSON, and a Markdown summary with every target as a ratio measured in the same run."""

import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path


PACKAGES = (
    "django",
    "djangorestframework",
    "llama-index-core",
    "llama-index-workflows",
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


def _get(data: dict | None, *path, default=None):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return data


def _level(result: dict, concurrency: int) -> dict:
    return next((s for s in result.get("concurrency", []) if s["scenario"]["concurrency"] == concurrency), {})


def targets(result: dict) -> list[dict]:
    """Every performance target: what it compares, the limit, the measurement, pass or fail."""
    rows: list[dict] = []

    def add(target: str, measured: float | None, limit: float | None, passed: bool | None, note: str = "") -> None:
        rows.append({"target": target, "measured": measured, "limit": limit, "passed": passed, "note": note})

    c1, c16, c64 = _level(result, 1), _level(result, 16), _level(result, 64)
    ours, theirs = _get(c1, "added_ttft_ms", "fintalk", "p50"), _get(c1, "added_ttft_ms", "litellm", "p50")
    ok = None if ours is None or theirs is None else ours <= theirs / 3
    add("added TTFT p50, 1 stream ≤ ⅓ of LiteLLM's", ours, None if theirs is None else theirs / 3, ok,
        f"LiteLLM {_num(theirs)} ms; ratio {_ratio(ours, theirs)}")
    ours, theirs = _get(c16, "added_ttft_ms", "fintalk", "p99"), _get(c16, "added_ttft_ms", "litellm", "p99")
    ok = None if ours is None or theirs is None else ours <= theirs / 2
    add("added TTFT p99, 16 streams ≤ ½ of LiteLLM's", ours, None if theirs is None else theirs / 2, ok,
        f"LiteLLM {_num(theirs)} ms; ratio {_ratio(ours, theirs)}")
    ours, theirs = _get(c64, "added_ttft_ms", "fintalk", "p99"), _get(c64, "added_ttft_ms", "litellm", "p99")
    errors = _get(c64, "fintalk", "errors")
    ok = None if ours is None or theirs is None else (ours < theirs and errors == 0)
    add("64 streams: no errors and added TTFT p99 below LiteLLM's", ours, theirs, ok,
        f"{errors} errors; ratio {_ratio(ours, theirs)}")
    cpu = result.get("cpu", {})
    ours, floor = _get(cpu, "fintalk", "cpu_us_per_token"), _get(cpu, "passthrough", "cpu_us_per_token")
    ok = None if ours is None or floor is None else ours <= 2 * floor
    add("CPU per token ≤ 2× the raw pass-through's (µs)", ours, None if floor is None else 2 * floor, ok,
        f"pass-through {_num(floor)} µs, LiteLLM {_num(_get(cpu, 'litellm', 'cpu_us_per_token'))} µs; ratio {_ratio(ours, floor)}")
    ours, theirs = _get(cpu, "fintalk", "cpu_ms_per_request"), _get(cpu, "litellm", "cpu_ms_per_request")
    ok = None if ours is None or theirs is None else ours <= theirs
    add("CPU per request ≤ LiteLLM's (ms)", ours, theirs, ok, f"ratio {_ratio(ours, theirs)}")
    rows_per_token = _get(cpu, "fintalk", "db_rows_per_token")
    lines_per_token = _get(cpu, "fintalk", "log_lines_per_token")
    add("no per-token database write", rows_per_token, 0.0, None if rows_per_token is None else rows_per_token < 0.01)
    add("no per-token log line", lines_per_token, 0.0, None if lines_per_token is None else lines_per_token < 0.01)
    bedrock = {b["scenario"]["concurrency"]: b["fintalk"] for b in result.get("bedrock", [])}
    b64 = bedrock.get(64, {})
    most = b64.get("most_open_upstream")
    add("Bedrock: 64 simultaneous streams all open upstream at once", most, 64,
        None if most is None else most >= 64 and b64.get("errors") == 0)
    p99 = _get(b64, "ttft_ms", "p99")
    add("Bedrock: TTFT p99 at 64 streams ≤ 1 s (ms)", p99, 1000, None if p99 is None else p99 <= 1000)
    calls = result.get("calls", {})
    errors, p99 = _get(calls, "fintalk", "errors"), _get(calls, "added_ttft_ms", "p99")
    add("1,000 calls: 0 errors", errors, 0, None if errors is None else errors == 0,
        f"{_get(calls, 'fintalk', 'requests')} turns")
    add("1,000 calls: added TTFT p99 ≤ 150 ms", p99, 150, None if p99 is None else p99 <= 150,
        f"p50 {_num(_get(calls, 'added_ttft_ms', 'p50'))} ms")
    growth = _get(result, "soak", "rss_growth_mb")
    add("memory: RSS growth over 5,000 requests ≤ 50 MB", growth, 50, None if growth is None else growth <= 50,
        f"{_get(result, 'soak', 'summary', 'ok')} requests")
    return rows


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}"


def _num(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}"
    return str(value)


def _verdict(passed: bool | None) -> str:
    return "not measured" if passed is None else ("pass" if passed else "**FAIL**")


def markdown(result: dict) -> str:
    lines = [
        f"# make bench — {result['date']}",
        "",
        f"`{result['command']}`, {result.get('duration_s', 0):.0f} s; LiteLLM {result.get('litellm_version', '(not installed)')}; "
        f"{result['machine']['nproc']} cores ({result['machine']['cpu_model']}), load average at start "
        f"{result['machine']['load_average_at_start']}.",
        "",
        "## Targets (every ratio measured in this run)",
        "",
        "| target | measured | limit | result | notes |",
        "|---|---|---|---|---|",
    ]
    for row in result["targets"]:
        lines.append(f"| {row['target']} | {_num(row['measured'])} | {_num(row['limit'])} | {_verdict(row['passed'])} | {row['note']} |")
    lines += [
        "",
        "## Time to first token (ms), directly and through each proxy",
        "",
        "| streams | target | TTFT p50 / p90 / p99 | added p50 / p99 | token gap p50 / p99 | CPU per request | errors | other processes' CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for level in result.get("concurrency", []):
        for name in ("direct", "passthrough", "litellm", "fintalk"):
            phase = level.get(name)
            if not phase:
                continue
            ttft, gap = phase["ttft_ms"], phase["gap_ms"]
            added = level["added_ttft_ms"].get(name, {})
            lines.append(
                f"| {level['scenario']['concurrency']} | {name} | {_num(ttft['p50'])} / {_num(ttft['p90'])} / {_num(ttft['p99'])} "
                f"| {_num(added.get('p50'))} / {_num(added.get('p99'))} | {_num(gap['p50'])} / {_num(gap['p99'])} "
                f"| {_num(phase.get('server_cpu_ms_per_request'))} ms | {phase['errors']} | {_num((phase.get('other_processes_cpu_share') or 0) * 100, 0)}% |"
            )
    lines += ["", "## CPU (slope between 10- and 110-token answers, 16 streams)", "",
              "| server | µs per token | ms per request | upstream connections per request | other processes' CPU |", "|---|---|---|---|---|"]
    for name, cpu in result.get("cpu", {}).items():
        long = cpu["long"]
        per_conn = long.get("upstream_connections_opened", 0) / max(1, long["requests"])
        lines.append(f"| {name} | {_num(cpu['cpu_us_per_token'])} | {_num(cpu['cpu_ms_per_request'])} | {per_conn:.2f} | {_num((long.get('other_processes_cpu_share') or 0) * 100, 0)}% |")
    lines += ["", "## Bedrock (fake Bedrock, 50 ms to first token, 20 ms per token; all streams sent at once)", "",
              "| streams | TTFT p50 / p99 | most open upstream at once | errors |", "|---|---|---|---|"]
    for entry in result.get("bedrock", []):
        phase = entry["fintalk"]
        lines.append(f"| {entry['scenario']['concurrency']} | {_num(phase['ttft_ms']['p50'])} / {_num(phase['ttft_ms']['p99'])} | {phase['most_open_upstream']} | {phase['errors']} |")
    calls = result.get("calls")
    if calls:
        lines += ["", f"## Calls ({calls['plan']['calls']} calls, a {calls['plan']['tokens']}-token turn every ~{calls['plan']['period_s']:g} s, two workers)", "",
                  "| target | turns | TTFT p50 / p99 | errors | cut off at the end | server CPU | other processes' CPU |", "|---|---|---|---|---|---|---|"]
        for name in ("direct", "fintalk"):
            phase = calls[name]
            lines.append(f"| {name} | {phase['requests']} | {_num(phase['ttft_ms']['p50'])} / {_num(phase['ttft_ms']['p99'])} | {phase['errors']} | {phase['cancelled_at_limit']} | {_num(phase['cpu_s']['server'])} s | {_num(phase['cpu_s']['other_processes'])} s |")
        lines.append(f"\nAdded TTFT p50 {_num(calls['added_ttft_ms']['p50'])} ms, p99 {_num(calls['added_ttft_ms']['p99'])} ms.")
    soak = result.get("soak")
    if soak:
        lines += ["", f"## Memory: {soak['summary']['ok']} requests on {soak['workers']} workers, RSS growth {_num(soak['rss_growth_mb'])} MB ({soak['summary']['errors']} errors)"]
    return "\n".join(lines) + "\n"


def write(result: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    result = {**result, "targets": targets(result)}
    json_path = out / "results.json"
    json_path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    md_path = out / "results.md"
    md_path.write_text(markdown(result))
    return [json_path, md_path]
