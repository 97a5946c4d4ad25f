"""Pseudonyms and encryption for wellbeing data (the wellbeing class of the data inventory in
docs/privacy.md).

Check-in answers are keyed by a keyed hash of the AAD id, never the id itself; free text is
encrypted at rest with Fernet keys that can be rotated (the first key encrypts, all decrypt).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)

LOCAL_SECRETS_FILE = "wellbeing-secrets.json"


class SecretsError(Exception):
    """Missing or malformed secrets; the message says which setting and how to make one."""


@dataclass(frozen=True)
class Secrets:
    """The keys for pseudonyms and for encrypting free text."""

    pseudonym_key: bytes
    data_keys: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.pseudonym_key) < 32:
            raise SecretsError(
                "WELLBEING_PSEUDONYM_KEY must be at least 32 bytes (64 hex characters)"
            )
        if not self.data_keys:
            raise SecretsError("WELLBEING_DATA_KEYS needs at least one Fernet key")

    def pseudonym(self, aad_object_id: str) -> str:
        """A stable id for a person's wellbeing rows that cannot be reversed without the key."""
        digest = hmac.new(self.pseudonym_key, aad_object_id.lower().encode(), hashlib.sha256)
        return digest.hexdigest()

    @property
    def _fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(key.encode()) for key in self.data_keys])

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as error:
            raise SecretsError("cannot decrypt: none of WELLBEING_DATA_KEYS matches") from error

    def reencrypt(self, token: str) -> str:
        """Re-encrypt under the newest key (used when rotating keys)."""
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")

    def signature(self, purpose: str, message: str) -> str:
        """A keyed MAC of `message` (hex), under a key of its own for each purpose, derived from
        the pseudonym key: ids the bot hands out (a check-in card's) can be told from forgeries
        without storing them."""
        key = hmac.new(self.pseudonym_key, f"wellbeing-{purpose}-mac".encode(), hashlib.sha256)
        return hmac.new(key.digest(), message.encode(), hashlib.sha256).hexdigest()

    def _link_key(self, purpose: str) -> Fernet:
        """A key of its own for each kind of link, derived from the pseudonym key."""
        label = f"wellbeing-{purpose}-link".encode()
        raw = hmac.new(self.pseudonym_key, label, hashlib.sha256).digest()
        return Fernet(base64.urlsafe_b64encode(raw))

    def link_token(self, purpose: str, data: dict[str, Any], now: datetime) -> str:
        """An encrypted, signed token for a short-lived link (a data export, a report)."""
        payload = json.dumps({**data, "purpose": purpose}).encode()
        token = self._link_key(purpose).encrypt_at_time(payload, int(now.timestamp()))
        return token.decode("ascii")

    def read_link_token(
        self, purpose: str, token: str, ttl: timedelta, now: datetime
    ) -> dict[str, Any] | None:
        """What a link's token holds, or None when it is forged, mangled, expired or for
        something else."""
        try:
            payload = self._link_key(purpose).decrypt_at_time(
                token.encode("ascii"), int(ttl.total_seconds()), int(now.timestamp())
            )
            data = json.loads(payload)
        except (InvalidToken, ValueError, UnicodeError):
            return None
        return data if isinstance(data, dict) and data.get("purpose") == purpose else None


def generate() -> dict[str, str]:
    """Fresh values for WELLBEING_PSEUDONYM_KEY and WELLBEING_DATA_KEYS."""
    return {
        "WELLBEING_PSEUDONYM_KEY": secrets.token_hex(32),
        "WELLBEING_DATA_KEYS": Fernet.generate_key().decode("ascii"),
    }


def _parse(pseudonym_key: str, data_keys: str) -> Secrets:
    try:
        key = bytes.fromhex(pseudonym_key.strip())
    except ValueError as error:
        raise SecretsError(
            "WELLBEING_PSEUDONYM_KEY must be hex (make one with `wellbeing-bot secrets generate`)"
        ) from error
    keys = tuple(k.strip() for k in data_keys.split(",") if k.strip())
    for k in keys:
        try:
            base64.urlsafe_b64decode(k.encode())
            Fernet(k.encode())
        except (ValueError, TypeError) as error:
            raise SecretsError(
                "WELLBEING_DATA_KEYS holds a value that is not a Fernet key "
                "(make one with `wellbeing-bot secrets generate`)"
            ) from error
    return Secrets(key, keys)


def load_secrets(
    pseudonym_key: str, data_keys: str, *, local_mode: bool, local_dir: Path | None = None
) -> Secrets:
    """Secrets from settings; in local mode only, a generated file stands in when they are unset."""
    if pseudonym_key and data_keys:
        return _parse(pseudonym_key, data_keys)
    if pseudonym_key or data_keys:
        raise SecretsError("set both WELLBEING_PSEUDONYM_KEY and WELLBEING_DATA_KEYS, or neither")
    if not local_mode:
        raise SecretsError(
            "WELLBEING_PSEUDONYM_KEY and WELLBEING_DATA_KEYS are required when MicrosoftAppId is "
            "set. Make them with `wellbeing-bot secrets generate` and keep a backup: without them "
            "stored answers cannot be linked or read."
        )
    path = (local_dir or Path.cwd()) / LOCAL_SECRETS_FILE
    if not path.exists():
        path.write_text(json.dumps(generate(), indent=2))
        os.chmod(path, 0o600)
        log.info("local mode: made %s, the keys for this machine's local data", path.name)
    values = json.loads(path.read_text())
    return _parse(values["WELLBEING_PSEUDONYM_KEY"], values["WELLBEING_DATA_KEYS"])
