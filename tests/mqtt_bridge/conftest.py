"""Real bridge processes, a real broker, and a small paho-mqtt client for the tests.

The broker is the machine's Mosquitto on 127.0.0.1:1883 (``.ci/run`` starts it), shared
with other users: every test uses topics under its own random prefix.
"""

import contextlib
import getpass
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.conftest import ROOT, _database_url

SHARED_BROKER = ("127.0.0.1", 1883)
DONE = b"[DONE]"
# Generous upper bounds on waiting for something that should happen at once: only a
# broken bridge reaches them, so they fail a test instead of hanging it.
WAIT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BridgeProcess:
    """``python manage.py mqtt_bridge`` in its own process group, logging to a file."""

    def __init__(self, env: dict[str, str], *, name: str) -> None:
        self.request_topic = env["MQTT_REQUEST_TOPIC"]
        self.log_path = ROOT / f".mqtt-bridge-{name}-{uuid.uuid4().hex[:8]}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "mqtt_bridge"],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": _database_url(),
                "DJANGO_SETTINGS_MODULE": "fintalk.settings",
                **env,
            },
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_for_log(self, text: str, *, count: int = 1) -> None:
        """Until ``text`` appears ``count`` times in the log (polling a file, not a race)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.log().count(text) >= count:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} did not appear {count}x in the bridge's log:\n{self.log()}")

    def wait_connected(self, *, count: int = 1) -> None:
        self.wait_for_log(" connected to ", count=count)

    def terminate(self) -> int:
        """SIGTERM; the exit code."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise AssertionError(f"The bridge ignored SIGTERM:\n{self.log()}") from None

    def close(self) -> None:
        if self.process.poll() is None:
            self.terminate()
        self._log.close()
        self.log_path.unlink(missing_ok=True)


class MosquittoProcess:
    """A private Mosquitto on a free port, in its own process group, for fault tests."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
        self.config.write_text(
            # Started as root, Mosquitto would switch to its own user, which cannot read
            # pytest's private temporary directory.
            f"user {getpass.getuser()}\n"
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            f"log_dest file {directory / 'mosquitto.log'}\n"
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)  # polling for the port to open
        raise AssertionError("The private Mosquitto did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=WAIT)


class NetworkCut:
    """A TCP relay to the shared broker whose connections the test can cut and restore.

    While cut, open connections are closed and new ones refused: the bridge loses the
    network, the broker stays up (and keeps the bridge's session).
    """

    def __init__(self, target: tuple[str, int] = SHARED_BROKER) -> None:
        self.port = free_port()
        self._target = target
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


class Replies:
    """Messages arriving on a reply topic, in order."""

    def __init__(self) -> None:
        self.queue: queue.Queue[paho.MQTTMessage] = queue.Queue()

    def next(self) -> paho.MQTTMessage:
        try:
            return self.queue.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError("No reply arrived") from None

    def until_done(self, count: int = 1) -> list[paho.MQTTMessage]:
        """Every message up to and including the ``count``-th ``[DONE]``."""
        messages = []
        while count:
            messages.append(self.next())
            count -= messages[-1].payload == DONE
        return messages


class MqttClient:
    """A paho-mqtt client (MQTT 5 or 3.1.1) that sends requests and collects replies."""

    def __init__(self, *, protocol: int = paho.MQTTv5, host: str = SHARED_BROKER[0], port: int = SHARED_BROKER[1]):
        self.protocol = protocol
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=protocol)
        self._replies: dict[str, Replies] = {}
        self._subscribing: dict[int, threading.Event] = {}
        self._lock = threading.Lock()
        self._client.on_message = lambda client, userdata, message: self._replies[message.topic].queue.put(message)
        self._client.on_subscribe = self._on_subscribe
        connected = threading.Event()
        self._client.on_connect = lambda *args: connected.set()
        self._client.connect(host, port)
        self._client.loop_start()
        assert connected.wait(WAIT), f"Could not connect to the broker on {host}:{port}"

    def subscribe(self, topic: str) -> Replies:
        replies = self._replies[topic] = Replies()
        subscribed = threading.Event()
        with self._lock:  # the SUBACK may arrive before subscribe() returns
            result, mid = self._client.subscribe(topic, qos=1)
            self._subscribing[mid] = subscribed
        assert result == paho.MQTT_ERR_SUCCESS
        assert subscribed.wait(WAIT), f"No SUBACK for {topic}"
        return replies

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties=None) -> None:
        with self._lock:
            self._subscribing.pop(mid).set()

    def publish(self, topic: str, payload: bytes | str | dict, *, properties: Properties | None = None, qos: int = 1) -> None:
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        self._client.publish(topic, payload, qos=qos, properties=properties).wait_for_publish(WAIT)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def v5_properties(*, reply_to: str | None, correlation: bytes | None = None, key: str | None = None, **user: str) -> Properties:
    properties = Properties(PacketTypes.PUBLISH)
    if reply_to is not None:
        properties.ResponseTopic = reply_to
    if correlation is not None:
        properties.CorrelationData = correlation
    pairs = ([("authorization", f"Bearer {key}")] if key else []) + list(user.items())
    if pairs:
        properties.UserProperty = pairs
    return properties


@pytest.fixture
def topics() -> str:
    """A topic prefix of this test's own."""
    return f"fintalk-tests/{uuid.uuid4().hex}"


@pytest.fixture
def start_bridge(transactional_db, topics) -> Iterator:
    """Start bridge processes answering ``<topics>/requests`` (extra settings as keywords)."""
    started: list[BridgeProcess] = []

    def start(*, name: str = "bridge", wait: bool = True, **env: str) -> BridgeProcess:
        bridge = BridgeProcess(
            {
                "MQTT_URL": f"mqtt://{SHARED_BROKER[0]}:{SHARED_BROKER[1]}",
                "MQTT_REQUEST_TOPIC": f"{topics}/requests",
                "MQTT_SHARED_GROUP": "fintalk-tests",
                **env,
            },
            name=name,
        )
        started.append(bridge)
        if wait:
            bridge.wait_connected()
        return bridge

    yield start
    for bridge in started:
        bridge.close()


@pytest.fixture
def mqtt_client() -> Iterator[MqttClient]:
    client = MqttClient()
    yield client
    client.close()


@pytest.fixture
def mqtt311_client() -> Iterator[MqttClient]:
    client = MqttClient(protocol=paho.MQTTv311)
    yield client
    client.close()
