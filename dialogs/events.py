"""The neutral shapes that cross the edge: what a person did, and what the bot says back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ConversationKind = Literal["personal", "channel", "groupChat"]


@dataclass(frozen=True)
class Incoming:
    """A message or card submit from a person, with the Teams details already stripped away."""

    tenant_id: str
    user_id: str | None
    conversation_kind: ConversationKind
    conversation_id: str
    text: str = ""
    value: dict[str, Any] | None = None
    time_zone: str | None = None
    via_invoke: bool = False

    @property
    def personal(self) -> bool:
        return self.conversation_kind == "personal"


@dataclass(frozen=True)
class Card:
    """An Adaptive Card to render from a template, with plain text for clients that show none."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    fallback_text: str = ""


@dataclass(frozen=True)
class Reply:
    """One message back: markdown text, a card, or both (text first)."""

    text: str | None = None
    card: Card | None = None

    def __post_init__(self) -> None:
        if self.text is None and self.card is None:
            raise ValueError("a reply needs text or a card")
