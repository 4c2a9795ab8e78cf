#!/usr/bin/env bash
# Smoke tests for a running Fintalk server, with curl (and python3 to read JSON).
#
#   FINTALK_URL=http://127.0.0.1:8000 FINTALK_API_KEY=ft_... bash test_openai_endpoint.sh
#
# FINTALK_URL defaults to http://127.0.0.1:8000. Without FINTALK_API_KEY the key is read
# from .fintalk-dev-key beside this script (written by `make run`). The key must be a
# trusted-channel key and the demo bank must be seeded (`make run` does both), because one
# check asks for demo customer Ana Lopez's card balance as a Vapi call would.
#
# FINTALK_SMOKE_TIMEOUT sets the seconds allowed per request (default 30).
#
# Every check prints PASS or FAIL with a reason; the exit status is non-zero if any failed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BASE_URL="${FINTALK_URL:-http://127.0.0.1:8000}"
BASE_URL="${BASE_URL%/}"
TIMEOUT="${FINTALK_SMOKE_TIMEOUT:-30}"

for tool in curl python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "This script needs $tool on the PATH." >&2
    exit 2
  fi
done

API_KEY="${FINTALK_API_KEY:-}"
if [[ -z "$API_KEY" ]]; then
  if [[ -r "$ROOT/.fintalk-dev-key" ]]; then
    API_KEY="$(tr -d '[:space:]' <"$ROOT/.fintalk-dev-key")"
  fi
fi
if [[ -z "$API_KEY" ]]; then
  echo "No API key: set FINTALK_API_KEY, or run 'make run' once to write $ROOT/.fintalk-dev-key." >&2
  echo "(Create one with: python manage.py create_api_key NAME --trusted-channel)" >&2
  exit 2
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Header files keep the key off curl's command line (and out of `ps`).
umask 077
printf 'Authorization: Bearer %s\n' "$API_KEY" >"$WORK/auth.header"
printf 'Authorization: Bearer %s\n' "ft_not-a-real-key-smoke-test" >"$WORK/wrong-auth.header"

PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); printf 'PASS  %-34s %s\n' "$1" "$2"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL  %-34s %s\n' "$1" "$2"; }

# request NAME METHOD PATH AUTH_HEADER_FILE [BODY]
# Writes $WORK/NAME.body and $WORK/NAME.headers; prints the HTTP status (000 if no reply).
request() {
  local name="$1" method="$2" path="$3" auth="$4" body="${5:-}"
  local args=(
    --silent --show-error --no-buffer --max-time "$TIMEOUT"
    --request "$method"
    --dump-header "$WORK/$name.headers"
    --output "$WORK/$name.body"
    --write-out '%{http_code}'
    --header "@$auth"
    # Like Vapi: it asks for JSON and still needs the SSE stream when stream is true.
    --header 'Accept: application/json'
  )
  if [[ -n "$body" ]]; then
    printf '%s' "$body" >"$WORK/$name.request"
    args+=(--header 'Content-Type: application/json' --data-binary "@$WORK/$name.request")
  fi
  : >"$WORK/$name.body"
  : >"$WORK/$name.headers"
  curl "${args[@]}" "$BASE_URL$path" 2>"$WORK/$name.curl-error" || true
}

# check NAME LABEL STATUS <<'PY' ... PY: the Python on stdin reads the reply to request
# NAME ($WORK/NAME.*) with the helpers in prelude.py, prints one line (the reason) and
# exits 0 to pass, 1 to fail. LABEL is what the report shows.
check() {
  local name="$1" label="$2" status="$3" reason
  if [[ "$status" == "000" ]]; then
    cat >/dev/null
    fail "$label" "no HTTP reply from $BASE_URL: $(tr '\n' ' ' <"$WORK/$name.curl-error")"
    return
  fi
  if reason="$({ cat "$WORK/prelude.py"; cat; } | python3 - "$WORK/$name" "$status" 2>&1)"; then
    pass "$label" "$reason"
  else
    fail "$label" "$(printf '%s' "$reason" | tail -n 1)"
  fi
}

