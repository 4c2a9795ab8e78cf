"""Who is calling: bound to the tools from the request, never chosen by the model."""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from bank.models import CallerSession, Customer
from bank.selectors import caller_session_get, customer_get_by_phone

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
