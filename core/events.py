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
    team_id: str | None = None
    """The Teams thread id of the team, for messages in a team's channel."""
    user_name: str | None = None
    """The sender's display name, for an @mention when someone answers them in a channel."""
    channel_type: str | None = None
    """Teams channel type when in a channel: standard, private or shared (None if not said)."""

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
class Mention:
    """An @mention in a reply's text: the text holds `<at>name</at>`, Teams needs the user id."""

    user_id: str
    name: str

    @property
    def tag(self) -> str:
        return f"<at>{self.name}</at>"


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
    mentions: tuple[Mention, ...] = ()

    def __post_init__(self) -> None:
        if self.text is None and self.card is None:
            raise ValueError("a reply needs text or a card")
        if any(m.tag not in (self.text or "") for m in self.mentions):
            raise ValueError("every mention's <at>name</at> must appear in the reply's text")
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
    payload: dict[str, Any] = {"text": reply.text, "card": card}
    if reply.mentions:
        payload["mentions"] = [{"id": m.user_id, "name": m.name} for m in reply.mentions]
    return payload


def reply_from_payload(payload: dict[str, Any]) -> Reply:
    card = payload.get("card")
    return Reply(
        text=payload.get("text"),
        card=Card(card["template"], card.get("context") or {}, card.get("fallback_text") or "")
        if card
        else None,
        mentions=tuple(Mention(m["id"], m["name"]) for m in payload.get("mentions") or ()),
    )
