"""Every place where Fintalk relies on, or steps around, LlamaIndex internals.

Each override says what it saves (measured with ``bench/``) and what it relies on;
``tests/agents/providers/test_overrides.py`` fails when an upgrade of ``llama-index-core``
changes one of those things, so an upgrade cannot silently turn a saving into a bug.

- ``chat_response``: a streamed chunk's ``ChatResponse`` built without pydantic
  validation, straight into the models' ``__dict__`` (what ``model_construct`` does,
  without its loop over every field): validating a ``ChatResponse`` + ``ChatMessage`` +
  ``TextBlock`` costs ~15 µs per chunk, ``model_construct`` ~6 µs, this ~1.5 µs. Relies
  on the three models' field lists and on their having no private attributes, extras or
  post-init hook.
- ``StreamedChunksPublished``: a ``FunctionAgent`` whose streamed chunks reach the event
  stream without a task each. LlamaIndex's ``_get_streaming_response`` validates an
  ``AgentStream`` per chunk (~7 µs) and ``Context.write_event_to_stream`` creates an
  asyncio task per event to put it on a queue (a task, a loop turn and a done callback
  per token); on the in-process (asyncio) runtime the event is built unvalidated and put
  on the queue directly — after any event still travelling by task, so the stream's
  order stays the order of writing. Measured together with the other per-chunk savings
  of the same change (``agents/providers/openai_wire.py``, ``api/pump.py``): CPU per
  streamed token through the whole server 187 → 144 µs (the slope of ``bench/run.py``,
  median of three interleaved rounds). Relies on
  ``FunctionAgent._get_streaming_response``'s body, ``AgentStream``'s fields,
  ``Context._face``, ``InternalContext._internal_adapter`` / ``_workers`` and
  ``InternalAsyncioAdapter.write_to_event_stream`` being a ``put_nowait`` on
  ``_queues.publish_queue``.
- ``instrumentation_active``: whether any LlamaIndex instrumentation handler is
  registered. ``llm_chat_callback`` dispatches an ``LLMChatInProgressEvent`` (a pydantic
  model) per chunk even when nobody listens; the lean LLM skips the wrapper unless
  someone does. Relies on ``root_manager.dispatchers`` and the Null handlers.
- ``ChatMemory``: ``ChatMemoryBuffer`` whose async methods run in the loop.
  ``BaseMemory``'s async methods hop to a thread (``asyncio.to_thread``) four times a
  turn for what is a list operation — on the small default thread pool that Bedrock's
  streams also need. Relies on the list of ``BaseMemory``'s async methods.
- ``received_before_failure``: the bytes an aiohttp response had received before its
  connection broke. aiohttp's ``StreamReader`` raises the failure on the next read even
  when data it received earlier is still buffered, so words the upstream sent just before
  crashing would be lost, or not, depending on how the packets fell. Relies on
  ``StreamReader._buffer`` and ``_buffer_offset``.
- ``bedrock_calls_in``: ``BedrockConverse``'s Converse calls run on Fintalk's own
  executor, and a stream nobody reads any more is closed. Without aioboto3 (aiobotocore
  cannot be installed beside the pinned botocore), ``converse_with_retry_async`` runs each
  stream on the loop's default executor — ``min(32, cores + 4)``, six threads on two
  cores, so a worker held at most six Bedrock streams at once (TTFT p50 4.4 s at 64
  simultaneous streams) — and reads a stream to its end even after the caller hung up.
  Each stream is a ``ConverseEvents``, which an LLM may answer with one it opened earlier
  for the same request (``converse_events_chosen_by``: Bedrock's speculative first call).
  Relies on ``llama_index.llms.bedrock_converse.base`` calling the module-level
  ``converse_with_retry_async`` with the sync boto3 client when aioboto3 is absent, and on
  ``converse_with_retry`` returning botocore's ``EventStream`` under ``"stream"``, whose
  ``_raw_stream`` is a urllib3 response keeping its socket's ``shutdown`` as
  ``_sock_shutdown``.
- ``Unobserved``: a workflow run nobody observes runs its steps without instrumentation.
  For every step LlamaIndex's workflow runtime wraps the step in ``Dispatcher.span`` (a new
  ``wrapt`` decorator, ``inspect.signature(...).bind``, a UUID, span enter/exit) and
  summarises its input and output events as text (``summarize_event``: the ``repr`` of
  pydantic models), all for handlers that, in a server without tracing, do not exist —
  about a tenth of a turn's CPU. When no handler is registered as the run starts, the run's
  ``_dispatcher`` spans nothing and the step summaries are the events' class names.
  Relies on ``Workflow.__init__`` setting ``_dispatcher``, on the step runtime using it
  only for ``.span`` and on ``step_function`` calling the module-level ``summarize_event``
  from tasks the run creates inside ``Workflow.run``.
- ``StepsFoundOnce``: a workflow whose steps are found, and its graph checked, once per
  class. ``Workflow._get_steps`` runs ``inspect.getmembers`` over the whole pydantic
  instance on each dispatch (~0.6 ms, a dozen times per turn), and ``Workflow._validate``
  checks the step graph of every new instance (~0.15 ms; the agent is built per turn).
  Relies on ``_get_steps``, ``get_steps_from_class``, ``_step_functions`` and
  ``_step_functions_version``, and on ``_validate`` setting only ``_start_event_class``,
  ``_stop_event_class``, ``_validation_result`` and ``_validated_version``.
"""

