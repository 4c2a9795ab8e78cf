"""The one agent loop: a LlamaIndex FunctionAgent run, translated into turn events."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from django.conf import settings
from llama_index.core.agent.workflow import (
    AgentOutput,
    AgentStream,
    FunctionAgent,
    ToolCall,
    ToolCallResult,
)
from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock, ToolCallBlock
from llama_index.core.llms.function_calling import FunctionCallingLLM

from agents.caller import CallerContext
from agents.client_tools import ClientTool, client_call_arguments, client_call_question
from agents.events import ClientToolCall, Finished, TextDelta, ToolFinished, ToolStarted, TurnEvent
from agents.prompts import CLIENT_CONTEXT_HEADER, OPENING_REQUEST, system_prompt
from agents.providers.overrides import ChatMemory, StepsFoundOnce, StreamedChunksPublished, Unobserved
from agents.providers.thinking import ThinkingFilter
from agents.providers.usage import reported_usage
from agents.tools import tools_for
from fintalk.text import OFF_LOOP_THRESHOLD
from fintalk.masking import CardNumberStreamFilter, mask_card_numbers, mask_card_numbers_in

logger = logging.getLogger(__name__)


class BankAgent(Unobserved, StepsFoundOnce, StreamedChunksPublished, FunctionAgent):
    """The bank's FunctionAgent (``agents.providers.overrides``: ``Unobserved``,
    ``StepsFoundOnce``, ``StreamedChunksPublished``)."""


@dataclass
class Turn:
    """One request to answer: the conversation so far and who is asking."""

    messages: list[ChatMessage]
    caller: CallerContext
    client_tools: list[ClientTool] = field(default_factory=list)
    tool_choice: str | None = None
    parallel_tool_calls: bool = True


def _masked(message: ChatMessage) -> ChatMessage:
    """``message`` with card numbers masked in its text and tool calls' arguments (history
    resent by the client — Vapi's client tools — may carry them in any of these)."""
    blocks = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            block = block.model_copy(update={"text": mask_card_numbers(block.text)})
        elif isinstance(block, ToolCallBlock):
            block = block.model_copy(update={"tool_kwargs": mask_card_numbers_in(block.tool_kwargs)})
        blocks.append(block)
    return message.model_copy(update={"blocks": blocks})


def _agent_inputs(messages: list[ChatMessage]) -> tuple[ChatMessage | None, list[ChatMessage]]:
    """Split the conversation into the agent's input message and its history.

    The client's system messages become one context message placed first, right after the
    bank's own system prompt, which the agent prepends and which always comes first. The
    model is never shown a full card number: every message is masked first.
    """
    messages = [_masked(message) for message in messages]
    context = [m.content or "" for m in messages if m.role == MessageRole.SYSTEM]
    history = [m for m in messages if m.role != MessageRole.SYSTEM]
    if context:
        joined = CLIENT_CONTEXT_HEADER + "\n\n".join(text for text in context if text)
        history.insert(0, ChatMessage(role=MessageRole.SYSTEM, content=joined))
    if history and history[-1].role == MessageRole.USER:
        return history[-1], history[:-1]
    if not any(m.role == MessageRole.USER for m in history):
        # Nobody has spoken yet: the model is asked for the opening line.
        return ChatMessage(role=MessageRole.USER, content=OPENING_REQUEST), history
    return None, history


class StepJoiner:
    """Joins the texts of the agent's steps at a word boundary.

    A model writes each step as if it stood alone ("Let me check that for you." then, after
    a tool, "Here are…"); glued together they read "…for you.Here are…". A step's first
    text gets a space when the text before it, from an earlier step, ended without one.
    """

    def __init__(self) -> None:
        self._last = ""  # the last character sent
        self._new_step = False

    def join(self, text: str) -> str:
        if self._new_step and self._last and not self._last.isspace() and not text[0].isspace():
            text = " " + text
        self._new_step = False
        self._last = text[-1]
        return text

    def step_ended(self) -> None:
        self._new_step = True


