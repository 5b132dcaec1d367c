"""Encryption at rest of the JARVICE API keys users link.

The key comes from `JARVICE_TOOLS_ENCRYPTION_KEY`: a Fernet key as
`cryptography.fernet.Fernet.generate_key()` makes it. Several keys may be
given, comma-separated, to rotate: the first encrypts, any of them decrypts.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

__all__ = ["KeyBox", "UnreadableSecret"]


class UnreadableSecret(Exception):
    """A stored secret could not be decrypted with the configured keys."""


class KeyBox:
    """Seals and opens short secrets with the deployment's Fernet key(s)."""

    def __init__(self, keys: str | SecretStr) -> None:
        text = keys.get_secret_value() if isinstance(keys, SecretStr) else keys
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if not parts:
            raise ValueError(
                "is empty; generate one with: python -c 'from cryptography."
                "fernet import Fernet; print(Fernet.generate_key().decode())'"
            )
        try:
            self._fernet = MultiFernet([Fernet(part.encode()) for part in parts])
        except ValueError:
            raise ValueError(
                "is not a Fernet key (32 url-safe base64-encoded bytes); generate "
                "one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            ) from None

    def seal(self, secret: SecretStr) -> str:
        """The encrypted form of `secret`, as text to store."""
        return self._fernet.encrypt(secret.get_secret_value().encode()).decode()

    def open(self, sealed: str) -> SecretStr:
        try:
            return SecretStr(self._fernet.decrypt(sealed.encode()).decode())
        except InvalidToken:
            raise UnreadableSecret(
                "a stored API key could not be decrypted: JARVICE_TOOLS_ENCRYPTION_KEY "
                "changed without keeping the old key (list both, new first)"
            ) from None

    def __repr__(self) -> str:
        return "<KeyBox>"