import asyncio
import collections
import functools
import socket
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor
from contextvars import ContextVar
from typing import Any

from llama_index.core.agent.workflow import AgentStream
from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole, TextBlock
from llama_index.core.bridge.pydantic import BaseModel
from llama_index.core.memory import ChatMemoryBuffer
from llama_index_instrumentation import root_manager
from llama_index_instrumentation.event_handlers import NullEventHandler
from llama_index_instrumentation.span_handlers import NullSpanHandler
from workflows import workflow as workflow_module
from workflows.runtime.types import step_function
from workflows.plugins.basic import InternalAsyncioAdapter
from workflows.utils import get_steps_from_class

_new = object.__new__
_set = object.__setattr__
_ASSISTANT = MessageRole.ASSISTANT
_RESPONSE_FIELDS = frozenset(ChatResponse.model_fields)
_MESSAGE_FIELDS = frozenset(ChatMessage.model_fields)
_TEXT_FIELDS = frozenset(TextBlock.model_fields)


def _unvalidated(cls: type, fields: dict[str, Any], fields_set: frozenset[str], private: Any = None) -> Any:
    """A ``cls`` (a pydantic model) holding ``fields`` (all of its fields), not validated."""
    model = _new(cls)
    _set(model, "__dict__", fields)
    _set(model, "__pydantic_fields_set__", set(fields_set))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", private)
    return model


def chat_response(text: str, delta: str, raw: Any = None) -> ChatResponse:
    """``ChatResponse(message=ChatMessage(role=assistant, content=text), delta=delta, raw=raw)``,
    equal to the validated one, built without validation."""
    block = _unvalidated(TextBlock, {"block_type": "text", "text": text}, _TEXT_FIELDS)
    message = _unvalidated(
        ChatMessage, {"role": _ASSISTANT, "additional_kwargs": {}, "blocks": [block]}, _MESSAGE_FIELDS
    )
    return _unvalidated(
        ChatResponse,
        {"message": message, "raw": raw, "delta": delta, "logprobs": None, "additional_kwargs": {}},
        _RESPONSE_FIELDS,
    )


def instrumentation_active() -> bool:
    """True when any LlamaIndex event or span handler besides the Null ones is registered."""
    for dispatcher in root_manager.dispatchers.values():
        for handler in dispatcher.event_handlers:
            if not isinstance(handler, NullEventHandler):
                return True
        for handler in dispatcher.span_handlers:
            if not isinstance(handler, NullSpanHandler):
                return True
    return False