def _estimated_tokens(text: str) -> list[int]:
    # The memory buffer only needs a length; the agent never truncates our history.
    return [0] * (len(text) // 4)


async def run_agent(turn: Turn, llm: FunctionCallingLLM) -> AsyncIterator[TurnEvent]:
    """Run the agent on a turn; yields events as they happen, then ``Finished``."""
    offered_client_tools = [] if turn.tool_choice == "none" else turn.client_tools
    forced = turn.tool_choice if turn.tool_choice not in (None, "auto", "none") else None
    tools = [*tools_for(turn.caller), *offered_client_tools]
    prompt = system_prompt()
    if sum(len(m.content or "") for m in turn.messages) > OFF_LOOP_THRESHOLD:
        user_msg, history = await asyncio.to_thread(_agent_inputs, turn.messages)  # masking 1 MB
    else:
        user_msg, history = _agent_inputs(turn.messages)
    parallel = FunctionAgent.model_fields["allow_parallel_tool_calls"].default and turn.parallel_tool_calls
    client_tools = {tool.metadata.name: tool for tool in offered_client_tools}
    client_names = set(client_tools)
    started: dict[str, float] = {}
    thinking = ThinkingFilter()
    cards = CardNumberStreamFilter()
    steps = StepJoiner()
    step_usage = None
    speculate = getattr(llm, "speculate_with_tools", None)
    handler = None
    try:
        if speculate is not None and user_msg is not None:
            # The agent's first model call, sent before the agent is built (see the LLM); two
            # turns of the loop let it be written (aiohttp writes a body from a task of its
            # own), so that building the agent overlaps the upstream's time to first token.
            speculate(
                tools,
                chat_history=[ChatMessage(role=MessageRole.SYSTEM, content=prompt), *history, user_msg],
                allow_parallel_tool_calls=parallel,
                **({"tool_choice": forced} if forced is not None else {}),
            )
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        agent = BankAgent(
            name="fintalk",
            description="The bank's assistant.",
            system_prompt=prompt,
            tools=tools,
            llm=llm,
            streaming=True,
            initial_tool_choice=forced,
            allow_parallel_tool_calls=parallel,
        )
        memory = ChatMemory.from_defaults(
            chat_history=history,
            token_limit=llm.metadata.context_window,
            tokenizer_fn=_estimated_tokens,
        )
        handler = agent.run(
            user_msg=user_msg,
            chat_history=history,
            memory=memory,
            max_iterations=settings.AGENT_MAX_ITERATIONS,
        )
        async for event in handler.stream_events():
            if isinstance(event, AgentStream):
                text = cards.feed(thinking.feed(event.delta)) if event.delta else ""
                if text:
                    yield TextDelta(steps.join(text))
                # Some servers repeat a running total in every chunk: the last one counts.
                step_usage = reported_usage(event.raw) or step_usage
            elif isinstance(event, AgentOutput):
                # One model step ended: reasoning never spans steps, nor does a number.
                text = cards.feed(thinking.flush()) + cards.flush()
                if text:
                    yield TextDelta(steps.join(text))
                steps.step_ended()
                if step_usage is not None:
                    yield step_usage
                    step_usage = None
                handed_back = [c for c in event.tool_calls if c.tool_name in client_names]
                if handed_back:
                    if not turn.parallel_tool_calls:
                        handed_back = handed_back[:1]
                    checked = []
                    for call in handed_back:
                        tool = client_tools[call.tool_name].metadata
                        arguments, problems = client_call_arguments(
                            tool, call.tool_kwargs, caller_text=turn.caller.latest_user_text
                        )
                        if problems:
                            # Never hand back a call its own schema refuses: ask instead.
                            logger.warning("The model's %s call was incomplete: %s", call.tool_name, "; ".join(problems))
                            yield TextDelta(steps.join(client_call_question(tool, problems)))
                            yield Finished("stop")
                            return
                        checked.append((call, arguments))
                    for call, arguments in checked:
                        yield ClientToolCall(call.tool_id, call.tool_name, mask_card_numbers_in(arguments))
                    yield Finished("tool_calls")
                    return
            elif isinstance(event, ToolCallResult):
                duration = (time.perf_counter() - started.pop(event.tool_id, time.perf_counter())) * 1000
                output = event.tool_output
                yield ToolFinished(
                    event.tool_id,
                    event.tool_name,
                    mask_card_numbers_in(event.tool_kwargs),
                    mask_card_numbers(str(output.content)),
                    bool(output.is_error),
                    duration,
                )
            elif isinstance(event, ToolCall):
                started[event.tool_id] = time.perf_counter()
                yield ToolStarted(event.tool_id, event.tool_name, mask_card_numbers_in(event.tool_kwargs))
        await handler
        yield Finished("stop")
    finally:
        if handler is not None and not handler.is_done():
            await handler.cancel_run(timeout=1.0)
        end_turn = getattr(llm, "end_turn", None)
        if end_turn is not None:
            # A cancelled workflow may leave a model stream suspended mid-read: close it, so
            # that the upstream stops generating even when cancellation was slow.
            await end_turn()
