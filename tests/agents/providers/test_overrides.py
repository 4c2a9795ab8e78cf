"""What ``agents.providers.overrides`` relies on in LlamaIndex (and aiohttp) still holds.

Each test fails when an upgrade changes something an override depends on: then the
override must be re-checked (and re-measured) before the upgrade lands.
"""

import asyncio
import hashlib
import inspect
import re
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import pytest
from llama_index.core.agent.workflow import AgentStream, FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole, TextBlock, ToolCallBlock
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.llms import MockLLM
from llama_index.core.memory.types import BaseMemory
from llama_index.core.tools import FunctionTool
from llama_index_instrumentation.dispatcher import Dispatcher
from llama_index_instrumentation.span_handlers import SimpleSpanHandler
from workflows import Workflow, step
from workflows.context.internal_context import InternalContext
from workflows.events import StartEvent, StopEvent
from workflows.plugins.basic import InternalAsyncioAdapter
from workflows.runtime.types import step_function
from workflows.utils import get_steps_from_class

from agents.providers import overrides
from agents.providers.llm_base import FintalkLLM
from agents.providers.overrides import (
    ChatMemory,
    StepsFoundOnce,
    StreamedChunksPublished,
    Unobserved,
    agent_stream,
    chat_response,
    instrumentation_active,
    received_before_failure,
)


def test_a_chat_response_built_without_validation_equals_the_validated_one():
    assert set(ChatResponse.model_fields) == {"message", "raw", "delta", "logprobs", "additional_kwargs"}
    assert set(ChatMessage.model_fields) == {"role", "additional_kwargs", "blocks"}
    assert set(TextBlock.model_fields) == {"block_type", "text"}

    cheap = chat_response("Hello there", " there")
    validated = ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content="Hello there"), delta=" there")

    assert cheap == validated
    assert cheap.message.content == "Hello there"
    assert cheap.model_dump() == validated.model_dump()


def test_instrumentation_counts_as_active_only_while_a_handler_listens():
    class Listener(BaseEventHandler):
        def handle(self, event, **kwargs) -> None:
            pass

    root = get_dispatcher()
    assert not instrumentation_active()
    listener = Listener()
    root.add_event_handler(listener)
    try:
        assert instrumentation_active()
    finally:
        root.event_handlers.remove(listener)
    assert not instrumentation_active()


def test_every_async_memory_method_that_hops_to_a_thread_is_overridden():
    hopping = {
        name
        for name, method in inspect.getmembers(BaseMemory, inspect.iscoroutinefunction)
        if "to_thread" in inspect.getsource(method)
    }
    hopping |= {
        name
        for name, method in vars(ChatMemoryBuffer).items()
        if inspect.iscoroutinefunction(method) and "to_thread" in inspect.getsource(method)
    }

    assert hopping  # what the override exists for
    assert hopping <= set(vars(ChatMemory))


def test_the_memory_answers_in_the_loop_without_a_thread():
    memory = ChatMemory.from_defaults(chat_history=[ChatMessage(role=MessageRole.USER, content="hi")])

    async def use() -> list[ChatMessage]:
        asyncio.get_running_loop().set_default_executor(_NoThreads())
        await memory.aput(ChatMessage(role=MessageRole.ASSISTANT, content="hello"))
        return await memory.aget()

    assert [m.content for m in asyncio.run(use())] == ["hi", "hello"]


def test_steps_found_once_are_the_steps_the_workflow_would_find():
    class Agent(StepsFoundOnce, FunctionAgent):
        pass

    agent = Agent(name="a", description="d", tools=[], llm=MockLLM())
    plain = FunctionAgent(name="a", description="d", tools=[], llm=MockLLM())

    assert set(agent._get_steps()) == set(plain._get_steps())
    assert set(get_steps_from_class(Agent)) <= set(agent._get_steps())
    assert hasattr(type(agent), "_step_functions")


def test_a_workflow_checked_once_per_class_is_set_up_as_each_check_would_set_it_up():
    class Agent(StepsFoundOnce, FunctionAgent):
        pass

    first = Agent(name="a", description="d", tools=[], llm=MockLLM())
    second = Agent(name="a", description="d", tools=[], llm=MockLLM())
    plain = FunctionAgent(name="a", description="d", tools=[], llm=MockLLM())
    results = [first._validate(), second._validate(), plain._validate()]

    assert results[0] == results[1] == results[2]
    for agent in (first, second):
        assert agent._start_event_class is plain._start_event_class
        assert agent._stop_event_class is plain._stop_event_class
        assert agent._validated_version == plain._validated_version


