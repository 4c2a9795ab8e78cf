"""The processes a benchmark run starts, and what /proc says about them.

Everything listens on 127.0.0.1 on a free port; every process is stopped by its own pid.
"""

import os
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1

# Settings a developer's shell may carry that would change what a run measures.
_SCRUBBED = re.compile(r"^(LLM_|AWS_|DATABASE_URL$|REDIS_URL$|WEB_CONCURRENCY$|RATE_LIMIT_|TOKEN_BUDGET)")


def raise_file_limit(wanted: int = 65536) -> int:
    """Raise this process's open-file limit (children inherit it); returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The servers of one run share a throw-away secret unless the caller's environment sets one.
_SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _SCRUBBED.match(k)}
    env["DJANGO_SECRET_KEY"] = _SECRET_KEY
    env.update(extra)
    return env


@dataclass
class Server:
    """A server subprocess (for gunicorn, its master) with its log file."""

    name: str
    process: subprocess.Popen
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer in {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def workers(self) -> list[int]:
        """The gunicorn worker pids (the process itself when it is not a master)."""
        children = _children(self.pid)
        return children or [self.pid]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _spawn(name: str, command: list[str], env: dict[str, str], url: str, log_dir: Path) -> Server:
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return Server(name, process, url, log_path)


def start_fake_upstream(
    log_dir: Path, *, tokens: int = 20, ttft_ms: float = 50, gap_ms: float = 20
) -> Server:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "bench.fake_upstream",
        "--port",
        str(port),
        "--tokens",
        str(tokens),
        "--ttft-ms",
        str(ttft_ms),
        "--gap-ms",
        str(gap_ms),
    ]
    server = _spawn("fake-upstream", command, clean_env(), f"http://127.0.0.1:{port}", log_dir)
    server.wait_ready("/v1/models")
    return server


def start_passthrough(log_dir: Path, upstream: Server) -> Server:
    """The raw ASGI pass-through (``bench.passthrough``) in front of ``upstream``."""
    port = free_port()
    command = [sys.executable, "-m", "bench.passthrough", "--port", str(port), "--upstream", upstream.url]
    server = _spawn("passthrough", command, clean_env(), f"http://127.0.0.1:{port}", log_dir)
    server.wait_ready("/v1/models")
    return server


LITELLM = ROOT / "bench" / ".litellm" / "bin" / "litellm"


def start_litellm(log_dir: Path, upstream: Server) -> Server:
    """LiteLLM's proxy (its own venv, made by ``make bench``), one worker, in front of
    ``upstream`` as an OpenAI-compatible model named ``fake-upstream``."""
    port = free_port()
    config = log_dir / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: fake-upstream\n"
        "    litellm_params:\n"
        "      model: openai/fake-upstream\n"
        f"      api_base: {upstream.url}/v1\n"
        "      api_key: bench\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
        "  drop_params: true\n"
    )
    command = [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    env = clean_env(LITELLM_LOG="ERROR", LITELLM_TELEMETRY="False", NO_DOCS="True")
    server = _spawn("litellm", command, env, f"http://127.0.0.1:{port}", log_dir)
    server.wait_ready("/health/liveliness", timeout=180)
    return server


def litellm_version() -> str:
    done = subprocess.run(
        [str(LITELLM.parent / "python"), "-c", "from importlib.metadata import version; print(version('litellm'))"],
        capture_output=True, text=True,
    )
    return done.stdout.strip()


def bedrock_settings(fake: Server) -> dict[str, str]:
    """Fintalk's settings for ``LLM_PROVIDER=bedrock`` on the fake Bedrock."""
    return {
        "LLM_PROVIDER": "bedrock",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIDBENCH",
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": fake.url,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }


def start_fake_bedrock(log_dir: Path, *, tokens: int = 20, ttft_ms: float = 50, gap_ms: float = 20) -> Server:
    port = free_port()
    command = [
        sys.executable, "-m", "bench.fake_bedrock", "--port", str(port),
        "--tokens", str(tokens), "--ttft-ms", str(ttft_ms), "--gap-ms", str(gap_ms),
    ]
    server = _spawn("fake-bedrock", command, clean_env(), f"http://127.0.0.1:{port}", log_dir)
    server.wait_ready("/stats")
    return server


def start_fintalk(
    name: str, log_dir: Path, database_url: str, app: str = "fintalk.asgi:application", **settings: str
) -> Server:
    """Fintalk as production runs it: gunicorn, uvicorn-worker, one worker unless told."""
    port = free_port()
    env = clean_env(
        HOST="127.0.0.1",
        PORT=str(port),
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="fintalk.settings",
        WEB_CONCURRENCY="1",
        # One client sends all of the load; the limits are not what is measured.
        RATE_LIMIT_KEY_PER_MINUTE="0",
        RATE_LIMIT_IP_PER_MINUTE="0",
    )
    env.update(settings)
    # No control socket: two servers of one run would both claim ~/.gunicorn/gunicorn.ctl.
    command = [sys.executable, "-m", "gunicorn", app, "-c", "gunicorn.conf.py", "--no-control-socket"]
    server = _spawn(name, command, env, f"http://127.0.0.1:{port}", log_dir)
    server.wait_ready("/healthz")
    return server


_PREPARE = """
import io
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("seed_demo_bank", stdout=io.StringIO())
key = io.StringIO()
call_command("create_api_key", "bench", trusted_channel=True, quiet=True, stdout=key)
print("KEY=" + key.getvalue().strip())
"""


def prepare_database(directory: Path) -> tuple[str, str]:
    """A migrated, seeded SQLite database and a trusted-channel API key for it.

    One process runs the three management commands (``migrate``, ``seed_demo_bank``,
    ``create_api_key NAME --trusted-channel --quiet``): Django starts once, not three times.
    """
    database_url = f"sqlite:///{directory / 'bench.sqlite3'}"
    env = clean_env(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="fintalk.settings")
    done = subprocess.run([sys.executable, "-c", _PREPARE], cwd=ROOT, env=env, capture_output=True, text=True)
    keys = [line[4:] for line in done.stdout.splitlines() if line.startswith("KEY=")]
    if done.returncode != 0 or not keys:
        raise RuntimeError(f"Preparing the database failed:\n{done.stdout}\n{done.stderr}")
    return database_url, keys[-1]


def openai_provider_available() -> bool:
    """Whether this checkout's Fintalk knows ``LLM_PROVIDER=openai`` yet."""
    code = "from agents.providers import PROVIDER_NAMES; print('openai' in PROVIDER_NAMES)"
    env = clean_env(DJANGO_SETTINGS_MODULE="fintalk.settings")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    return done.stdout.strip() == "True"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time every process on the machine has used (all cores), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0
