"""The bridge process: one broker connection, a shared subscription, answers in flight.

- Subscribes to ``$share/<MQTT_SHARED_GROUP>/<MQTT_REQUEST_TOPIC>`` (QoS 1): every bridge
  process in the group gets a share of the requests, each request goes to one of them.
- Answers each request in its own task, at most ``MQTT_MAX_IN_FLIGHT`` at once (see
  ``mqtt_bridge.connection`` for how the broker holds the rest), and acknowledges a request once
  its answer is published.
- A lost connection cancels the answers in progress (they cannot be delivered) and
  reconnects with backoff; the resumed session gets the unacknowledged requests again.
- ``stop`` (SIGTERM): unsubscribe, end every answer in progress with an error envelope
  and ``[DONE]``, acknowledge, disconnect.
"""

import asyncio
import functools
import logging
from dataclasses import dataclass

import aiomqtt

from fintalk import errors
from fintalk.ids import new_id
from fintalk.observability import request_id_var
from fintalk.text import OFF_LOOP_THRESHOLD
from mqtt_bridge.answering import request_answer
from mqtt_bridge.connection import Broker, client_create, request_ack
from mqtt_bridge.incoming import IncomingRequest, request_read
from mqtt_bridge.outgoing import Reply
from mqtt_bridge.tracing import request_span

logger = logging.getLogger(__name__)

FIRST_RECONNECT_DELAY = 0.5


class SubscriptionRefused(Exception):
    """The broker refused the bridge's shared subscription."""


@dataclass
class _InFlight:
    message: aiomqtt.Message
    request: IncomingRequest
    reply: Reply


@dataclass(frozen=True)
class BridgeConfig:
    """The bridge's settings (``MQTT_*``, see the README's configuration table)."""

    broker: Broker
    client_id: str
    request_topic: str
    shared_group: str
    max_in_flight: int
    max_message_bytes: int
    session_expiry: int
    reconnect_max: float
    ca_file: str = ""

    @property
    def subscription(self) -> str:
        return f"$share/{self.shared_group}/{self.request_topic}"


