"""Why the bank declines a request, as a value the assistant can put into words."""

from dataclasses import dataclass, field


@dataclass
class ActionRefused(Exception):
    """The bank will not do this. ``reason`` is a stable code; ``details`` carry the
    numbers the explanation needs (what is available, what the limit leaves)."""

    reason: str
    details: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.reason
