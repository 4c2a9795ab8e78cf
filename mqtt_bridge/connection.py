"""The broker connection: ``MQTT_URL`` to an aiomqtt client, and manual acknowledgements.

Flow control works like this. The bridge connects with MQTT 5 and tells the broker its
Receive Maximum (``MQTT_MAX_IN_FLIGHT``): the broker then sends at most that many QoS 1
requests that the bridge has not yet acknowledged. The bridge acknowledges a request
(PUBACK) only once its answer has been published, so at most ``MQTT_MAX_IN_FLIGHT``
requests are ever in the bridge's memory; the others wait in the broker (for this
session or, through the shared subscription, for another bridge).

aiomqtt 2.5 does not expose paho-mqtt's manual acknowledgements, so the two calls below
reach the paho client it wraps (``Client._client``), as aiomqtt's maintainers suggest
(aiomqtt issue 345). tests/mqtt_bridge/test_connection.py fails if an upgrade removes them.
"""

import os
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

SCHEME_PORTS = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True)
class Broker:
    """Where the broker is, parsed from ``MQTT_URL``; ``password`` is never logged."""

    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @property
    def address(self) -> str:
        """``mqtt://host:port`` without credentials, for logs."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def broker_from_url(url: str) -> Broker:
    """``mqtt://user:password@host:1883`` or ``mqtts://…`` (TLS, default port 8883)."""
    parts = urlsplit(url)
    return Broker(
        host=parts.hostname or "",
        port=parts.port or SCHEME_PORTS[parts.scheme],
        tls=parts.scheme == "mqtts",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def default_client_id() -> str:
    return f"fintalk-bridge-{socket.gethostname()}-{os.getpid()}"[:64]


def client_create(
    broker: Broker,
    *,
    client_id: str,
    receive_maximum: int,
    session_expiry: int,
    clean_start: bool,
    ca_file: str = "",
) -> aiomqtt.Client:
    """An MQTT 5 client with manual acknowledgements (call ``request_ack`` for each request).

    One client per connection: the bridge's first connection starts a clean session
    (``clean_start``), its reconnections resume it, so that the broker sends the requests
    it queued for the session and those the bridge had not acknowledged. (paho-mqtt's
    "clean start on the first connection only" cannot do this under aiomqtt, which calls
    paho's ``connect()`` again for each connection, and that resets paho's notion of first.)
    """
    connect = Properties(PacketTypes.CONNECT)
    connect.ReceiveMaximum = receive_maximum
    connect.SessionExpiryInterval = session_expiry
    client = aiomqtt.Client(
        broker.host,
        broker.port,
        username=broker.username,
        password=broker.password,
        identifier=client_id,
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=clean_start,
        properties=connect,
        tls_context=ssl.create_default_context(cafile=ca_file or None) if broker.tls else None,
        keepalive=30,
        timeout=30,
        # Answers publish many small messages at once; paho's default window is 20.
        max_inflight_messages=max(20, receive_maximum * 2),
    )
    client._client.manual_ack_set(True)  # noqa: SLF001 - see the module's docstring
    return client


def request_ack(client: aiomqtt.Client, message: aiomqtt.Message) -> None:
    """Acknowledge a request (PUBACK for QoS 1): the broker may send the next one."""
    if message.qos > 0:
        client._client.ack(message.mid, message.qos)  # noqa: SLF001 - see the module's docstring
