"""Who is calling, and which conversation this is, read from an OpenAI/Vapi request.

Only a trusted-channel key may *assert* the caller's number (Vapi's ``customer.number`` /
``call.customer.number``, or our explicit ``phone_number``). Anything else — the same
fields from an untrusted key, or a number in the user's words — is a *claim*.

The conversation's identity keys its server-side state (verification, pending actions),
always within the API key that sent the request, first found of:

1. Vapi's ``call.id`` (older payloads: ``call.callId``) — ``call:<id>``;
2. the ``X-Conversation-Id`` header — ``id:<value>``;
3. the request's ``user`` field — ``user:<value>``;
4. for a trusted channel only, the number it asserts — ``phone:<E.164>``.

Without any of them a conversation has no memory: a claimed caller cannot be verified and
nothing can be confirmed.
"""

from dataclasses import dataclass

from django.conf import settings

from agents import language
from agents.caller import CallerContext, ConversationRef
from api.request import CallerClaims
from fintalk import errors

CONVERSATION_HEADER = "X-Conversation-Id"
_LONGEST_CONVERSATION_ID = 128


@dataclass(frozen=True)
class CallInfo:
    channel: str
    external_call_id: str


def call_info(claims: CallerClaims) -> CallInfo:
    if claims.from_vapi:
        return CallInfo(channel="vapi", external_call_id=claims.call_id[:128])
    return CallInfo(channel="api", external_call_id="")


def _asserted_number(claims: CallerClaims) -> str | None:
    region = settings.PHONE_DEFAULT_REGION
    if explicit := claims.phone_number:
        phone = language.phone_normalize(explicit, region=region)
        if phone is None:
            raise errors.InvalidRequest(
                f"phone_number {explicit!r} is not a phone number.", param="phone_number"
            )
        return phone
    for raw in claims.customer_numbers:
        # Vapi sends "anonymous" or SIP URIs for withheld numbers: no identity then.
        if phone := language.phone_normalize(raw, region=region):
            return phone
    return None


def _claimed_number(user_texts: list[str]) -> str | None:
    for text in reversed(user_texts):
        phone = language.find_phone_number(text, region=settings.PHONE_DEFAULT_REGION)
        if phone:
            return phone
    return None


def conversation_key(claims: CallerClaims, *, asserted_phone: str | None) -> str | None:
    """The conversation's identity within its API key (see the module's docstring)."""
    if call_id := call_info(claims).external_call_id:
        return f"call:{call_id}"
    if header := claims.conversation_header.strip():
        if len(header) > _LONGEST_CONVERSATION_ID:
            raise errors.InvalidRequest(
                f"The {CONVERSATION_HEADER} header is longer than "
                f"{_LONGEST_CONVERSATION_ID} characters."
            )
        return f"id:{header}"
    if user := claims.user.strip():
        return f"user:{user}"
    return f"phone:{asserted_phone}" if asserted_phone else None


def caller_from_request(
    claims: CallerClaims,
    *,
    trusted: bool,
    user_texts: list[str],
    api_key_id: int | None = None,
) -> CallerContext:
    """The caller of a request, from its ``claims``, for an API key (``trusted`` or not)."""
    asserted = _asserted_number(claims)
    vouched = asserted if trusted else None
    key = conversation_key(claims, asserted_phone=vouched)
    return CallerContext(
        phone=vouched or asserted or _claimed_number(user_texts),
        asserted=vouched is not None,
        conversation=ConversationRef(api_key_id, key) if key and api_key_id is not None else None,
        turn=len(user_texts),
        latest_user_text=user_texts[-1] if user_texts else "",
        user_texts=tuple(user_texts),
    )
