"""OpenAI's ``response_format``: which answers follow it.

``{"type": "json_object"}`` wants one JSON object; ``{"type": "json_schema", "json_schema":
{"schema": {...}}}`` one that validates against the schema (checked with ``jsonschema``).
Providers that can pass it to their model say so (``supports_response_format``); the
answer is checked here whichever model wrote it, because a model can ignore the request.
"""

import json

from jsonschema.validators import validator_for


def answer_format_problem(text: str, response_format: dict) -> str | None:
    """Why ``text`` does not follow ``response_format`` (None when it does, or for ``text``)."""
    kind = response_format.get("type")
    if kind not in ("json_object", "json_schema"):
        return None
    try:
        value = json.loads(text)
    except ValueError as error:
        return f"the answer is not JSON ({error.msg} at character {error.pos})"
    if not isinstance(value, dict):
        return "the answer is JSON but not an object"
    schema = (response_format.get("json_schema") or {}).get("schema")
    if kind == "json_schema" and isinstance(schema, dict):
        error = next(iter(validator_for(schema)(schema).iter_errors(value)), None)
        if error is not None:
            where = ".".join(str(part) for part in error.path) or "the object"
            return f"{where}: {error.message}"
    return None
