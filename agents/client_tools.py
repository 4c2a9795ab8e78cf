"""Tools the client declares in its request (OpenAI ``tools``), such as Vapi's transferCall.

The agent may choose one like any other tool, but Fintalk does not run it: the runner
stops the agent and hands the call back to the client with ``finish_reason: tool_calls``,
as the OpenAI protocol expects.
"""

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

from jsonschema import SchemaError
from jsonschema.validators import validator_for

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



def client_schema_problem(parameters: dict) -> str | None:
    """Why ``parameters`` is not a usable JSON Schema (None when it is)."""
    try:
        validator_for(parameters).check_schema(parameters)
    except SchemaError as error:
        return error.message
    return None


def _only_value(schema: dict) -> tuple[bool, Any]:
    """(True, value) when the schema allows a single value (``const``, a one-item ``enum``,
    or a ``default``)."""
    if "const" in schema:
        return True, schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and len(enum) == 1:
        return True, enum[0]
    if "default" in schema:
        return True, schema["default"]
    return False, None


def _from_words(schema: dict, text: str) -> tuple[bool, Any]:
    """(True, value) when the caller's ``text`` names exactly one of the schema's enum values."""
    enum = schema.get("enum")
    if not isinstance(enum, list):
        return False, None
    lowered = text.lower()
    named = [value for value in enum if isinstance(value, str) and value and value.lower() in lowered]
    return (True, named[0]) if len(named) == 1 else (False, None)


def client_call_arguments(tool: "ClientToolMetadata", arguments: dict, *, caller_text: str = "") -> tuple[dict, list[str]]:
    """Arguments for a call to a client tool, completed and checked against its schema.

    Missing properties the schema allows only one value for (``const``, a one-value ``enum``,
    a ``default``) are filled, and so is an ``enum`` the caller's words name exactly one of
    (``caller_text``). Returns the arguments and the problems left: empty means they
    validate, else each names the property (e.g. ``"destination is required"``).
    """
    schema = tool.get_parameters_dict()
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    completed = dict(arguments)
    for name, prop in properties.items():
        if name in completed or not isinstance(prop, dict):
            continue
        found, value = _only_value(prop)
        if not found and caller_text:
            found, value = _from_words(prop, caller_text)
        if found:
            completed[name] = value
    validator = validator_for(schema)(schema)
    problems = []
    for error in sorted(validator.iter_errors(completed), key=lambda e: list(e.path)):
        where = ".".join(str(part) for part in error.path)
        if error.validator == "required":
            missing = [name for name in error.validator_value if name not in (error.instance or {})]
            problems.extend(f"{name} is required" for name in missing)
        else:
            problems.append(f"{where or 'the arguments'}: {error.message}")
    return completed, problems


def client_call_question(tool: "ClientToolMetadata", problems: list[str]) -> str:
    """What to ask the caller when a client tool's arguments are not complete: the choices
    when the schema lists them ("Which destination would you like: sales or support?")."""
    properties = tool.get_parameters_dict().get("properties") or {}
    names = [problem.split(" ", 1)[0] for problem in problems if problem.endswith(" is required")]
    for name in names:
        choices = (properties.get(name) or {}).get("enum") if isinstance(properties.get(name), dict) else None
        if isinstance(choices, list) and choices:
            listed = " or ".join(str(choice) for choice in choices[:5])
            return f"Which {name.replace('_', ' ')} would you like: {listed}?"
    needed = ", ".join(name.replace("_", " ") for name in names) or "a few more details"
    return f"To {tool.spoken_name}, I need {needed}. Could you tell me?"
