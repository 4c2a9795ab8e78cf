"""Token counting for usage estimates and ``max_tokens``.

Uses the cl100k_base BPE that llama-index-core ships in its own cache, so it works
offline. Providers that report real counts override these estimates.
"""

from collections.abc import Iterable
from functools import cache

import tiktoken
from llama_index.core.utils import get_tokenizer

# Per-message framing tokens, as OpenAI documents for its chat models.
_PER_MESSAGE = 4
_PER_REPLY = 3


@cache
def _encoding() -> tiktoken.Encoding:
    get_tokenizer()  # points tiktoken at llama-index's bundled cache
    return tiktoken.get_encoding("cl100k_base")


def warm_up() -> None:
    _encoding().encode("warm up")


def count_tokens(text: str) -> int:
    return len(_encoding().encode_ordinary(text)) if text else 0


def truncate_to_tokens(text: str, limit: int) -> str:
    encoding = _encoding()
    return encoding.decode(encoding.encode_ordinary(text)[: max(limit, 0)])


def count_prompt_tokens(contents: Iterable[str]) -> int:
    return sum(count_tokens(text) + _PER_MESSAGE for text in contents) + _PER_REPLY
