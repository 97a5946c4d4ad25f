"""Normalising what people type, so commands match however they are written."""

from __future__ import annotations

import re
import unicodedata

_PUNCTUATION = re.compile(r"[^\w\s']+|_")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-case, strip punctuation (hyphens too) and extra spaces: 'Check-in!' -> 'check in'."""
    text = unicodedata.normalize("NFKC", text or "").replace("\u2019", "'")
    text = _PUNCTUATION.sub(" ", text.lower())
    return _SPACE.sub(" ", text).strip(" '")
