"""Reading a request message: reply topic, correlation, key, body, problems."""

import json

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fintalk import errors
from mqtt_bridge.incoming import request_read

QUESTION = {"messages": [{"role": "user", "content": "hi"}]}


def properties(**fields) -> Properties:
    props = Properties(PacketTypes.PUBLISH)
    for name, value in fields.items():
        setattr(props, name, value)
    return props


def read(body, props=None, *, max_bytes=4096):
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    return request_read(payload, props, max_bytes=max_bytes)


def test_mqtt5_properties_name_the_reply_topic_correlation_and_key():
    request = read(
        QUESTION,
        properties(
            ResponseTopic="app/replies",
            CorrelationData=b"\x00\x01",
            UserProperty=[("Authorization", "Bearer k"), ("x-conversation-id", "conv-1")],
        ),
    )

    assert (request.reply_topic, request.correlation) == ("app/replies", b"\x00\x01")
    assert request.authorization == "Bearer k"
    assert request.conversation == "conv-1"
    assert request.body == QUESTION and request.stream is True and request.problem is None


def test_mqtt311_body_fields_are_taken_out_of_the_body():
    request = read({**QUESTION, "reply_to": "r/1", "correlation_id": "c1", "api_key": "secret", "stream": False})

    assert (request.reply_topic, request.correlation, request.authorization) == ("r/1", b"c1", "Bearer secret")
    assert request.body == {**QUESTION, "stream": False}
    assert request.stream is False


def test_the_mqtt5_properties_win_and_a_body_key_never_stays_in_the_body():
    request = read(
        {**QUESTION, "reply_to": "ignored", "api_key": "other"},
        properties(ResponseTopic="r/5", UserProperty=[("authorization", "Bearer k")]),
    )

    assert (request.reply_topic, request.authorization) == ("r/5", "Bearer k")
    assert "api_key" not in request.body and "reply_to" not in request.body


def test_a_wildcard_reply_topic_cannot_be_answered():
    assert read({**QUESTION, "reply_to": "replies/#"}).reply_topic is None
    assert read(QUESTION).reply_topic is None


def test_malformed_json_is_a_problem_to_report():
    request = read(b'{"messages": [', properties(ResponseTopic="r"))

    assert isinstance(request.problem, errors.InvalidRequest)
    assert request.problem.code == "invalid_json"
    assert request.stream is True


def test_a_json_array_is_not_a_request():
    assert read(b"[1]", properties(ResponseTopic="r")).problem.code == "invalid_json"


def test_an_oversized_request_is_refused_but_still_answered_where_it_asks():
    request = read({**QUESTION, "reply_to": "r/1", "stream": False, "pad": "x" * 5000})

    assert isinstance(request.problem, errors.RequestTooLarge)
    assert request.reply_topic == "r/1" and request.stream is False
    assert request.body == {}


def test_a_payload_far_over_the_limit_is_not_read_at_all():
    huge = {**QUESTION, "reply_to": "r/1", "pad": "x" * 20_000}

    unread = read(huge)
    mqtt5 = read(huge, properties(ResponseTopic="r/5"))

    assert unread.reply_topic is None and isinstance(unread.problem, errors.RequestTooLarge)
    assert mqtt5.reply_topic == "r/5" and isinstance(mqtt5.problem, errors.RequestTooLarge)
