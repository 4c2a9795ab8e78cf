"""Who is calling: bound to the tools from the request, never chosen by the model."""

from dataclasses import dataclass, field

from bank.models import Customer
from bank.selectors import customer_get_by_phone

_UNSET = object()


@dataclass
class CallerContext:
    """The caller of one request.

    ``phone`` is E.164. ``asserted`` is True only when a trusted channel (the Vapi gateway,
    the bank's authenticated front end) vouched for the number; a number the caller merely
    said or typed is a claim, and customer data stays closed until it is verified.
    """

    phone: str | None = None
    asserted: bool = False
    _customer: object = field(default=_UNSET, repr=False)

    async def verified_customer(self) -> Customer | None:
        """The customer whose data the tools may touch, looked up once per request."""
        if not (self.asserted and self.phone):
            return None
        if self._customer is _UNSET:
            self._customer = await customer_get_by_phone(phone=self.phone)
        return self._customer  # type: ignore[return-value]

    @property
    def customer_id(self) -> int | None:
        customer = None if self._customer is _UNSET else self._customer
        return customer.pk if customer is not None else None
