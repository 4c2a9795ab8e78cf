"""Loaded with ``-p`` before Django is configured: test-only environment defaults."""

import os
import secrets

# Outside DEBUG the settings refuse to start without a secret key; tests get a random one
# (the server processes they start inherit it).
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-" + secrets.token_urlsafe(32))
