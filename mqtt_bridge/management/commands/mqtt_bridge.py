"""``python manage.py mqtt_bridge``: answer Chat Completions requests arriving over MQTT."""

import asyncio
import logging
import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from mqtt_bridge.bridge import Bridge, BridgeConfig
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


class Command(BaseCommand):
    help = "Answer Chat Completions requests published over MQTT (MQTT_URL, MQTT_REQUEST_TOPIC)."

    def handle(self, *args, **options):
        config = bridge_config()
        logger.info(
            "MQTT bridge starting: broker %s, requests on %s, up to %d at once",
            config.broker.address,
            config.subscription,
            config.max_in_flight,
        )
        asyncio.run(_serve(config))
        logger.info("MQTT bridge stopped")
