"""Removing a model's ``<thinking>…</thinking>`` reasoning from the text a client hears.

Amazon Nova reasons in ``<thinking>`` tags inside its ordinary text stream before it calls a
tool, and AWS's tool-use guidance says to drop that output rather than prompt it away
(LlamaIndex issue 20489). A tag can arrive split across stream chunks (``"<thi"``,
``"nking>"``), so the filter holds back any tail that could still become a tag.

Every provider's text passes through one filter per model step in ``agents.runner``.
"""

OPEN = "<thinking>"
CLOSE = "</thinking>"


def _partial_tag_length(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that is the start of ``tag``."""
    start = text.rfind("<", max(0, len(text) - len(tag) + 1))
    if start < 0:
        return 0
    tail = text[start:]
    return len(tail) if tag.startswith(tail) else 0


class ThinkingFilter:
    """Feed it a model step's text deltas; it returns what the client may see."""

    def __init__(self) -> None:
        self._inside = False
        self._held = ""
        self._after_thinking = False

    def feed(self, delta: str) -> str:
        if not (self._inside or self._held or self._after_thinking) and "<" not in delta:
            return delta  # the common case, once per token: nothing to look at
        text = self._held + delta
        self._held = ""
        visible: list[str] = []
        while text:
            if self._inside:
                at = text.find(CLOSE)
                if at < 0:
                    self._held = text[len(text) - _partial_tag_length(text, CLOSE) :]
                    break
                self._inside, self._after_thinking = False, True
                text = text[at + len(CLOSE) :]
            else:
                at = text.find(OPEN)
                if at < 0:
                    keep = _partial_tag_length(text, OPEN)
                    visible.append(self._shown(text[: len(text) - keep]))
                    self._held = text[len(text) - keep :]
                    break
                visible.append(self._shown(text[:at]))
                self._inside = True
                text = text[at + len(OPEN) :]
        return "".join(visible)

    def flush(self) -> str:
        """The end of a model step: a held tail that never became a tag is text after all."""
        tail = "" if self._inside else self._shown(self._held)
        self._inside, self._held, self._after_thinking = False, "", False
        return tail

    def _shown(self, text: str) -> str:
        # The answer after a reasoning block starts with the newline(s) that closed it.
        if self._after_thinking and text:
            text = text.lstrip()
            self._after_thinking = not text
        return text