class ChatMemory(ChatMemoryBuffer):
    """``ChatMemoryBuffer`` without thread hops: its state is a list in this process."""

    @classmethod
    def class_name(cls) -> str:
        return "ChatMemory"

    async def aget(self, input: str | None = None, **kwargs: Any) -> list[ChatMessage]:
        return self.get(input=input, **kwargs)

    async def aget_all(self) -> list[ChatMessage]:
        return self.get_all()

    async def aput(self, message: ChatMessage) -> None:
        self.put(message)

    async def aput_messages(self, messages: list[ChatMessage]) -> None:
        self.put_messages(messages)

    async def aset(self, messages: list[ChatMessage]) -> None:
        self.set(messages)

    async def areset(self) -> None:
        self.reset()


def received_before_failure(stream: Any) -> bytes:
    """What an aiohttp ``StreamReader`` holds unread (after it failed); taken out of it."""
    chunks = list(stream._buffer)
    if chunks and stream._buffer_offset:
        chunks[0] = chunks[0][stream._buffer_offset :]
    stream._buffer.clear()
    stream._buffer_offset = 0
    return b"".join(chunks)


def bedrock_calls_in(executor: Executor) -> None:
    """Run every ``BedrockConverse`` call of this process on ``executor`` (see above)."""
    from llama_index.llms.bedrock_converse import base
    from llama_index.llms.bedrock_converse.utils import converse_with_retry

    async def converse_with_retry_async(
        *, client: Any, stream: bool = False, session: Any = None, config: Any = None,
        boto_client_kwargs: Any = None, **kwargs: Any,
    ) -> Any:
        if not stream:
            call = functools.partial(converse_with_retry, client=client, stream=False, **kwargs)
            return await asyncio.get_running_loop().run_in_executor(executor, call)
        events = ConverseEvents(converse_with_retry, client, kwargs, executor)
        choose = converse_events_chosen_by.get()
        return events if choose is None else choose(events)

    base.converse_with_retry_async = converse_with_retry_async


# While an LLM's call runs, it may answer a ConverseStream request with events it opened
# earlier for the same request (``agents.providers.bedrock``: the speculative first call).
converse_events_chosen_by: ContextVar[Callable[["ConverseEvents"], "ConverseEvents"] | None] = ContextVar(
    "converse_events_chosen_by", default=None
)

_END = object()


class ConverseEvents:
    """The events of one ConverseStream request, read on a thread of ``executor``.

    ``request`` holds the keyword arguments of LlamaIndex's ``converse_with_retry`` but the
    client (what is sent); two requests with equal ``client`` and ``request`` are the same
    request. It leaves at ``start()`` (call it in the running loop) or at the first read;
    ``close()`` stops it at once — before it leaves, or by shutting its socket — and is a
    no-op once the stream was read to its end. Iterating gives botocore's event dicts, then
    raises what the call raised (``ClientError``, ``BotoCoreError``…); a reader that stops
    early closes the stream.
    """

    def __init__(self, converse: Callable[..., Any], client: Any, request: dict, executor: Executor) -> None:
        self.client = client
        self.request = request
        self._call = functools.partial(converse, client=client, stream=True, **request)
        self._executor = executor
        # Events the thread read and the reader has not taken; the thread wakes the loop
        # only when the reader waits, so a reader behind (a speculation not yet taken, a
        # busy worker) costs no wake-up per event.
        self._items: collections.deque = collections.deque()
        self._reader_waits = False
        self._wake_reader: asyncio.Future | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._opened: list[Any] = []
        self._producing: asyncio.Future | None = None

    def same_request(self, other: "ConverseEvents") -> bool:
        return self.client is other.client and self.request == other.request

    def start(self) -> None:
        if self._producing is None and not self._stop.is_set():
            loop = asyncio.get_running_loop()
            self._producing = loop.run_in_executor(self._executor, self._produce, loop)

    def close(self) -> None:
        if self._producing is not None and self._producing.done():
            return
        self._stop.set()
        with self._lock:
            for events in self._opened:
                _close_event_stream(events)

    def __aiter__(self) -> AsyncIterator[dict]:
        return self._events()

    async def _events(self) -> AsyncIterator[dict]:
        self.start()
        items = self._items
        try:
            while True:
                if not items:
                    self._wake_reader = asyncio.get_running_loop().create_future()
                    self._reader_waits = True
                    if not items:  # else the thread handed one over meanwhile
                        await self._wake_reader
                    self._reader_waits = False
                    continue
                item = items.popleft()
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
            if self._producing is not None:
                await self._producing
        finally:
            # The reader went away (the caller hung up, a deadline): close the HTTP stream
            # so that the thread's blocking read ends now, not when the model finishes.
            self.close()

    def _woken(self) -> None:
        if self._wake_reader is not None and not self._wake_reader.done():
            self._wake_reader.set_result(None)

    def _produce(self, loop: asyncio.AbstractEventLoop) -> None:
        stop, items = self._stop, self._items

        def put(item: Any) -> None:
            items.append(item)
            if self._reader_waits:
                self._reader_waits = False
                loop.call_soon_threadsafe(self._woken)

        if stop.is_set():
            return  # closed before it left: nothing sent
        try:
            events = self._call()["stream"]
            with self._lock:
                self._opened.append(events)
                if stop.is_set():
                    _close_event_stream(events)
                    return
            for event in events:
                if stop.is_set():
                    return
                put(event)
            with self._lock:
                # Read to its end: its connection is back in botocore's pool, maybe serving
                # another stream already, so ``close()`` must not shut its socket any more.
                self._opened.clear()
        except BaseException as error:  # noqa: BLE001 - handed to the reader
            if not stop.is_set():
                put(error)
        finally:
            if not stop.is_set():
                put(_END)


