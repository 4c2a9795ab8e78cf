"""Request serializers keep their fields per class and thread (``api.serializers``)."""

import gc
import threading
import weakref

import pytest
from rest_framework.exceptions import ValidationError

from api.completions import chat_request_parse
from api.serializers import ChatCompletionRequestSerializer


def _body(text: str, **extra) -> dict:
    return {"messages": [{"role": "user", "content": text}], **extra}


def test_serializers_of_one_class_on_one_thread_share_their_fields_and_still_validate_each_request():
    first, second = ChatCompletionRequestSerializer(data=_body("hello")), ChatCompletionRequestSerializer(data={})

    assert first.fields is second.fields
    assert first.is_valid() and not second.is_valid()
    assert first.validated_data["messages"][0]["content"] == "hello"
    assert set(second.errors) == {"messages"}


def test_a_request_refused_between_two_valid_ones_leaves_nothing_behind():
    assert chat_request_parse(_body("one", stream=True)).messages[0].content == "one"
    with pytest.raises(ValidationError) as refused:
        chat_request_parse(_body("two", stream="yes"))
    assert "stream" in refused.value.detail
    request = chat_request_parse(_body("three"))
    assert request.messages[0].content == "three" and request.stream is None


def test_another_thread_validates_with_fields_of_its_own():
    here = ChatCompletionRequestSerializer(data=_body("here")).fields
    there = []
    thread = threading.Thread(target=lambda: there.append(ChatCompletionRequestSerializer(data=_body("there")).fields))
    thread.start()
    thread.join()

    assert there and there[0] is not here



def test_a_threads_first_request_is_not_kept_alive_by_the_fields_later_requests_share():
    gone = []

    def first_then_next() -> None:  # on a new thread, whose first serializer this is
        first = ChatCompletionRequestSerializer(data=_body("my card is 4111 1111 1111 1111"))
        assert first.is_valid()
        gone.append(weakref.ref(first))
        del first
        assert ChatCompletionRequestSerializer(data=_body("next")).is_valid()
        gc.collect()
        gone.append(gone[0]() is None)

    thread = threading.Thread(target=first_then_next)
    thread.start()
    thread.join()

    assert gone[1:] == [True]