class Bridge:
    def __init__(self, config: BridgeConfig) -> None:
        self.config = config
        self._in_flight: dict[asyncio.Task, _InFlight] = {}
        self._reading: dict[asyncio.Future, aiomqtt.Message] = {}  # large payloads, off the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set; returns after a graceful shutdown.

        Raises ``SubscriptionRefused`` when the broker will not give the bridge its shared
        subscription (no MQTT 5 shared subscriptions, or not authorized): retrying cannot help.
        """
        config = self.config
        delay = FIRST_RECONNECT_DELAY
        resume = False
        while not stop.is_set():
            client = client_create(
                config.broker,
                client_id=config.client_id,
                receive_maximum=config.max_in_flight,
                session_expiry=config.session_expiry,
                clean_start=not resume,
                ca_file=config.ca_file,
            )
            try:
                async with client:
                    resume = True
                    delay = FIRST_RECONNECT_DELAY
                    granted = await client.subscribe(config.subscription, qos=1)
                    refused = [code for code in granted if getattr(code, "is_failure", False)]
                    if refused:
                        raise SubscriptionRefused(
                            f"The broker at {config.broker.address} refused the subscription "
                            f"{config.subscription!r} ({refused[0]}): the bridge needs an MQTT 5 "
                            "broker with shared subscriptions that lets its user subscribe there."
                        )
                    logger.info(
                        "MQTT bridge %s connected to %s, answering %s",
                        config.client_id,
                        config.broker.address,
                        config.subscription,
                    )
                    await self._serve(client, stop)
                    await self._shut_down(client)
                    return
            except aiomqtt.MqttError as error:
                await self._abandon()
                logger.warning(
                    "MQTT connection to %s lost or refused (%s); reconnecting in %.1f s",
                    config.broker.address,
                    error,
                    delay,
                )
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                pass
            delay = min(delay * 2, config.reconnect_max)

    async def _serve(self, client: aiomqtt.Client, stop: asyncio.Event) -> None:
        messages = client.messages
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while True:
                receiving = asyncio.ensure_future(anext(messages))
                await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not receiving.done():
                    receiving.cancel()
                    return
                self._dispatch(client, receiving.result())
        finally:
            stopping.cancel()

    def _reply(self, client: aiomqtt.Client, request: IncomingRequest) -> Reply:
        return Reply(
            client,
            topic=request.reply_topic,
            correlation=request.correlation,
            max_bytes=self.config.max_message_bytes,
        )

    def _read(self, message: aiomqtt.Message) -> IncomingRequest:
        return request_read(message.payload, message.properties, max_bytes=self.config.max_message_bytes)

    def _dispatch(self, client: aiomqtt.Client, message: aiomqtt.Message) -> None:
        if len(message.payload) <= OFF_LOOP_THRESHOLD:
            self._start(client, message, self._read(message))
            return
        # As over HTTP: parsing a large request on the loop would hold up every answer.
        reading = asyncio.ensure_future(asyncio.to_thread(self._read, message))
        self._reading[reading] = message
        reading.add_done_callback(functools.partial(self._read_done, client, message))

    def _read_done(self, client: aiomqtt.Client, message: aiomqtt.Message, reading: asyncio.Future) -> None:
        self._reading.pop(reading, None)
        if not reading.cancelled():
            self._start(client, message, reading.result())

    def _start(self, client: aiomqtt.Client, message: aiomqtt.Message, request: IncomingRequest) -> None:
        """Answer ``request`` in its own task (or drop it, when it names no reply topic)."""
        if request.reply_topic is None:
            # The body is not logged: it may hold an API key.
            logger.warning(
                "Dropped a request on %s (%d bytes) that names no reply topic: send the MQTT 5 "
                "Response Topic property or, with MQTT 3.1.1, reply_to in the body",
                message.topic,
                len(message.payload),
            )
            request_ack(client, message)
            return
        reply = self._reply(client, request)
        if len(self._in_flight) >= self.config.max_in_flight:
            # Only QoS 0 requests get here: the broker's flow control holds back QoS 1.
            request.problem = errors.ServiceUnavailable(
                "The MQTT bridge is answering as many requests as it may "
                "(MQTT_MAX_IN_FLIGHT); publish with QoS 1 to wait in the broker, or retry.",
                code="overloaded",
            )
        task = asyncio.create_task(self._answer(client, message, request, reply))
        self._in_flight[task] = _InFlight(message, request, reply)
        task.add_done_callback(self._in_flight.pop)

    async def _answer(
        self, client: aiomqtt.Client, message: aiomqtt.Message, request: IncomingRequest, reply: Reply
    ) -> None:
        request_id_var.set(new_id())
        try:
            with request_span(message):
                await request_answer(request, reply)
        except aiomqtt.MqttError as error:
            logger.warning("Could not publish an answer to %s: %s", reply.topic, error)
            return
        except Exception:
            # Never let one request stop the bridge: the client gets a 500-style envelope.
            logger.exception("Answering an MQTT request failed")
            if not reply.finished:
                try:
                    await reply.publish_error(
                        errors.FintalkError("The server had an error processing your request."),
                        stream=request.stream,
                    )
                except aiomqtt.MqttError:
                    return
        request_ack(client, message)

    async def _cancel_all(self) -> list[_InFlight]:
        """Stop every answer (and every request still being read); returns the answers'."""
        for reading in list(self._reading):
            reading.cancel()
        in_flight = list(self._in_flight.items())
        for task, _ in in_flight:
            task.cancel()
        await asyncio.gather(*(task for task, _ in in_flight), return_exceptions=True)
        return [entry for _, entry in in_flight]

    async def _abandon(self) -> None:
        """The connection is gone: stop every answer; the broker will send them again."""
        abandoned = await self._cancel_all()
        if abandoned:
            logger.warning("%d answer(s) in progress were stopped by the lost connection", len(abandoned))

    async def _shut_down(self, client: aiomqtt.Client) -> None:
        """Unsubscribe, then end every request this process holds with an error."""
        logger.info("MQTT bridge stopping: %d request(s) in flight get an error", len(self._in_flight))
        try:
            await client.unsubscribe(self.config.subscription, timeout=5)
        except aiomqtt.MqttError as error:
            logger.warning("Could not unsubscribe before stopping: %s", error)
        stopped = errors.ServiceUnavailable(
            "The MQTT bridge is shutting down; the answer was stopped. Please retry.",
            code="shutting_down",
        )
        unread = list(self._reading.values())
        held = await self._cancel_all()
        # Requests the broker sent before the unsubscription took effect, not yet started.
        messages = client.messages
        while len(messages):
            unread.append(await anext(messages))
        for message in unread:
            request = self._read(message)
            if request.reply_topic is None:
                request_ack(client, message)
                continue
            held.append(_InFlight(message, request, self._reply(client, request)))
        for entry in held:
            if entry.reply.finished:
                continue
            try:
                await entry.reply.publish_error(stopped, stream=entry.request.stream)
            except aiomqtt.MqttError as error:
                logger.warning("Could not tell %s that the bridge stopped: %s", entry.reply.topic, error)
                continue
            request_ack(client, entry.message)
