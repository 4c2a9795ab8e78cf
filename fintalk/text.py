"""Text every store and upstream can take.

JSON allows what PostgreSQL (NUL) and UTF-8 encoders (lone surrogates such as ``"\\ud800"``)
cannot; such text would fail the conversation log or the upstream call after the answer
began. Requests are cleaned once, where they are validated.
"""

import re

# A surrogate not part of a pair: JSON's "\ud83d" alone decodes to one.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def text_sanitise(text: str) -> str:
    """``text`` without NUL characters and with lone surrogates replaced by U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if text.isascii():
        return text
    return _LONE_SURROGATE.sub(REPLACEMENT, text)


# Requests and conversations larger than this (bytes or characters) are parsed, checked,
# masked and counted in a worker thread: on the event loop a 900 KB request held every
# other stream of the worker for about half a second (bench/loop_block.py).
OFF_LOOP_THRESHOLD = 64 * 1024