def test_a_workflows_check_sets_only_what_the_check_once_override_copies():
    source = inspect.getsource(Workflow._validate)
    assert set(re.findall(r"self\.(_\w+) =", source)) == {
        "_start_event_class",
        "_stop_event_class",
        "_validation_result",
        "_validated_version",
    }
    assert hasattr(Workflow, "_step_functions_version")


def test_the_lean_llm_relies_on_function_calling_llms_prepare_compat():
    assert callable(getattr(FunctionCallingLLM, "_prepare_chat_with_tools_compat", None))
    # The speculative call prepares its request with ``_prepare_chat_with_tools`` directly:
    # the agent's call reaches it through ``_compat``, with every argument passed on.
    source = inspect.getsource(FunctionCallingLLM._prepare_chat_with_tools_compat)
    assert source.count("return self._prepare_chat_with_tools(") == 2 and "**kwargs" in source
    assert "self._prepare_chat_with_tools_compat(" in inspect.getsource(FunctionCallingLLM.astream_chat_with_tools)


@pytest.mark.parametrize("offset", [0, 3])
def test_received_bytes_are_still_readable_after_a_stream_failed(offset):
    async def broken() -> bytes:
        stream = aiohttp.StreamReader(_Protocol(), limit=2**16, loop=asyncio.get_running_loop())
        stream.feed_data(b"abcdata: one\n\n")
        if offset:
            await stream.readexactly(offset)
        stream.set_exception(aiohttp.ClientPayloadError("cut off"))
        with pytest.raises(aiohttp.ClientPayloadError):
            await stream.readany()
        return received_before_failure(stream)

    assert asyncio.run(broken()) == b"abcdata: one\n\n"[offset:]


class _NoThreads(ThreadPoolExecutor):
    def submit(self, *args, **kwargs):
        raise AssertionError("the memory hopped to a thread")


class _Protocol:
    """Just enough of aiohttp's protocol for a ``StreamReader`` to buffer data."""

    _reading_paused = False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def test_bedrock_converse_calls_the_helper_that_is_replaced_with_the_sync_client():
    from llama_index.llms.bedrock_converse import base

    assert base.HAS_AIOBOTO3 is False  # aiobotocore cannot be installed beside the pinned botocore
    source = inspect.getsource(base.BedrockConverse)
    for method in ("async def astream_chat(", "async def achat("):
        body = source[source.index(method):]
        body = body[: body.index("\n    def ", 1) if "\n    def " in body[1:] else len(body)]
        assert "converse_with_retry_async(" in body, method


def test_the_event_stream_keeps_the_raw_response_a_hang_up_closes():
    from botocore.eventstream import EventStream
    from urllib3.response import HTTPResponse

    assert "_raw_stream" in inspect.getsource(EventStream.__init__)
    assert "_sock_shutdown" in inspect.getsource(HTTPResponse.__init__)


class _Echo(Unobserved, Workflow):
    @step
    async def echo(self, ev: StartEvent) -> StopEvent:
        return StopEvent(result="done")


def _echo_run() -> str:
    async def run() -> str:
        return await _Echo().run()

    return asyncio.run(run())


def test_a_workflow_run_nobody_observes_enters_no_span_and_summarises_nothing(monkeypatch):
    spans, summaries = [], []
    original_enter, original_summary = Dispatcher.span_enter, overrides._summarize_event
    monkeypatch.setattr(Dispatcher, "span_enter", lambda self, *a, **k: spans.append(k) or original_enter(self, *a, **k))
    monkeypatch.setattr(overrides, "_summarize_event", lambda *a, **k: summaries.append(a) or original_summary(*a, **k))

    assert not instrumentation_active()
    assert _echo_run() == "done"

    assert not [span for span in spans if "echo" in span["id_"]]
    assert summaries == []


def test_an_observed_workflow_run_has_its_step_spans_and_summaries(monkeypatch):
    summaries = []
    original_summary = overrides._summarize_event
    monkeypatch.setattr(overrides, "_summarize_event", lambda *a, **k: summaries.append(a) or original_summary(*a, **k))
    handler = SimpleSpanHandler()
    root = get_dispatcher()
    root.add_span_handler(handler)
    try:
        assert _echo_run() == "done"
    finally:
        root.span_handlers.remove(handler)

    assert any("echo" in span_id for span_id in [*handler.open_spans, *(s.id_ for s in handler.completed_spans)])
    assert {type(event) for event, *_ in summaries} >= {StartEvent, StopEvent}


