"""Token usage as upstreams report it, read from LlamaIndex's raw stream events.

LlamaIndex passes each provider's raw event through ``AgentStream.raw``; the two wire
shapes Fintalk speaks carry usage in different places. A WebSocket LLM may send the
OpenAI shape in its final message.
"""

from agents.events import UsageReported


def reported_usage(raw: object) -> UsageReported | None:
    """The usage carried by one raw stream event, if any."""
    if not isinstance(raw, dict):
        return None
    usage = raw.get("usage")
    if isinstance(usage, dict) and usage.get("prompt_tokens") is not None:
        # OpenAI: the last chunk when ``stream_options.include_usage``, or a whole reply.
        return UsageReported(int(usage["prompt_tokens"]), int(usage.get("completion_tokens") or 0))
    metadata = raw.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("usage"), dict):
        # Bedrock ConverseStream: the closing ``metadata`` event.
        usage = metadata["usage"]
        return UsageReported(int(usage.get("inputTokens", 0)), int(usage.get("outputTokens", 0)))
    return None
