"""Who is calling, and which conversation this is: Fintalk's identity story, in one place.

1. **What the request says** — ``CallerClaims``, built by the API's serializers (or the
   MQTT bridge) from the request: an explicit ``phone_number``, Vapi's ``customer.number``
   / ``call.customer.number``, Vapi's ``call.id``, the ``X-Conversation-Id`` header (or a
   session's name), OpenAI's ``user`` field.
2. **What it is worth** — ``caller_from_claims``. Only a trusted-channel API key (the Vapi
   gateway, the bank's authenticated front end) may *assert* the caller's number. The same
   fields from any other key, and a number the caller types or says in the conversation
   ("my number is four one five …", read by ``agents.language.phones``), are only a
   *claim*. Numbers are reduced to E.164 there too.
3. **Which conversation** — ``conversation_key``: server-side state (verification, pending
   actions) is kept per conversation, always within the API key that sent the request,
   named by the first found of Vapi's call id (``call:<id>``), the conversation header
   (``id:<value>``), the ``user`` field (``user:<value>``), and for a trusted channel only
   the number it asserts (``phone:<E.164>``). Without any of them a conversation has no
   memory: a claimed caller cannot be verified and nothing can be confirmed.
4. **Whose data** — ``CallerContext``, bound to the tools outside the model's reach: an
   asserted number's customer, or the customer this conversation verified
   (``verify_identity``, recorded server-side in ``CallerSession``), recently and not
   locked since. The model chooses which tool to call, never whose data it touches.
"""

import functools
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from agents import language
from bank.models import CallerSession, Customer
from bank.selectors import caller_session_get, customer_get_by_phone
from fintalk import errors

_LONGEST_CONVERSATION_ID = 128


@dataclass(frozen=True, slots=True)
class CallerClaims:
    """What a request says about who is calling and which conversation this is (strings,
    empty when absent); ``caller_from_claims`` decides what each claim is worth."""

    phone_number: str = ""  # the explicit ``phone_number`` field
    customer_numbers: tuple[str, ...] = ()  # Vapi's customer.number, call.customer.number
    from_vapi: bool = False  # the request carries Vapi's ``call`` object
    call_id: str = ""  # Vapi's call.id (older payloads: call.callId)
    user: str = ""  # OpenAI's ``user`` field
    conversation_header: str = ""  # the X-Conversation-Id header (or the session's name)


@dataclass(frozen=True)
class CallInfo:
    """The channel a request came by (``vapi`` or ``api``) and the call id it names."""

    channel: str
    external_call_id: str


def call_info(claims: CallerClaims) -> CallInfo:
    if claims.from_vapi:
        return CallInfo(channel="vapi", external_call_id=claims.call_id[:128])
    return CallInfo(channel="api", external_call_id="")


def _asserted_number(claims: CallerClaims) -> str | None:
    """The number the request states (E.164); it asserts only from a trusted key.

    Raises ``errors.InvalidRequest`` for an explicit ``phone_number`` that is no number.
    """
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
    """The latest phone number the caller wrote or said, E.164."""
    region = settings.PHONE_DEFAULT_REGION
    for text in reversed(user_texts):
        if len(text) <= _REMEMBERED_TEXT:
            phone = _number_in(text, region)
        else:
            phone = language.find_phone_number(text, region=region)
        if phone:
            return phone
    return None


# A call resends its whole history with every turn: each of the caller's sentences is read
# for a number once, not once per later turn (~0.1 ms each). Long texts are not kept.
_REMEMBERED_TEXT = 2_000


@functools.lru_cache(maxsize=4_096)
def _number_in(text: str, region: str) -> str | None:
    return language.find_phone_number(text, region=region)


def conversation_key(claims: CallerClaims, *, asserted_phone: str | None) -> str | None:
    """The conversation's name within its API key (point 3 of the module's docstring).

    Raises ``errors.InvalidRequest`` when the conversation header is over 128 characters.
    """
    if call_id := call_info(claims).external_call_id:
        return f"call:{call_id}"
    if header := claims.conversation_header.strip():
        if len(header) > _LONGEST_CONVERSATION_ID:
            raise errors.InvalidRequest(
                "The conversation id (the X-Conversation-Id header) is longer than "
                f"{_LONGEST_CONVERSATION_ID} characters."
            )
        return f"id:{header}"
    if user := claims.user.strip():
        return f"user:{user}"
    return f"phone:{asserted_phone}" if asserted_phone else None


def caller_from_claims(
    claims: CallerClaims,
    *,
    trusted: bool,
    user_texts: list[str],
    api_key_id: int | None = None,
) -> "CallerContext":
    """The caller of a request, from its ``claims``, for an API key (``trusted`` or not);
    ``user_texts`` are the caller's messages so far, oldest first."""
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


_UNSET = object()


@dataclass(frozen=True)
class ReadBackDue:
    """A pending action's read-back, as the caller will hear it at the end of the answer."""

    action_id: int
    text: str


@dataclass(frozen=True)
class ConversationRef:
    """Where the conversation's server-side state lives: its key, within one API key."""

    api_key_id: int
    key: str


@dataclass
class CallerContext:
    """The caller of one request.

    ``phone`` is E.164. ``asserted`` is True only when a trusted channel (the Vapi gateway,
    the bank's authenticated front end) vouched for the number; a number the caller merely
    said or typed is a claim, and customer data stays closed until the conversation has
    verified it (``verify_identity``). What the conversation has verified is read from the
    server (``CallerSession``), never from the messages. ``turn`` counts the caller's
    messages so far, ``user_texts`` are those messages and ``latest_user_text`` the last of
    them: confirmations are checked against the turn and the last message, identifying
    details against all of them (what the caller said, never only what the model wrote).
    ``readback`` is the read-back an action tool asked Fintalk to deliver at the end of
    this answer (``agents.readbacks``).
    """

    phone: str | None = None
    asserted: bool = False
    conversation: ConversationRef | None = None
    turn: int = 0
    latest_user_text: str = ""
    user_texts: tuple[str, ...] = ()
    readback: "ReadBackDue | None" = None
    _customer: object = field(default=_UNSET, repr=False)
    _session: object = field(default=_UNSET, repr=False)

    async def session(self) -> CallerSession | None:
        """The conversation's server-side state, looked up once per request."""
        if self.conversation is None:
            return None
        if self._session is _UNSET:
            self._session = await caller_session_get(
                api_key_id=self.conversation.api_key_id, conversation_key=self.conversation.key
            )
        return self._session  # type: ignore[return-value]

    async def verified_customer(self) -> Customer | None:
        """The customer whose data the tools may touch: the one a trusted channel named, or
        the one this conversation verified (recently, and not locked since)."""
        if self._customer is _UNSET:
            self._customer = await self._resolve()
        return self._customer  # type: ignore[return-value]

    async def _resolve(self) -> Customer | None:
        if self.asserted:
            return await customer_get_by_phone(phone=self.phone) if self.phone else None
        session = await self.session()
        if session is None or session.customer is None or session.locked_at is not None:
            return None
        fresh_since = timezone.now() - timedelta(minutes=settings.BANK_VERIFICATION_TTL_MINUTES)
        return (
            session.customer if session.verified_at and session.verified_at > fresh_since else None
        )

    def forget(self) -> None:
        """Drop what was looked up, after this request changed it (a verification)."""
        self._customer = self._session = _UNSET

    def remember(self, customer: Customer) -> None:
        """This request verified the caller as ``customer``."""
        self._customer = customer

    @property
    def customer_id(self) -> int | None:
        customer = None if self._customer is _UNSET else self._customer
        return customer.pk if customer is not None else None