def test_the_workflow_runtime_uses_its_dispatcher_only_to_span_steps_and_summarises_by_module_name():
    import workflows

    assert "self._dispatcher = dispatcher" in inspect.getsource(Workflow.__init__)
    package = Path(workflows.__file__).parent
    uses = [
        line.strip()
        for path in package.rglob("*.py")
        for line in path.read_text().splitlines()
        if "._dispatcher" in line and "self._dispatcher = dispatcher" not in line
    ]
    assert uses and all("._dispatcher.span(" in line for line in uses), uses
    assert step_function.summarize_event is overrides._step_summary
    assert "summarize_event(event)" in inspect.getsource(step_function.as_step_worker_function)
    assert "create_task" in inspect.getsource(workflows.plugins.basic)  # the run's tasks start inside run()


def test_an_agent_stream_built_without_validation_equals_the_validated_one():
    assert set(AgentStream.model_fields) == {
        "delta", "response", "current_agent_name", "tool_calls", "raw", "thinking_delta",
    }  # fmt: skip
    assert set(AgentStream.__private_attributes__) == {"_data"}

    cheap = agent_stream(
        delta=" there", response="Hello there", current_agent_name="fintalk", tool_calls=[], raw={"a": 1},
        thinking_delta=None,
    )
    validated = AgentStream(
        delta=" there", response="Hello there", current_agent_name="fintalk", tool_calls=[], raw={"a": 1},
        thinking_delta=None,
    )

    assert cheap == validated
    assert cheap.model_dump() == validated.model_dump()
    assert cheap.delta == " there" and cheap.raw == {"a": 1} and cheap.get("missing") is None


def test_publishing_without_a_task_relies_on_what_it_did_when_it_was_measured():
    # The copied body of FunctionAgent._get_streaming_response: an upgrade that changes it
    # must be read and copied again (StreamedChunksPublished._get_streaming_response).
    source = inspect.getsource(FunctionAgent._get_streaming_response)
    assert hashlib.sha256(source.encode()).hexdigest()[:16] == "94df23ff9d7eadd6"
    assert "self._queues.publish_queue.put_nowait(event)" in inspect.getsource(
        InternalAsyncioAdapter.write_to_event_stream
    )
    assert "self._internal_adapter.write_to_event_stream(ev)" in inspect.getsource(
        InternalContext.write_event_to_stream
    )
    assert "self._workers.append(task)" in inspect.getsource(InternalContext._execute_task)
    assert "self._workers.remove(t)" in inspect.getsource(InternalContext._execute_task)


class _ScriptedStreamingLLM(FintalkLLM):
    """Streams a tool call at its first step and words at its second."""

    @classmethod
    def class_name(cls) -> str:
        return "ScriptedStreamingLLM"

    async def astream_chat(self, messages, **kwargs):
        called = any(message.role == MessageRole.TOOL for message in messages)

        async def stream():
            words = ["The", " balance", " is", " fine."] if called else ["Let", " me", " look."]
            text = ""
            for word in words:
                await asyncio.sleep(0)  # as a read from the network would
                text += word
                yield chat_response(text, word)
            blocks = [TextBlock(text=text)]
            if not called:
                blocks.append(ToolCallBlock(tool_call_id="call-1", tool_name="look", tool_kwargs={}))
            yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks), delta="")

        return stream()


def _streamed_events(agent_class: type) -> list[tuple[str, str]]:
    def look() -> str:
        """Look at the balance."""
        return "fine"

    agent = agent_class(
        name="a", description="d", tools=[FunctionTool.from_defaults(look)], llm=_ScriptedStreamingLLM(model="m"),
        streaming=True,
    )

    async def run() -> list[tuple[str, str]]:
        handler = agent.run(user_msg="How is my balance?")
        events = [(type(event).__name__, getattr(event, "delta", "")) async for event in handler.stream_events()]
        await handler
        return events

    return asyncio.run(run())


def test_streamed_chunks_reach_the_event_stream_in_the_order_llama_index_writes_them(monkeypatch):
    class Agent(StreamedChunksPublished, FunctionAgent):
        pass

    plain = _streamed_events(FunctionAgent)
    by_task: list[str] = []
    write = InternalContext.write_event_to_stream

    def counting(self, ev):
        by_task.append(type(ev).__name__)
        write(self, ev)

    monkeypatch.setattr(InternalContext, "write_event_to_stream", counting)
    published = _streamed_events(Agent)

    assert published == plain
    assert [delta for name, delta in published if name == "AgentStream" and delta] == [
        "Let", " me", " look.", "The", " balance", " is", " fine.",
    ]  # fmt: skip
    # Between network reads the events written by task earlier have arrived: no chunk
    # needs a task of its own.
    assert by_task.count("AgentStream") == 0
