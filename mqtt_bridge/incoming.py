"""A request as it arrives over MQTT: where to answer, the API key, and the body.

MQTT 5 clients name the reply topic and correlation data in the message's properties and
send the key as the user property ``authorization`` (``Bearer …``); MQTT 3.1.1 messages
have no properties, so their body carries ``reply_to``, ``correlation_id`` and
``api_key``. Those three fields are taken out of the body before it is validated as a
Chat Completions request, and the key is never logged.
"""

import json
from dataclasses import dataclass, field

from paho.mqtt.properties import Properties

from fintalk import errors

AUTHORIZATION_PROPERTY = "authorization"
CONVERSATION_PROPERTY = "x-conversation-id"
TRANSPORT_FIELDS = ("reply_to", "correlation_id", "api_key")
# A payload over this many times MQTT_MAX_MESSAGE_BYTES is refused without being read.
UNREAD_FACTOR = 4


@dataclass
class IncomingRequest:
    """One request message, read but not yet validated.

    ``reply_topic`` is None when the request names none (it cannot be answered);
    ``problem`` is set when the message is not a usable request (too large, not JSON, not
    an object), and is then what the reply must say; ``stream`` is the body's ``stream``
    when it is a boolean, else True (the bridge's default).
    """

    reply_topic: str | None
    correlation: bytes | None
    authorization: str = ""
    conversation: str = ""
    body: dict = field(default_factory=dict)
    stream: bool = True
    size: int = 0  # the payload's bytes
    problem: errors.FintalkError | None = None


def _user_properties(properties: Properties | None) -> dict[str, str]:
    pairs = getattr(properties, "UserProperty", None) or []
    return {str(name).lower(): str(value) for name, value in pairs}


def _usable_topic(topic: object) -> str | None:
    if not isinstance(topic, str) or not topic or any(c in topic for c in "+#\0"):
        return None
    return topic if len(topic.encode()) <= 65_535 else None


def request_read(payload: bytes, properties: Properties | None, *, max_bytes: int) -> IncomingRequest:
    """Read a request message; never raises (a bad message gets ``problem`` set).

    A payload over ``max_bytes`` is refused (``RequestTooLarge``) but still read for its
    3.1.1 reply fields, unless it is over ``UNREAD_FACTOR`` times that.
    """
    reply_topic = _usable_topic(getattr(properties, "ResponseTopic", None))
    correlation = getattr(properties, "CorrelationData", None) or None
    user = _user_properties(properties)
    request = IncomingRequest(
        reply_topic=reply_topic,
        correlation=bytes(correlation) if correlation is not None else None,
        authorization=user.get(AUTHORIZATION_PROPERTY, ""),
        conversation=user.get(CONVERSATION_PROPERTY, ""),
        size=len(payload),
    )
    too_large = len(payload) > max_bytes
    if len(payload) > UNREAD_FACTOR * max_bytes:
        # Not even parsed to find a 3.1.1 reply_to: parsing this much would hold up every
        # answer in progress. Only an MQTT 5 client (Response Topic) hears about it.
        request.problem = _too_large(len(payload), max_bytes)
        return request
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as error:
        request.problem = (
            _too_large(len(payload), max_bytes)
            if too_large
            else errors.InvalidRequest(f"The request is not valid JSON ({error}).", code="invalid_json")
        )
        return request
    if not isinstance(body, dict):
        request.problem = errors.InvalidRequest("The request must be a JSON object.", code="invalid_json")
        return request
    reply_to, correlation_id, api_key = (body.pop(name, None) for name in TRANSPORT_FIELDS)
    if request.reply_topic is None:
        request.reply_topic = _usable_topic(reply_to)
        if request.correlation is None and isinstance(correlation_id, (str, int)):
            request.correlation = str(correlation_id).encode()
    if not request.authorization and isinstance(api_key, str) and api_key:
        request.authorization = f"Bearer {api_key}"
    if isinstance(body.get("stream"), bool):
        request.stream = body["stream"]
    if too_large:
        # Read only to find where to answer: a request this large is refused.
        request.problem = _too_large(len(payload), max_bytes)
        return request
    request.body = body
    return request


def _too_large(size: int, max_bytes: int) -> errors.RequestTooLarge:
    return errors.RequestTooLarge(
        f"The request is {size} bytes; the limit is {max_bytes} (MQTT_MAX_MESSAGE_BYTES)."
    )
