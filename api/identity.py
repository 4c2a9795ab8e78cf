"""Who is calling, read from an OpenAI/Vapi request.

Only a trusted-channel key may *assert* the caller's number (Vapi's ``customer.number`` /
``call.customer.number``, or our explicit ``phone_number``). Anything else — the same
fields from an untrusted key, or a number in the user's words — is a *claim*.
"""

from dataclasses import dataclass

from django.conf import settings

from agents import language
from agents.caller import CallerContext
from bank.phones import phone_normalize
from fintalk import errors


@dataclass(frozen=True)
class CallInfo:
    channel: str
    external_call_id: str


def _dig(data: dict, *path: str) -> object:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def call_info(data: dict) -> CallInfo:
    call = data.get("call")
    if isinstance(call, dict):
        call_id = call.get("id") or call.get("callId") or ""
        return CallInfo(channel="vapi", external_call_id=str(call_id)[:128])
    return CallInfo(channel="api", external_call_id="")


def _asserted_number(data: dict) -> str | None:
    region = settings.PHONE_DEFAULT_REGION
    explicit = data.get("phone_number")
    if explicit:
        phone = phone_normalize(explicit, region=region)
        if phone is None:
            raise errors.InvalidRequest(
                f"phone_number {explicit!r} is not a phone number.", param="phone_number"
            )
        return phone
    for path in (("customer", "number"), ("call", "customer", "number")):
        raw = _dig(data, *path)
        # Vapi sends "anonymous" or SIP URIs for withheld numbers: no identity then.
        if isinstance(raw, str) and (phone := phone_normalize(raw, region=region)):
            return phone
    return None


def _claimed_number(user_texts: list[str]) -> str | None:
    for text in reversed(user_texts):
        phone = language.find_phone_number(text, region=settings.PHONE_DEFAULT_REGION)
        if phone:
            return phone
    return None


def caller_from_request(data: dict, *, trusted: bool, user_texts: list[str]) -> CallerContext:
    asserted = _asserted_number(data)
    if asserted and trusted:
        return CallerContext(phone=asserted, asserted=True)
    return CallerContext(phone=asserted or _claimed_number(user_texts), asserted=False)