def _close_event_stream(events: Any) -> None:
    """Close a botocore ``EventStream`` another thread may be blocked reading.

    ``EventStream.close()`` alone closes the urllib3 response's file object, which neither
    wakes that thread nor tells Bedrock. Shutting the socket down does both; urllib3's own
    ``shutdown()`` refuses once botocore has handed the connection back to its pool, so
    the socket's ``shutdown`` it keeps is called directly.
    """
    shutdown = getattr(events._raw_stream, "_sock_shutdown", None)
    if shutdown is not None:
        try:
            shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed: nothing is reading
    events.close()


_STEP_NAMES: dict[type, tuple[str, ...]] = {}
# Per class: (its ``_step_functions_version``, start event class, stop event class, result).
_VALIDATED: dict[type, tuple[int, type, type, bool]] = {}


class StepsFoundOnce:
    """Mixin for a LlamaIndex ``Workflow`` (an agent): its steps found once per class."""

    def _get_steps(self):
        names = _STEP_NAMES.get(type(self))
        if names is None:
            names = _STEP_NAMES[type(self)] = tuple(get_steps_from_class(type(self)))
        return {**{name: getattr(self, name) for name in names}, **type(self)._step_functions}

    def _validate(self, *, validate_resource_configs: bool = True, validate_resources: bool = False, force: bool = False):
        plain = (
            validate_resource_configs and not validate_resources and not force
            and not self._disable_validation and not self._skip_graph_checks
        )
        cls = type(self)
        kept = _VALIDATED.get(cls) if plain else None
        if kept is not None and kept[0] == cls._step_functions_version:
            self._validated_version, self._start_event_class, self._stop_event_class, self._validation_result = kept
            return kept[3]
        result = super()._validate(
            validate_resource_configs=validate_resource_configs, validate_resources=validate_resources, force=force
        )
        if plain:
            _VALIDATED[cls] = (self._validated_version, self._start_event_class, self._stop_event_class, result)
        return result


# True inside a run's tasks when nothing observed it as it started (``Unobserved.run``).
_unobserved_run: ContextVar[bool] = ContextVar("fintalk_unobserved_run", default=False)
_summarize_event = step_function.summarize_event


def _step_summary(event: Any, *args: Any, **kwargs: Any) -> str:
    if _unobserved_run.get():
        return type(event).__name__
    return _summarize_event(event, *args, **kwargs)


