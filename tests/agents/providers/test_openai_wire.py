"""OpenAI request bodies on the wire (``agents.providers.openai_wire``)."""

import json

import pytest
from llama_index.core.base.llms.types import ChatMessage, MessageRole

from agents.caller import CallerContext
from agents.client_tools import ClientTool
from agents.providers.openai_wire import request_body, request_json
from agents.tools import tools_for


def _compact(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("with_tools", [True, False])
@pytest.mark.parametrize("choice", [None, "required", "transferCall"])
def test_the_request_json_is_the_request_body_as_compact_json(with_tools, choice):
    tools = [
        *tools_for(CallerContext()),
        ClientTool(
            name="transferCall",
            description="Transfer the call — à un humain.",
            parameters={"type": "object", "properties": {"to": {"type": "string"}}},
        ),
    ]
    fields = {
        "model": "m",
        "messages": [
            ChatMessage(role=MessageRole.SYSTEM, content="Tu es l'assistant de la banque « Fintalk »."),
            ChatMessage(role=MessageRole.USER, content='What loans do you offer? "quoted" \u2028 ünïcode'),
        ],
        "tools": tools if with_tools else [],
        "choice": choice,
        "tool_required": False,
        "parallel_tool_calls": True,
        "stream": True,
        "include_usage": True,
        "options": {"temperature": 0.2, "max_tokens": 100},
    }

    # Twice: the second time the bank's tools come from what was kept.
    assert request_json(**fields) == _compact(request_body(**fields))
    assert request_json(**fields) == _compact(request_body(**fields))
