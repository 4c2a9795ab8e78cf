"""Non-streaming requests while conversation logs are written: ``python -m bench.log_writes``.

The offline model's non-streaming throughput scenario of ``make bench`` (16 clients, "What
loan products do you offer?": a tool call, a database read, an answer, a log), on its own
and repeated, to compare ways of writing the conversation log. Each round uses a fresh
SQLite database and a fresh server (gunicorn + uvicorn-worker, one worker); after the
server has stopped (SIGTERM), the logged turns are counted: every request must have one.

    python -m bench.log_writes --rounds 3 --requests 480
"""

import argparse
import asyncio
import json
import sqlite3
import tempfile
from pathlib import Path

from bench import loadgen, servers
from bench.loadgen import Load, Target
from bench.scenarios import QUESTION

BODY = {"messages": [{"role": "user", "content": QUESTION}], "stream": False}


def _logged(database: Path) -> int:
    """Rows of the conversation log (one per request, whichever schema the checkout has)."""
    with sqlite3.connect(database) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        table = "conversations_turn" if "conversations_turn" in tables else "conversations_conversation"
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


async def one_round(requests: int, concurrency: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="fintalk-log-writes-"))
    database_url, key = servers.prepare_database(work)
    server = servers.start_fintalk("fintalk-offline", work, database_url, LLM_PROVIDER="offline")
    try:
        target = Target("fintalk", server.url + "/v1/chat/completions", {"Authorization": f"Bearer {key}"})
        await loadgen.run_phase(target, BODY, Load(concurrency=2, requests=10, stream=False))
        phase = await loadgen.run_phase(
            target, BODY, Load(concurrency=concurrency, requests=requests, stream=False, max_duration_s=120)
        )
    finally:
        server.stop()
    summary = loadgen.summarise(phase)
    total = summary["total_ms"]
    return {
        "requests": summary["requests"],
        "errors": summary["errors"],
        "requests_per_s": round(summary["requests_per_s"] or 0, 1),
        "p50_ms": round(total["p50"] or 0, 1),
        "p90_ms": round(total["p90"] or 0, 1),
        "p99_ms": round(total["p99"] or 0, 1),
        "max_ms": round(total["max"] or 0, 1),
        "logged": _logged(work / "bench.sqlite3") - 10,  # less the warm-up's
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=480)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    servers.raise_file_limit()
    for index in range(args.rounds):
        result = asyncio.run(one_round(args.requests, args.concurrency))
        print(json.dumps({"round": index + 1, **result}), flush=True)


if __name__ == "__main__":
    main()
