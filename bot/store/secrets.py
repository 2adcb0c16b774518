"""Secrets at rest: Fernet encryption with rotation (MultiFernet), and keyed hashes to find rows by a secret.

``ENCRYPTION_KEYS`` holds one or more Fernet keys, comma-separated: the first encrypts, all decrypt, so a
new key is added in front, ``hamsa-bot keys rotate`` re-encrypts everything with it, and the old key is
then dropped from the list.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ENCRYPTION_KEYS = "ENCRYPTION_KEYS"
_HASH_LABEL = b"hamsa-for-slack keyed hash v1"


class KeyProblem(Exception):
    """Base for problems with ENCRYPTION_KEYS; the message names the setting and never holds a key."""


class MissingKeys(KeyProblem):
    pass


class MalformedKey(KeyProblem):
    pass


class WrongKeys(KeyProblem):
    """The stored secrets were encrypted with a key that is not in ENCRYPTION_KEYS."""


def generate_key() -> str:
    """A new random key, in the form ENCRYPTION_KEYS takes."""
    return Fernet.generate_key().decode()


def parse_keys(raw: str | None) -> list[str]:
    """The keys of an ENCRYPTION_KEYS value, in order; blanks are ignored."""
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


class SecretBox:
    """Encrypts and decrypts the app's secrets with ENCRYPTION_KEYS; never shows a key in repr or errors."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise MissingKeys(f"{ENCRYPTION_KEYS} is not set: create one with `hamsa-bot keys generate`.")
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.encode()))
            except (ValueError, TypeError):
                raise MalformedKey(
                    f"{ENCRYPTION_KEYS}: key number {position} is not a valid key "
                    "(32 url-safe base64-encoded bytes, as `hamsa-bot keys generate` prints)."
                ) from None
        self._fernet = MultiFernet(fernets)
        # One hash key per encryption key, so a row hashed under an older key is still found mid-rotation.
        self._hash_keys = [hmac.new(key.encode(), _HASH_LABEL, hashlib.sha256).digest() for key in keys]

    def __repr__(self) -> str:
        return f"SecretBox({len(self._hash_keys)} key(s))"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise WrongKeys(
                f"{ENCRYPTION_KEYS} cannot decrypt the stored secrets: the key that encrypted them is not in "
                "the list (add it back after the new key, then run `hamsa-bot keys rotate`)."
            ) from None

    def rotate(self, token: str) -> str:
        """The same secret, encrypted with the first key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise WrongKeys(f"{ENCRYPTION_KEYS} cannot decrypt a stored secret, so it cannot be rotated.") from None

    def keyed_hash(self, secret: str) -> str:
        """A hash under the first key: stored beside a secret so the row can be found by the secret."""
        return _hmac(self._hash_keys[0], secret)

    def keyed_hashes(self, secret: str) -> list[str]:
        """The hash under every key, for look-ups that must also find rows not yet rotated."""
        return [_hmac(key, secret) for key in self._hash_keys]


def _hmac(key: bytes, secret: str) -> str:
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()
