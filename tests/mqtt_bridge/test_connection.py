"""MQTT_URL parsing, and the paho-mqtt internals the bridge's flow control relies on."""

import asyncio
import os
import subprocess
import re
import sys
from pathlib import Path

import aiomqtt
import pytest
from django.core.exceptions import ImproperlyConfigured

from fintalk.env import env_url
from mqtt_bridge.connection import broker_from_url, client_create


def test_broker_url_with_credentials_and_tls():
    broker = broker_from_url("mqtts://bridge:p%40ss@broker.example.com")

    assert (broker.host, broker.port, broker.tls) == ("broker.example.com", 8883, True)
    assert (broker.username, broker.password) == ("bridge", "p@ss")
    assert broker.address == "mqtts://broker.example.com:8883"


def test_plain_broker_url_defaults_to_port_1883():
    broker = broker_from_url("mqtt://127.0.0.1")

    assert (broker.port, broker.tls, broker.username) == (1883, False, None)


@pytest.mark.parametrize("url", ["http://broker:1883", "mqtt://", "mqtt://broker:notaport", "broker:1883"])
def test_a_wrong_mqtt_url_stops_start_up_with_a_fix(monkeypatch, url):
    monkeypatch.setenv("MQTT_URL", url)

    with pytest.raises(ImproperlyConfigured, match="MQTT_URL"):
        env_url("MQTT_URL", "mqtt://127.0.0.1:1883", schemes=("mqtt", "mqtts"), example="mqtt://host:1883")


def test_the_client_asks_for_manual_acknowledgements_and_a_receive_maximum():
    # aiomqtt does not expose these: if an upgrade renames its paho client, this fails.
    async def create():
        return client_create(
            broker_from_url("mqtt://127.0.0.1:1883"), client_id="t", receive_maximum=7, session_expiry=60, clean_start=True
        )

    client = asyncio.run(create())

    assert isinstance(client, aiomqtt.Client)
    assert client._client._manual_ack is True
    assert callable(client._client.ack)
    assert client._properties.ReceiveMaximum == 7
    assert client._properties.SessionExpiryInterval == 60


@pytest.mark.parametrize(
    ("name", "value"),
    [("MQTT_REQUEST_TOPIC", "fintalk/#"), ("MQTT_SHARED_GROUP", "a/b"), ("MQTT_MAX_IN_FLIGHT", "0")],
)
def test_a_wrong_mqtt_setting_stops_start_up_and_names_it(name, value):
    result = subprocess.run(
        [sys.executable, "-c", "import fintalk.settings"],
        env={**os.environ, name: value},
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert f"{name}=" in result.stderr and "ImproperlyConfigured" in result.stderr


def test_every_mqtt_setting_is_documented():
    root = Path(__file__).resolve().parents[2]
    read = set(re.findall(r'"(MQTT_[A-Z_]+)"', (root / "fintalk/settings.py").read_text()))
    readme = (root / "README.md").read_text()
    example = (root / ".env.example").read_text()

    assert "MQTT_URL" in read and len(read) >= 8
    for name in read:
        assert f"| `{name}` |" in readme, name
        assert f"# {name}=" in example, name
