"""The interface every LLM provider implements.

A provider turns configuration into a LlamaIndex function-calling LLM for one request and
can report its health. Each implementation lives in its own module beside this one.
"""

from dataclasses import dataclass, field
from typing import Protocol

from llama_index.core.llms.function_calling import FunctionCallingLLM


@dataclass(frozen=True)
class GenerationParams:
    """Sampling parameters a client asked for; providers apply what they support."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)


class LLMProvider(Protocol):
    name: str

    @property
    def model(self) -> str:
        """The model name this provider answers with."""

    def llm(self, params: GenerationParams) -> FunctionCallingLLM:
        """A LlamaIndex LLM ready for one request."""

    @property
    def reports_usage(self) -> bool:
        """True when the provider reports real token counts (otherwise they are estimated)."""
