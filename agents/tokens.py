"""Token counting for usage estimates and ``max_tokens``.

Uses the cl100k_base BPE that llama-index-core ships in its own package, so it works
offline and in containers. Providers that report real counts override these estimates.
"""

import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import llama_index.core
import tiktoken

# tiktoken downloads encodings unless its cache already holds them; llama-index ships one.
_BUNDLED_CACHE = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"

# Per-message framing tokens, as OpenAI documents for its chat models.
_PER_MESSAGE = 4
_PER_REPLY = 3


@cache
def _encoding() -> tiktoken.Encoding:
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(_BUNDLED_CACHE))
    return tiktoken.get_encoding("cl100k_base")


def warm_up() -> None:
    """Load the encoding now rather than during the first request."""
    _encoding().encode_ordinary("warm up")


def count_tokens(text: str) -> int:
    return len(_encoding().encode_ordinary(text)) if text else 0


def truncate_to_tokens(text: str, limit: int) -> str:
    encoding = _encoding()
    return encoding.decode(encoding.encode_ordinary(text)[: max(limit, 0)])


def count_prompt_tokens(contents: Iterable[str]) -> int:
    return sum(count_tokens(text) + _PER_MESSAGE for text in contents) + _PER_REPLY
