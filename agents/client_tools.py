"""Tools the client declares in its request (OpenAI ``tools``), such as Vapi's transferCall.

The agent may choose one like any other tool, but Fintalk does not run it: the runner
stops the agent and hands the call back to the client with ``finish_reason: tool_calls``,
as the OpenAI protocol expects.
"""

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.tools import ToolMetadata, ToolOutput
from llama_index.core.tools.types import AsyncBaseTool

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@dataclass
class ClientToolMetadata(ToolMetadata):
    parameters: dict = field(default_factory=dict)

    def get_parameters_dict(self) -> dict:
        return self.parameters or {"type": "object", "properties": {}}

    @property
    def spoken_name(self) -> str:
        """'transferCall' and 'transfer_call' both read as 'transfer call'."""
        return _CAMEL.sub(" ", self.get_name()).replace("_", " ").replace("-", " ").lower()


class ClientTool(AsyncBaseTool):
    def __init__(self, *, name: str, description: str, parameters: dict) -> None:
        self._metadata = ClientToolMetadata(
            description=description or name, name=name, fn_schema=None, parameters=parameters
        )

    @property
    def metadata(self) -> ClientToolMetadata:
        return self._metadata

    def call(self, input: Any = None, **kwargs: Any) -> ToolOutput:
        raise RuntimeError("Client tools run on the client, never in Fintalk.")

    async def acall(self, input: Any = None, **kwargs: Any) -> ToolOutput:
        # The runner hands this call to the client and stops the agent; the wait ends there.
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

