"""The ASGI application's start-up (``fintalk.asgi``)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, sys
import fintalk.asgi
print(gc.get_freeze_count(), "agents.runner" in sys.modules, "api.views" in sys.modules)
"""


def test_start_up_loads_what_requests_need_and_keeps_it_out_of_the_collectors_way():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    frozen, agent_loaded, views_loaded = done.stdout.split()[-3:]
    assert agent_loaded == views_loaded == "True"
    assert int(frozen) > 50_000
