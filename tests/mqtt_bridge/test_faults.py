"""Scale and faults: shared subscriptions, flow control, broker restarts, SIGTERM."""

import json
from collections import Counter

import pytest

from conversations.models import Turn
from tests.chat import logged_turn
from tests.mqtt_bridge.conftest import DONE, MosquittoProcess, MqttClient, NetworkCut, v5_properties

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = {"messages": [{"role": "user", "content": "What loan options are available?"}]}


def test_two_bridges_in_one_shared_group_answer_each_request_exactly_once(
    start_bridge, mqtt_client, topics, trusted_key, demo_bank
):
    first, second = start_bridge(name="a"), start_bridge(name="b")
    replies = mqtt_client.subscribe(f"{topics}/replies")

    for index in range(20):
        mqtt_client.publish(
            f"{topics}/requests",
            QUESTION,
            properties=v5_properties(reply_to=f"{topics}/replies", correlation=f"r{index}".encode(), key=trusted_key),
        )
    messages = replies.until_done(20)

    role_chunks = Counter(
        message.properties.CorrelationData
        for message in messages
        if message.payload != DONE and "role" in json.loads(message.payload)["choices"][0]["delta"]
    )
    dones = Counter(message.properties.CorrelationData for message in messages if message.payload == DONE)
    expected = {f"r{index}".encode(): 1 for index in range(20)}
    assert role_chunks == expected
    assert dones == expected
    assert first.terminate() == 0 and second.terminate() == 0
    # Both bridges have exited: their writers stored every turn before they did.
    assert Turn.objects.filter(channel="mqtt").count() == 20


def test_beyond_max_in_flight_requests_wait_in_the_broker(start_bridge, mqtt_client, topics, trusted_key, demo_bank):
    start_bridge(MQTT_MAX_IN_FLIGHT="1", LLM_OFFLINE_DELAY_MS="5")
    replies = mqtt_client.subscribe(f"{topics}/replies")

    for index in range(3):
        mqtt_client.publish(
            f"{topics}/requests",
            QUESTION,
            properties=v5_properties(reply_to=f"{topics}/replies", correlation=f"r{index}".encode(), key=trusted_key),
        )
    messages = replies.until_done(3)

    # One request at a time: each answer is complete before the next one starts.
    order = [message.properties.CorrelationData for message in messages]
    runs = [key for index, key in enumerate(order) if index == 0 or order[index - 1] != key]
    assert len(runs) == 3, order


def test_the_bridge_reconnects_after_the_broker_restarts(start_bridge, tmp_path, trusted_key, demo_bank):
    broker = MosquittoProcess(tmp_path)
    broker.start()
    try:
        bridge = start_bridge(
            MQTT_URL=f"mqtt://127.0.0.1:{broker.port}", MQTT_RECONNECT_MAX_SECONDS="0.5"
        )

        def ask(correlation: bytes) -> str:
            client = MqttClient(port=broker.port)
            try:
                replies = client.subscribe("replies")
                client.publish(
                    bridge.request_topic,
                    QUESTION,
                    properties=v5_properties(reply_to="replies", correlation=correlation, key=trusted_key),
                )
                messages = replies.until_done()
            finally:
                client.close()
            return "".join(
                json.loads(m.payload)["choices"][0]["delta"].get("content") or "" for m in messages[:-1]
            )

        before = ask(b"before")
        broker.stop()
        bridge.wait_for_log("reconnecting in")
        broker.start()
        bridge.wait_connected(count=2)
        after = ask(b"after")
    finally:
        broker.stop()

    assert "Mortgage" in before
    assert after == before


def test_sigterm_ends_the_answer_in_flight_with_an_error_and_done(
    start_bridge, mqtt_client, topics, trusted_key, demo_bank
):
    bridge = start_bridge(LLM_OFFLINE_DELAY_MS="200")
    replies = mqtt_client.subscribe(f"{topics}/replies")
    mqtt_client.publish(
        f"{topics}/requests", QUESTION, properties=v5_properties(reply_to=f"{topics}/replies", key=trusted_key)
    )
    first = json.loads(replies.next().payload)
    assert first["choices"][0]["delta"]["role"] == "assistant"
    json.loads(replies.next().payload)  # the first words: the answer is under way

    exit_code = bridge.terminate()
    rest = replies.until_done()

    error = json.loads(rest[-2].payload)["error"]
    assert error["code"] == "shutting_down"
    assert rest[-2].properties.UserProperty == [("status", "503")]
    assert exit_code == 0
    logged = logged_turn(first["id"])
    assert logged.status == Turn.Status.CANCELLED



def test_a_request_published_while_the_bridge_is_cut_off_is_answered_when_it_is_back(
    start_bridge, mqtt_client, topics, trusted_key, demo_bank
):
    network = NetworkCut()
    bridge = start_bridge(MQTT_URL=f"mqtt://127.0.0.1:{network.port}", MQTT_RECONNECT_MAX_SECONDS="1")
    replies = mqtt_client.subscribe(f"{topics}/replies")

    network.cut()
    bridge.wait_for_log("reconnecting in", count=2)  # it is away, and knows it
    mqtt_client.publish(  # the broker keeps it for the bridge's session
        f"{topics}/requests",
        QUESTION,
        properties=v5_properties(reply_to=f"{topics}/replies", correlation=b"while-away", key=trusted_key),
    )
    network.restore()
    messages = replies.until_done()
    text = "".join(json.loads(m.payload)["choices"][0]["delta"].get("content") or "" for m in messages[:-1])
    assert "Mortgage" in text
    assert {m.properties.CorrelationData for m in messages} == {b"while-away"}
    bridge.wait_connected(count=2)


def test_a_qos0_request_beyond_max_in_flight_is_refused_not_queued_in_memory(
    start_bridge, mqtt_client, topics, trusted_key, demo_bank
):
    start_bridge(MQTT_MAX_IN_FLIGHT="1", LLM_OFFLINE_DELAY_MS="1000")
    slow = mqtt_client.subscribe(f"{topics}/replies/slow")
    refused = mqtt_client.subscribe(f"{topics}/replies/refused")
    mqtt_client.publish(
        f"{topics}/requests", QUESTION, qos=0,
        properties=v5_properties(reply_to=f"{topics}/replies/slow", key=trusted_key),
    )
    slow.next()  # the role chunk: the first request is being answered (for many seconds)

    mqtt_client.publish(
        f"{topics}/requests", QUESTION, qos=0,
        properties=v5_properties(reply_to=f"{topics}/replies/refused", key=trusted_key),
    )
    messages = refused.until_done()

    error = json.loads(messages[0].payload)["error"]
    assert error["code"] == "overloaded"
    assert messages[0].properties.UserProperty == [("status", "503")]
