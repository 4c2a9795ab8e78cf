"""The bridge answers over MQTT what the HTTP API answers, with the same rules."""

import json

import paho.mqtt.client as paho
import pytest
from openai import OpenAI

from tests.chat import logged_turn
from tests.fintalk.test_tracing import receiver  # noqa: F401 - a fixture
from tests.mqtt_bridge.conftest import DONE, v5_properties

pytestmark = pytest.mark.django_db(transaction=True)

BALANCE_QUESTION = "What is my credit card balance?"


def chunks(messages) -> list[dict]:
    assert messages[-1].payload == DONE
    return [json.loads(message.payload) for message in messages[:-1]]


def content(decoded: list[dict]) -> str:
    return "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in decoded)


def http_answer(url: str, key: str, body: dict) -> str:
    client = OpenAI(base_url=f"{url}/v1", api_key=key)
    extra = {name: value for name, value in body.items() if name != "messages"}
    reply = client.chat.completions.create(
        model="fintalk-offline", messages=body["messages"], stream=False, extra_body=extra
    )
    return reply.choices[0].message.content


def balance_request(ana: dict) -> dict:
    return {
        "messages": [{"role": "user", "content": BALANCE_QUESTION}],
        "customer": {"number": ana["phone"]},
    }


def test_mqtt5_streamed_answer_is_the_http_answer(
    start_bridge, mqtt_client, topics, live_server_url, trusted_key, demo_bank
):
    start_bridge()
    replies = mqtt_client.subscribe(f"{topics}/replies/1")
    body = balance_request(demo_bank["Ana Lopez"])

    mqtt_client.publish(
        f"{topics}/requests",
        body,
        properties=v5_properties(reply_to=f"{topics}/replies/1", correlation=b"req-1", key=trusted_key),
    )
    messages = replies.until_done()

    decoded = chunks(messages)
    assert all(message.properties.CorrelationData == b"req-1" for message in messages)
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in decoded)
    assert len({chunk["id"] for chunk in decoded}) == 1
    assert decoded[0]["choices"][0]["delta"]["role"] == "assistant"
    assert decoded[-1]["choices"][0]["finish_reason"] == "stop"
    text = content(decoded)
    assert "1,234.56" in text
    assert text == http_answer(live_server_url, trusted_key, body)
    logged = logged_turn(decoded[0]["id"])
    assert logged.channel == "mqtt"
    assert logged.caller_asserted


def test_mqtt311_request_names_reply_topic_and_key_in_the_body(
    start_bridge, mqtt311_client, topics, live_server_url, trusted_key, demo_bank
):
    start_bridge()
    replies = mqtt311_client.subscribe(f"{topics}/replies/311")
    body = balance_request(demo_bank["Ana Lopez"])

    mqtt311_client.publish(
        f"{topics}/requests",
        {**body, "reply_to": f"{topics}/replies/311", "correlation_id": "c-311", "api_key": trusted_key},
    )
    text = content(chunks(replies.until_done()))

    assert text == http_answer(live_server_url, trusted_key, body)
    assert "1,234.56" in text


def test_non_streaming_request_gets_one_chat_completion(
    start_bridge, mqtt_client, topics, live_server_url, trusted_key, demo_bank
):
    start_bridge()
    replies = mqtt_client.subscribe(f"{topics}/replies")
    body = {"messages": [{"role": "user", "content": "What loan options are available?"}], "stream": False}

    mqtt_client.publish(
        f"{topics}/requests", body, properties=v5_properties(reply_to=f"{topics}/replies", correlation=b"a", key=trusted_key)
    )
    completion = json.loads(replies.next().payload)
    # A streamed request after it: the next message on the topic is the new answer's.
    mqtt_client.publish(
        f"{topics}/requests",
        {**body, "stream": True},
        properties=v5_properties(reply_to=f"{topics}/replies", correlation=b"b", key=trusted_key),
    )
    following = replies.until_done()

    assert completion["object"] == "chat.completion"
    assert completion["usage"]["total_tokens"] > 0
    assert completion["choices"][0]["message"]["content"] == http_answer(live_server_url, trusted_key, body)
    assert {message.properties.CorrelationData for message in following} == {b"b"}


def test_a_number_from_an_untrusted_key_is_only_a_claim(
    start_bridge, mqtt_client, topics, live_server_url, standard_key, demo_bank
):
    start_bridge()
    replies = mqtt_client.subscribe(f"{topics}/replies")
    body = balance_request(demo_bank["Ana Lopez"])

    mqtt_client.publish(
        f"{topics}/requests", body, properties=v5_properties(reply_to=f"{topics}/replies", key=standard_key)
    )
    text = content(chunks(replies.until_done()))

    assert "verify" in text
    assert "1,234.56" not in text
    assert text == http_answer(live_server_url, standard_key, body)


