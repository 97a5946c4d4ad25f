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
class PersonalChat:
    """A person's one-to-one chat with the bot (created if it does not exist yet)."""

    aad_object_id: str


@dataclass(frozen=True)
class ChannelPost:
    """A channel or group chat; `thread_id` replies into a thread, None starts a new post."""

    conversation_id: str
    thread_id: str | None = None


Recipient = PersonalChat | ChannelPost


@dataclass(frozen=True)
class Reply:
    """One message: markdown text, a card, or both (text first).

    `to` None means the conversation the person is in, sent during the turn; any other recipient
    goes through the durable outbox. `replaces_card` swaps the card the person just pressed
    (so it cannot be submitted twice) instead of sending a new message.
    """

    text: str | None = None
    card: Card | None = None
    to: Recipient | None = None
    replaces_card: bool = False
    purpose: str = "reply"

    def __post_init__(self) -> None:
        if self.text is None and self.card is None:
            raise ValueError("a reply needs text or a card")
        if self.replaces_card and (self.card is None or self.to is not None):
            raise ValueError("only a card sent back to the same conversation can replace a card")


def reply_payload(reply: Reply) -> dict[str, Any]:
    """A reply as JSON for the outbox; bot/ renders it when it is sent."""
    card = None
    if reply.card is not None:
        card = {
            "template": reply.card.template,
            "context": reply.card.context,
            "fallback_text": reply.card.fallback_text,
        }
    return {"text": reply.text, "card": card}


def reply_from_payload(payload: dict[str, Any]) -> Reply:
    card = payload.get("card")
    return Reply(
        text=payload.get("text"),
        card=Card(card["template"], card.get("context") or {}, card.get("fallback_text") or "")
        if card
        else None,
    )