step_function.summarize_event = _step_summary


class _Unspanned:
    """A workflow's dispatcher for a run nobody observes: its steps run as they are."""

    @staticmethod
    def span(func: Callable) -> Callable:
        return func


_UNSPANNED = _Unspanned()


class Unobserved:
    """Mixin for a LlamaIndex ``Workflow``: a run started while no instrumentation handler
    is registered runs its steps without spans or event summaries (see above)."""

    def run(self, *args: Any, **kwargs: Any) -> Any:
        if instrumentation_active():
            self._dispatcher = workflow_module.dispatcher
            return super().run(*args, **kwargs)
        self._dispatcher = _UNSPANNED
        token = _unobserved_run.set(True)
        try:
            return super().run(*args, **kwargs)
        finally:
            _unobserved_run.reset(token)


_STREAM_FIELDS = frozenset(AgentStream.model_fields)


def agent_stream(*, delta: str, response: str, current_agent_name: str, tool_calls: list, raw: Any,
                 thinking_delta: str | None) -> AgentStream:
    """``AgentStream(...)`` with these fields, equal to the validated one, not validated."""
    fields = {
        "delta": delta,
        "response": response,
        "current_agent_name": current_agent_name,
        "tool_calls": tool_calls,
        "raw": raw,
        "thinking_delta": thinking_delta,
    }
    return _unvalidated(AgentStream, fields, _STREAM_FIELDS, {"_data": {}})


def _stream_writer(ctx: Any) -> Any:
    """``ctx.write_event_to_stream``, or on the asyncio runtime a function that puts the
    event on the published queue directly once no event written earlier is still
    travelling by task (until then, by task too: the stream keeps the order of writing)."""
    internal = getattr(ctx, "_face", None)
    adapter = getattr(internal, "_internal_adapter", None)
    if type(adapter) is not InternalAsyncioAdapter:
        return ctx.write_event_to_stream
    put = adapter._queues.publish_queue.put_nowait
    pending = internal._workers
    by_task = ctx.write_event_to_stream

    def write(event: Any) -> None:
        for task in pending:
            if not task.done():  # a done one has put its event already
                by_task(event)
                return
        put(event)

    return write


class StreamedChunksPublished:
    """Mixin for a LlamaIndex ``FunctionAgent``: each streamed chunk's ``AgentStream``
    built without validation and published without a task (see above)."""

    async def _get_streaming_response(self, ctx: Any, current_llm_input: list[ChatMessage], tools: Any) -> ChatResponse:
        # FunctionAgent._get_streaming_response, with the event built and written cheaply.
        chat_kwargs = {
            "chat_history": current_llm_input,
            "tools": tools,
            "allow_parallel_tool_calls": self.allow_parallel_tool_calls,
        }
        if self.initial_tool_choice is not None and current_llm_input[-1].role == "user":
            chat_kwargs["tool_choice"] = self.initial_tool_choice
        response = await self.llm.astream_chat_with_tools(**chat_kwargs)
        write = _stream_writer(ctx)
        tool_calls_in = self.llm.get_tool_calls_from_response
        name = self.name
        last_chat_response = ChatResponse(message=ChatMessage())
        async for last_chat_response in response:
            message = last_chat_response.message
            blocks = message.blocks
            if len(blocks) == 1 and type(blocks[0]) is TextBlock and not message.additional_kwargs:
                tool_calls = []  # text alone (the lean LLM's every chunk but the last)
            else:
                tool_calls = tool_calls_in(last_chat_response, error_on_no_tool_call=False)
            raw = last_chat_response.raw
            if isinstance(raw, BaseModel):
                raw = raw.model_dump()
            write(
                agent_stream(
                    delta=last_chat_response.delta or "",
                    response=last_chat_response.message.content or "",
                    tool_calls=tool_calls or [],
                    raw=raw,
                    current_agent_name=name,
                    thinking_delta=last_chat_response.additional_kwargs.get("thinking_delta", None),
                )
            )
        return last_chat_response