def error_of(messages, *, streamed: bool = True) -> dict:
    if streamed:
        assert [message.payload for message in messages[1:]] == [DONE]
    return json.loads(messages[0].payload)["error"]


def test_bad_requests_get_error_envelopes_and_the_bridge_keeps_answering(
    start_bridge, mqtt_client, mqtt311_client, topics, trusted_key, demo_bank
):
    bridge = start_bridge(MQTT_MAX_MESSAGE_BYTES="4096")
    replies = mqtt_client.subscribe(f"{topics}/replies")
    request = f"{topics}/requests"
    question = {"messages": [{"role": "user", "content": "What loan options are available?"}]}

    def ask(payload, *, key=trusted_key, streamed=True) -> dict:
        mqtt_client.publish(request, payload, properties=v5_properties(reply_to=f"{topics}/replies", key=key))
        return error_of(replies.until_done() if streamed else [replies.next()], streamed=streamed)

    bad_key = ask(question, key="ft_not-a-key")
    no_key = ask(question, key=None)
    not_json = ask(b'{"messages": [')
    not_object = ask(b"[1, 2]")
    too_large = ask({**question, "padding": "x" * 5000})
    invalid = ask({"messages": [], "stream": False}, streamed=False)
    mqtt311_client.publish(request, question)  # no reply topic at all: dropped, logged
    bridge.wait_for_log("names no reply topic")
    mqtt_client.publish(
        request, question, properties=v5_properties(reply_to=f"{topics}/replies", key=trusted_key)
    )
    after = content(chunks(replies.until_done()))

    assert bad_key["type"] == "authentication_error" and bad_key["code"] == "invalid_api_key"
    assert no_key["type"] == "authentication_error" and "authorization" in no_key["message"]
    assert not_json["code"] == "invalid_json"
    assert not_object["code"] == "invalid_json"
    assert too_large["code"] == "request_too_large" and "MQTT_MAX_MESSAGE_BYTES" in too_large["message"]
    assert invalid["type"] == "invalid_request_error" and invalid["param"] == "messages"
    assert "Mortgage" in after
    assert trusted_key not in bridge.log()


def test_an_api_key_in_the_body_is_not_part_of_the_logged_request(
    start_bridge, mqtt311_client, topics, trusted_key, demo_bank
):
    start_bridge()
    replies = mqtt311_client.subscribe(f"{topics}/replies")

    mqtt311_client.publish(
        f"{topics}/requests",
        {
            "messages": [{"role": "user", "content": "What loan options are available?"}],
            "reply_to": f"{topics}/replies",
            "api_key": trusted_key,
            "stream": False,
        },
    )
    completion = json.loads(replies.next().payload)

    logged = logged_turn(completion["id"])
    assert trusted_key not in json.dumps(list(logged.messages.values()), default=str)
    assert logged.channel == "mqtt"


def test_a_large_request_is_answered(start_bridge, mqtt_client, topics, trusted_key, demo_bank):
    start_bridge()
    replies = mqtt_client.subscribe(f"{topics}/replies")
    context = [{"role": "system", "content": "Answer briefly and politely. " * 900} for _ in range(3)]
    body = {"messages": [*context, {"role": "user", "content": "What loan options are available?"}]}
    assert len(json.dumps(body)) > 64 * 1024  # read and checked off the event loop

    mqtt_client.publish(f"{topics}/requests", body, properties=v5_properties(reply_to=f"{topics}/replies", key=trusted_key))

    assert "Mortgage" in content(chunks(replies.until_done()))


def test_a_request_is_one_trace_continuing_the_callers(
    start_bridge, mqtt_client, topics, receiver, trusted_key, demo_bank
):
    start_bridge(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, OTEL_BSP_SCHEDULE_DELAY="50")
    replies = mqtt_client.subscribe(f"{topics}/replies")
    caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736"

    mqtt_client.publish(
        f"{topics}/requests",
        balance_request(demo_bank["Ana Lopez"]),
        properties=v5_properties(
            reply_to=f"{topics}/replies", key=trusted_key, traceparent=f"00-{caller_trace}-00f067aa0ba902b7-01"
        ),
    )
    replies.until_done()
    root = receiver.wait_for("mqtt request")  # it ends last: the spans under it came before
    receiver.wait_for("INSERT conversations_turn")  # but for the log's, written after the reply

    assert root.trace_id.hex() == caller_trace
    in_trace = {span.name for span in receiver.spans if span.trace_id == root.trace_id}
    assert "FunctionTool.acall" in in_trace, in_trace
    assert any(name.startswith("INSERT conversations_") for name in in_trace), in_trace
