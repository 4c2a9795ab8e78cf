"""The JSON body parser: nesting bounded before parsing, errors as clear 400s.

Python's ``json`` recurses once per nesting level: 100,000 nested arrays (100 KB) raise
``RecursionError`` deep inside the parser, and 30,000 nested objects make every later
walk over the data (validation, logging) recurse as deep. The depth is measured on the
raw bytes first, strings skipped, and a body deeper than ``FINTALK_MAX_JSON_DEPTH`` is a
400 that names the limit — whether the nesting sits in a known field or an ignored one.
"""

import re
from itertools import accumulate

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json as drf_json

from fintalk import errors

# A JSON string, escapes included (possessive: no backtracking on long strings).
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')
_BRACKETS_ONLY = bytes(range(256)).translate(None, b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes) -> int:
    """How deeply ``body``'s arrays and objects nest (0 for a scalar), ignoring strings.

    Only a bound for malformed JSON (the parser reports those); exact for valid JSON.
    """
    if b'"' in body:
        body = _STRING.sub(b"", body)
    brackets = body.translate(None, _BRACKETS_ONLY)
    opening = brackets.count(b"[") + brackets.count(b"{")
    if opening <= 1:
        return opening
    return max(accumulate(map(_STEP.__getitem__, brackets)))


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser behind a nesting bound (see the module's docstring)."""

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        limit = settings.MAX_JSON_DEPTH
        # A body with fewer brackets than the limit cannot nest deeper: skip the scan.
        if body.count(b"[") + body.count(b"{") > limit and (depth := json_depth(body)) > limit:
            raise errors.InvalidRequest(
                f"The JSON body is nested {depth} levels deep; the limit is {limit} "
                "(FINTALK_MAX_JSON_DEPTH).",
                code="json_too_deep",
            )
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            # Strict like DRF's own parser: NaN and Infinity are not JSON.
            return drf_json.loads(body.decode(encoding), parse_constant=drf_json.strict_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
