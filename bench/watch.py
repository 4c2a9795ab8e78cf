"""What a benchmark phase cost the servers, measured from outside through /proc and their logs."""

import asyncio
import json
import sqlite3
import time
import urllib.request
from pathlib import Path

from bench import loadgen, servers
from bench.loadgen import Load, Target


class Watch:
    """What a phase cost a server under test (a proxy, or Fintalk): CPU, peak RSS, log lines,
    database rows (``database`` None: not counted), upstream connections opened."""

    def __init__(self, upstream: servers.Server | None, server: servers.Server | None, database: Path | None) -> None:
        self.upstream, self.server, self.database = upstream, server, database

    def _workers(self) -> list[int]:
        return self.server.workers() if self.server else []

    def snapshot(self) -> dict:
        return {
            "t": time.perf_counter(),
            "machine_cpu": servers.machine_busy_seconds(),
            "loadgen_cpu": time.process_time(),
            "upstream_cpu": servers.cpu_seconds(self.upstream.pid) if self.upstream else 0.0,
            "server_cpu": sum(servers.cpu_seconds(pid) for pid in self._workers()),
            "log_lines": _line_count(self.server.log_path) if self.server else 0,
            "db_rows": _row_count(self.database) if self.database else 0,
            "upstream_connections": _upstream_connections(self.upstream) if self.upstream else 0,
        }

    async def measure(self, target: Target, body: dict, load: Load, on_done=None) -> dict:
        workers = self._workers()
        peak = {"rss_mb": 0.0, "fds": 0}
        stop = asyncio.Event()

        async def sample() -> None:
            while not stop.is_set():
                if workers:
                    peak["rss_mb"] = max(peak["rss_mb"], sum(servers.rss_mb(pid) for pid in workers))
                    peak["fds"] = max(peak["fds"], sum(servers.open_fds(pid) for pid in workers))
                try:
                    await asyncio.wait_for(stop.wait(), 0.5)
                except asyncio.TimeoutError:
                    pass

        before = self.snapshot()
        sampler = asyncio.create_task(sample())
        phase = await loadgen.run_phase(target, body, load, on_done)
        stop.set()
        await sampler
        await asyncio.sleep(0.3)  # the conversation log is written after the last byte
        after = self.snapshot()
        summary = loadgen.summarise(phase)
        cost = {key: after[key] - before[key] for key in before}
        summary["cpu_s"] = {k: round(cost[f"{k}_cpu"], 4) for k in ("loadgen", "upstream", "server")}
        # The machine is shared: CPU that none of the benchmark's processes used was someone
        # else's, and it slowed this phase down.
        ours = cost["loadgen_cpu"] + cost["upstream_cpu"] + cost["server_cpu"]
        other = max(0.0, cost["machine_cpu"] - ours)
        summary["cpu_s"]["other_processes"] = round(other, 3)
        summary["other_processes_cpu_share"] = other / (cost["t"] * servers.CORES) if cost["t"] else None
        if self.server is not None:
            tokens = summary["tokens"] or 1
            summary["server_cpu_us_per_token"] = cost["server_cpu"] / tokens * 1e6
            summary["server_cpu_ms_per_request"] = cost["server_cpu"] / max(1, summary["requests"]) * 1000
            summary["log_lines"] = cost["log_lines"]
            summary["db_rows_written"] = cost["db_rows"]
            summary["server_rss_peak_mb"] = peak["rss_mb"]
            summary["server_fds_peak"] = peak["fds"]
            summary["upstream_connections_opened"] = cost["upstream_connections"]
        return summary


def _upstream_connections(upstream: servers.Server) -> int:
    """Connections the fake upstream has seen: with keep-alive, far fewer than requests."""
    with urllib.request.urlopen(upstream.url + "/healthz", timeout=10) as response:
        return json.loads(response.read())["connections_seen"]


def _line_count(path: Path) -> int:
    try:
        with path.open("rb") as log:
            return sum(1 for _ in log)
    except OSError:
        return 0


def _row_count(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=20) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return sum(db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables)


async def wait_for_quiet(max_wait_s: float = 10.0, threshold: float = 0.15) -> dict:
    """Wait (at most ``max_wait_s``) until the machine's CPU is mostly idle.

    The machine may be shared (other people's test runs): a latency phase started while
    something else keeps the cores busy measures that, not Fintalk. Called between phases,
    when the benchmark's own processes are idle, so all busy CPU is someone else's.
    """
    begin = time.perf_counter()
    while True:
        before = servers.machine_busy_seconds()
        await asyncio.sleep(1.0)
        share = (servers.machine_busy_seconds() - before) / servers.CORES
        waited = time.perf_counter() - begin
        if share <= threshold or waited >= max_wait_s:
            return {"waited_s": round(waited, 1), "busy_share": round(share, 3)}