# Python shared by the checks: the reply's pieces and a way to fail with a reason.
cat >"$WORK/prelude.py" <<'PY'
import json, sys
base, status = sys.argv[1], int(sys.argv[2])
body = open(base + ".body", encoding="utf-8", errors="replace").read()
headers = {}
for line in open(base + ".headers", encoding="latin-1").read().splitlines():
    name, sep, value = line.partition(":")
    if sep:
        headers[name.strip().lower()] = value.strip()
def die(reason):
    print(reason)
    sys.exit(1)
def snippet(text, size=200):
    text = " ".join(text.split())
    return text if len(text) <= size else text[:size] + "..."
def as_json():
    try:
        return json.loads(body)
    except ValueError:
        die(f"HTTP {status}, body is not JSON: {snippet(body)!r}")
def sse_events():
    """The data payloads of the SSE stream, in order."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        lines = [l[len("data:"):].strip() for l in block.split("\n") if l.startswith("data:")]
        if lines:
            events.append("\n".join(lines))
    return events
def stream_checks(events):
    """Checks every OpenAI stream must pass; returns (chunks, the streamed text)."""
    ctype = headers.get("content-type", "")
    if status != 200:
        die(f"HTTP {status} (want 200): {snippet(body)!r}")
    if not ctype.startswith("text/event-stream"):
        die(f"Content-Type is {ctype!r}, want text/event-stream")
    if not events:
        die(f"no data: events in the reply: {snippet(body)!r}")
    if events[-1] != "[DONE]":
        die(f"the stream does not end with data: [DONE] (last event: {snippet(events[-1])!r})")
    chunks = []
    for raw in events[:-1]:
        try:
            chunk = json.loads(raw)
        except ValueError:
            die(f"an event is not JSON: {snippet(raw)!r}")
        if "error" in chunk:
            die(f"the stream carried an error event: {chunk['error']}")
        if chunk.get("object") != "chat.completion.chunk":
            die(f"an event has object {chunk.get('object')!r}, want chat.completion.chunk")
        if not isinstance(chunk.get("choices"), list):
            die("an event has no choices array")
        chunks.append(chunk)
    if len({c.get("id") for c in chunks}) != 1:
        die("the chunks do not share one id")
    text = "".join(
        (choice.get("delta") or {}).get("content") or ""
        for chunk in chunks for choice in chunk["choices"]
    )
    return chunks, text
PY

echo "Fintalk smoke tests against $BASE_URL"

# (a) GET /v1/models lists a model ------------------------------------------------------
status="$(request models GET /v1/models "$WORK/auth.header")"
check models "a. GET /v1/models" "$status" <<'PY'
if status != 200:
    die(f"HTTP {status} (want 200): {snippet(body)!r}")
data = as_json()
ids = [m.get("id") for m in data.get("data") or [] if isinstance(m, dict) and m.get("id")]
if data.get("object") != "list" or not ids:
    die(f"no model listed: {snippet(body)!r}")
open(base + ".model", "w").write(ids[0])
print("models: " + ", ".join(ids))
PY
MODEL=""
if [[ -s "$WORK/models.model" ]]; then
  MODEL="$(cat "$WORK/models.model")"
fi
# The model field is optional: without a listed model, let the server use its default.
MODEL_FIELD=""
if [[ -n "$MODEL" ]]; then
  MODEL_FIELD="$(python3 -c 'import json, sys; print("\"model\": " + json.dumps(sys.argv[1]) + ",")' "$MODEL")"
fi

# (b) non-streaming chat completion ------------------------------------------------------
status="$(request plain POST /v1/chat/completions "$WORK/auth.header" \
  '{'"$MODEL_FIELD"' "stream": false, "messages": [{"role": "user", "content": "What loan options do you have?"}]}')"
check plain "b. non-streaming completion" "$status" <<'PY'
if status != 200:
    die(f"HTTP {status} (want 200): {snippet(body)!r}")
data = as_json()
if data.get("object") != "chat.completion":
    die(f"object is {data.get('object')!r}, want chat.completion")
choices = data.get("choices") or []
message = (choices[0].get("message") or {}) if choices else {}
content = message.get("content")
if message.get("role") != "assistant" or not isinstance(content, str) or not content.strip():
    die(f"no assistant message with content: {snippet(json.dumps(choices))!r}")
total = (data.get("usage") or {}).get("total_tokens")
if not isinstance(total, int) or total <= 0:
    die(f"usage.total_tokens is {total!r}")
print(f"finish_reason={choices[0].get('finish_reason')}, total_tokens={total}: {snippet(content, 70)!r}")
PY

# (c) streaming, with Accept: application/json as Vapi sends it ----------------------------
status="$(request stream POST /v1/chat/completions "$WORK/auth.header" \
  '{'"$MODEL_FIELD"' "stream": true, "messages": [{"role": "user", "content": "Hello, what can you help me with?"}]}')"
check stream "c. streaming completion (SSE)" "$status" <<'PY'
events = sse_events()
chunks, text = stream_checks(events)
json_events = sum(1 for line in body.splitlines() if line.startswith("data: {"))
if json_events < 3:
    die(f"only {json_events} data: {{ chunk(s); want several")
first_delta = (chunks[0]["choices"] or [{}])[0].get("delta") or {}
if first_delta.get("role") != "assistant":
    die(f"the first chunk does not carry role assistant: {first_delta!r}")
reasons = [c.get("finish_reason") for chunk in chunks for c in chunk["choices"] if c.get("finish_reason")]
if reasons != ["stop"]:
    die(f"finish_reason(s) {reasons!r}; want one chunk with finish_reason stop")
if not text.strip():
    die("the stream carried no content")
print(f"{len(chunks)} chunks, finish_reason stop, [DONE]: {snippet(text, 60)!r}")
PY

# (d) a Vapi call: the trusted channel asserts the caller's number ------------------------
status="$(request vapi POST /v1/chat/completions "$WORK/auth.header" \
  '{'"$MODEL_FIELD"' "stream": true,
    "messages": [{"role": "system", "content": "You are a helpful bank assistant."},
                 {"role": "user", "content": "what'"'"'s my credit card balance"}],
    "call": {"id": "call-smoke", "customer": {"number": "+14155550101"}},
    "metadata": {"source": "smoke-test"}}')"
check vapi "d. Vapi call: Ana Lopez's card" "$status" <<'PY'
chunks, text = stream_checks(sse_events())
if "1,234.56" not in text:
    die("the answer lacks Ana Lopez's card balance 1,234.56 (is the key a trusted channel and the "
        f"demo bank seeded?): {snippet(text, 160)!r}")
print(f"{snippet(text, 90)!r}")
PY

# (e) validation error -> 400 with the OpenAI error envelope ------------------------------
status="$(request invalid POST /v1/chat/completions "$WORK/auth.header" \
  '{'"$MODEL_FIELD"' "messages": []}')"
check invalid "e. invalid request -> 400" "$status" <<'PY'
if status != 400:
    die(f"HTTP {status} (want 400): {snippet(body)!r}")
error = as_json().get("error")
if not isinstance(error, dict) or not isinstance(error.get("message"), str) or not error["message"]:
    die(f"no error.message: {snippet(body)!r}")
print(f"type={error.get('type')}: {error['message']!r}")
PY

# (f) wrong API key -> 401 authentication_error -------------------------------------------
status="$(request wrongkey POST /v1/chat/completions "$WORK/wrong-auth.header" \
  '{"messages": [{"role": "user", "content": "hi"}]}')"
check wrongkey "f. wrong API key -> 401" "$status" <<'PY'
if status != 401:
    die(f"HTTP {status} (want 401): {snippet(body)!r}")
error = as_json().get("error") or {}
if error.get("type") != "authentication_error":
    die(f"error.type is {error.get('type')!r}, want authentication_error")
print(f"{error.get('message')!r}")
PY

# (g) GET on the completions endpoint -> 405 ----------------------------------------------
status="$(request method GET /v1/chat/completions "$WORK/auth.header")"
check method "g. GET /v1/chat/completions -> 405" "$status" <<'PY'
if status != 405:
    die(f"HTTP {status} (want 405): {snippet(body)!r}")
error = as_json().get("error") or {}
print(f"{error.get('message')!r}")
PY

echo "$PASSED passed, $FAILED failed"
if ((FAILED > 0)); then
  exit 1
fi
