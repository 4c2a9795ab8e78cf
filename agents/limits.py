"""``stop`` sequences and ``max_tokens``, enforced on any provider's output as it streams."""

from agents.tokens import count_tokens, truncate_to_tokens


class OutputLimits:
    """Feed deltas in, get back what may be sent and whether the answer must end here."""

    def __init__(self, *, stop: tuple[str, ...] = (), max_tokens: int | None = None) -> None:
        self._stop = tuple(s for s in stop if s)
        self._max_tokens = max_tokens
        self._tokens = 0
        self._held = ""

    @property
    def active(self) -> bool:
        return bool(self._stop) or self._max_tokens is not None

    def feed(self, text: str) -> tuple[str, str | None]:
        """The text to send now, and "stop" or "length" when the answer ends with it."""
        finish = None
        if self._stop:
            text, finish = self._cut_at_stop(self._held + text)
        if self._max_tokens is not None and text:
            tokens = count_tokens(text)
            if self._tokens + tokens >= self._max_tokens:
                text = truncate_to_tokens(text, self._max_tokens - self._tokens)
                self._tokens = self._max_tokens
                return text, finish or "length"
            self._tokens += tokens
        return text, finish

    def flush(self) -> str:
        """What was held back in case it began a stop sequence, once the stream has ended."""
        held, self._held = self._held, ""
        return held

    def _cut_at_stop(self, text: str) -> tuple[str, str | None]:
        cuts = [index for index in (text.find(s) for s in self._stop) if index >= 0]
        if cuts:
            self._held = ""
            return text[: min(cuts)], "stop"
        # Hold back a tail that could be the beginning of a stop sequence.
        hold = 0
        for stop in self._stop:
            for size in range(min(len(stop) - 1, len(text)), 0, -1):
                if text.endswith(stop[:size]):
                    hold = max(hold, size)
                    break
        self._held = text[len(text) - hold :] if hold else ""
        return text[: len(text) - hold], None
