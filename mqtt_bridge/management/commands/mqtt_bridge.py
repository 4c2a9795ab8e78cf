"""``python manage.py mqtt_bridge``: answer Chat Completions requests arriving over MQTT."""

import asyncio
import logging
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from agents.tokens import warm_up
from api.management.commands.dev_key import DEV_KEY_FILE
from api.management.commands.dev_key import dev_key as _dev_key
from conversations.writer import turn_log_writer_stop
from fintalk.tracing import tracer_provider, tracing_setup
from mqtt_bridge.bridge import Bridge, BridgeConfig, SubscriptionRefused
from mqtt_bridge.connection import broker_from_url, default_client_id

logger = logging.getLogger(__name__)


def bridge_config() -> BridgeConfig:
    """The bridge's configuration from the ``MQTT_*`` settings."""
    return BridgeConfig(
        broker=broker_from_url(settings.MQTT_URL),
        client_id=settings.MQTT_CLIENT_ID or default_client_id(),
        request_topic=settings.MQTT_REQUEST_TOPIC,
        shared_group=settings.MQTT_SHARED_GROUP,
        max_in_flight=settings.MQTT_MAX_IN_FLIGHT,
        max_message_bytes=settings.MQTT_MAX_MESSAGE_BYTES,
        session_expiry=settings.MQTT_SESSION_EXPIRY_SECONDS,
        reconnect_max=settings.MQTT_RECONNECT_MAX_SECONDS,
        ca_file=settings.MQTT_CA_FILE,
    )


async def _serve(config: BridgeConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await Bridge(config).run(stop)
    # Every answer has ended: store the conversation logs still queued before exiting.
    await asyncio.to_thread(turn_log_writer_stop)


def dev_example(config: BridgeConfig, key: str) -> str:
    """How to ask the bridge with the Mosquitto clients, for ``make mqtt``."""
    broker = f"-h {config.broker.host} -p {config.broker.port}"
    return f"""
Fintalk's MQTT bridge is starting (broker {config.broker.address}, requests on {config.request_topic}).
Local trusted development key (kept in {DEV_KEY_FILE.name}): {key}

Ask it with the Mosquitto clients (apt-get install mosquitto-clients), in two terminals:

  mosquitto_sub {broker} -V mqttv5 -t fintalk/replies/demo

  mosquitto_pub {broker} -V mqttv5 -q 1 -t {config.request_topic} \\
    -D publish response-topic fintalk/replies/demo \\
    -D publish correlation-data demo-1 \\
    -D publish user-property authorization "Bearer {key}" \\
    -m '{{"messages": [{{"role": "user", "content": "What is my credit card balance?"}}],
         "customer": {{"number": "+14155550101"}}}}'
"""


class Command(BaseCommand):
    help = "Answer Chat Completions requests published over MQTT (MQTT_URL, MQTT_REQUEST_TOPIC)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dev-key",
            action="store_true",
            help="Create or reuse the local trusted development key (as make run does) "
            "and print how to ask the bridge with it.",
        )

    def handle(self, *args, dev_key: bool = False, **options):
        config = bridge_config()
        warm_up()  # the tokenizer, now rather than during the first request
        if tracing_setup():  # OTEL_EXPORTER_OTLP_ENDPOINT, as for the web server
            from agents.tracing import llama_index_instrument

            llama_index_instrument(tracer_provider(), content=settings.TRACE_CONTENT)
        if dev_key:
            self.stdout.write(dev_example(config, _dev_key()))
        logger.info(
            "MQTT bridge starting: broker %s, requests on %s, up to %d at once",
            config.broker.address,
            config.subscription,
            config.max_in_flight,
        )
        try:
            asyncio.run(_serve(config))
        except SubscriptionRefused as error:
            raise CommandError(str(error)) from None
        logger.info("MQTT bridge stopped")
