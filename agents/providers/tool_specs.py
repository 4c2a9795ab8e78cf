"""Tools in OpenAI's and Bedrock Converse's JSON formats, derived once per tool instead of
once per request.

LlamaIndex derives a tool's JSON schema from its pydantic model on every call, about a
millisecond per tool: with the bank's sixteen tools that is most of a remote model's
added time to first token. The bank's tools share one metadata object across requests
(``agents.tools``), so their specs are kept here. Schemas given as plain JSON (a client's
tools) cost nothing and are not kept.
"""

import json
from collections import OrderedDict

from llama_index.core.tools import ToolMetadata

_MAX_KEPT = 256
_kept: OrderedDict[int, tuple[ToolMetadata, dict, str]] = OrderedDict()


def openai_tool_spec(metadata: ToolMetadata) -> dict:
    """``metadata.to_openai_tool()`` for an OpenAI-compatible server; treat it as read-only.

    Like LlamaIndex's own OpenAI integration, the parameters close the object
    (``additionalProperties: false``) and the function is not ``strict``.
    """
    return _openai(metadata)[0]


def openai_tool_json(metadata: ToolMetadata) -> str:
    """``openai_tool_spec(metadata)`` as compact JSON text (non-ASCII kept as is): a
    request body is built twice per turn (the speculative call and the agent's), and the
    bank's sixteen tools are most of it."""
    return _openai(metadata)[1]


def _openai(metadata: ToolMetadata) -> tuple[dict, str]:
    if metadata.fn_schema is None:
        spec = _spec(metadata)
        return spec, _json(spec)
    kept = _kept.get(id(metadata))
    if kept is not None and kept[0] is metadata:
        return kept[1], kept[2]
    spec = _spec(metadata)
    text = _json(spec)
    _kept[id(metadata)] = (metadata, spec, text)
    if len(_kept) > _MAX_KEPT:
        _kept.popitem(last=False)
    return spec, text


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _spec(metadata: ToolMetadata) -> dict:
    spec = metadata.to_openai_tool(skip_length_check=True)
    function = spec["function"]
    function["parameters"] = {**function["parameters"], "additionalProperties": False}
    function["strict"] = False
    return spec


_kept_converse: OrderedDict[int, tuple[ToolMetadata, dict]] = OrderedDict()


def converse_tool_spec(metadata: ToolMetadata) -> dict:
    """The Bedrock Converse ``toolSpec`` entry for a tool, as LlamaIndex's
    ``tools_to_converse_tools`` builds it, derived once per tool; treat it as read-only."""
    kept = _kept_converse.get(id(metadata))
    if kept is not None and kept[0] is metadata:
        return kept[1]
    spec = {
        "toolSpec": {
            "name": metadata.name,
            "description": metadata.description,
            "inputSchema": {"json": metadata.get_parameters_dict()},
        }
    }
    if metadata.fn_schema is not None:
        _kept_converse[id(metadata)] = (metadata, spec)
        if len(_kept_converse) > _MAX_KEPT:
            _kept_converse.popitem(last=False)
    return spec
