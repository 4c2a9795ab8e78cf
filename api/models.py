import hashlib
import secrets

from django.db import models

KEY_PREFIX = "ft_"


def api_key_hash(raw_key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough to make a leaked table useless.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def api_key_generate() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class ApiKey(models.Model):
    """A caller of the API. Only the hash of the key is stored; the key is shown once."""

    name = models.CharField(max_length=100, unique=True)
    prefix = models.CharField(
        max_length=12, help_text="The first characters of the key, to recognise it."
    )
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    trusted_channel = models.BooleanField(
        default=False,
        help_text=(
            "A trusted channel (the Vapi gateway, the bank's authenticated front end) may "
            "assert who the customer is. Other callers' phone numbers are only claims."
        ),
    )
    requests_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Requests allowed per minute; empty uses RATE_LIMIT_KEY_PER_MINUTE, 0 is unlimited.",
    )
    tokens_per_day = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Tokens (prompt + completion) allowed per UTC day; empty uses TOKEN_BUDGET_PER_DAY, 0 is unlimited.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
