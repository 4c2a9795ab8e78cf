"""LlamaIndex's own instrumentation as OpenTelemetry spans, plus what Fintalk adds to them.

OpenInference (``openinference-instrumentation-llama-index``) turns LlamaIndex's
instrumentation spans into OTel spans: the agent run (``BankAgent.run``), its workflow
steps, each model call (kind LLM, with a "First Token Stream Event" and the token counts
the provider reported) and each tool call (kind TOOL). Two small LlamaIndex handlers,
registered *before* OpenInference's so that they see its span as the current one, add:

- on each model call: ``fintalk.llm.time_to_first_token_ms`` and, when the provider
  reported none, estimated ``llm.token_count.prompt`` / ``llm.token_count.completion``
  (``fintalk.llm.tokens_estimated`` true);
- on each tool call: ``fintalk.tool.outcome`` (``ok`` or ``error``: a refusal such as
  "verify your identity first" is an error result).

The conversation's words, tool arguments and results are banking data: they stay out of
traces unless ``TRACE_CONTENT`` is true. Nothing here is imported unless tracing is on.
"""

import importlib.util
import sys
import time

from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatInProgressEvent,
    LLMChatStartEvent,
)
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from llama_index.core.tools import BaseTool
from opentelemetry import trace
from pydantic import PrivateAttr

from agents.tokens import count_prompt_tokens, count_tokens

TTFT = "fintalk.llm.time_to_first_token_ms"
TOOL_OUTCOME = "fintalk.tool.outcome"
_MAX_OPEN_CALLS = 1024


class _ModelCallTimer(BaseEventHandler):
    """Time to first token and (estimated) tokens of each model call, on its span."""

    _calls: dict = PrivateAttr(default_factory=dict)

    @classmethod
    def class_name(cls) -> str:
        return "FintalkModelCallTimer"

    def handle(self, event, **kwargs) -> None:
        if isinstance(event, LLMChatStartEvent):
            span = _unwrapped(trace.get_current_span())  # OpenInference's model-call span
            if span.is_recording():
                if len(self._calls) >= _MAX_OPEN_CALLS:  # calls cut off before their end
                    self._calls.pop(next(iter(self._calls)))
                self._calls[event.span_id] = [span, time.perf_counter(), False]
        elif isinstance(event, LLMChatInProgressEvent):
            call = self._calls.get(event.span_id)
            if call is not None and not call[2]:
                call[2] = True
                call[0].set_attribute(TTFT, (time.perf_counter() - call[1]) * 1000)
        elif isinstance(event, LLMChatEndEvent):
            call = self._calls.pop(event.span_id, None)
            if call is not None and event.response is not None:
                _estimate_tokens(call[0], event.messages, event.response)


def _unwrapped(span):
    """The span itself: OpenInference makes the current span a stand-in (a wrapt proxy)
    that turns into the parent once the call returns, which a streamed call does before
    its first token; attributes set later must reach the model call's own span."""
    return getattr(span, "__wrapped__", span)


def _text(response) -> str:
    return (response.message.content or "") if response is not None else ""


def _estimate_tokens(span, messages, response) -> None:
    """Token counts for providers that report none (OpenInference sets reported ones)."""
    raw = response.raw if isinstance(response.raw, dict) else {}
    if raw.get("usage") or getattr(response.raw, "usage", None):
        return
    span.set_attribute("llm.token_count.prompt", count_prompt_tokens(m.content or "" for m in messages))
    span.set_attribute("llm.token_count.completion", count_tokens(_text(response)))
    span.set_attribute("fintalk.llm.tokens_estimated", True)


class _ToolOutcome(BaseSpanHandler):
    """Marks each tool call's span with its outcome, before OpenInference ends it."""

    @classmethod
    def class_name(cls) -> str:
        return "FintalkToolOutcome"

    def new_span(self, id_, bound_args, instance=None, parent_span_id=None, tags=None, **kwargs):
        return None

    def prepare_to_exit_span(self, id_, bound_args, instance=None, result=None, **kwargs):
        if isinstance(instance, BaseTool) and result is not None:
            span = _unwrapped(trace.get_current_span())  # OpenInference's tool span, still open
            span.set_attribute(TOOL_OUTCOME, "error" if getattr(result, "is_error", False) else "ok")
        return None

    def prepare_to_drop_span(self, id_, bound_args, instance=None, err=None, **kwargs):
        if isinstance(instance, BaseTool):
            trace.get_current_span().set_attribute(TOOL_OUTCOME, "error")
        return None


# OpenInference tries these imports on every model call to name the provider; for a
# package that is not installed each try searches sys.path again (~2.7 ms per model call
# in ``python -m bench.tracing_overhead --otel`` under cProfile). A ``None`` entry in
# ``sys.modules`` makes such an import fail at once (Python's import system documents it).
_PROBED_BY_OPENINFERENCE = (
    "llama_index.llms.openai",
    "llama_index.llms.anthropic",
    "llama_index.llms.azure_openai",
    "llama_index.llms.vertex",
)


def _absent_marked() -> None:
    for name in _PROBED_BY_OPENINFERENCE:
        if name in sys.modules:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            sys.modules[name] = None


_installed: dict = {}


def llama_index_instrument(provider, *, content: bool = False) -> None:
    """Send LlamaIndex's spans to ``provider``; ``content``: include words and arguments."""
    from openinference.instrumentation import TraceConfig
    from openinference.instrumentation.llama_index import LlamaIndexInstrumentor

    if _installed:
        return
    _absent_marked()
    dispatcher = get_dispatcher()
    timer, outcome = _ModelCallTimer(), _ToolOutcome()
    # Before OpenInference's handlers: they end the spans these write on.
    dispatcher.add_event_handler(timer)
    dispatcher.add_span_handler(outcome)
    hidden = not content
    config = TraceConfig(
        hide_llm_tools=hidden,  # every tool's JSON schema on every model call: costly, static
        hide_inputs=hidden,
        hide_outputs=hidden,
        hide_input_messages=hidden,
        hide_output_messages=hidden,
        hide_input_text=hidden,
        hide_output_text=hidden,
        hide_prompts=hidden,
        hide_choices=hidden,
    )
    instrumentor = LlamaIndexInstrumentor()
    instrumentor.instrument(tracer_provider=provider, config=config)
    _installed.update(instrumentor=instrumentor, timer=timer, outcome=outcome)


def llama_index_uninstrument() -> None:
    """Undo ``llama_index_instrument`` (tests)."""
    if not _installed:
        return
    _installed["instrumentor"].uninstrument()
    dispatcher = get_dispatcher()
    dispatcher.event_handlers.remove(_installed["timer"])
    dispatcher.span_handlers.remove(_installed["outcome"])
    _installed.clear()
