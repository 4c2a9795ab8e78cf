"""Phone numbers as callers and channels write them, reduced to E.164."""

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, ValidationResult

# "00" starts an international number across most of the world, but not in the US
# ("011"), where the library would read "0044 20…" as a national number of the right
# length. People type the prefix they know, so a leading "00" is read as "+" first.
_ITU_INTERNATIONAL_PREFIX = "00"


def phone_normalize(raw: str, *, region: str) -> str | None:
    """Return ``raw`` in E.164 form ("+14155550101"), or None if it cannot be a number.

    ``region`` (ISO 3166 alpha-2, e.g. "US") reads numbers written without a country
    code. A *possible* number is enough — the right length for its country — so that
    fictional ranges such as 555-01xx work; a number dialable only locally (no area
    code) is refused, since it does not say whose phone it is.
    """
    candidates = [raw]
    stripped = raw.strip()
    if stripped.startswith(_ITU_INTERNATIONAL_PREFIX):
        candidates.insert(0, "+" + stripped[len(_ITU_INTERNATIONAL_PREFIX) :])
    for candidate in candidates:
        number = _parse_possible(candidate, region=region)
        if number is not None:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def _parse_possible(raw: str, *, region: str) -> PhoneNumber | None:
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        return None
    reason = phonenumbers.is_possible_number_with_reason(number)
    return number if reason == ValidationResult.IS_POSSIBLE else None
